// SPDX-License-Identifier: MIT
#include "gaincell/fit/export.h"

#include <catch2/catch.hpp>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/fit/data_source.h"
#include "test_support.h"

#include <array>
#include <regex>
#include <sstream>

using namespace gaincell;

TEST_CASE("csv and json exports of a model read back to the model's values", "[unit][fit]") {
  testing::TempDir dir;
  // A shipped model: the C2P HardSigmoid (one input).
  const auto model =
      fit::model_from_json(nlohmann::json::parse(read_text_file(testing::source_dir() / "fits/c2p.hardsigmoid.json")));
  fit::ExportOptions options;
  options.grid_points = 7;
  options.stem = "c2p";
  const auto files = fit::export_model(model, "csv", dir.path(), options);
  REQUIRE(files.size() == 1);
  // The CSV is a fit data file: read it back as one and compare with the model.
  fit::DataReport report;
  const auto data = fit::load_csv_data(files[0], {{"q_in"}, "pw_s", {}}, &report);
  REQUIRE(data.output.values.size() == 7);
  CHECK(data.inputs[0].unit == "C");
  CHECK(data.output.unit == "s");
  for (std::size_t k = 0; k < 7; ++k) {
    const double x = data.inputs[0].values[k];
    CHECK(data.output.values[k] == fit::evaluate(model, std::vector<double>{x}));
  }
  CHECK(data.inputs[0].values.front() == fit::info_of(model).inputs[0].min);
  CHECK(data.inputs[0].values.back() == fit::info_of(model).inputs[0].max);
  const auto json = fit::export_model(model, "json", dir.path(), options);
  CHECK(fit::to_json(fit::model_from_json(nlohmann::json::parse(read_text_file(json[0])))) == fit::to_json(model));
  CHECK_THROWS_WITH(fit::export_model(model, "spice3", dir.path(), options),
                    "error GC-1613: unknown export format 'spice3'; this gaincell writes json, csv, reference, "
                    "xspice and verilog-a");
}

TEST_CASE("reference export: the authors' layout, units and linear slope", "[unit][fit]") {
  testing::TempDir dir;
  // The authors' own coefficients as a model in normalized units: the export
  // must hand them back unchanged and find their linear slope.
  const std::array<double, 10> authors = {0.17393044, 0.15653739, 0.14088365, 0.12679529, 5.51975209,
                                          4.96777688, 4.4709992,  -1.44776001, -1.30298401, 46.05483778};
  fit::ModelInfo info;
  info.inputs = {{"q", "1", 0, 1}, {"k", "V", 0, 0.9}};
  info.output = {"s", "1", -11, 11};
  const fit::Model model = fit::PaperPolyModel(info, authors, 0.45, 0.9, {});
  fit::ExportOptions options;
  options.stem = "authors";
  const auto files = fit::export_model(model, "reference", dir.path(), options);
  const auto j = nlohmann::json::parse(read_text_file(files[0]));
  for (std::size_t k = 0; k < 10; ++k) CHECK(j["coefficients"][k].get<double>() == authors[k]);
  CHECK(j["collapsed_at_vin"][0].get<double>() == Approx(0.5213636).epsilon(1e-6));
  CHECK(j["collapsed_at_vin"][3].get<double>() == Approx(46.05483778).epsilon(1e-9));
  // Their 19.3 is the regression slope of this curve: 19.21 over K uniform in [0, 0.9] V.
  CHECK(j["linear_slope"].get<double>() == Approx(19.208).epsilon(1e-4));
  CHECK(j["linear_slope"].get<double>() == Approx(19.3).epsilon(0.005));

  // A physical fit (charge in C vs pulse width in s): normalized by t_max and q_sat / s_sat.
  const auto shipped =
      fit::model_from_json(nlohmann::json::parse(read_text_file(testing::source_dir() / "fits/pushpull.paper_poly.json")));
  options.stem = "pushpull";
  const auto ours = nlohmann::json::parse(read_text_file(fit::export_model(shipped, "reference", dir.path(), options)[0]));
  const double factor = 15e-9 / (1e-12 / 80);
  const auto& pp = std::get<fit::PaperPolyModel>(shipped);
  for (std::size_t k = 0; k < 10; ++k) {
    CHECK(ours["coefficients"][k].get<double>() == Approx(pp.coefficients()[k] * factor).epsilon(1e-12));
  }
  CHECK(ours["normalization"]["q_unit_c"].get<double>() == Approx(12.5e-15));
  CHECK_THROWS_WITH(fit::export_model(fit::model_from_json(nlohmann::json::parse(read_text_file(
                                          testing::source_dir() / "fits/c2p.hardsigmoid.json"))),
                                      "reference", dir.path(), options),
                    "error GC-1613: the reference format holds paper-poly models; this is a hard_sigmoid model");
}

TEST_CASE("XSPICE export: ngspice loads the table and reproduces the model at the characterized points",
          "[ngspice][fit]") {
  testing::TempDir dir;
  // The shipped two-input read-current model: i_read(v_store, v_line).
  const auto model = fit::model_from_json(
      nlohmann::json::parse(read_text_file(testing::source_dir() / "fits/pushpull.read_current.poly.json")));
  fit::ExportOptions options;
  options.stem = "gc_read";
  options.grid_points = 32;
  const auto files = fit::export_model(model, "xspice", dir.path(), options);
  REQUIRE(files.size() == 2);
  // Re-simulate the characterized conditions: 19 stored voltages x 5 line voltages.
  std::string net = "xspice round trip\n.include gc_read.sub\nVX v_store 0 0\nVY v_line 0 0.35\n"
                    "X1 v_store v_line out gc_read\nVOUT out 0 0\n.control\nset numdgt=12\n";
  std::vector<std::pair<double, double>> points;
  for (int i = 0; i < 19; ++i) {
    for (int j = 0; j < 5; ++j) {
      const double vs = 0.05 * i, vl = 0.35 + 0.05 * j;
      points.emplace_back(vs, vl);
      net += "alter vx dc=" + std::to_string(vs) + "\nalter vy dc=" + std::to_string(vl) + "\nop\nprint i(vout)\n";
    }
  }
  net += "quit 0\n.endc\n.end\n";
  testing::write_file(dir / "rt.cir", net);
  const auto run = testing::run_command("ngspice -b rt.cir", dir.path());
  INFO(run.output.substr(0, 2000));
  REQUIRE(run.exit_code == 0);
  std::vector<double> simulated;
  const std::regex line(R"(i\(vout\) = ([-+0-9.eE]+))");
  for (auto it = std::sregex_iterator(run.output.begin(), run.output.end(), line); it != std::sregex_iterator(); ++it) {
    simulated.push_back(-std::stod((*it)[1]));  // the table drives its current into `out`
  }
  REQUIRE(simulated.size() == points.size());
  double full_scale = 0, worst = 0;
  for (std::size_t k = 0; k < points.size(); ++k) {
    const double expected = fit::evaluate(model, std::vector<double>{points[k].first, points[k].second});
    full_scale = std::max(full_scale, std::abs(expected));
    worst = std::max(worst, std::abs(simulated[k] - expected));
  }
  WARN("XSPICE round trip: largest difference " << 100 * worst / full_scale << " % of full scale");
  CHECK(worst <= 0.01 * full_scale);
}

TEST_CASE("Verilog-A export: a $table_model module and a gridded data file that agree", "[unit][fit]") {
  // No Verilog-A compiler is packaged for Debian 12 (OpenVAF is not): check the structure.
  testing::TempDir dir;
  const auto model = fit::model_from_json(
      nlohmann::json::parse(read_text_file(testing::source_dir() / "fits/pushpull.read_current.poly.json")));
  fit::ExportOptions options;
  options.stem = "GC_Read";
  options.grid_points = 5;
  const auto files = fit::export_model(model, "verilog-a", dir.path(), options);
  REQUIRE(files.size() == 2);
  const std::string va = read_text_file(dir / "gc_read.va");
  CHECK(va.find("`include \"disciplines.vams\"") != std::string::npos);
  CHECK(va.find("module gc_read(v_store, v_line, out);") != std::string::npos);
  CHECK(va.find("electrical v_store, v_line, out;") != std::string::npos);
  CHECK(va.find("I(out) <+ -$table_model(V(v_store), V(v_line), \"gc_read.tbl\", \"1C,1C\");") != std::string::npos);
  CHECK(va.find("endmodule") != std::string::npos);
  // The data: 5 x (5 + origin) rows of three columns, last input fastest, equal to the model.
  std::istringstream in(read_text_file(dir / "gc_read.tbl"));
  std::string line;
  std::vector<std::array<double, 3>> rows;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream cols(line);
    std::array<double, 3> r{};
    REQUIRE(static_cast<bool>(cols >> r[0] >> r[1] >> r[2]));
    rows.push_back(r);
  }
  REQUIRE(rows.size() == 5 * 6);  // v_line's range excludes 0: the origin is added
  CHECK(rows[0][1] == 0.0);
  CHECK(rows[1][1] == 0.35);
  CHECK(rows[0][0] == rows[5][0]);   // v_line varies fastest
  CHECK(rows[6][0] > rows[0][0]);
  for (const auto& r : rows) CHECK(r[2] == fit::evaluate(model, std::vector<double>{r[0], r[1]}));
}
