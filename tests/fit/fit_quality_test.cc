// SPDX-License-Identifier: MIT
#include "gaincell/fit/fit_quality.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "gaincell/core/error.h"

using gaincell::fit::compute_fit_quality;

namespace {
constexpr double kRel = 1e-12;
}

TEST_CASE("fit quality: residual statistics by hand", "[unit][fit]") {
  const std::vector<double> y{1, 2, 3, 4}, y_hat{1.1, 1.9, 3.2, 3.8};
  const auto q = compute_fit_quality(y, y_hat, 3, {}, 5);
  CHECK(q.points_used == 4);
  CHECK(q.points_excluded == 3);
  CHECK(q.rms_residual == Approx(std::sqrt(0.025)).epsilon(kRel));
  CHECK(q.max_abs_residual == Approx(0.2).epsilon(kRel));
  CHECK(q.r_squared == Approx(1.0 - 0.1 / 5.0).epsilon(kRel));
  CHECK(std::isnan(q.cv_rms_residual));  // no refit given
  CHECK(q.cv_folds == 0);
}

TEST_CASE("fit quality: k-fold folds are index modulo k", "[unit][fit]") {
  // y = 0..5, k = 3, the "model" predicts the mean of its training points.
  const std::vector<double> y{0, 1, 2, 3, 4, 5};
  std::vector<std::vector<std::size_t>> tests;
  const auto refit = [&](const std::vector<std::size_t>& train, const std::vector<std::size_t>& test) {
    tests.push_back(test);
    double mean = 0.0;
    for (std::size_t p : train) mean += y[p];
    mean /= static_cast<double>(train.size());
    return std::vector<double>(test.size(), mean);
  };
  const auto q = compute_fit_quality(y, y, 0, refit, 3);
  REQUIRE(tests.size() == 3);
  CHECK(tests[0] == std::vector<std::size_t>{0, 3});
  CHECK(tests[1] == std::vector<std::size_t>{1, 4});
  CHECK(tests[2] == std::vector<std::size_t>{2, 5});
  // Residuals: (-3, 0), (-1.5, 1.5), (0, 3): SS = 22.5 over 6 points.
  CHECK(q.cv_rms_residual == Approx(std::sqrt(22.5 / 6.0)).epsilon(kRel));
  CHECK(q.cv_folds == 3);
  CHECK(q.rms_residual == 0.0);
}

TEST_CASE("fit quality: a refused fold refit leaves CV undefined", "[unit][fit]") {
  const std::vector<double> y{0, 1, 2, 3, 4, 5};
  const auto refit = [](const std::vector<std::size_t>&, const std::vector<std::size_t>&) -> std::vector<double> {
    throw gaincell::InputError("GC-1605", "too few");
  };
  const auto q = compute_fit_quality(y, y, 0, refit, 2);
  CHECK(std::isnan(q.cv_rms_residual));
  CHECK(q.cv_folds == 0);
  CHECK(std::isnan(compute_fit_quality(std::vector<double>{2, 2}, std::vector<double>{2, 2}, 0, {}, 0).r_squared));
}
