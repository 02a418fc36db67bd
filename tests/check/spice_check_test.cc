// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <cmath>

#include "gaincell/cell/card.h"
#include "gaincell/check/spice_check.h"
#include "gaincell/core/build_info.h"
#include "test_support.h"

using namespace gaincell;
using namespace gaincell::check;
using namespace gaincell::testing;

TEST_CASE("spice check: the tile of a card, of a bare subcircuit, or of the default cell", "[unit][eval]") {
  const cell::CellCard gc3t = cell::load_card(find_data_file("netlists/cells/gc3t.cell.json"));
  CHECK(check_tile(&gc3t).cell_name == gc3t.name);
  const cell::CellCard fallback = cell::load_card(cell::default_card_path());
  const tile::TileSpec d = check_tile(nullptr);
  CHECK(d.cell_name == fallback.name);
  CHECK(d.cell.file == fallback.cell.file);
  // A bare subcircuit (ports named by role) is found like any data file.
  const tile::TileSpec bare = check_tile(nullptr, fallback.cell.file);
  CHECK(bare.cell.file.filename() == fallback.cell.file.filename());
  CHECK(bare.card.empty());
}

TEST_CASE("spice check: an 8x8 sub-tile in fitted and ODE modes against ngspice", "[ngspice][eval]") {
  SpiceCheckOptions o;
  o.keys = 8;
  o.dims = 8;
  o.seed = 1;
  const SpiceCheckResult r = run_spice_check(o);
  REQUIRE(r.q_spice_c.size() == 8);
  double spread = 0;
  for (double x : r.q_spice_c) spread = std::max(spread, std::abs(x));
  CHECK(spread > 0.05 * r.full_scale_c);  // a real signal, not a dead tile
  CHECK(r.charge_error_pct_fs_fitted < 1.0);
  CHECK(r.charge_error_pct_fs_ode < 1.0);
  CHECK(r.charge2_error_pct_fs_fitted < 1.0);
  CHECK(r.within_1lsb_fitted >= 0.99);
  CHECK(r.within_1lsb_ode >= 0.99);
  // The passive line differs from the held one: ODE mode must track it.
  double passive_vs_held = 0;
  for (std::size_t i = 0; i < 8; ++i) passive_vs_held = std::max(passive_vs_held, std::abs(r.q_spice_passive_c[i] - r.q_spice_c[i]));
  CHECK(passive_vs_held > 2e-16);  // ~0.9 fC with the 10 pF lines
  // SPICE's stage-2 charges are read out by the evaluator's 5-bit ADC: every
  // output is on its grid (steps of 2/31) and within the clamp's level 16 * 2/31.
  REQUIRE(r.lsb == Approx(2.0 / 31.0));
  for (const auto* outputs : {&r.out_spice, &r.out_spice_passive}) {
    REQUIRE(outputs->size() == 8);
    for (double y : *outputs) {
      CHECK(std::abs(y) <= 16.0 * r.lsb * (1 + 1e-6));
      CHECK(std::abs(y / r.lsb - std::nearbyint(y / r.lsb)) < 1e-4);
    }
  }
  // The line the CLI prints for it.
  const std::string line = brief(r, "pushpull");
  CHECK_THAT(line, Catch::StartsWith("pushpull 8x8 seed 1: stage-1 charge error max ") &&
                       Catch::Contains(" % (ode vs passive line); stage-2 ") && Catch::Contains(" % ode (exact ") &&
                       Catch::EndsWith(": PASS\n"));
  // A missed threshold fails the check and says which.
  o.ode = false;
  o.thresholds.max_charge_error_pct_fs = 1e-6;
  const SpiceCheckResult f = run_spice_check(o);
  CHECK_FALSE(f.passed);
  REQUIRE_FALSE(f.failures.empty());
  CHECK_THAT(f.failures[0], Catch::StartsWith("fitted: stage-1 charge error ") && Catch::EndsWith(" of full scale > 1e-06 %"));
  CHECK_THAT(brief(f, "pushpull"), Catch::Contains(": FAIL\n  FAIL fitted: stage-1 charge error "));
  CHECK(f.q_ode_c.empty());
}
