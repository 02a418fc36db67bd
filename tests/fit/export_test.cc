// SPDX-License-Identifier: MIT
#include "gaincell/fit/export.h"

#include <catch2/catch.hpp>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/fit/data_source.h"
#include "test_support.h"

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
                    "error GC-1613: unknown export format 'spice3'; this gaincell writes json and csv (xspice, "
                    "verilog-a and reference are planned)");
}
