// SPDX-License-Identifier: MIT
// Internal: the steps every model kind's fit and evaluate share: checking
// options and columns, dropping non-finite points, the ranges a model
// records, the out-of-range policy, and the fit quality with its k-fold
// refits.
#pragma once

#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "gaincell/fit/least_squares.h"
#include "gaincell/fit/model_info.h"

namespace gaincell::fit::detail {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The finite points of a FitData, column-wise: x[input][point].
struct Clean {
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  std::size_t excluded = 0;
  std::size_t size() const { return y.size(); }
  // The inputs of point p, in input order.
  std::vector<double> point(std::size_t p) const;
};

// A number as a message shows it (ostream's default: 6 significant digits).
std::string str(double v);

// Throws GC-1603 for cv_folds < 0.
void check_fit_options(const FitOptions& o);

// Checks the column count (min_inputs..max_inputs) and lengths (GC-1610),
// drops the non-finite points and refuses all-non-finite data (GC-1604) or
// fewer usable points than n_params (GC-1605). `kind` names the fit.
Clean clean_data(const FitData& d, const std::string& kind, std::size_t min_inputs, std::size_t max_inputs,
                 std::size_t n_params);

// The points `idx` of c, in that order.
Clean subset(const Clean& c, const std::vector<std::size_t>& idx);

// The variables of d with the ranges of its finite points c.
ModelInfo make_info(const FitData& d, const Clean& c);

// Checks the input count (GC-1610) and applies the out-of-range policy
// (GC-1609 or a clamp and a warning). Inputs before `first_checked` are
// exempt from the range check.
std::vector<double> checked_inputs(const ModelInfo& info, const std::string& kind, std::span<const double> in,
                                   const WarningSink& warn, std::size_t first_checked = 0);

RankInfo rank_info_of(const LinearFit& f);
LeastSquaresOptions ls_options(const FitOptions& o);

// `predict(fitted, x)` at every point of `clean`.
template <typename Fitted, typename Predict>
std::vector<double> predictions(const Clean& clean, const Fitted& fitted, const Predict& predict,
                                const std::vector<std::size_t>* only = nullptr) {
  std::vector<double> out;
  const std::size_t n = only ? only->size() : clean.size();
  for (std::size_t k = 0; k < n; ++k) out.push_back(predict(fitted, clean.point(only ? (*only)[k] : k)));
  return out;
}

// The ModelInfo of a model fitted on `clean`: ranges from the data and the
// quality of `fitted`, with k-fold refits by `core` (fits a Clean) and
// `predict` (evaluates a fitted core at one point).
template <typename Core, typename Predict, typename Fitted>
ModelInfo fitted_info(const FitData& data, const Clean& clean, const FitOptions& o, const Core& core,
                      const Predict& predict, const Fitted& fitted) {
  RefitFunction refit = [&](const std::vector<std::size_t>& train, const std::vector<std::size_t>& test) {
    return predictions(clean, core(subset(clean, train)), predict, &test);
  };
  ModelInfo info = make_info(data, clean);
  info.quality = compute_fit_quality(clean.y, predictions(clean, fitted, predict), clean.excluded, refit, o.cv_folds);
  return info;
}

}  // namespace gaincell::fit::detail
