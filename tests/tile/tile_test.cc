// SPDX-License-Identifier: MIT
// Sub-tiles of the default cell against their own physics: the integrator
// holds the line and turns charge into swing, the C2P gives the HardSigmoid,
// and a line's charge is the sum of its cells' charges.
#include "gaincell/tile/tile.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "gaincell/core/error.h"
#include "gaincell/netlist/si_value.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/spec.h"
#include "gaincell/sweep/sweep.h"
#include "test_support.h"

using namespace gaincell;

namespace {
const auto kCell = testing::source_dir() / "netlists/cells/pushpull.sub";
std::string netlist_value(double v) { return netlist::format_exact(v); }
}

TEST_CASE("cell interfaces are read from the subcircuit line", "[unit][tile]") {
  const auto cell = tile::load_cell(kCell);
  CHECK(cell.subckt == "gc_pushpull");
  CHECK(cell.ports == std::vector<std::string>{"wbl", "wwl", "wlr", "wlrb", "rd", "vdd"});
  testing::TempDir dir;
  testing::write_file(dir / "bad.sub", "* x\n.subckt weird a b c\n.ends\n");
  CHECK_THROWS_WITH(tile::load_cell(dir / "bad.sub"),
                    (dir / "bad.sub").string() + ":2:1: error GC-1501: port 'a' of subcircuit weird is not a tile role\n"
                    "  hint: name the ports wbl, wwl, rd (required), wlr and/or wlrb, and vdd");
  auto t = tile::random_tile(kCell, 2, 3, 5);
  t.q.pop_back();
  CHECK_THROWS_WITH(tile::validate(t), "error GC-1502: tile: Q has 2 values; expected dims = 3");
  t = tile::random_tile(kCell, 65, 1, 5);
  CHECK_THROWS_AS(tile::validate(t), InputError);
}

TEST_CASE("random tiles are quantized and reproducible", "[unit][tile]") {
  const auto a = tile::random_tile(kCell, 8, 8, 3);
  const auto b = tile::random_tile(kCell, 8, 8, 3);
  const auto c = tile::random_tile(kCell, 8, 8, 4);
  CHECK(a.q == b.q);
  CHECK(a.k_v == b.k_v);
  CHECK(a.k_v != c.k_v);
  for (double q : a.q) CHECK(std::abs(q * 15 - std::round(q * 15)) < 1e-12);
  for (double k : a.k_v) CHECK(std::abs(k / 0.9 * 7 - std::round(k / 0.9 * 7)) < 1e-9);
}

TEST_CASE("an 8x8 tile: integrator, HardSigmoid C2P and superposition of cells", "[ngspice][tile]") {
  testing::TempDir dir;
  tile::TileSpec t = tile::random_tile(kCell, 8, 8, 1);
  // Make some lines strongly positive, one saturating, one all-zero query.
  for (std::size_t i = 0; i < 8; ++i) {
    t.k_v[0 * 8 + i] = 0.9;
    t.k_v[1 * 8 + i] = 0.9 * 6 / 7;
  }
  t.q[0] = 1.0;
  t.q[1] = 1.0;
  t.c_int_f = 1e-12;  // Q_sat = 0.5 pC: line 0 (8 cells at +128 fC) saturates
  const auto r = tile::run_tile(t, {});
  REQUIRE(r.outcome == spice::SimOutcome::kOk);
  tile::write_tile_results(dir / "t.h5", t, r);

  const double q_sat = t.q_sat_c();
  for (std::size_t j = 0; j < 8; ++j) {
    INFO("line " << j << ": charge " << r.q_line_c[j] << " C");
    // The integrator turns the line's charge into swing = Q / c_int.
    CHECK(r.v_int_v[j] == Approx(r.q_line_c[j] / t.c_int_f).epsilon(0.01).margin(2e-4));
    // The converter is the HardSigmoid of eq. (3).
    const double ideal = t.t_max_s * std::clamp(r.q_line_c[j] / q_sat, 0.0, 1.0);
    CHECK(r.pulse_width_s[j] == Approx(ideal).margin(20e-12));
  }
  CHECK(r.pulse_width_s[0] == Approx(t.t_max_s).margin(20e-12));  // saturated
  CHECK(r.q_line_c[0] > r.q_line_c[1]);
  CHECK(r.q_line_c[1] > 0);

  // Superposition: a line's charge is the sum of its cells' charges, each
  // taken from the single-cell characterization template at the same (K, Q).
  for (std::size_t j : {0, 4}) {
    double sum = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      // One point per cell through the same engine.
      testing::write_file(dir / "cell.json",
                          "{\"format\": \"gaincell-spec/1\", \"name\": \"cell\", \"template\": \"" +
                              (testing::source_dir() / "netlists/pushpull_cell.cir").string() +
                              "\", \"params\": {\"v_store\": " + netlist_value(t.k_v[j * 8 + i]) +
                              "}, \"axes\": [{\"param\": \"t_pulse\", \"values\": [" +
                              netlist_value(t.q[i] * t.t_max_s) + "]}], \"analysis\": {\"tran\": {\"step\": \"0.2n\", "
                              "\"stop\": \"30n\"}}, \"options\": {\"gmin\": 1e-18}, \"measures\": [{\"name\": \"q\", "
                              "\"kind\": \"integral\", \"of\": \"i(vsense)\", \"from\": \"7n\", \"unit\": \"C\"}]}");
      sweep::SweepOptions options;
      options.output = dir / "cell.h5";
      options.jobs = 1;
      NullReporter quiet;
      REQUIRE(sweep::run_sweep(sweep::load_spec(dir / "cell.json"), options, quiet).failed() == 0);
      sum += store::read_results(options.output).values.at("q")[0];
    }
    INFO("line " << j << ": tile " << r.q_line_c[j] << " C, sum of cells " << sum << " C");
    // The single-cell line is a 10 pF capacitor that moves by up to 13 mV;
    // the tile's is held by the integrator: a few % of difference is physics.
    CHECK(r.q_line_c[j] == Approx(sum).epsilon(0.05).margin(2e-15));
  }
}

TEST_CASE("an OSFET tile with its own drive levels: no read, no charge; charges add", "[ngspice][tile]") {
  tile::TileSpec t;
  t.cell = testing::source_dir() / "netlists/cells/osfet2t.sub";
  t.tokens = 3;
  t.dims = 4;
  t.v_ref_v = 0.9;        // the unsigned cell reads into a line held at vdd
  t.v_wwl_v = 2.5;        // vth_w = 0.8 V needs a high write word line
  t.v_wwl_hold_v = -0.5;  // and a negative hold for its retention
  t.wlrb_idle_v = 0.9;    // the read device's source idles at the line voltage
  t.wlrb_active_v = 0.0;
  t.k_v = {0.9, 0.9, 0.9, 0.9, 0.9, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  t.q = {0.0, 0.0, 0.0, 0.0};
  const auto idle = tile::run_tile(t, {});
  REQUIRE(idle.outcome == spice::SimOutcome::kOk);
  for (double q : idle.q_line_c) CHECK(std::abs(q) < 1e-18);  // below an attocoulomb
  t.q = {1.0, 1.0, 1.0, 1.0};
  const auto read = tile::run_tile(t, {});
  REQUIRE(read.outcome == spice::SimOutcome::kOk);
  CHECK(read.q_line_c[0] > 100e-15);                                  // four cells at 0.9 V
  CHECK(read.q_line_c[1] == Approx(read.q_line_c[0] / 4).epsilon(0.02));  // one of them
  CHECK(std::abs(read.q_line_c[2]) < 1e-18);                          // nothing stored high
}
