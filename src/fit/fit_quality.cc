// SPDX-License-Identifier: MIT
#include "gaincell/fit/fit_quality.h"

#include <algorithm>
#include <cmath>

#include "gaincell/core/error.h"

namespace gaincell::fit {

FitQuality compute_fit_quality(std::span<const double> observed, std::span<const double> predicted,
                               std::size_t points_excluded, const RefitFunction& refit,
                               int cv_folds) {
  GC_CHECK(observed.size() == predicted.size())
      << observed.size() << " observed vs " << predicted.size() << " predicted";
  FitQuality q;
  const std::size_t n = observed.size();
  q.points_used = n;
  q.points_excluded = points_excluded;
  if (n == 0) return q;
  double mean = 0.0;
  for (double y : observed) mean += y;
  mean /= static_cast<double>(n);
  double ssr = 0.0, sst = 0.0, max_abs = 0.0;
  for (std::size_t p = 0; p < n; ++p) {
    const double r = observed[p] - predicted[p];
    ssr += r * r;
    sst += (observed[p] - mean) * (observed[p] - mean);
    max_abs = std::max(max_abs, std::abs(r));
  }
  q.rms_residual = std::sqrt(ssr / static_cast<double>(n));
  q.max_abs_residual = max_abs;
  if (sst > 0.0) q.r_squared = 1.0 - ssr / sst;

  const std::size_t k = cv_folds > 0 ? static_cast<std::size_t>(cv_folds) : 0;
  if (!refit || k < 2 || n < 2 * k) return q;
  double cv_ssr = 0.0;
  try {
    for (std::size_t fold = 0; fold < k; ++fold) {
      std::vector<std::size_t> train, test;
      for (std::size_t p = 0; p < n; ++p) (p % k == fold ? test : train).push_back(p);
      const std::vector<double> prediction = refit(train, test);
      GC_CHECK(prediction.size() == test.size()) << "refit returned " << prediction.size();
      for (std::size_t t = 0; t < test.size(); ++t) {
        const double r = observed[test[t]] - prediction[t];
        cv_ssr += r * r;
      }
    }
  } catch (const InputError&) {
    return q;
  }
  q.cv_rms_residual = std::sqrt(cv_ssr / static_cast<double>(n));
  q.cv_folds = cv_folds;
  return q;
}

}  // namespace gaincell::fit
