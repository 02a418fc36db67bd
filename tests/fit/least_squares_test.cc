// SPDX-License-Identifier: MIT
#include "gaincell/fit/least_squares.h"

#include <catch2/catch.hpp>

#include "gaincell/core/error.h"

using gaincell::InputError;
using gaincell::fit::LeastSquaresOptions;
using gaincell::fit::solve_least_squares;

namespace {
constexpr double kExactRel = 1e-12;  // exact data, well-conditioned solve
constexpr double kPinvRel = 1e-10;   // our min-norm solution vs an independent pseudo-inverse

// numpy.linalg.lstsq's answer: pinv(A) b with singular values below
// rcond * sigma_max dropped, computed here without any column scaling.
Eigen::VectorXd pinv_solve(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, double rcond) {
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(a, Eigen::ComputeFullU | Eigen::ComputeFullV);
  const Eigen::VectorXd s = svd.singularValues();
  Eigen::MatrixXd s_inv = Eigen::MatrixXd::Zero(a.cols(), a.rows());
  for (Eigen::Index k = 0; k < s.size(); ++k) {
    if (s(k) > rcond * s(0)) s_inv(k, k) = 1.0 / s(k);
  }
  return svd.matrixV() * s_inv * svd.matrixU().transpose() * b;
}
}  // namespace

TEST_CASE("least squares: full-rank line fit is exact", "[unit][fit]") {
  Eigen::MatrixXd a(3, 2);
  a << 1, 0, 1, 1, 1, 2;
  Eigen::VectorXd b(3);
  b << 1, 3, 5;
  const auto fit = solve_least_squares(a, b, {});
  CHECK(fit.rank == 2);
  CHECK_FALSE(fit.is_rank_deficient());
  CHECK(fit.x(0) == Approx(1.0).epsilon(kExactRel));
  CHECK(fit.x(1) == Approx(2.0).epsilon(kExactRel));
  CHECK(fit.residual.norm() < 1e-12);
  CHECK(fit.identified.isApprox(Eigen::MatrixXd::Identity(2, 2)));
}

TEST_CASE("least squares: column scaling copes with SI magnitudes", "[unit][fit]") {
  // Columns 1, t (1e-9 s) and q (1e-12 C): 21 orders of magnitude apart.
  const int n = 12;
  Eigen::MatrixXd a(n, 3);
  Eigen::VectorXd b(n);
  for (int r = 0; r < n; ++r) {
    const double t_s = 1e-9 * r, q_c = 1e-12 * (r * r % 7);
    a(r, 0) = 1.0;
    a(r, 1) = t_s;
    a(r, 2) = q_c;
    b(r) = 0.3 + 2e8 * t_s - 5e11 * q_c;
  }
  const auto fit = solve_least_squares(a, b, {});
  CHECK(fit.rank == 3);
  CHECK(fit.x(0) == Approx(0.3).epsilon(1e-10));
  CHECK(fit.x(1) == Approx(2e8).epsilon(1e-10));
  CHECK(fit.x(2) == Approx(-5e11).epsilon(1e-10));
}

TEST_CASE("least squares: rank-deficient system is refused unless allowed", "[unit][fit]") {
  // Column 2 = 2 * column 1: rank 2 of 3.
  Eigen::MatrixXd a(4, 3);
  a << 1, 1, 2, 1, 2, 4, 1, 3, 6, 1, 4, 8;
  Eigen::VectorXd b(4);
  b << 2, 3.9, 6.1, 8;
  CHECK_THROWS_WITH(solve_least_squares(a, b, {}),
                    "error GC-1602: least squares: rank-deficient system: numerical rank 2 < 3 unknowns (4 rows); the data "
                    "determine only 2 combinations of the coefficients; set allow_rank_deficient to accept the "
                    "minimum-norm solution");
  try {
    solve_least_squares(a, b, {});
  } catch (const InputError& e) {
    CHECK(e.id() == "GC-1602");
  }
  LeastSquaresOptions options;
  options.allow_rank_deficient = true;
  const auto fit = solve_least_squares(a, b, options);
  CHECK(fit.rank == 2);
  CHECK(fit.is_rank_deficient());
  const Eigen::VectorXd expected = pinv_solve(a, b, 1e-10);
  CHECK((fit.x - expected).norm() <= kPinvRel * expected.norm());
  // The identified combinations: orthonormal rows spanning the row space of A.
  REQUIRE(fit.identified.rows() == 2);
  CHECK((fit.identified * fit.identified.transpose()).isApprox(Eigen::MatrixXd::Identity(2, 2), 1e-12));
  const Eigen::MatrixXd projector = fit.identified.transpose() * fit.identified;
  CHECK((a * projector - a).norm() < 1e-12 * a.norm());
  // The null direction (0, 2, -1) is not identified.
  Eigen::Vector3d null_dir(0, 2, -1);
  CHECK((fit.identified * null_dir).norm() < 1e-12);
}

TEST_CASE("least squares: under-determined system gives the minimum-norm solution", "[unit][fit]") {
  Eigen::MatrixXd a(2, 4);
  a << 1, 2, 0, 1e-3, 0, 1, 1, 0;
  Eigen::VectorXd b(2);
  b << 1, 2;
  LeastSquaresOptions options;
  options.allow_rank_deficient = true;
  const auto fit = solve_least_squares(a, b, options);
  CHECK(fit.rank == 2);
  const Eigen::VectorXd expected = pinv_solve(a, b, 1e-10);
  CHECK((fit.x - expected).norm() <= kPinvRel * expected.norm());
  CHECK(fit.residual.norm() < 1e-12);
}

TEST_CASE("least squares: refusals", "[unit][fit]") {
  Eigen::MatrixXd a(2, 1);
  a << 1, std::numeric_limits<double>::quiet_NaN();
  Eigen::VectorXd b(2);
  b << 1, 2;
  CHECK_THROWS_WITH(solve_least_squares(a, b, {}), "error GC-1601: least squares: row 1 holds a non-finite value (NaN or inf)");
  a(1, 0) = 1.0;
  LeastSquaresOptions options;
  options.rank_rtol = 0.0;
  CHECK_THROWS_WITH(solve_least_squares(a, b, options),
                    "error GC-1603: Invalid configuration. fit.rank_rtol = 0. Violated constraint: 0 < fit.rank_rtol < 1");
}
