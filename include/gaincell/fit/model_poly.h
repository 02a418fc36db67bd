// SPDX-License-Identifier: MIT
// File: gaincell/fit/model_poly.h
//
// A total-degree polynomial (degree <= 5) in any number of inputs, for
// read currents and other smooth surfaces without a physical form.
//
//   PolyModel m = PolyModel::fit(data, {.degree = 2});
//   double i_a = m.evaluate(std::vector<double>{0.3, 0.6});
//   std::string name = m.coefficient_name(4);  // "x*y" for inputs x, y
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "gaincell/fit/model_info.h"

namespace gaincell::fit {

// Total-degree polynomial: y = sum_k c_k prod_d u_d^e_kd, with each input
// scaled to u = (x - center) / half_range in [-1, 1] over the data (a constant
// input gets half_range 1). Monomials in graded lexicographic order: by total
// degree ascending, then by the exponent of the first input descending, then
// of the second, ...; for inputs (x, y), degree 2: 1, x, y, x^2, x*y, y^2.
// Coefficients refer to the scaled inputs.
class PolyModel : public ModelWithInfo {
 public:
  static constexpr int kMaxDegree = 5;
  struct Options {
    int degree = 3;  // 0..5
    FitOptions fit;
  };

  PolyModel() = default;
  PolyModel(ModelInfo info, int degree, std::vector<double> centers, std::vector<double> half_ranges,
            std::vector<double> c, RankInfo rank);

  // Throws GC-1602/1603/1604/1605/1610.
  static PolyModel fit(const FitData& data, const Options& options);
  double evaluate(std::span<const double> inputs, const WarningSink& warn = {}) const;

  // Exponent tuples of the monomials, in the order above.
  static std::vector<std::vector<int>> monomials(std::size_t n_inputs, int degree);
  // "1", "x", "x^2*y" with the input names.
  std::string coefficient_name(std::size_t k) const;
  int degree() const { return degree_; }
  const std::vector<double>& coefficients() const { return c_; }
  const std::vector<double>& centers() const { return centers_; }
  const std::vector<double>& half_ranges() const { return half_ranges_; }
  const RankInfo& rank_info() const { return rank_; }

 private:
  int degree_ = 0;
  std::vector<double> centers_, half_ranges_, c_;
  RankInfo rank_;
};

}  // namespace gaincell::fit
