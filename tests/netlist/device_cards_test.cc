// SPDX-License-Identifier: MIT
// Pins the generic45 BSIM4 cards' figures of merit, so that a change of the
// cards or of ngspice's BSIM4 shows up here (windows around the values
// measured with ngspice 39.3, documented in netlists/models/generic45.lib).
#include <catch2/catch.hpp>
#include <map>
#include <regex>

#include "test_support.h"

using gaincell::testing::run_command;
using gaincell::testing::source_dir;

TEST_CASE("generic45 cards keep their Ion, Ioff, Vt and SS windows", "[ngspice][models]") {
  const auto run = run_command("ngspice -b idvg_generic45.cir", source_dir() / "netlists/models");
  REQUIRE(run.exit_code == 0);
  CHECK(run.output.find("rror") == std::string::npos);
  CHECK(run.output.find("unrecognized parameter") == std::string::npos);
  std::map<std::string, double> v;
  const std::regex line(R"(gc_(\w+) = ([-+0-9.eE]+))");
  for (auto it = std::sregex_iterator(run.output.begin(), run.output.end(), line); it != std::sregex_iterator(); ++it) {
    v[(*it)[1]] = std::stod((*it)[2]);
  }
  REQUIRE(v.size() == 12);
  struct Window {
    const char* key;
    double lo, hi;
  };
  // Units: A/um for currents, V for Vt, V/decade for SS.
  const Window windows[] = {
      {"nch_ion", 5e-4, 8e-4},       {"nch_ioff", 1e-10, 2e-9},      {"nch_vt", 0.25, 0.35},
      {"nch_ss", 0.075, 0.095},      {"nch_hvt_ion", 3e-4, 6e-4},    {"nch_hvt_ioff", 1e-12, 1e-11},
      {"nch_hvt_vt", 0.45, 0.55},    {"nch_hvt_ss", 0.075, 0.095},   {"pch_ion", 2e-4, 4e-4},
      {"pch_ioff", 1e-10, 1e-9},     {"pch_vt", 0.25, 0.35},         {"pch_ss", 0.075, 0.095},
  };
  for (const auto& w : windows) {
    INFO(w.key << " = " << v[w.key]);
    CHECK(v[w.key] >= w.lo);
    CHECK(v[w.key] <= w.hi);
  }
  // The write device leaks two orders of magnitude less than the read device.
  CHECK(v["nch_hvt_ioff"] < v["nch_ioff"] / 100);
}
