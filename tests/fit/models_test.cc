// SPDX-License-Identifier: MIT
#include "gaincell/fit/models.h"

#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <Eigen/Dense>

#include "gaincell/core/error.h"

using namespace gaincell::fit;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kCollapsedRel = 1e-9;   // a_i from exact data at one vin
constexpr double kFullRel = 1e-9;        // all 10 C_ij from exact data at 4 vin values
constexpr double kExactRel = 1e-9;       // other exact synthetic fits
constexpr double kDecayExactRel = 1e-6;  // tau, V_inf from noiseless samples
constexpr double kDecayNoisyRel = 1e-2;  // tau, V_inf with +-1 mV noise

// The authors' coefficients (model_gpt.py:808), list order i outer, j inner.
constexpr std::array<double, 10> kAuthorsC{0.17393044, 0.15653739, 0.14088365, 0.12679529, 5.51975209,
                                           4.96777688, 4.4709992,  -1.44776001, -1.30298401, 46.05483778};

double paper_y(const std::array<double, 10>& c, double x_pw, double v, double vin) {
  double y = 0.0;
  int k = 0;
  for (int i = 0; i <= 3; ++i) {
    for (int j = 0; j <= 3 - i; ++j) y += c[static_cast<std::size_t>(k++)] * std::pow(v - 0.45, i) * std::pow(vin, j);
  }
  return x_pw * y;
}

// Synthetic transfer data: x_pw in {0.25, 0.5, 1} x 19 stored voltages 0..0.9 V, per vin.
FitData paper_data(const std::vector<double>& vins, bool with_vin_column) {
  FitData d;
  d.inputs = {{"x_pw", "1", {}}, {"v_store_v", "V", {}}};
  if (with_vin_column) d.inputs.push_back({"v_in_v", "V", {}});
  d.output = {"i_rbl_ua", "uA", {}};
  for (double vin : vins) {
    for (double x_pw : {0.25, 0.5, 1.0}) {
      for (int k = 0; k <= 18; ++k) {
        const double v = 0.05 * k;
        d.inputs[0].values.push_back(x_pw);
        d.inputs[1].values.push_back(v);
        if (with_vin_column) d.inputs[2].values.push_back(vin);
        d.output.values.push_back(paper_y(kAuthorsC, x_pw, v, vin));
      }
    }
  }
  return d;
}

double rel_diff(const Eigen::VectorXd& a, const Eigen::VectorXd& b) { return (a - b).norm() / b.norm(); }

}  // namespace

TEST_CASE("paper poly: single vin gives the collapsed a_i and numpy's minimum-norm C", "[unit][fit]") {
  const FitData data = paper_data({0.9}, false);
  const auto m = PaperPolyModel::fit(data, {});
  CHECK(m.rank_info().rank == 4);
  CHECK(m.rank_info().unknowns == 10);
  CHECK(m.rank_info().identified.size() == 4);
  CHECK_FALSE(m.note().empty());

  // a_i = sum_j C_ij 0.9^j of the authors' coefficients, and the paper's rounding.
  const auto a = m.collapsed();
  const std::array<double, 4> expected{0.52136362, 13.61226063, -2.62044562, 46.05483778};
  for (std::size_t i = 0; i < 4; ++i) {
    double a_auth = 0.0;
    for (int j = 0; j <= 3 - static_cast<int>(i); ++j) {
      a_auth += kAuthorsC[static_cast<std::size_t>(PaperPolyModel::index(static_cast<int>(i), j))] * std::pow(0.9, j);
    }
    CHECK(a[i] == Approx(a_auth).epsilon(kCollapsedRel));
    CHECK(a[i] == Approx(expected[i]).margin(1e-8));  // values printed to 8 decimals
  }
  // f(y) = 0.5214 + 13.612 y - 2.6204 y^2 + 46.055 y^3 (half a unit of the last printed digit).
  CHECK(a[0] == Approx(0.5214).margin(5e-5));
  CHECK(a[1] == Approx(13.612).margin(5e-4));
  CHECK(a[2] == Approx(-2.6204).margin(5e-5));
  CHECK(a[3] == Approx(46.055).margin(5e-4));
  const double one_pw[] = {1.0, 0.0}, one_pw_hi[] = {1.0, 0.9};
  CHECK(m.evaluate(one_pw) == Approx(-10.3315).margin(1e-4));
  CHECK(m.evaluate(one_pw_hi) == Approx(10.3130).margin(1e-4));

  // Minimum-norm C = pinv(A) b, with the pseudo-inverse from an unscaled SVD.
  const auto n = static_cast<Eigen::Index>(data.output.values.size());
  Eigen::MatrixXd design(n, 10);
  Eigen::VectorXd b(n);
  for (Eigen::Index r = 0; r < n; ++r) {
    const auto p = static_cast<std::size_t>(r);
    for (int i = 0; i <= 3; ++i) {
      for (int j = 0; j <= 3 - i; ++j) {
        design(r, PaperPolyModel::index(i, j)) =
            data.inputs[0].values[p] * std::pow(data.inputs[1].values[p] - 0.45, i) * std::pow(0.9, j);
      }
    }
    b(r) = data.output.values[p];
  }
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(design, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Eigen::VectorXd s = svd.singularValues();
  Eigen::VectorXd s_inv = Eigen::VectorXd::Zero(s.size());
  for (Eigen::Index k = 0; k < s.size(); ++k) s_inv(k) = s(k) > 1e-10 * s(0) ? 1.0 / s(k) : 0.0;
  const Eigen::VectorXd pinv_c = svd.matrixV() * s_inv.asDiagonal() * svd.matrixU().transpose() * b;
  const Eigen::VectorXd fitted_c = Eigen::Map<const Eigen::VectorXd>(m.coefficients().data(), 10);
  CHECK(rel_diff(fitted_c, pinv_c) < 1e-9);
  // The authors' list itself is numpy's minimum-norm answer (rounded to 8 decimals).
  for (std::size_t k = 0; k < 10; ++k) CHECK(m.coefficients()[k] == Approx(kAuthorsC[k]).margin(1e-7));
  CHECK(m.info().quality.points_used == 57);
  CHECK(m.info().quality.rms_residual < 1e-12);
  CHECK(m.info().quality.cv_folds == 5);
  CHECK(m.info().quality.cv_rms_residual < 1e-12);
}

TEST_CASE("paper poly: four vin values determine all ten coefficients", "[unit][fit]") {
  const FitData data = paper_data({0.45, 0.6, 0.75, 0.9}, true);
  const auto m = PaperPolyModel::fit(data, {});
  CHECK(m.rank_info().rank == 10);
  CHECK(m.note().empty());
  for (std::size_t k = 0; k < 10; ++k) CHECK(m.coefficients()[k] == Approx(kAuthorsC[k]).epsilon(kFullRel));
  CHECK(PaperPolyModel::coefficient_name(4) == "C_1_0");
  CHECK(PaperPolyModel::coefficient_name(9) == "C_3_0");
}

TEST_CASE("paper poly: non-finite points are excluded and counted; refusals", "[unit][fit]") {
  FitData data = paper_data({0.9}, false);
  data.output.values[3] = kNaN;
  data.inputs[1].values[7] = std::numeric_limits<double>::infinity();
  const auto m = PaperPolyModel::fit(data, {});
  CHECK(m.info().quality.points_used == 55);
  CHECK(m.info().quality.points_excluded == 2);
  CHECK(m.collapsed()[3] == Approx(46.05483778).epsilon(1e-8));

  PaperPolyModel::Options strict;
  strict.fit.allow_rank_deficient = false;
  CHECK_THROWS_WITH(PaperPolyModel::fit(data, strict),
                    "error GC-1602: least squares: rank-deficient system: numerical rank 4 < 10 unknowns (55 rows); the data "
                    "determine only 4 combinations of the coefficients; set allow_rank_deficient to accept the "
                    "minimum-norm solution");
  FitData few = paper_data({0.9}, false);
  for (auto* col : {&few.inputs[0].values, &few.inputs[1].values, &few.output.values}) col->resize(9);
  few.output.values[0] = kNaN;
  CHECK_THROWS_WITH(PaperPolyModel::fit(few, {}),
                    "error GC-1605: fit paper_poly: 8 usable points (1 excluded as non-finite) for 10 parameters; need at least 10");
  for (double& y : few.output.values) y = kNaN;
  CHECK_THROWS_WITH(PaperPolyModel::fit(few, {}),
                    "error GC-1604: fit paper_poly: all 9 points hold a non-finite value (NaN or inf); nothing to fit");
  FitData one_input = few;
  one_input.inputs.pop_back();
  CHECK_THROWS_WITH(PaperPolyModel::fit(one_input, {}), "error GC-1610: fit paper_poly: expected 2 or 3 input columns, found 1");
  few.inputs[1].values.pop_back();
  CHECK_THROWS_WITH(PaperPolyModel::fit(few, {}), "error GC-1610: fit paper_poly: input 'v_store_v' has 8 values, output 'i_rbl_ua' has 9");
}

TEST_CASE("poly: monomial order and names", "[unit][fit]") {
  const auto mono = PolyModel::monomials(2, 2);
  const std::vector<std::vector<int>> expected{{0, 0}, {1, 0}, {0, 1}, {2, 0}, {1, 1}, {0, 2}};
  CHECK(mono == expected);
  CHECK(PolyModel::monomials(3, 5).size() == 56);  // C(3 + 5, 5)
}

TEST_CASE("poly: recovers a cubic in SI-scaled inputs", "[unit][fit]") {
  // y = 1 + 2e8 t - 3e8 t v + 0.5 v^2 + 1e25 t^3, t in [0, 15 ns], v in [0, 0.9 V].
  const auto truth = [](double t, double v) { return 1.0 + 2e8 * t - 3e8 * t * v + 0.5 * v * v + 1e25 * t * t * t; };
  FitData d{{{"t_s", "s", {}}, {"v_v", "V", {}}}, {"y", "1", {}}};
  for (int i = 0; i <= 10; ++i) {
    for (int k = 0; k <= 6; ++k) {
      d.inputs[0].values.push_back(1.5e-9 * i);
      d.inputs[1].values.push_back(0.15 * k);
      d.output.values.push_back(truth(1.5e-9 * i, 0.15 * k));
    }
  }
  const auto m = PolyModel::fit(d, {});
  CHECK(m.rank_info().rank == 10);
  CHECK(m.coefficient_name(0) == "1");
  CHECK(m.coefficient_name(4) == "t_s*v_v");
  CHECK(m.coefficient_name(6) == "t_s^3");
  for (double t : {1e-9, 7.3e-9, 14e-9}) {
    for (double v : {0.1, 0.44, 0.85}) {
      const double x[] = {t, v};
      CHECK(m.evaluate(x) == Approx(truth(t, v)).epsilon(kExactRel));
    }
  }
  CHECK(m.info().inputs[0].max == Approx(15e-9));
  CHECK(m.info().quality.r_squared == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("poly: refusals", "[unit][fit]") {
  FitData d{{{"x", "1", {0, 1, 2, 3, 4, 5}}, {"y", "1", {0, 1, 2, 3, 4, 5}}}, {"z", "1", {1, 2, 3, 4, 5, kNaN}}};
  PolyModel::Options o;
  o.degree = 7;
  CHECK_THROWS_WITH(PolyModel::fit(d, o), "error GC-1603: Invalid configuration. fit.degree = 7. Violated constraint: 0 <= fit.degree <= 5");
  o.degree = 2;
  CHECK_THROWS_WITH(PolyModel::fit(d, o),
                    "error GC-1605: fit poly: 5 usable points (1 excluded as non-finite) for 6 parameters; need at least 6");
  o.degree = 1;
  o.fit.cv_folds = 0;
  CHECK_THROWS_WITH(PolyModel::fit(d, o),
                    "error GC-1602: least squares: rank-deficient system: numerical rank 2 < 3 unknowns (5 rows); the data "
                    "determine only 2 combinations of the coefficients; set allow_rank_deficient to accept the "
                    "minimum-norm solution");
  o.fit.cv_folds = -1;
  CHECK_THROWS_WITH(PolyModel::fit(d, o), "error GC-1603: Invalid configuration. fit.cv_folds = -1. Violated constraint: fit.cv_folds >= 0");
}

TEST_CASE("exp decay: recovers tau and V_inf from noiseless and noisy samples", "[unit][fit]") {
  // V(t) = 0.45 + (0.9 - 0.45) exp(-t / 5 ms), 41 log-spaced times 1e-5..1e-2 s.
  FitData d{{{"t_s", "s", {}}}, {"v_sn_v", "V", {}}};
  for (int k = 0; k <= 40; ++k) {
    const double t = std::pow(10.0, -5.0 + 3.0 * k / 40.0);
    d.inputs[0].values.push_back(t);
    d.output.values.push_back(0.45 + 0.45 * std::exp(-t / 5e-3));
  }
  const auto m = ExpDecayModel::fit(d, {});
  CHECK(m.tau_s() == Approx(5e-3).epsilon(kDecayExactRel));
  CHECK(m.v_inf_v() == Approx(0.45).epsilon(kDecayExactRel));
  CHECK(m.v0_v() == Approx(0.9).epsilon(kDecayExactRel));

  // Uniform noise in [-1, 1] mV from mt19937 (its output sequence is standard), seed 1.
  std::mt19937 gen(1);
  FitData noisy = d;
  for (double& v : noisy.output.values) v += 1e-3 * (2.0 * static_cast<double>(gen()) / 4294967295.0 - 1.0);
  const auto n = ExpDecayModel::fit(noisy, {});
  CHECK(n.tau_s() == Approx(5e-3).epsilon(kDecayNoisyRel));
  CHECK(n.v_inf_v() == Approx(0.45).epsilon(kDecayNoisyRel));
  CHECK(n.info().quality.rms_residual < 1e-3);
  CHECK(n.info().quality.cv_rms_residual < 1e-3);
}

TEST_CASE("exp decay with a known asymptote resolves tau far beyond the data's span", "[unit][fit]") {
  // V(t) = 0.8 exp(-t / 1e5 s) toward 0 V, 31 log-spaced times 1e-5 .. 100 s: the trace loses 0.08 %.
  FitData d{{{"t_s", "s", {}}}, {"v_sn_v", "V", {}}};
  for (int k = 0; k <= 30; ++k) {
    const double t = std::pow(10.0, -5.0 + 7.0 * k / 30.0);
    d.inputs[0].values.push_back(t);
    d.output.values.push_back(0.8 * std::exp(-t / 1e5));
  }
  // With V_inf free, a slope this small cannot be told from a shifted asymptote.
  CHECK_THROWS_AS(ExpDecayModel::fit(d, {}), gaincell::InputError);
  ExpDecayModel::Options o;
  o.v_inf_v = 0.0;
  const auto m = ExpDecayModel::fit(d, o);
  CHECK(m.tau_s() == Approx(1e5).epsilon(1e-6));
  CHECK(m.v_inf_v() == 0.0);
  CHECK(m.v0_v() == Approx(0.8).epsilon(1e-9));
}

TEST_CASE("exp decay: refuses data without a resolvable decay", "[unit][fit]") {
  FitData flat{{{"t_s", "s", {0, 1e-3, 2e-3, 3e-3}}}, {"v_sn_v", "V", {0.45, 0.45, 0.45, 0.45}}};
  CHECK_THROWS_WITH(ExpDecayModel::fit(flat, {}),
                    "error GC-1606: fit exp_decay: the output does not decay: it is flat (peak-to-peak 0 V over 4 points); fit a "
                    "degree-0 poly model instead");
  FitData line{{{"t_s", "s", {}}}, {"v_sn_v", "V", {}}};
  for (int k = 0; k <= 10; ++k) {
    line.inputs[0].values.push_back(1e-3 * k);
    line.output.values.push_back(0.9 - 1.0 * 1e-3 * k);
  }
  CHECK_THROWS_WITH(ExpDecayModel::fit(line, {}),
                    "error GC-1606: fit exp_decay: no decay resolved by the sampled times: the best tau lies at the upper edge of "
                    "the search bracket [0.0001, 1] s");
  FitData two{{{"t_s", "s", {0, 0, 1e-3}}}, {"v_sn_v", "V", {0.9, 0.9, 0.5}}};
  CHECK_THROWS_WITH(ExpDecayModel::fit(two, {}), "error GC-1606: fit exp_decay: 2 distinct times; a decay needs at least 3");
}

TEST_CASE("hard sigmoid: recovers Tmax, q_sat and offset, also with a +9 ps width offset", "[unit][fit]") {
  // Widths of a charge-to-pulse converter: w = 15 ns * clamp(q / 1 pC, 0, 1), q from -0.2 to 1.3 pC.
  constexpr double kTmax = 15e-9, kQsat = 1e-12, kDelay = 9e-12;
  FitData d{{{"q_c", "C", {}}}, {"w_s", "s", {}}};
  for (int k = 0; k <= 30; ++k) {
    const double q = -0.2e-12 + 0.05e-12 * k;
    d.inputs[0].values.push_back(q);
    d.output.values.push_back(kTmax * std::clamp(q / kQsat, 0.0, 1.0));
  }
  for (bool has_floor : {false, true}) {
    HardSigmoidModel::Options o;
    o.has_floor = has_floor;
    const auto m = HardSigmoidModel::fit(d, o);
    CHECK(m.y_sat() == Approx(kTmax).epsilon(kExactRel));
    CHECK(m.x_sat() == Approx(kQsat).epsilon(kExactRel));
    CHECK(m.x0() == Approx(0.0).margin(kExactRel * kQsat));
    CHECK(m.y_low() == Approx(0.0).margin(kExactRel * kTmax));
    CHECK(m.slope() == Approx(kTmax / kQsat).epsilon(kExactRel));
  }
  FitData late = d;
  for (double& w : late.output.values) w += kDelay;
  const auto m = HardSigmoidModel::fit(late, {});
  CHECK(m.y_low() == Approx(kDelay).epsilon(kExactRel));
  CHECK(m.y_sat() == Approx(kTmax + kDelay).epsilon(kExactRel));
  CHECK(m.x0() == Approx(0.0).margin(kExactRel * kQsat));
  CHECK(m.x_sat() == Approx(kQsat).epsilon(kExactRel));
  const double at_half[] = {0.5e-12};
  CHECK(m.evaluate(at_half) == Approx(kDelay + 0.5 * kTmax).epsilon(kExactRel));
}

TEST_CASE("hard sigmoid: refusals", "[unit][fit]") {
  FitData flat{{{"q_c", "C", {0, 1, 2, 3, 4}}}, {"w_s", "s", {1, 1, 1, 1, 1}}};
  CHECK_THROWS_WITH(HardSigmoidModel::fit(flat, {}),
                    "error GC-1607: fit hard_sigmoid: no ramp found in 5 points: need at least 1 point below, 2 points on and 1 "
                    "point above a rising or falling ramp");
  FitData few{{{"q_c", "C", {0, 1, 2, kNaN}}}, {"w_s", "s", {0, 1, 1, 1}}};
  CHECK_THROWS_WITH(HardSigmoidModel::fit(few, {}),
                    "error GC-1605: fit hard_sigmoid: 3 usable points (1 excluded as non-finite) for 4 parameters; need at least 4");
}

TEST_CASE("hard sigmoid: noisy widths", "[unit][fit]") {
  // As above with +9 ps, 61 charges, and uniform +-0.1 ns noise (mt19937, seed 2).
  constexpr double kTmax = 15e-9, kQsat = 1e-12, kDelay = 9e-12, kNoisyRel = 1e-2;
  std::mt19937 gen(2);
  FitData d{{{"q_c", "C", {}}}, {"w_s", "s", {}}};
  for (int k = 0; k <= 60; ++k) {
    const double q = -0.2e-12 + 0.025e-12 * k;
    d.inputs[0].values.push_back(q);
    const double noise = 1e-10 * (2.0 * static_cast<double>(gen()) / 4294967295.0 - 1.0);
    d.output.values.push_back(kDelay + kTmax * std::clamp(q / kQsat, 0.0, 1.0) + noise);
  }
  const auto m = HardSigmoidModel::fit(d, {});
  CHECK(m.y_sat() == Approx(kTmax + kDelay).epsilon(kNoisyRel));
  CHECK(m.x_sat() == Approx(kQsat).epsilon(kNoisyRel));
  CHECK(m.x0() == Approx(0.0).margin(kNoisyRel * kQsat));
  CHECK(m.y_low() == Approx(kDelay).margin(1e-10));
  CHECK(m.info().quality.rms_residual < 1e-10);
  CHECK(m.info().quality.cv_folds == 5);
}

TEST_CASE("paper poly: identified combinations at one vin are the a_i directions", "[unit][fit]") {
  const auto m = PaperPolyModel::fit(paper_data({0.9}, false), {});
  const auto& ident = m.rank_info().identified;
  REQUIRE(ident.size() == 4);
  for (int i = 0; i <= 3; ++i) {
    // Row i is (vin^0, vin^1, ...) on the C_i_j entries, normalized, 0 elsewhere.
    std::vector<double> expected(10, 0.0);
    double norm = 0.0;
    for (int j = 0; j <= 3 - i; ++j) norm += std::pow(0.9, 2 * j);
    for (int j = 0; j <= 3 - i; ++j) expected[static_cast<std::size_t>(PaperPolyModel::index(i, j))] = std::pow(0.9, j) / std::sqrt(norm);
    for (std::size_t k = 0; k < 10; ++k) CHECK(ident[static_cast<std::size_t>(i)][k] == Approx(expected[k]).margin(1e-12));
  }
}
