// SPDX-License-Identifier: MIT
#include "gaincell/fit/least_squares.h"

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "gaincell/core/error.h"

namespace gaincell::fit {
namespace {

// Rewrites an orthonormal basis (rows) of a subspace in a canonical, readable
// form: Gauss-Jordan to reduced row echelon form, then Gram-Schmidt in pivot
// order with a positive pivot entry. At a single vin of the paper polynomial
// this yields one row per power i, (1, vin, vin^2, ...) normalized.
Eigen::MatrixXd canonical_basis(const Eigen::MatrixXd& w) {
  Eigen::MatrixXd r = w;
  const Eigen::Index rows = r.rows(), cols = r.cols();
  std::vector<Eigen::Index> pivots;
  Eigen::Index row = 0;
  for (Eigen::Index c = 0; c < cols && row < rows; ++c) {
    Eigen::Index best = row;
    for (Eigen::Index k = row + 1; k < rows; ++k) {
      if (std::abs(r(k, c)) > std::abs(r(best, c))) best = k;
    }
    if (std::abs(r(best, c)) < 1e-8) continue;
    r.row(row).swap(r.row(best));
    r.row(row) /= r(row, c);
    for (Eigen::Index k = 0; k < rows; ++k) {
      if (k != row) r.row(k) -= r(k, c) * r.row(row);
    }
    pivots.push_back(c);
    ++row;
  }
  GC_CHECK(row == rows) << "basis of rank " << row << " < " << rows;
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(r.transpose());
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(cols, rows);
  for (Eigen::Index k = 0; k < rows; ++k) {
    if (q(pivots[static_cast<std::size_t>(k)], k) < 0) q.col(k) *= -1.0;
  }
  return q.transpose();
}

}  // namespace

LinearFit solve_least_squares(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                              const LeastSquaresOptions& options) {
  GC_CHECK(a.rows() == b.size()) << "A has " << a.rows() << " rows, b has " << b.size();
  if (!(options.rank_rtol > 0.0 && options.rank_rtol < 1.0)) {
    std::ostringstream s;
    s << "Invalid configuration. fit.rank_rtol = " << options.rank_rtol
      << ". Violated constraint: 0 < fit.rank_rtol < 1";
    throw InputError("GC-1603", s.str());
  }
  for (Eigen::Index r = 0; r < a.rows(); ++r) {
    if (!std::isfinite(b(r)) || !a.row(r).allFinite()) {
      throw InputError("GC-1601", "least squares: row " + std::to_string(r) +
                                      " holds a non-finite value (NaN or inf)");
    }
  }
  const Eigen::Index n = a.cols();
  LinearFit fit;
  fit.column_norms = a.colwise().norm().transpose();
  for (Eigen::Index j = 0; j < n; ++j) {
    if (fit.column_norms(j) == 0.0) fit.column_norms(j) = 1.0;
  }
  const Eigen::MatrixXd scaled = a * fit.column_norms.cwiseInverse().asDiagonal();
  // Thin U is enough for the solution; the full V gives the null space when
  // there are fewer rows than unknowns.
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(scaled, Eigen::ComputeThinU | Eigen::ComputeFullV);
  fit.singular_values = svd.singularValues();
  const double sigma_max = fit.singular_values.size() > 0 ? fit.singular_values(0) : 0.0;
  Eigen::Index rank = 0;
  for (Eigen::Index k = 0; k < fit.singular_values.size(); ++k) {
    if (fit.singular_values(k) > options.rank_rtol * sigma_max) ++rank;
  }
  fit.rank = rank;
  if (rank < n && !options.allow_rank_deficient) {
    std::ostringstream s;
    s << "least squares: rank-deficient system: numerical rank " << rank << " < " << n
      << " unknowns (" << a.rows() << " rows); the data determine only " << rank
      << " combinations of the coefficients; set allow_rank_deficient to accept the "
         "minimum-norm solution";
    throw InputError("GC-1602", s.str());
  }
  const Eigen::MatrixXd& u = svd.matrixU();
  const Eigen::MatrixXd& v = svd.matrixV();
  // Particular solution in scaled coordinates, then back to the original ones.
  Eigen::VectorXd y = v.leftCols(rank) *
                      (fit.singular_values.head(rank).cwiseInverse().asDiagonal() *
                       (u.leftCols(rank).transpose() * b));
  Eigen::VectorXd x = fit.column_norms.cwiseInverse().asDiagonal() * y;
  if (rank < n) {
    // The null space of A in original coordinates is D^-1 V_null. The minimum
    // (unscaled) norm solution is x minus its projection on that space; the
    // orthogonal complement of the null space is the row space of A.
    const Eigen::MatrixXd null_basis =
        fit.column_norms.cwiseInverse().asDiagonal() * v.rightCols(n - rank);
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(null_basis);
    const Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(n, n);
    const Eigen::MatrixXd q_null = q.leftCols(n - rank);
    x -= q_null * (q_null.transpose() * x);
    fit.identified = canonical_basis(q.rightCols(rank).transpose());
  } else {
    fit.identified = Eigen::MatrixXd::Identity(n, n);
  }
  fit.residual = b - a * x;
  fit.x = std::move(x);
  return fit;
}

}  // namespace gaincell::fit
