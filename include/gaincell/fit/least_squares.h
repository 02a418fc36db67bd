// SPDX-License-Identifier: MIT
// File: gaincell/fit/least_squares.h
//
// Dense linear least squares, min ||A x - b||_2, solved the way the fits need
// it: columns are scaled to unit norm for conditioning (and unscaled after),
// the scaled matrix is factored by a Jacobi SVD (never the normal equations),
// and the numerical rank is the number of singular values above
// `rank_rtol * sigma_max` of the scaled matrix. A rank-deficient system is
// accepted only on request; its answer is then the MINIMUM-NORM solution in
// the original coefficient coordinates (what numpy.linalg.lstsq returns), and
// `identified` holds an orthonormal basis of the row space of A: the linear
// combinations of coefficients that the data determine.
//
//   Eigen::MatrixXd a(3, 2);  a << 1, 0, 1, 1, 1, 2;
//   Eigen::VectorXd b(3);     b << 1, 3, 5;
//   LinearFit fit = solve_least_squares(a, b, {});
//   // fit.x = (1, 2), fit.rank = 2
//
// Public headers of this area that mention Eigen need Eigen 3.3+ on the
// include path of the user (in-tree targets get it from the gaincell target).
#pragma once

#include <Eigen/Dense>

namespace gaincell::fit {

struct LeastSquaresOptions {
  // A singular value of the column-scaled matrix counts when it exceeds
  // rank_rtol times the largest one. Constraint: 0 < rank_rtol < 1.
  double rank_rtol = 1e-10;
  // Accept rank < unknowns and return the minimum-norm solution. Otherwise
  // such a system throws InputError GC-1602.
  bool allow_rank_deficient = false;
};

struct LinearFit {
  Eigen::VectorXd x;                // solution, original coordinates (min-norm if rank-deficient)
  Eigen::Index rank = 0;            // numerical rank of A
  Eigen::VectorXd singular_values;  // of the column-scaled A, descending
  Eigen::VectorXd column_norms;     // the scale applied to each column (0-norm columns get 1)
  // rank x n, orthonormal rows spanning the row space of A in original
  // coordinates: the combinations w^T x the data determine. Canonical form:
  // Gram-Schmidt of the reduced row echelon basis in pivot order, pivot entry
  // positive (so the rows are reproducible). Identity when the rank is full.
  Eigen::MatrixXd identified;
  Eigen::VectorXd residual;         // b - A x
  bool is_rank_deficient() const { return rank < x.size(); }
};

// Solves min ||A x - b||. Contracts: A.rows() == b.size() (checked, programmer
// error otherwise); A and b finite. Throws InputError GC-1601 for a non-finite
// entry, GC-1602 for a rank-deficient system without allow_rank_deficient
// (message names rank, unknowns and rows), GC-1603 for bad options.
LinearFit solve_least_squares(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                              const LeastSquaresOptions& options);

}  // namespace gaincell::fit
