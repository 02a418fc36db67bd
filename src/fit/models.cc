// SPDX-License-Identifier: MIT
#include "gaincell/fit/models.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <utility>

#include "gaincell/core/error.h"
#include "gaincell/fit/least_squares.h"

namespace gaincell::fit {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The finite points of a FitData, column-wise: x[input][point].
struct Clean {
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  std::size_t excluded = 0;
  std::size_t size() const { return y.size(); }
};

std::string str(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

void check_fit_options(const FitOptions& o) {
  if (o.cv_folds < 0) {
    throw InputError("GC-1603", "Invalid configuration. fit.cv_folds = " + std::to_string(o.cv_folds) +
                                    ". Violated constraint: fit.cv_folds >= 0");
  }
}

Clean clean_data(const FitData& d, const std::string& kind, std::size_t min_inputs,
                 std::size_t max_inputs, std::size_t n_params) {
  const std::size_t n_in = d.inputs.size();
  if (n_in < min_inputs || n_in > max_inputs) {
    std::string expected = std::to_string(min_inputs);
    if (max_inputs != min_inputs) expected += " or " + std::to_string(max_inputs);
    throw InputError("GC-1610", "fit " + kind + ": expected " + expected + " input column" +
                                    (max_inputs == 1 ? "" : "s") + ", found " + std::to_string(n_in));
  }
  const std::size_t n = d.output.values.size();
  for (const Column& c : d.inputs) {
    if (c.values.size() != n) {
      throw InputError("GC-1610", "fit " + kind + ": input '" + c.name + "' has " +
                                      std::to_string(c.values.size()) + " values, output '" +
                                      d.output.name + "' has " + std::to_string(n));
    }
  }
  Clean clean;
  clean.x.resize(n_in);
  for (std::size_t p = 0; p < n; ++p) {
    bool ok = std::isfinite(d.output.values[p]);
    for (const Column& c : d.inputs) ok = ok && std::isfinite(c.values[p]);
    if (!ok) {
      ++clean.excluded;
      continue;
    }
    for (std::size_t k = 0; k < n_in; ++k) clean.x[k].push_back(d.inputs[k].values[p]);
    clean.y.push_back(d.output.values[p]);
  }
  if (n > 0 && clean.size() == 0) {
    throw InputError("GC-1604", "fit " + kind + ": all " + std::to_string(n) +
                                    " points hold a non-finite value (NaN or inf); nothing to fit");
  }
  if (clean.size() < n_params) {
    throw InputError("GC-1605", "fit " + kind + ": " + std::to_string(clean.size()) +
                                    " usable points (" + std::to_string(clean.excluded) +
                                    " excluded as non-finite) for " + std::to_string(n_params) +
                                    " parameters; need at least " + std::to_string(n_params));
  }
  return clean;
}

Clean subset(const Clean& c, const std::vector<std::size_t>& idx) {
  Clean s;
  s.x.resize(c.x.size());
  for (std::size_t p : idx) {
    for (std::size_t k = 0; k < c.x.size(); ++k) s.x[k].push_back(c.x[k][p]);
    s.y.push_back(c.y[p]);
  }
  return s;
}

Variable range_of(const Column& col, const std::vector<double>& values) {
  Variable v{col.name, col.unit, kNaN, kNaN};
  if (!values.empty()) {
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    v.min = *lo;
    v.max = *hi;
  }
  return v;
}

ModelInfo make_info(const FitData& d, const Clean& c) {
  ModelInfo info;
  for (std::size_t k = 0; k < d.inputs.size(); ++k) info.inputs.push_back(range_of(d.inputs[k], c.x[k]));
  info.output = range_of(d.output, c.y);
  return info;
}

// Checks the input count and applies the out-of-range policy.
// Inputs before `first_checked` are exempt from the range check.
std::vector<double> checked_inputs(const ModelInfo& info, const std::string& kind,
                                   std::span<const double> in, const WarningSink& warn,
                                   std::size_t first_checked = 0) {
  if (in.size() != info.inputs.size()) {
    std::string names;
    for (const Variable& v : info.inputs) names += (names.empty() ? "" : ", ") + v.name;
    throw InputError("GC-1610", "evaluate " + kind + ": expected " + std::to_string(info.inputs.size()) +
                                    " inputs (" + names + "), found " + std::to_string(in.size()));
  }
  std::vector<double> out(in.begin(), in.end());
  for (std::size_t k = first_checked; k < out.size(); ++k) {
    const Variable& v = info.inputs[k];
    if (!(out[k] < v.min || out[k] > v.max)) continue;
    const std::string what = "evaluate " + kind + ": input '" + v.name + "' = " + str(out[k]) +
                             " is outside the fitted range [" + str(v.min) + ", " + str(v.max) + "]";
    if (info.out_of_range == OutOfRange::kError) {
      throw InputError("GC-1609", what + " (out_of_range policy \"error\")");
    }
    out[k] = std::clamp(out[k], v.min, v.max);
    if (warn) warn(what + "; clamped to " + str(out[k]));
  }
  return out;
}

RankInfo rank_info_of(const LinearFit& f) {
  RankInfo r;
  r.rank = static_cast<int>(f.rank);
  r.unknowns = static_cast<int>(f.x.size());
  r.singular_values.assign(f.singular_values.data(), f.singular_values.data() + f.singular_values.size());
  for (Eigen::Index i = 0; i < f.identified.rows(); ++i) {
    std::vector<double> row(static_cast<std::size_t>(f.identified.cols()));
    for (Eigen::Index j = 0; j < f.identified.cols(); ++j) row[static_cast<std::size_t>(j)] = f.identified(i, j);
    r.identified.push_back(std::move(row));
  }
  return r;
}

LeastSquaresOptions ls_options(const FitOptions& o) {
  LeastSquaresOptions l;
  l.rank_rtol = o.rank_rtol;
  l.allow_rank_deficient = o.allow_rank_deficient;
  return l;
}

// Fills the quality of a model fitted on `clean`: `core` fits a subset and
// `predict` evaluates the fitted thing at one point.
template <typename Core, typename Predict>
FitQuality quality_of(const Clean& clean, const FitOptions& o, const Core& core, const Predict& predict,
                      const std::vector<double>& predicted) {
  RefitFunction refit = [&](const std::vector<std::size_t>& train, const std::vector<std::size_t>& test) {
    const auto fitted = core(subset(clean, train));
    std::vector<double> out;
    for (std::size_t p : test) {
      std::vector<double> x(clean.x.size());
      for (std::size_t k = 0; k < x.size(); ++k) x[k] = clean.x[k][p];
      out.push_back(predict(fitted, x));
    }
    return out;
  };
  return compute_fit_quality(clean.y, predicted, clean.excluded, refit, o.cv_folds);
}

template <typename Core, typename Predict>
std::vector<double> predictions(const Clean& clean, const Core& fitted, const Predict& predict) {
  std::vector<double> out;
  for (std::size_t p = 0; p < clean.size(); ++p) {
    std::vector<double> x(clean.x.size());
    for (std::size_t k = 0; k < x.size(); ++k) x[k] = clean.x[k][p];
    out.push_back(predict(fitted, x));
  }
  return out;
}

// ---- PaperPolyModel ---------------------------------------------------------

struct PaperCore {
  LinearFit fit;
};

double paper_value(const std::array<double, 10>& c, double offset_v, double x_pw, double v, double vin) {
  double sum = 0.0, dv_i = 1.0;
  int k = 0;
  for (int i = 0; i <= 3; ++i) {
    double vin_j = 1.0;
    for (int j = 0; j <= 3 - i; ++j) {
      sum += c[static_cast<std::size_t>(k++)] * dv_i * vin_j;
      vin_j *= vin;
    }
    dv_i *= v - offset_v;
  }
  return x_pw * sum;
}

}  // namespace

PaperPolyModel::PaperPolyModel(ModelInfo info, const std::array<double, kCoefficients>& c, double offset_v,
                               double vin_v, RankInfo rank)
    : info_(std::move(info)), c_(c), offset_v_(offset_v), vin_v_(vin_v), rank_(std::move(rank)) {}

int PaperPolyModel::index(int i, int j) {
  GC_CHECK(i >= 0 && j >= 0 && i + j <= 3) << "C_" << i << "_" << j;
  int k = 0;
  for (int ii = 0; ii < i; ++ii) k += 4 - ii;
  return k + j;
}

std::string PaperPolyModel::coefficient_name(int k) {
  for (int i = 0; i <= 3; ++i) {
    for (int j = 0; j <= 3 - i; ++j) {
      if (index(i, j) == k) return "C_" + std::to_string(i) + "_" + std::to_string(j);
    }
  }
  GC_CHECK(false) << "coefficient " << k;
  return "";
}

PaperPolyModel PaperPolyModel::fit(const FitData& data, const Options& options) {
  check_fit_options(options.fit);
  // The inputs' order carries their meaning: a swapped pair still fits, badly, and says nothing.
  if (data.inputs.size() >= 2) {
    const auto& pw = data.inputs[0];
    const auto& v = data.inputs[1];
    auto named = [](const auto& x) { return x.name + " [" + x.unit + "]"; };
    if (!(pw.unit == "s" || pw.unit == "1" || pw.unit.empty()) || v.unit != "V" ||
        (data.inputs.size() == 3 && data.inputs[2].unit != "V")) {
      std::string given;
      for (const auto& x : data.inputs) given += (given.empty() ? "" : ", ") + named(x);
      throw InputError("GC-1610", "fit paper_poly: the inputs are, in order, the pulse width (s, or 1 for a fraction of t_max), "
                                  "the stored voltage (V) and optionally vin (V); given: " + given +
                                      (v.unit == "s" && pw.unit == "V" ? " (swapped? -i " + v.name + "," + pw.name + ")" : ""));
    }
  }
  const Clean clean = clean_data(data, "paper_poly", 2, 3, kCoefficients);
  const auto core = [&](const Clean& c) {
    Eigen::MatrixXd a(static_cast<Eigen::Index>(c.size()), kCoefficients);
    Eigen::VectorXd b(static_cast<Eigen::Index>(c.size()));
    for (std::size_t p = 0; p < c.size(); ++p) {
      const double vin = c.x.size() == 3 ? c.x[2][p] : options.vin_v;
      const double dv = c.x[1][p] - options.offset_v;
      const auto r = static_cast<Eigen::Index>(p);
      for (int i = 0; i <= 3; ++i) {
        for (int j = 0; j <= 3 - i; ++j) {
          a(r, index(i, j)) = c.x[0][p] * std::pow(dv, i) * std::pow(vin, j);
        }
      }
      b(r) = c.y[p];
    }
    PaperCore out{solve_least_squares(a, b, ls_options(options.fit))};
    return out;
  };
  const auto coefficients_of = [](const PaperCore& f) {
    std::array<double, kCoefficients> c{};
    for (std::size_t k = 0; k < c.size(); ++k) c[k] = f.fit.x(static_cast<Eigen::Index>(k));
    return c;
  };
  const auto predict = [&](const PaperCore& f, const std::vector<double>& x) {
    return paper_value(coefficients_of(f), options.offset_v, x[0], x[1], x.size() == 3 ? x[2] : options.vin_v);
  };
  const PaperCore fitted = core(clean);
  ModelInfo info = make_info(data, clean);
  info.quality = quality_of(clean, options.fit, core, predict, predictions(clean, fitted, predict));
  return PaperPolyModel(std::move(info), coefficients_of(fitted), options.offset_v, options.vin_v,
                        rank_info_of(fitted.fit));
}

double PaperPolyModel::evaluate(std::span<const double> inputs, const WarningSink& warn) const {
  // y is proportional to x_pw by construction, so x_pw is not range-checked:
  // a fit at x_pw = 1 alone must still scale to shorter pulses.
  const std::vector<double> x = checked_inputs(info_, "paper_poly", inputs, warn, 1);
  return paper_value(c_, offset_v_, x[0], x[1], x.size() == 3 ? x[2] : vin_v_);
}

std::array<double, 4> PaperPolyModel::collapsed(double vin_v) const {
  std::array<double, 4> a{};
  for (int i = 0; i <= 3; ++i) {
    double vin_j = 1.0;
    for (int j = 0; j <= 3 - i; ++j) {
      a[static_cast<std::size_t>(i)] += c_[static_cast<std::size_t>(index(i, j))] * vin_j;
      vin_j *= vin_v;
    }
  }
  return a;
}

std::string PaperPolyModel::note() const {
  if (rank_.rank >= rank_.unknowns) return "";
  return "rank " + std::to_string(rank_.rank) + " of " + std::to_string(rank_.unknowns) +
         ": the data determine only the identified combinations (at a single vin: a_i = sum_j C_ij vin^j); "
         "the coefficients are the minimum-norm solution, as numpy.linalg.lstsq returns";
}

// ---- PolyModel --------------------------------------------------------------

namespace {

void monomials_of_degree(std::size_t n, int left, std::vector<int>& cur, std::vector<std::vector<int>>& out) {
  if (cur.size() + 1 == n) {
    cur.push_back(left);
    out.push_back(cur);
    cur.pop_back();
    return;
  }
  for (int e = left; e >= 0; --e) {
    cur.push_back(e);
    monomials_of_degree(n, left - e, cur, out);
    cur.pop_back();
  }
}

struct PolyCore {
  std::vector<double> centers, half_ranges;
  LinearFit fit;
};

double poly_value(const std::vector<std::vector<int>>& mono, const std::vector<double>& c,
                  const std::vector<double>& centers, const std::vector<double>& half_ranges,
                  const std::vector<double>& x) {
  double sum = 0.0;
  for (std::size_t k = 0; k < mono.size(); ++k) {
    double term = c[k];
    for (std::size_t d = 0; d < x.size(); ++d) {
      term *= std::pow((x[d] - centers[d]) / half_ranges[d], mono[k][d]);
    }
    sum += term;
  }
  return sum;
}

}  // namespace

std::vector<std::vector<int>> PolyModel::monomials(std::size_t n_inputs, int degree) {
  std::vector<std::vector<int>> out;
  if (n_inputs == 0) {
    out.emplace_back();
    return out;
  }
  for (int t = 0; t <= degree; ++t) {
    std::vector<int> cur;
    monomials_of_degree(n_inputs, t, cur, out);
  }
  return out;
}

PolyModel::PolyModel(ModelInfo info, int degree, std::vector<double> centers, std::vector<double> half_ranges,
                     std::vector<double> c, RankInfo rank)
    : info_(std::move(info)), degree_(degree), centers_(std::move(centers)),
      half_ranges_(std::move(half_ranges)), c_(std::move(c)), rank_(std::move(rank)) {}

std::string PolyModel::coefficient_name(std::size_t k) const {
  const auto mono = monomials(info_.inputs.size(), degree_);
  GC_CHECK(k < mono.size()) << "coefficient " << k;
  std::string name;
  for (std::size_t d = 0; d < mono[k].size(); ++d) {
    if (mono[k][d] == 0) continue;
    if (!name.empty()) name += "*";
    name += info_.inputs[d].name;
    if (mono[k][d] > 1) name += "^" + std::to_string(mono[k][d]);
  }
  return name.empty() ? "1" : name;
}

PolyModel PolyModel::fit(const FitData& data, const Options& options) {
  check_fit_options(options.fit);
  if (options.degree < 0 || options.degree > kMaxDegree) {
    throw InputError("GC-1603", "Invalid configuration. fit.degree = " + std::to_string(options.degree) +
                                    ". Violated constraint: 0 <= fit.degree <= 5");
  }
  const std::size_t n_in = data.inputs.size();
  const auto mono = monomials(n_in, options.degree);
  const Clean clean = clean_data(data, "poly", 1, 16, mono.size());
  const auto core = [&](const Clean& c) {
    PolyCore out;
    for (std::size_t d = 0; d < n_in; ++d) {
      const auto [lo, hi] = std::minmax_element(c.x[d].begin(), c.x[d].end());
      out.centers.push_back(0.5 * (*lo + *hi));
      out.half_ranges.push_back(*hi > *lo ? 0.5 * (*hi - *lo) : 1.0);
    }
    Eigen::MatrixXd a(static_cast<Eigen::Index>(c.size()), static_cast<Eigen::Index>(mono.size()));
    Eigen::VectorXd b(static_cast<Eigen::Index>(c.size()));
    for (std::size_t p = 0; p < c.size(); ++p) {
      for (std::size_t k = 0; k < mono.size(); ++k) {
        double term = 1.0;
        for (std::size_t d = 0; d < n_in; ++d) {
          term *= std::pow((c.x[d][p] - out.centers[d]) / out.half_ranges[d], mono[k][d]);
        }
        a(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(k)) = term;
      }
      b(static_cast<Eigen::Index>(p)) = c.y[p];
    }
    out.fit = solve_least_squares(a, b, ls_options(options.fit));
    return out;
  };
  const auto coefficients_of = [](const PolyCore& f) {
    return std::vector<double>(f.fit.x.data(), f.fit.x.data() + f.fit.x.size());
  };
  const auto predict = [&](const PolyCore& f, const std::vector<double>& x) {
    return poly_value(mono, coefficients_of(f), f.centers, f.half_ranges, x);
  };
  const PolyCore fitted = core(clean);
  ModelInfo info = make_info(data, clean);
  info.quality = quality_of(clean, options.fit, core, predict, predictions(clean, fitted, predict));
  return PolyModel(std::move(info), options.degree, fitted.centers, fitted.half_ranges, coefficients_of(fitted),
                   rank_info_of(fitted.fit));
}

double PolyModel::evaluate(std::span<const double> inputs, const WarningSink& warn) const {
  const std::vector<double> x = checked_inputs(info_, "poly", inputs, warn);
  return poly_value(monomials(x.size(), degree_), c_, centers_, half_ranges_, x);
}

// ---- ExpDecayModel ----------------------------------------------------------

namespace {

struct ExpCore {
  double tau_s, v_inf_v, v0_v;
};

// Linear part of the variable projection at a given tau: V = p0 + p1 e^{-(t - t0)/tau}.
// Returns the residual norm and the two parameters. With a fixed asymptote
// (v_inf not NaN), p0 = v_inf and only p1 is solved for.
double exp_projection(const Clean& c, double t0, double tau, double& p0, double& p1, double v_inf) {
  const auto n = static_cast<Eigen::Index>(c.size());
  if (!std::isnan(v_inf)) {
    double num = 0, den = 0, r2 = 0;
    for (Eigen::Index p = 0; p < n; ++p) {
      const double e = std::exp(-(c.x[0][static_cast<std::size_t>(p)] - t0) / tau);
      num += e * (c.y[static_cast<std::size_t>(p)] - v_inf);
      den += e * e;
    }
    p0 = v_inf;
    p1 = num / den;
    for (Eigen::Index p = 0; p < n; ++p) {
      const double e = std::exp(-(c.x[0][static_cast<std::size_t>(p)] - t0) / tau);
      const double d = c.y[static_cast<std::size_t>(p)] - (v_inf + p1 * e);
      r2 += d * d;
    }
    return std::sqrt(r2);
  }
  Eigen::MatrixXd a(n, 2);
  Eigen::VectorXd b(n);
  for (Eigen::Index p = 0; p < n; ++p) {
    a(p, 0) = 1.0;
    a(p, 1) = std::exp(-(c.x[0][static_cast<std::size_t>(p)] - t0) / tau);
    b(p) = c.y[static_cast<std::size_t>(p)];
  }
  const Eigen::VectorXd sol = a.colPivHouseholderQr().solve(b);
  p0 = sol(0);
  p1 = sol(1);
  return (b - a * sol).norm();
}

ExpCore exp_core(const Clean& c, const std::string& y_unit, int grid_points, double v_inf) {
  const std::vector<double>& t = c.x[0];
  const auto [ylo, yhi] = std::minmax_element(c.y.begin(), c.y.end());
  const double peak = std::max(std::abs(*ylo), std::abs(*yhi));
  if (*yhi - *ylo <= 1e-12 * peak) {
    throw InputError("GC-1606", "fit exp_decay: the output does not decay: it is flat (peak-to-peak " +
                                    str(*yhi - *ylo) + " " + y_unit + " over " + std::to_string(c.size()) +
                                    " points); fit a degree-0 poly model instead");
  }
  std::vector<double> ts(t);
  std::sort(ts.begin(), ts.end());
  ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
  if (ts.size() < 3) {
    throw InputError("GC-1606", "fit exp_decay: " + std::to_string(ts.size()) +
                                    " distinct times; a decay needs at least 3");
  }
  double dt_min = ts.back() - ts.front();
  for (std::size_t k = 1; k < ts.size(); ++k) dt_min = std::min(dt_min, ts[k] - ts[k - 1]);
  const double t0 = ts.front();
  // A fixed asymptote lets the slope set tau: search far beyond the span.
  const double reach = std::isnan(v_inf) ? 100.0 : 1e9;
  const double lo = std::log(dt_min / 10.0), hi = std::log(reach * (ts.back() - ts.front()));
  double p0 = 0.0, p1 = 0.0;
  const auto cost = [&](double log_tau) { return exp_projection(c, t0, std::exp(log_tau), p0, p1, v_inf); };
  const int g = grid_points;
  int best = 0;
  double best_cost = std::numeric_limits<double>::infinity();
  for (int k = 0; k < g; ++k) {
    const double f = cost(lo + (hi - lo) * k / (g - 1));
    if (f < best_cost) {
      best_cost = f;
      best = k;
    }
  }
  if (best == 0 || best == g - 1) {
    throw InputError("GC-1606", "fit exp_decay: no decay resolved by the sampled times: the best tau lies at the " +
                                    std::string(best == 0 ? "lower" : "upper") + " edge of the search bracket [" +
                                    str(std::exp(lo)) + ", " + str(std::exp(hi)) + "] s");
  }
  // Golden section between the neighbours of the best node.
  double a = lo + (hi - lo) * (best - 1) / (g - 1), b = lo + (hi - lo) * (best + 1) / (g - 1);
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
  const double log_tau = f1 <= f2 ? x1 : x2;
  cost(log_tau);
  const double tau = std::exp(log_tau);
  return ExpCore{tau, p0, p0 + p1 * std::exp(t0 / tau)};
}

double exp_value(const ExpCore& e, double t) { return e.v_inf_v + (e.v0_v - e.v_inf_v) * std::exp(-t / e.tau_s); }

}  // namespace

ExpDecayModel::ExpDecayModel(ModelInfo info, double tau_s, double v_inf_v, double v0_v)
    : info_(std::move(info)), tau_s_(tau_s), v_inf_v_(v_inf_v), v0_v_(v0_v) {}

ExpDecayModel ExpDecayModel::fit(const FitData& data, const Options& options) {
  check_fit_options(options.fit);
  if (options.grid_points < 8) {
    throw InputError("GC-1603", "Invalid configuration. fit.grid_points = " + std::to_string(options.grid_points) +
                                    ". Violated constraint: fit.grid_points >= 8");
  }
  const Clean clean = clean_data(data, "exp_decay", 1, 1, 3);
  if (!std::isnan(options.v_inf_v) && !std::isfinite(options.v_inf_v)) {
    throw InputError("GC-1603", "Invalid configuration. fit.v_inf = " + std::to_string(options.v_inf_v) +
                                    ". Violated constraint: a finite value");
  }
  const auto core = [&](const Clean& c) { return exp_core(c, data.output.unit, options.grid_points, options.v_inf_v); };
  const auto predict = [](const ExpCore& e, const std::vector<double>& x) { return exp_value(e, x[0]); };
  const ExpCore fitted = core(clean);
  ModelInfo info = make_info(data, clean);
  info.quality = quality_of(clean, options.fit, core, predict, predictions(clean, fitted, predict));
  return ExpDecayModel(std::move(info), fitted.tau_s, fitted.v_inf_v, fitted.v0_v);
}

double ExpDecayModel::evaluate(std::span<const double> inputs, const WarningSink& warn) const {
  const std::vector<double> x = checked_inputs(info_, "exp_decay", inputs, warn);
  return exp_value(ExpCore{tau_s_, v_inf_v_, v0_v_}, x[0]);
}

// ---- HardSigmoidModel -------------------------------------------------------

namespace {

struct SigmoidCore {
  double x0, x_sat, y_low, y_sat;
};

double sigmoid_value(const SigmoidCore& s, double x) {
  return s.y_low + (s.y_sat - s.y_low) * std::clamp((x - s.x0) / (s.x_sat - s.x0), 0.0, 1.0);
}

SigmoidCore sigmoid_core(const Clean& c, bool has_floor) {
  const std::size_t n = c.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return c.x[0][a] < c.x[0][b]; });
  // Centre and scale so that the prefix sums below stay well conditioned.
  double xm = 0.0, ym = 0.0;
  for (std::size_t p = 0; p < n; ++p) {
    xm += c.x[0][p];
    ym += c.y[p];
  }
  xm /= static_cast<double>(n);
  ym /= static_cast<double>(n);
  double xs = 0.0, ys = 0.0;
  for (std::size_t p = 0; p < n; ++p) {
    xs = std::max(xs, std::abs(c.x[0][p] - xm));
    ys = std::max(ys, std::abs(c.y[p] - ym));
  }
  if (xs == 0.0) xs = 1.0;
  if (ys == 0.0) ys = 1.0;
  std::vector<double> x(n), y(n);
  for (std::size_t k = 0; k < n; ++k) {
    x[k] = (c.x[0][order[k]] - xm) / xs;
    y[k] = (c.y[order[k]] - ym) / ys;
  }
  // Prefix sums: S[k] = sum over the first k sorted points.
  std::vector<double> s1(n + 1, 0.0), sx(n + 1, 0.0), sy(n + 1, 0.0), sxx(n + 1, 0.0), sxy(n + 1, 0.0),
      syy(n + 1, 0.0);
  for (std::size_t k = 0; k < n; ++k) {
    s1[k + 1] = s1[k] + 1.0;
    sx[k + 1] = sx[k] + x[k];
    sy[k + 1] = sy[k] + y[k];
    sxx[k + 1] = sxx[k] + x[k] * x[k];
    sxy[k + 1] = sxy[k] + x[k] * y[k];
    syy[k + 1] = syy[k] + y[k] * y[k];
  }
  const double y_zero = -ym / ys;  // scaled value of an output 0 (no floor)
  const double slack = 1e-9;
  double best = std::numeric_limits<double>::infinity();
  SigmoidCore out{};
  bool found = false;
  // Low points [0, i), ramp [i, j), high points [j, n).
  for (std::size_t i = has_floor ? 1 : 0; i + 2 < n + 1; ++i) {
    for (std::size_t j = i + 2; j + 1 <= n; ++j) {
      const double m = s1[j] - s1[i];
      const double mx = (sx[j] - sx[i]) / m, my = (sy[j] - sy[i]) / m;
      const double vxx = (sxx[j] - sxx[i]) - m * mx * mx;
      if (!(vxx > 1e-24)) continue;
      const double vxy = (sxy[j] - sxy[i]) - m * mx * my;
      const double slope = vxy / vxx;
      if (slope == 0.0) continue;
      const double ss_ramp = std::max(0.0, (syy[j] - syy[i]) - m * my * my - slope * vxy);
      double y_low = y_zero, ss_low = 0.0;
      if (i > 0) {
        if (has_floor) {
          y_low = sy[i] / s1[i];
          ss_low = std::max(0.0, syy[i] - s1[i] * y_low * y_low);
        } else {
          ss_low = syy[i] - 2.0 * y_zero * sy[i] + s1[i] * y_zero * y_zero;
        }
      }
      const double nh = s1[n] - s1[j];
      const double y_high = (sy[n] - sy[j]) / nh;
      const double ss_high = std::max(0.0, (syy[n] - syy[j]) - nh * y_high * y_high);
      const double ss = ss_low + ss_ramp + ss_high;
      if (!(ss < best)) continue;
      const double x0 = mx + (y_low - my) / slope, x_sat = mx + (y_high - my) / slope;
      const bool ok_low = (i == 0 || x0 >= x[i - 1] - slack) && x0 <= x[i] + slack;
      const bool ok_high = x_sat >= x[j - 1] - slack && x_sat <= x[j] + slack;
      if (!ok_low || !ok_high || !(x0 < x_sat)) continue;
      best = ss;
      found = true;
      out = SigmoidCore{x0, x_sat, y_low, y_high};
    }
  }
  if (!found) {
    throw InputError("GC-1607", std::string("fit hard_sigmoid: no ramp found in ") + std::to_string(n) +
                                    " points: need at least " + (has_floor ? "1 point below, " : "") +
                                    "2 points on and 1 point above a rising or falling ramp");
  }
  return SigmoidCore{out.x0 * xs + xm, out.x_sat * xs + xm, out.y_low * ys + ym, out.y_sat * ys + ym};
}

}  // namespace

HardSigmoidModel::HardSigmoidModel(ModelInfo info, double x0, double x_sat, double y_low, double y_sat)
    : info_(std::move(info)), x0_(x0), x_sat_(x_sat), y_low_(y_low), y_sat_(y_sat) {}

HardSigmoidModel HardSigmoidModel::fit(const FitData& data, const Options& options) {
  check_fit_options(options.fit);
  const Clean clean = clean_data(data, "hard_sigmoid", 1, 1, options.has_floor ? 4 : 3);
  const auto core = [&](const Clean& c) { return sigmoid_core(c, options.has_floor); };
  const auto predict = [](const SigmoidCore& s, const std::vector<double>& x) { return sigmoid_value(s, x[0]); };
  const SigmoidCore fitted = core(clean);
  ModelInfo info = make_info(data, clean);
  info.quality = quality_of(clean, options.fit, core, predict, predictions(clean, fitted, predict));
  return HardSigmoidModel(std::move(info), fitted.x0, fitted.x_sat, fitted.y_low, fitted.y_sat);
}

double HardSigmoidModel::evaluate(std::span<const double> inputs, const WarningSink& warn) const {
  const std::vector<double> x = checked_inputs(info_, "hard_sigmoid", inputs, warn);
  return sigmoid_value(SigmoidCore{x0_, x_sat_, y_low_, y_sat_}, x[0]);
}

// ---------------------------------------------------------------------------
// LutModel

namespace {

// 1-D interpolation of f (sampled at grid g) at x, linear or cubic Hermite
// with Catmull-Rom slopes; `at(k)` gives the sample at node k.
template <typename At>
double interpolate_1d(const std::vector<double>& g, double x, bool cubic, const At& at) {
  const std::size_t n = g.size();
  if (n == 1) return at(0);
  std::size_t i = static_cast<std::size_t>(std::upper_bound(g.begin(), g.end(), x) - g.begin());
  i = std::clamp<std::size_t>(i == 0 ? 0 : i - 1, 0, n - 2);
  const double h = g[i + 1] - g[i];
  const double s = (x - g[i]) / h;
  const double y0 = at(i), y1 = at(i + 1);
  if (!cubic) return y0 + s * (y1 - y0);
  auto slope = [&](std::size_t k, double yk) {
    if (k == 0) return (at(1) - yk) / (g[1] - g[0]);
    if (k + 1 == n) return (yk - at(n - 2)) / (g[n - 1] - g[n - 2]);
    return (at(k + 1) - at(k - 1)) / (g[k + 1] - g[k - 1]);
  };
  const double m0 = slope(i, y0) * h, m1 = slope(i + 1, y1) * h;
  const double s2 = s * s, s3 = s2 * s;
  return (2 * s3 - 3 * s2 + 1) * y0 + (s3 - 2 * s2 + s) * m0 + (-2 * s3 + 3 * s2) * y1 + (s3 - s2) * m1;
}

// Interpolates dimension d onwards; `offset` is the flat index of the
// already-fixed leading dimensions, `stride` the size of dimensions > d.
double interpolate_nd(const std::vector<std::vector<double>>& grids, const std::vector<double>& values,
                      std::span<const double> x, bool cubic, std::size_t d, std::size_t offset) {
  if (d == grids.size()) return values[offset];
  std::size_t stride = 1;
  for (std::size_t e = d + 1; e < grids.size(); ++e) stride *= grids[e].size();
  return interpolate_1d(grids[d], x[d], cubic, [&](std::size_t k) {
    return interpolate_nd(grids, values, x, cubic, d + 1, offset + k * stride);
  });
}

const char* interpolation_name(LutModel::Interpolation i) {
  return i == LutModel::Interpolation::kCubic ? "cubic" : "linear";
}

}  // namespace

LutModel::LutModel(ModelInfo info, std::vector<std::vector<double>> grids, std::vector<double> values,
                   Interpolation interpolation)
    : info_(std::move(info)), grids_(std::move(grids)), values_(std::move(values)), interpolation_(interpolation) {}

double LutModel::interpolate(std::span<const double> x) const {
  return interpolate_nd(grids_, values_, x, interpolation_ == Interpolation::kCubic, 0, 0);
}

LutModel LutModel::fit(const FitData& data, const Options& options) {
  const std::size_t dims = data.inputs.size();
  if (dims == 0) throw InputError("GC-1610", "lut: at least one input is needed");
  const std::size_t n = data.output.values.size();
  for (const auto& c : data.inputs) {
    if (c.values.size() != n) throw InputError("GC-1610", "lut: input '" + c.name + "' has a different length");
  }
  std::size_t nan = 0;
  for (std::size_t k = 0; k < n; ++k) {
    bool bad = !std::isfinite(data.output.values[k]);
    for (const auto& c : data.inputs) bad = bad || !std::isfinite(c.values[k]);
    nan += bad;
  }
  if (nan > 0) {
    throw InputError("GC-1614", "lut: " + std::to_string(nan) + " of " + std::to_string(n) +
                                    " points are NaN (failed): a table cannot bridge holes; rerun them or fit a poly");
  }
  std::vector<std::vector<double>> grids(dims);
  std::size_t product = 1;
  for (std::size_t d = 0; d < dims; ++d) {
    grids[d] = data.inputs[d].values;
    std::sort(grids[d].begin(), grids[d].end());
    grids[d].erase(std::unique(grids[d].begin(), grids[d].end()), grids[d].end());
    if (grids[d].size() < 2) {
      throw InputError("GC-1614", "lut: input '" + data.inputs[d].name + "' takes a single value; a table needs >= 2");
    }
    product *= grids[d].size();
  }
  if (product != n) {
    throw InputError("GC-1614", "lut: the data is not a complete regular grid: " + std::to_string(n) +
                                    " points, but the inputs' distinct values make " + std::to_string(product));
  }
  std::vector<double> values(n, kNaN);
  std::vector<bool> seen(n, false);
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t flat = 0;
    for (std::size_t d = 0; d < dims; ++d) {
      const auto& g = grids[d];
      flat = flat * g.size() + static_cast<std::size_t>(std::lower_bound(g.begin(), g.end(), data.inputs[d].values[k]) - g.begin());
    }
    if (seen[flat]) throw InputError("GC-1614", "lut: a grid point appears twice in the data");
    seen[flat] = true;
    values[flat] = data.output.values[k];
  }
  ModelInfo info;
  for (std::size_t d = 0; d < dims; ++d) {
    info.inputs.push_back({data.inputs[d].name, data.inputs[d].unit, grids[d].front(), grids[d].back()});
  }
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  info.output = {data.output.name, data.output.unit, *lo, *hi};
  LutModel model(info, grids, values, options.interpolation);

  // Exact at the nodes; the hold-out error interpolates every other node of
  // each axis (ends kept) from the rest.
  FitQuality& q = model.info_.quality;
  q.points_used = n;
  q.rms_residual = 0;
  q.max_abs_residual = 0;
  q.r_squared = *lo == *hi ? kNaN : 1.0;
  std::vector<std::vector<std::size_t>> kept(dims);
  bool can_decimate = true;
  for (std::size_t d = 0; d < dims; ++d) {
    for (std::size_t i = 0; i < grids[d].size(); ++i) {
      if (i % 2 == 0 || i + 1 == grids[d].size()) kept[d].push_back(i);
    }
    can_decimate = can_decimate && kept[d].size() >= 2;
  }
  std::vector<std::vector<double>> coarse(dims);
  for (std::size_t d = 0; d < dims; ++d) {
    for (std::size_t i : kept[d]) coarse[d].push_back(grids[d][i]);
  }
  std::size_t coarse_n = 1;
  for (const auto& c : coarse) coarse_n *= c.size();
  if (can_decimate && coarse_n < n) {
    std::vector<double> coarse_values;
    for (std::size_t k = 0; k < coarse_n; ++k) {
      std::size_t rest = k, flat = 0, mult = 1;
      std::vector<std::size_t> idx(dims);
      for (std::size_t d = dims; d-- > 0;) {
        idx[d] = kept[d][rest % kept[d].size()];
        rest /= kept[d].size();
      }
      for (std::size_t d = dims; d-- > 0;) {
        flat += idx[d] * mult;
        mult *= grids[d].size();
      }
      coarse_values.push_back(values[flat]);
    }
    double sum2 = 0;
    std::size_t count = 0;
    std::vector<double> x(dims);
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t rest = k;
      bool held_out = false;
      for (std::size_t d = dims; d-- > 0;) {
        const std::size_t i = rest % grids[d].size();
        rest /= grids[d].size();
        x[d] = grids[d][i];
        held_out = held_out || std::find(kept[d].begin(), kept[d].end(), i) == kept[d].end();
      }
      if (!held_out) continue;
      const double e = interpolate_nd(coarse, coarse_values, x, options.interpolation == Interpolation::kCubic, 0, 0) -
                       values[k];
      sum2 += e * e;
      ++count;
    }
    q.cv_rms_residual = std::sqrt(sum2 / static_cast<double>(count));
    q.cv_folds = 2;
  }
  return model;
}

double LutModel::evaluate(std::span<const double> inputs, const WarningSink& warn) const {
  const std::vector<double> x = checked_inputs(info_, std::string("lut (") + interpolation_name(interpolation_) + ")",
                                               inputs, warn);
  return interpolate(x);
}

}  // namespace gaincell::fit
