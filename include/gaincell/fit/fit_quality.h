// SPDX-License-Identifier: MIT
// File: gaincell/fit/fit_quality.h
//
// How well a fitted model describes its data: in-sample residual statistics
// and a k-fold cross-validated RMS residual. Residuals are observed minus
// predicted, in the unit of the fitted output. Cross-validation folds are
// DETERMINISTIC: usable point number p (0-based, in input order, after the
// non-finite points are dropped) belongs to fold p % k, so an ordered sweep is
// split into interleaved folds and the result does not depend on any seed.
//
//   FitQuality q = compute_fit_quality(y, y_hat, /*points_excluded=*/2,
//       [&](const std::vector<std::size_t>& train, const std::vector<std::size_t>& test) {
//         return refit_and_predict(train, test);  // predictions at `test`
//       }, 5);
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <span>
#include <vector>

namespace gaincell::fit {

struct FitQuality {
  std::size_t points_used = 0;      // finite points the fit used
  std::size_t points_excluded = 0;  // points dropped: NaN/inf inputs or output (failed sim points)
  double rms_residual = std::numeric_limits<double>::quiet_NaN();      // output unit
  double max_abs_residual = std::numeric_limits<double>::quiet_NaN();  // output unit
  double r_squared = std::numeric_limits<double>::quiet_NaN();  // NaN when the output is constant
  // Cross-validated RMS residual (output unit); NaN when not computed: fewer
  // points than 2 * cv_folds requested, cv_folds < 2, or a fold refit was refused.
  double cv_rms_residual = std::numeric_limits<double>::quiet_NaN();
  int cv_folds = 0;  // folds actually used; 0 = no cross-validation
};

// Refits on the points `train` (indices into the used points) and returns the
// predictions at the points `test`, in that order. May throw InputError.
using RefitFunction = std::function<std::vector<double>(const std::vector<std::size_t>& train,
                                                        const std::vector<std::size_t>& test)>;

// Statistics of `observed` against `predicted` (same size, finite), and when
// `refit` is set and cv_folds >= 2, a cv_folds-fold cross-validation with the
// fold rule above. A refit that throws InputError makes cv_rms_residual NaN
// and cv_folds 0 (the fold was too small for the model); other exceptions pass.
FitQuality compute_fit_quality(std::span<const double> observed, std::span<const double> predicted,
                               std::size_t points_excluded, const RefitFunction& refit,
                               int cv_folds = 5);

}  // namespace gaincell::fit
