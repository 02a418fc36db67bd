// SPDX-License-Identifier: MIT
#include "gaincell/fit/model_hard_sigmoid.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <utility>

#include "gaincell/core/error.h"
#include "model_support.h"

namespace gaincell::fit {
namespace {

using detail::Clean;

struct SigmoidCore {
  double x0, x_sat, y_low, y_sat;
};

double sigmoid_value(const SigmoidCore& s, double x) {
  return s.y_low + (s.y_sat - s.y_low) * std::clamp((x - s.x0) / (s.x_sat - s.x0), 0.0, 1.0);
}

// The points sorted by x, centred and scaled so that the prefix sums below
// stay well conditioned: x = (x_data - xm) / xs, y likewise.
struct Scaled {
  std::vector<double> x, y;
  double xm = 0.0, ym = 0.0, xs = 0.0, ys = 0.0;
  SigmoidCore unscaled(const SigmoidCore& s) const {
    return SigmoidCore{s.x0 * xs + xm, s.x_sat * xs + xm, s.y_low * ys + ym, s.y_sat * ys + ym};
  }
};

Scaled sorted_and_scaled(const Clean& c) {
  const std::size_t n = c.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return c.x[0][a] < c.x[0][b]; });
  Scaled s;
  for (std::size_t p = 0; p < n; ++p) {
    s.xm += c.x[0][p];
    s.ym += c.y[p];
  }
  s.xm /= static_cast<double>(n);
  s.ym /= static_cast<double>(n);
  for (std::size_t p = 0; p < n; ++p) {
    s.xs = std::max(s.xs, std::abs(c.x[0][p] - s.xm));
    s.ys = std::max(s.ys, std::abs(c.y[p] - s.ym));
  }
  if (s.xs == 0.0) s.xs = 1.0;
  if (s.ys == 0.0) s.ys = 1.0;
  s.x.resize(n);
  s.y.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    s.x[k] = (c.x[0][order[k]] - s.xm) / s.xs;
    s.y[k] = (c.y[order[k]] - s.ym) / s.ys;
  }
  return s;
}

// Prefix sums: s1[k] = sum over the first k sorted points of 1, sx of x, ...
struct PrefixSums {
  std::vector<double> s1, sx, sy, sxx, sxy, syy;
  explicit PrefixSums(const Scaled& s) {
    const std::size_t n = s.x.size();
    for (auto* v : {&s1, &sx, &sy, &sxx, &sxy, &syy}) v->assign(n + 1, 0.0);
    for (std::size_t k = 0; k < n; ++k) {
      s1[k + 1] = s1[k] + 1.0;
      sx[k + 1] = sx[k] + s.x[k];
      sy[k + 1] = sy[k] + s.y[k];
      sxx[k + 1] = sxx[k] + s.x[k] * s.x[k];
      sxy[k + 1] = sxy[k] + s.x[k] * s.y[k];
      syy[k + 1] = syy[k] + s.y[k] * s.y[k];
    }
  }
};

// The best fit of one split: low points [0, i), ramp [i, j), high points
// [j, n), in scaled units, with its sum of squares; none when the ramp is
// flat or its breakpoints fall outside their neighbouring points.
struct Split {
  SigmoidCore core;
  double ss;
};

std::optional<Split> fit_split(const Scaled& s, const PrefixSums& ps, std::size_t i, std::size_t j, bool has_floor) {
  const std::size_t n = s.x.size();
  const double y_zero = -s.ym / s.ys;  // scaled value of an output 0 (no floor)
  const double slack = 1e-9;
  const double m = ps.s1[j] - ps.s1[i];
  const double mx = (ps.sx[j] - ps.sx[i]) / m, my = (ps.sy[j] - ps.sy[i]) / m;
  const double vxx = (ps.sxx[j] - ps.sxx[i]) - m * mx * mx;
  if (!(vxx > 1e-24)) return std::nullopt;
  const double vxy = (ps.sxy[j] - ps.sxy[i]) - m * mx * my;
  const double slope = vxy / vxx;
  if (slope == 0.0) return std::nullopt;
  const double ss_ramp = std::max(0.0, (ps.syy[j] - ps.syy[i]) - m * my * my - slope * vxy);
  double y_low = y_zero, ss_low = 0.0;
  if (i > 0) {
    if (has_floor) {
      y_low = ps.sy[i] / ps.s1[i];
      ss_low = std::max(0.0, ps.syy[i] - ps.s1[i] * y_low * y_low);
    } else {
      ss_low = ps.syy[i] - 2.0 * y_zero * ps.sy[i] + ps.s1[i] * y_zero * y_zero;
    }
  }
  const double nh = ps.s1[n] - ps.s1[j];
  const double y_high = (ps.sy[n] - ps.sy[j]) / nh;
  const double ss_high = std::max(0.0, (ps.syy[n] - ps.syy[j]) - nh * y_high * y_high);
  const double x0 = mx + (y_low - my) / slope, x_sat = mx + (y_high - my) / slope;
  const bool ok_low = (i == 0 || x0 >= s.x[i - 1] - slack) && x0 <= s.x[i] + slack;
  const bool ok_high = x_sat >= s.x[j - 1] - slack && x_sat <= s.x[j] + slack;
  if (!ok_low || !ok_high || !(x0 < x_sat)) return std::nullopt;
  return Split{SigmoidCore{x0, x_sat, y_low, y_high}, ss_low + ss_ramp + ss_high};
}

SigmoidCore sigmoid_core(const Clean& c, bool has_floor) {
  const std::size_t n = c.size();
  const Scaled s = sorted_and_scaled(c);
  const PrefixSums ps(s);
  std::optional<Split> best;
  for (std::size_t i = has_floor ? 1 : 0; i + 2 < n + 1; ++i) {
    for (std::size_t j = i + 2; j + 1 <= n; ++j) {
      const std::optional<Split> split = fit_split(s, ps, i, j, has_floor);
      if (split && split->ss < (best ? best->ss : std::numeric_limits<double>::infinity())) best = split;
    }
  }
  if (!best) {
    throw InputError("GC-1607", std::string("fit hard_sigmoid: no ramp found in ") + std::to_string(n) +
                                    " points: need at least " + (has_floor ? "1 point below, " : "") +
                                    "2 points on and 1 point above a rising or falling ramp");
  }
  return s.unscaled(best->core);
}

}  // namespace

HardSigmoidModel::HardSigmoidModel(ModelInfo info, double x0, double x_sat, double y_low, double y_sat)
    : ModelWithInfo(std::move(info)), x0_(x0), x_sat_(x_sat), y_low_(y_low), y_sat_(y_sat) {}

HardSigmoidModel HardSigmoidModel::fit(const FitData& data, const Options& options) {
  detail::check_fit_options(options.fit);
  const Clean clean = detail::clean_data(data, "hard_sigmoid", 1, 1, options.has_floor ? 4 : 3);
  const auto core = [&](const Clean& c) { return sigmoid_core(c, options.has_floor); };
  const auto predict = [](const SigmoidCore& s, const std::vector<double>& x) { return sigmoid_value(s, x[0]); };
  const SigmoidCore fitted = core(clean);
  return HardSigmoidModel(detail::fitted_info(data, clean, options.fit, core, predict, fitted), fitted.x0,
                          fitted.x_sat, fitted.y_low, fitted.y_sat);
}

double HardSigmoidModel::evaluate(std::span<const double> inputs, const WarningSink& warn) const {
  const std::vector<double> x = detail::checked_inputs(info_, "hard_sigmoid", inputs, warn);
  return sigmoid_value(SigmoidCore{x0_, x_sat_, y_low_, y_sat_}, x[0]);
}

}  // namespace gaincell::fit
