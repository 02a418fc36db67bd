// SPDX-License-Identifier: MIT
#include "gaincell/fit/model_poly.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "gaincell/core/error.h"
#include "gaincell/fit/least_squares.h"
#include "model_support.h"

namespace gaincell::fit {
namespace {

using detail::Clean;
using Monomials = std::vector<std::vector<int>>;

void monomials_of_degree(std::size_t n, int left, std::vector<int>& cur, Monomials& out) {
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
  std::vector<double> coefficients() const { return std::vector<double>(fit.x.data(), fit.x.data() + fit.x.size()); }
};

// factor * prod_d ((x_d - center_d) / half_range_d)^e_d of one monomial e.
double monomial_value(double factor, const std::vector<int>& e, const std::vector<double>& centers,
                      const std::vector<double>& half_ranges, const std::vector<double>& x) {
  double term = factor;
  for (std::size_t d = 0; d < x.size(); ++d) term *= std::pow((x[d] - centers[d]) / half_ranges[d], e[d]);
  return term;
}

double poly_value(const Monomials& mono, const std::vector<double>& c, const std::vector<double>& centers,
                  const std::vector<double>& half_ranges, const std::vector<double>& x) {
  double sum = 0.0;
  for (std::size_t k = 0; k < mono.size(); ++k) sum += monomial_value(c[k], mono[k], centers, half_ranges, x);
  return sum;
}

void check_degree(int degree) {
  if (degree < 0 || degree > PolyModel::kMaxDegree) {
    throw InputError("GC-1603", "Invalid configuration. fit.degree = " + std::to_string(degree) +
                                    ". Violated constraint: 0 <= fit.degree <= 5");
  }
}

// Each input's centre and half range over the points (half range 1 when constant).
void scale_inputs(const Clean& c, PolyCore& out) {
  for (const auto& column : c.x) {
    const auto [lo, hi] = std::minmax_element(column.begin(), column.end());
    out.centers.push_back(0.5 * (*lo + *hi));
    out.half_ranges.push_back(*hi > *lo ? 0.5 * (*hi - *lo) : 1.0);
  }
}

PolyCore solve_poly(const Clean& c, const Monomials& mono, const FitOptions& options) {
  PolyCore out;
  scale_inputs(c, out);
  Eigen::MatrixXd a(static_cast<Eigen::Index>(c.size()), static_cast<Eigen::Index>(mono.size()));
  Eigen::VectorXd b(static_cast<Eigen::Index>(c.size()));
  for (std::size_t p = 0; p < c.size(); ++p) {
    const std::vector<double> x = c.point(p);
    for (std::size_t k = 0; k < mono.size(); ++k) {
      a(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(k)) = monomial_value(1.0, mono[k], out.centers, out.half_ranges, x);
    }
    b(static_cast<Eigen::Index>(p)) = c.y[p];
  }
  out.fit = solve_least_squares(a, b, detail::ls_options(options));
  return out;
}

}  // namespace

std::vector<std::vector<int>> PolyModel::monomials(std::size_t n_inputs, int degree) {
  Monomials out;
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
    : ModelWithInfo(std::move(info)), degree_(degree), centers_(std::move(centers)),
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
  detail::check_fit_options(options.fit);
  check_degree(options.degree);
  const Monomials mono = monomials(data.inputs.size(), options.degree);
  const Clean clean = detail::clean_data(data, "poly", 1, 16, mono.size());
  const auto core = [&](const Clean& c) { return solve_poly(c, mono, options.fit); };
  const auto predict = [&](const PolyCore& f, const std::vector<double>& x) {
    return poly_value(mono, f.coefficients(), f.centers, f.half_ranges, x);
  };
  const PolyCore fitted = core(clean);
  return PolyModel(detail::fitted_info(data, clean, options.fit, core, predict, fitted), options.degree,
                   fitted.centers, fitted.half_ranges, fitted.coefficients(), detail::rank_info_of(fitted.fit));
}

double PolyModel::evaluate(std::span<const double> inputs, const WarningSink& warn) const {
  const std::vector<double> x = detail::checked_inputs(info_, "poly", inputs, warn);
  return poly_value(monomials(x.size(), degree_), c_, centers_, half_ranges_, x);
}

}  // namespace gaincell::fit
