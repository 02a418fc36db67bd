// SPDX-License-Identifier: MIT
#include "gaincell/fit/fit_model.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/fit/describe.h"
#include "test_support.h"

using namespace gaincell;
using namespace gaincell::fit;

namespace {

// z = 1 + x + 0.5 y^2 on a 5 x 4 grid (x, y in V, z in A); exact for degree >= 2.
FitData surface() {
  FitData d{{{"x_v", "V", {}}, {"y_v", "V", {}}}, {"z_a", "A", {}}};
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 4; ++j) {
      const double x = 0.1 * i, y = 0.2 * j;
      d.inputs[0].values.push_back(x);
      d.inputs[1].values.push_back(y);
      d.output.values.push_back(1 + x + 0.5 * y * y);
    }
  }
  return d;
}

// V(t) = 0.45 + 0.4 exp(-t / 1 ms), 30 samples 0.1 ms apart.
FitData decay() {
  FitData d{{{"t_s", "s", {}}}, {"v_sn_v", "V", {}}};
  for (int k = 0; k < 30; ++k) {
    d.inputs[0].values.push_back(1e-4 * k);
    d.output.values.push_back(0.45 + 0.4 * std::exp(-1e-4 * k / 1e-3));
  }
  return d;
}

// A pulse width 1 ns + 15 ns clamp((q - 5 fC) / 20 fC, 0, 1), 30 charges 1 fC apart.
FitData ramp() {
  FitData d{{{"q_c", "C", {}}}, {"t_out_s", "s", {}}};
  for (int k = 0; k < 30; ++k) {
    d.inputs[0].values.push_back(1e-15 * k);
    d.output.values.push_back(1e-9 + 15e-9 * std::clamp((1e-15 * k - 5e-15) / 20e-15, 0.0, 1.0));
  }
  return d;
}

}  // namespace

TEST_CASE("fit_model fits the kind its name says, with the options of that kind", "[unit][fit]") {
  FitModelOptions o;
  o.degree = 2;
  o.fit.cv_folds = 4;
  const Model poly = fit_model("poly", surface(), o);
  REQUIRE(kind_name(poly) == "poly");
  const PolyModel direct = PolyModel::fit(surface(), {.degree = 2, .fit = o.fit});
  CHECK(std::get<PolyModel>(poly).coefficients() == direct.coefficients());
  CHECK(std::get<PolyModel>(poly).degree() == 2);
  CHECK(info_of(poly).quality.cv_folds == 4);
  CHECK(info_of(poly).out_of_range == OutOfRange::kClamp);

  o.interpolation = "cubic";
  o.out_of_range = OutOfRange::kError;
  const Model lut = fit_model("lut", surface(), o);
  REQUIRE(kind_name(lut) == "lut");
  CHECK(std::get<LutModel>(lut).interpolation() == LutModel::Interpolation::kCubic);
  CHECK(info_of(lut).out_of_range == OutOfRange::kError);
  CHECK_THROWS_WITH(evaluate(lut, std::vector<double>{0.5, 0.0}),
                    "error GC-1609: evaluate lut (cubic): input 'x_v' = 0.5 is outside the fitted range [0, 0.4] (out_of_range policy \"error\")");

  FitModelOptions fixed;
  fixed.v_inf_v = 0.45;
  const Model exp = fit_model("exp-decay", decay(), fixed);
  REQUIRE(kind_name(exp) == "exp_decay");
  CHECK(std::get<ExpDecayModel>(exp).v_inf_v() == 0.45);
  CHECK(std::get<ExpDecayModel>(exp).tau_s() == Approx(1e-3).epsilon(1e-6));
}

TEST_CASE("fit_model of paper-poly accepts one vin (rank 4 of 10)", "[unit][fit]") {
  FitData d{{{"x_pw", "1", {}}, {"v_store_v", "V", {}}}, {"q", "1", {}}};
  for (double pw : {0.5, 1.0}) {
    for (int k = 0; k <= 9; ++k) {
      const double dv = 0.1 * k - 0.4;  // offset 0.4 V
      d.inputs[0].values.push_back(pw);
      d.inputs[1].values.push_back(0.1 * k);
      d.output.values.push_back(pw * (1 + 2 * dv + 3 * dv * dv * dv));
    }
  }
  FitModelOptions o;
  o.offset_v = 0.4;
  o.vin_v = 0.8;
  o.fit.allow_rank_deficient = false;  // paper-poly accepts the deficiency anyway
  const Model m = fit_model("paper-poly", d, o);
  const auto& pp = std::get<PaperPolyModel>(m);
  CHECK(pp.rank_info().rank == 4);
  CHECK(pp.offset_v() == 0.4);
  CHECK(pp.vin_v() == 0.8);
  const auto a = pp.collapsed();
  CHECK(a[0] == Approx(1).epsilon(1e-9));
  CHECK(a[1] == Approx(2).epsilon(1e-9));
  CHECK(a[3] == Approx(3).epsilon(1e-9));
}

TEST_CASE("fit_model refuses an unknown kind or interpolation (GC-1611)", "[unit][fit]") {
  CHECK_THROWS_WITH(fit_model("cubic", surface(), {}),
                    "error GC-1611: --model cubic: expected paper-poly, poly, exp-decay, hardsigmoid or lut");
  FitModelOptions o;
  o.interpolation = "spline";
  CHECK_THROWS_WITH(fit_model("lut", surface(), o), "error GC-1611: --interpolation spline: expected linear or cubic");
  CHECK_NOTHROW(fit_model("poly", surface(), o));  // only a table reads the interpolation
}

TEST_CASE("record_provenance names the data a model was fitted to", "[unit][fit]") {
  Model m = fit_model("poly", surface(), {});
  DataReport report;
  report.points_failed = 3;
  report.points_filtered = 2;
  report.source_sha256 = "abc";
  report.provenance["spec_name"] = "mult";
  record_provenance(m, "runs/mult.h5", report);
  const nlohmann::json& p = info_of(m).provenance;
  CHECK(p["source_file"] == "runs/mult.h5");
  CHECK(p["source_sha256"] == "abc");
  CHECK(p["points_failed_in_source"] == 3);
  CHECK(p["points_filtered"] == 2);
  CHECK(p["spec_name"] == "mult");
  CHECK(p["fitted_by"].get<std::string>().rfind("gaincell ", 0) == 0);
}

TEST_CASE("load_fit_data reads a CSV by its extension", "[unit][fit]") {
  testing::TempDir dir;
  const auto csv = dir.path() / "d.csv";
  write_text_file(csv, "x_v[V],z_a[A]\n0,1\n0.5,2\n1,3\n");
  DataReport report;
  const FitData d = load_fit_data(csv, {.inputs = {"x_v"}, .output = "z_a", .where = {}}, &report);
  CHECK(d.output.values == std::vector<double>{1, 2, 3});
  CHECK(d.inputs.at(0).unit == "V");
  CHECK(report.source_sha256 == sha256_file(csv));
  // Any other extension is HDF5: a CSV named .h5 is not one.
  const auto h5 = dir.path() / "d.h5";
  write_text_file(h5, "x_v[V],z_a[A]\n0,1\n");
  CHECK_THROWS_AS(load_fit_data(h5, {.inputs = {"x_v"}, .output = "z_a", .where = {}}, &report), Error);
}

TEST_CASE("save_model_file writes what load_model_file reads", "[unit][fit]") {
  testing::TempDir dir;
  const Model m = fit_model("hardsigmoid", ramp(), {});
  CHECK(std::get<HardSigmoidModel>(m).x_sat() == Approx(25e-15).epsilon(1e-9));
  save_model_file(dir.path() / "m.json", m);
  const std::string text = read_text_file(dir.path() / "m.json");
  CHECK(text == to_json(m).dump(1) + "\n");
  CHECK(to_json(load_model_file(dir.path() / "m.json")) == to_json(m));
}

TEST_CASE("PaperPolyModel::collapse sums C_ij vin^j of any coefficient list", "[unit][fit]") {
  // The authors' coefficients (model_gpt.py:808) at 0.9 V: the paper's
  // 0.5214 + 13.612 y - 2.6204 y^2 + 46.055 y^3.
  const PaperPolyModel::Coefficients c{0.17393044, 0.15653739, 0.14088365, 0.12679529, 5.51975209,
                                       4.96777688, 4.4709992,  -1.44776001, -1.30298401, 46.05483778};
  const auto a = PaperPolyModel::collapse(c, 0.9);
  CHECK(a[0] == Approx(0.52136).epsilon(1e-5));
  CHECK(a[1] == Approx(13.6123).epsilon(1e-5));
  CHECK(a[2] == Approx(-2.62045).epsilon(1e-5));
  CHECK(a[3] == Approx(46.05483778).epsilon(1e-12));
  const PaperPolyModel m({}, c, 0.45, 0.9, {});
  CHECK(m.collapsed() == a);
  CHECK(m.collapsed(0.5) == PaperPolyModel::collapse(c, 0.5));
}

TEST_CASE("describe prints a model as gaincell model show does", "[unit][fit]") {
  ModelInfo info;
  info.inputs = {{"q_in", "C", -1e-12, 2e-12}};
  info.output = {"pw_s", "s", 0.0, 15e-9};
  info.quality.points_used = 25;
  info.quality.rms_residual = 4.59e-12;
  info.quality.max_abs_residual = 2e-11;
  info.quality.r_squared = 0.5;
  info.quality.cv_folds = 0;
  const Model hs = HardSigmoidModel(info, 0.0, 1e-12, 0.0, 15e-9);
  CHECK(describe(hs) ==
        "model: hard_sigmoid (gaincell-model/1)\n"
        "output: pw_s [s], observed 0 s .. 15 ns\n"
        "input:  q_in [C], valid -1 pC .. 2 pC\n"
        "outside the valid range: clamp with a warning\n"
        "coefficients:\n"
        "  x0 = 0.0\n"
        "  x_sat = 1e-12\n"
        "  y_low = 0.0\n"
        "  y_sat = 1.5e-08\n"
        "fit quality: 25 points used, 0 excluded; RMS residual 4.59 ps, max |residual| 20 ps, R^2 0.5\n");

  FitModelOptions o;
  o.interpolation = "cubic";
  o.out_of_range = OutOfRange::kError;
  Model lut = fit_model("lut", surface(), o);
  info_of(lut).provenance["source_file"] = "s.csv";
  const std::string text = describe(lut);
  CHECK(text.find("outside the valid range: error\n") != std::string::npos);
  CHECK(text.find("table: 5 x_v (0 V .. 400 mV) x 4 y_v (0 V .. 600 mV) = 20 values, cubic between them\n") !=
        std::string::npos);
  CHECK(text.find("coefficients") == std::string::npos);
  CHECK(text.find("parameters") == std::string::npos);
  CHECK(text.find("2-fold CV RMS") != std::string::npos);
  CHECK(text.substr(text.rfind("provenance")) == "provenance: {\"source_file\":\"s.csv\"}\n");
}
