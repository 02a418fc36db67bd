// SPDX-License-Identifier: MIT
#include "gaincell/fit/model_exp_decay.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <Eigen/Dense>

#include "gaincell/core/error.h"
#include "model_support.h"

namespace gaincell::fit {
namespace {

using detail::Clean;
using detail::str;

struct ExpCore {
  double tau_s, v_inf_v, v0_v;
};

double exp_value(const ExpCore& e, double t) { return e.v_inf_v + (e.v0_v - e.v_inf_v) * std::exp(-t / e.tau_s); }

// The linear part of the variable projection at one tau: V = p0 + p1 e^{-(t - t0)/tau}.
struct Projection {
  double residual_norm, p0, p1;
};

// With a fixed asymptote (v_inf not NaN), p0 = v_inf and only p1 is solved for.
Projection project_fixed_asymptote(const Clean& c, double t0, double tau, double v_inf) {
  const std::size_t n = c.size();
  double num = 0, den = 0, r2 = 0;
  for (std::size_t p = 0; p < n; ++p) {
    const double e = std::exp(-(c.x[0][p] - t0) / tau);
    num += e * (c.y[p] - v_inf);
    den += e * e;
  }
  const double p1 = num / den;
  for (std::size_t p = 0; p < n; ++p) {
    const double e = std::exp(-(c.x[0][p] - t0) / tau);
    const double d = c.y[p] - (v_inf + p1 * e);
    r2 += d * d;
  }
  return Projection{std::sqrt(r2), v_inf, p1};
}

Projection project(const Clean& c, double t0, double tau, double v_inf) {
  if (!std::isnan(v_inf)) return project_fixed_asymptote(c, t0, tau, v_inf);
  const auto n = static_cast<Eigen::Index>(c.size());
  Eigen::MatrixXd a(n, 2);
  Eigen::VectorXd b(n);
  for (Eigen::Index p = 0; p < n; ++p) {
    a(p, 0) = 1.0;
    a(p, 1) = std::exp(-(c.x[0][static_cast<std::size_t>(p)] - t0) / tau);
    b(p) = c.y[static_cast<std::size_t>(p)];
  }
  const Eigen::VectorXd sol = a.colPivHouseholderQr().solve(b);
  return Projection{(b - a * sol).norm(), sol(0), sol(1)};
}

// Refuses an output that does not move (GC-1606).
void check_not_flat(const Clean& c, const std::string& y_unit) {
  const auto [ylo, yhi] = std::minmax_element(c.y.begin(), c.y.end());
  const double peak = std::max(std::abs(*ylo), std::abs(*yhi));
  if (*yhi - *ylo <= 1e-12 * peak) {
    throw InputError("GC-1606", "fit exp_decay: the output does not decay: it is flat (peak-to-peak " +
                                    str(*yhi - *ylo) + " " + y_unit + " over " + std::to_string(c.size()) +
                                    " points); fit a degree-0 poly model instead");
  }
}

// The first sample time and the log(tau) range the search spans:
// [smallest time step / 10, reach * time span].
struct Bracket {
  double t0, lo, hi;
};

Bracket tau_bracket(const Clean& c, double v_inf) {
  std::vector<double> ts(c.x[0]);
  std::sort(ts.begin(), ts.end());
  ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
  if (ts.size() < 3) {
    throw InputError("GC-1606", "fit exp_decay: " + std::to_string(ts.size()) +
                                    " distinct times; a decay needs at least 3");
  }
  double dt_min = ts.back() - ts.front();
  for (std::size_t k = 1; k < ts.size(); ++k) dt_min = std::min(dt_min, ts[k] - ts[k - 1]);
  // A fixed asymptote lets the slope set tau: search far beyond the span.
  const double reach = std::isnan(v_inf) ? 100.0 : 1e9;
  return Bracket{ts.front(), std::log(dt_min / 10.0), std::log(reach * (ts.back() - ts.front()))};
}

// The node of a g-node grid over [lo, hi] with the least cost; refuses a
// best node at an edge (GC-1606: the decay is not resolved).
template <typename Cost>
int best_grid_node(const Cost& cost, const Bracket& br, int g) {
  int best = 0;
  double best_cost = std::numeric_limits<double>::infinity();
  for (int k = 0; k < g; ++k) {
    const double f = cost(br.lo + (br.hi - br.lo) * k / (g - 1));
    if (f < best_cost) {
      best_cost = f;
      best = k;
    }
  }
  if (best == 0 || best == g - 1) {
    throw InputError("GC-1606", "fit exp_decay: no decay resolved by the sampled times: the best tau lies at the " +
                                    std::string(best == 0 ? "lower" : "upper") + " edge of the search bracket [" +
                                    str(std::exp(br.lo)) + ", " + str(std::exp(br.hi)) + "] s");
  }
  return best;
}

// The minimum of cost in [a, b] by golden-section search.
template <typename Cost>
double golden_section(const Cost& cost, double a, double b) {
  const double r = 0.5 * (std::sqrt(5.0) - 1.0);
  double x1 = b - r * (b - a), x2 = a + r * (b - a);
  double f1 = cost(x1), f2 = cost(x2);
  for (int it = 0; it < 200 && b - a > 1e-13; ++it) {
    if (f1 <= f2) {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - r * (b - a);
      f1 = cost(x1);
    } else {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + r * (b - a);
      f2 = cost(x2);
    }
  }
  return f1 <= f2 ? x1 : x2;
}

ExpCore exp_core(const Clean& c, const std::string& y_unit, int grid_points, double v_inf) {
  check_not_flat(c, y_unit);
  const Bracket br = tau_bracket(c, v_inf);
  const auto cost = [&](double log_tau) { return project(c, br.t0, std::exp(log_tau), v_inf).residual_norm; };
  const int g = grid_points;
  const int best = best_grid_node(cost, br, g);
  // Golden section between the neighbours of the best node.
  const double log_tau = golden_section(cost, br.lo + (br.hi - br.lo) * (best - 1) / (g - 1),
                                        br.lo + (br.hi - br.lo) * (best + 1) / (g - 1));
  const double tau = std::exp(log_tau);
  const Projection p = project(c, br.t0, tau, v_inf);
  return ExpCore{tau, p.p0, p.p0 + p.p1 * std::exp(br.t0 / tau)};
}

void check_exp_options(const ExpDecayModel::Options& options) {
  detail::check_fit_options(options.fit);
  if (options.grid_points < 8) {
    throw InputError("GC-1603", "Invalid configuration. fit.grid_points = " + std::to_string(options.grid_points) +
                                    ". Violated constraint: fit.grid_points >= 8");
  }
}

void check_asymptote(double v_inf_v) {
  if (!std::isnan(v_inf_v) && !std::isfinite(v_inf_v)) {
    throw InputError("GC-1603", "Invalid configuration. fit.v_inf = " + std::to_string(v_inf_v) +
                                    ". Violated constraint: a finite value");
  }
}

}  // namespace

ExpDecayModel::ExpDecayModel(ModelInfo info, double tau_s, double v_inf_v, double v0_v)
    : ModelWithInfo(std::move(info)), tau_s_(tau_s), v_inf_v_(v_inf_v), v0_v_(v0_v) {}

ExpDecayModel ExpDecayModel::fit(const FitData& data, const Options& options) {
  check_exp_options(options);
  const Clean clean = detail::clean_data(data, "exp_decay", 1, 1, 3);
  check_asymptote(options.v_inf_v);
  const auto core = [&](const Clean& c) { return exp_core(c, data.output.unit, options.grid_points, options.v_inf_v); };
  const auto predict = [](const ExpCore& e, const std::vector<double>& x) { return exp_value(e, x[0]); };
  const ExpCore fitted = core(clean);
  return ExpDecayModel(detail::fitted_info(data, clean, options.fit, core, predict, fitted), fitted.tau_s,
                       fitted.v_inf_v, fitted.v0_v);
}

double ExpDecayModel::evaluate(std::span<const double> inputs, const WarningSink& warn) const {
  const std::vector<double> x = detail::checked_inputs(info_, "exp_decay", inputs, warn);
  return exp_value(ExpCore{tau_s_, v_inf_v_, v0_v_}, x[0]);
}

}  // namespace gaincell::fit
