// SPDX-License-Identifier: MIT
// The shipped models in fits/ are what tools/regen_fits.sh makes today: a
// fresh sweep and refit reproduces their coefficients and fit quality.
#include <catch2/catch.hpp>
#include <cmath>

#include "gaincell/core/hash.h"
#include "gaincell/fit/model_file.h"
#include "test_support.h"

using namespace gaincell;

TEST_CASE("a refit of the shipped data reproduces the shipped models", "[ngspice][fits]") {
  testing::TempDir dir;
  const auto run = testing::run_command("GAINCELL=" + (testing::bin_dir() / "gaincell").string() + " " +
                                        (testing::source_dir() / "tools/regen_fits.sh").string() + " " +
                                        dir.path().string());
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  std::size_t compared = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::source_dir() / "fits")) {
    if (entry.path().extension() != ".json") continue;
    INFO(entry.path().filename());
    const auto shipped = nlohmann::json::parse(read_text_file(entry.path()));
    REQUIRE(std::filesystem::exists(dir / entry.path().filename().string()));
    const auto fresh = nlohmann::json::parse(read_text_file(dir / entry.path().filename().string()));
    CHECK(fresh.at("kind") == shipped.at("kind"));
    CHECK(fresh.at("inputs") == shipped.at("inputs"));
    const auto& a = shipped.at("coefficients");
    const auto& b = fresh.at("coefficients");
    REQUIRE(a.size() == b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
      const double x = a[k].at("value").get<double>(), y = b[k].at("value").get<double>();
      CHECK(std::abs(x - y) <= 1e-9 * std::max(std::abs(x), std::abs(y)) + 1e-300);
    }
    CHECK(fresh.at("quality").at("r_squared").get<double>() ==
          Approx(shipped.at("quality").at("r_squared").get<double>()).epsilon(1e-9));
    // And the shipped model file loads and evaluates.
    const fit::Model model = fit::model_from_json(shipped);
    CHECK(!fit::info_of(model).inputs.empty());
    ++compared;
  }
  CHECK(compared == 8);
}
