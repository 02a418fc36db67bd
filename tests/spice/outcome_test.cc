// SPDX-License-Identifier: MIT
#include "gaincell/spice/outcome.h"

#include <catch2/catch.hpp>

using namespace gaincell::spice;

TEST_CASE("ngspice's printed lines are classified by failure kind", "[unit][spice]") {
  // Lines as ngspice 39.3 prints them (see ngspice-baseline.md §5).
  CHECK(classify_log({"stdout Circuit: x", "stdout Doing analysis at TEMP = 27"}) == SimOutcome::kOk);
  CHECK(classify_log({"stderr warning, can't find model 'nch_ulvt' from line", "stderr Error: circuit not parsed."}) ==
        SimOutcome::kMissingModel);
  CHECK(classify_log({"stderr Could not find include file /x/models.lib"}) == SimOutcome::kMissingModel);
  CHECK(classify_log({"stderr Error on line 4 :", "stderr Error: circuit not parsed."}) == SimOutcome::kParseError);
  CHECK(classify_log({"stderr doAnalyses: TRAN:  Timestep too small; time = 1e-08", "stderr run simulation(s) aborted"}) ==
        SimOutcome::kTimestepTooSmall);
  CHECK(classify_log({"stderr Warning: source stepping failed", "stderr Error: Transient op failed, timestep too small"}) ==
        SimOutcome::kNoConvergence);
  CHECK(classify_log({"stderr Error: ngspice.dll cannot recover and awaits to be detached"}) ==
        SimOutcome::kControlledExit);
  CHECK(classify_log({"stdout Instance: a1   Message: cannot open file /x.tbl"}) == SimOutcome::kMissingModel);
}

TEST_CASE("outcome names round-trip", "[unit][spice]") {
  for (SimOutcome o : all_outcomes()) {
    SimOutcome back = SimOutcome::kOk;
    REQUIRE(from_string(to_string(o), &back));
    CHECK(back == o);
  }
  SimOutcome unused;
  CHECK_FALSE(from_string("exploded", &unused));
}

TEST_CASE("failure excerpts lead with ngspice's error lines", "[unit][spice]") {
  const std::string excerpt =
      failure_excerpt({"stdout Trying gmin = 1.0E-03 Warning: Further gmin increment",
                       "stderr Warning: source stepping failed", "stderr Error: Transient op failed, timestep too small",
                       "stdout unrelated"});
  CHECK(excerpt ==
        "Error: Transient op failed, timestep too small\n"
        "Trying gmin = 1.0E-03 Warning: Further gmin increment\n"
        "Warning: source stepping failed");
}
