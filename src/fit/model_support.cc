// SPDX-License-Identifier: MIT
#include "model_support.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

#include "gaincell/core/error.h"

namespace gaincell::fit::detail {
namespace {

void check_columns(const FitData& d, const std::string& kind, std::size_t min_inputs, std::size_t max_inputs) {
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
}

Clean finite_points(const FitData& d) {
  Clean clean;
  clean.x.resize(d.inputs.size());
  for (std::size_t p = 0; p < d.output.values.size(); ++p) {
    bool ok = std::isfinite(d.output.values[p]);
    for (const Column& c : d.inputs) ok = ok && std::isfinite(c.values[p]);
    if (!ok) {
      ++clean.excluded;
      continue;
    }
    for (std::size_t k = 0; k < d.inputs.size(); ++k) clean.x[k].push_back(d.inputs[k].values[p]);
    clean.y.push_back(d.output.values[p]);
  }
  return clean;
}

void check_enough_points(const Clean& clean, std::size_t n, const std::string& kind, std::size_t n_params) {
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

}  // namespace

std::vector<double> Clean::point(std::size_t p) const {
  std::vector<double> out(x.size());
  for (std::size_t k = 0; k < x.size(); ++k) out[k] = x[k][p];
  return out;
}

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

Clean clean_data(const FitData& d, const std::string& kind, std::size_t min_inputs, std::size_t max_inputs,
                 std::size_t n_params) {
  check_columns(d, kind, min_inputs, max_inputs);
  Clean clean = finite_points(d);
  check_enough_points(clean, d.output.values.size(), kind, n_params);
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

ModelInfo make_info(const FitData& d, const Clean& c) {
  ModelInfo info;
  for (std::size_t k = 0; k < d.inputs.size(); ++k) info.inputs.push_back(range_of(d.inputs[k], c.x[k]));
  info.output = range_of(d.output, c.y);
  return info;
}

std::vector<double> checked_inputs(const ModelInfo& info, const std::string& kind, std::span<const double> in,
                                   const WarningSink& warn, std::size_t first_checked) {
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
  return LeastSquaresOptions{.rank_rtol = o.rank_rtol, .allow_rank_deficient = o.allow_rank_deficient};
}

}  // namespace gaincell::fit::detail
