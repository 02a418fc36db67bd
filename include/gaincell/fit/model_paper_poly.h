// SPDX-License-Identifier: MIT
// File: gaincell/fit/model_paper_poly.h
//
// The paper's eq. (4): the charge of a gain cell read by a pulse, a cubic in
// the stored voltage around offset_v, per unit pulse width.
//
//   FitData data{{{"x_pw", "1", pw}, {"v_store_v", "V", v}}, {"q_c", "C", q}};
//   PaperPolyModel m = PaperPolyModel::fit(data, {});
//   std::array<double, 4> a = m.collapsed();  // a_0..a_3 at vin_v
#pragma once

#include <array>
#include <span>
#include <string>

#include "gaincell/fit/model_info.h"

namespace gaincell::fit {

// y = x_pw * sum_{i=0..3} sum_{j=0..3-i} C_ij (v - offset_v)^i vin^j.
// Inputs: [x_pw, v] or [x_pw, v, vin]; with two inputs every point is at
// vin = vin_v. Coefficients in the authors' list order (i outer, j inner):
// C00 C01 C02 C03 C10 C11 C12 C20 C21 C30. At a single vin only the four
// combinations a_i = sum_j C_ij vin^j are determined (rank 4 of 10); the fit
// then returns the minimum-norm C, which is what numpy.linalg.lstsq returns
// (and how the authors' coefficients were made), and collapsed() gives a_i.
// With >= 4 distinct vin values all 10 are determined.
class PaperPolyModel : public ModelWithInfo {
 public:
  static constexpr int kCoefficients = 10;
  using Coefficients = std::array<double, kCoefficients>;
  struct Options {
    double offset_v = 0.45;
    double vin_v = 0.9;  // vin of every point when no vin column is given
    FitOptions fit{5, 1e-10, /*allow_rank_deficient=*/true};
  };

  PaperPolyModel() = default;
  PaperPolyModel(ModelInfo info, const Coefficients& c, double offset_v, double vin_v, RankInfo rank);

  // Throws GC-1603/1604/1605/1610, and GC-1602 for a rank deficiency when
  // options.fit.allow_rank_deficient is false.
  static PaperPolyModel fit(const FitData& data, const Options& options);

  // inputs: values in the order of info().inputs. Throws GC-1610 on a wrong
  // count, GC-1609 out of range under OutOfRange::kError. x_pw is exempt from
  // the range policy: y is proportional to it by construction.
  double evaluate(std::span<const double> inputs, const WarningSink& warn = {}) const;

  // a_i = sum_j C_ij vin^j, i = 0..3 (polynomial in v - offset, per unit x_pw)
  // of any coefficient list in the authors' order, e.g. the authors' own.
  static std::array<double, 4> collapse(const Coefficients& c, double vin_v);
  std::array<double, 4> collapsed(double vin_v) const { return collapse(c_, vin_v); }
  std::array<double, 4> collapsed() const { return collapsed(vin_v_); }

  static int index(int i, int j);              // position of C_ij in the list
  static std::string coefficient_name(int k);  // "C_i_j" of list position k
  const Coefficients& coefficients() const { return c_; }
  double offset_v() const { return offset_v_; }
  double vin_v() const { return vin_v_; }
  const RankInfo& rank_info() const { return rank_; }
  // A sentence on the minimum-norm choice when rank < 10, "" otherwise.
  std::string note() const;

 private:
  Coefficients c_{};
  double offset_v_ = 0.45;
  double vin_v_ = 0.9;
  RankInfo rank_;
};

}  // namespace gaincell::fit
