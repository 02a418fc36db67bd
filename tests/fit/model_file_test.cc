// SPDX-License-Identifier: MIT
#include "gaincell/fit/model_file.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "gaincell/core/error.h"
#include "test_support.h"

using namespace gaincell::fit;
using nlohmann::json;

namespace {

FitData line_data() {
  FitData d{{{"v_store_v", "V", {}}}, {"i_rbl_a", "A", {}}};
  for (int k = 0; k <= 9; ++k) {
    d.inputs[0].values.push_back(0.1 * k);
    d.output.values.push_back(1e-6 * (0.1 * k - 0.45) + 2e-7 * std::pow(0.1 * k, 2));
  }
  return d;
}

std::vector<Model> one_of_each() {
  std::vector<Model> models;
  FitData paper{{{"x_pw", "1", {}}, {"v_store_v", "V", {}}}, {"i_rbl_ua", "uA", {}}};
  for (int k = 0; k <= 20; ++k) {
    const double y = 0.045 * k - 0.45;
    paper.inputs[0].values.push_back(k % 2 ? 1.0 : 0.5);
    paper.inputs[1].values.push_back(0.045 * k);
    paper.output.values.push_back(paper.inputs[0].values.back() *
                                  (0.52136362 + 13.61226063 * y - 2.62044562 * y * y + 46.05483778 * y * y * y));
  }
  models.emplace_back(PaperPolyModel::fit(paper, {}));
  PolyModel::Options o;
  o.degree = 2;
  models.emplace_back(PolyModel::fit(line_data(), o));
  FitData decay{{{"t_s", "s", {}}}, {"v_sn_v", "V", {}}};
  for (int k = 0; k <= 20; ++k) {
    decay.inputs[0].values.push_back(1e-3 * k);
    decay.output.values.push_back(0.45 + 0.4 * std::exp(-1e-3 * k / 5e-3));
  }
  models.emplace_back(ExpDecayModel::fit(decay, {}));
  FitData c2p{{{"q_c", "C", {}}}, {"w_s", "s", {}}};
  for (int k = 0; k <= 14; ++k) {
    c2p.inputs[0].values.push_back(-0.2e-12 + 0.1e-12 * k);
    c2p.output.values.push_back(9e-12 + 15e-9 * std::clamp(c2p.inputs[0].values.back() / 1e-12, 0.0, 1.0));
  }
  models.emplace_back(HardSigmoidModel::fit(c2p, {}));
  return models;
}

}  // namespace

TEST_CASE("model file: every kind round-trips", "[unit][fit]") {
  for (Model& m : one_of_each()) {
    info_of(m).provenance = json{{"source_file", "results/x.h5"}, {"source_sha256", "ab12"}, {"ngspice_version", "42"}};
    const json j = to_json(m);
    CHECK(j["format"] == "gaincell-model/1");
    CHECK(j["kind"] == kind_name(m));
    // Through text, as a file would go.
    const Model back = model_from_json(json::parse(j.dump(2)));
    CHECK(back.index() == m.index());
    CHECK(to_json(back) == j);
    std::vector<double> x;
    for (const Variable& v : info_of(m).inputs) x.push_back(0.3 * v.min + 0.7 * v.max);
    CHECK(evaluate(back, x) == evaluate(m, x));
  }
}

TEST_CASE("model file: paper poly carries rank, identified combinations and collapsed a_i", "[unit][fit]") {
  const json j = to_json(one_of_each()[0]);
  CHECK(j["rank"]["rank"] == 4);
  CHECK(j["rank"]["unknowns"] == 10);
  CHECK(j["rank"]["identified_combinations"].size() == 4);
  CHECK(j["coefficients"][0]["name"] == "C_0_0");
  CHECK(j["collapsed_at_vin"][3]["name"] == "a_3");
  CHECK(j["collapsed_at_vin"][3]["value"].get<double>() == Approx(46.05483778).epsilon(1e-9));
  CHECK(j["parameters"]["offset_v"] == 0.45);
  CHECK(j.contains("note"));
}

TEST_CASE("model file: out-of-range policy", "[unit][fit]") {
  Model m = PolyModel::fit(line_data(), {});
  std::vector<std::string> warnings;
  const auto sink = [&](const std::string& w) { warnings.push_back(w); };
  const double above[] = {1.2}, top[] = {0.9};
  CHECK(evaluate(m, above, sink) == evaluate(m, top));
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "evaluate poly: input 'v_store_v' = 1.2 is outside the fitted range [0, 0.9]; clamped to 0.9");
  info_of(m).out_of_range = OutOfRange::kError;
  const Model back = model_from_json(to_json(m));
  CHECK_THROWS_WITH(evaluate(back, above),
                    "error GC-1609: evaluate poly: input 'v_store_v' = 1.2 is outside the fitted range [0, 0.9] (out_of_range "
                    "policy \"error\")");
  const double two[] = {0.1, 0.2};
  CHECK_THROWS_WITH(evaluate(back, two), "error GC-1610: evaluate poly: expected 1 inputs (v_store_v), found 2");
}

TEST_CASE("model file: malformed documents", "[unit][fit]") {
  const json good = to_json(one_of_each()[2]);
  json j = good;
  j["format"] = "gaincell-model/2";
  CHECK_THROWS_WITH(model_from_json(j), "error GC-1608: /format: expected \"gaincell-model/1\", found \"gaincell-model/2\"");
  j = good;
  j["kind"] = "spline";
  CHECK_THROWS_WITH(model_from_json(j),
                    "error GC-1608: /kind: unknown kind \"spline\"; expected paper_poly, poly, exp_decay, hard_sigmoid or lut");
  j = good;
  j["inputs"][0].erase("unit");
  CHECK_THROWS_WITH(model_from_json(j), "error GC-1608: /inputs/0: missing key \"unit\"");
  j = good;
  j["coefficients"][0]["name"] = "tau";
  CHECK_THROWS_WITH(model_from_json(j), "error GC-1608: /coefficients/0/name: expected \"tau_s\", found \"tau\"");
  j = good;
  j["coefficients"][1]["value"] = "0.45";
  CHECK_THROWS_WITH(model_from_json(j), "error GC-1608: /coefficients/1/value: expected a number, found string");
  j = good;
  j["out_of_range"] = "extrapolate";
  CHECK_THROWS_WITH(model_from_json(j), "error GC-1608: /out_of_range: expected \"clamp\" or \"error\", found \"extrapolate\"");
  CHECK_THROWS_WITH(model_from_json(json::array()), "error GC-1608: /: expected an object, found array");
  try {
    model_from_json(json::array());
  } catch (const gaincell::InputError& e) {
    CHECK(e.id() == "GC-1608");
    CHECK(std::string(e.what()) == "error GC-1608: /: expected an object, found array");
  }
}

TEST_CASE("model file: paper poly scales in x_pw outside the fitted pulse widths", "[unit][fit]") {
  Model m = one_of_each()[0];  // fitted at x_pw in {0.5, 1}
  info_of(m).out_of_range = OutOfRange::kError;
  const double full[] = {1.0, 0.7}, tenth[] = {0.1, 0.7};
  CHECK(evaluate(m, tenth) == Approx(0.1 * evaluate(m, full)).epsilon(1e-12));
  const double too_high[] = {1.0, 0.95};
  CHECK_THROWS_WITH(evaluate(m, too_high),
                    "error GC-1609: evaluate paper_poly: input 'v_store_v' = 0.95 is outside the fitted range [0, 0.9] "
                    "(out_of_range policy \"error\")");
}
