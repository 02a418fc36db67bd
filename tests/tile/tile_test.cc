// SPDX-License-Identifier: MIT
// Sub-tiles against their own physics: the integrator holds the line and
// turns charge into swing, the C2P gives the HardSigmoid, a line's charge is
// the sum of its cells' charges from the card's own single-cell sweep, and an
// unsigned cell's line is the difference with its reference or complement line.
#include "gaincell/tile/tile.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "gaincell/cell/card.h"
#include "gaincell/cell/derive.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/si_value.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/spec.h"
#include "gaincell/sweep/sweep.h"
#include "test_support.h"

using namespace gaincell;

namespace {

cell::CellCard shipped(const std::string& name) {
  return cell::load_card(testing::source_dir() / ("netlists/cells/" + name + ".cell.json"));
}

// The card's multiply surface from its derived spec (the line held, as in the
// tile) at the DAC levels and the offset: q(v_store, t_pulse) at the PWM levels.
struct SingleCell {
  std::vector<double> v;
  std::vector<std::vector<double>> q;  // [v index][t_pulse level]
  double at(double v_store, std::size_t t_level) const {
    std::size_t best = 0;
    for (std::size_t i = 1; i < v.size(); ++i) {
      if (std::abs(v[i] - v_store) < std::abs(v[best] - v_store)) best = i;
    }
    REQUIRE(std::abs(v[best] - v_store) < 1e-6);
    return q[best][t_level];
  }
};

SingleCell single_cell_charges(const cell::CellCard& card, const std::filesystem::path& dir) {
  const cell::DerivedSet set = cell::write_derived(card, dir);
  auto spec = nlohmann::json::parse(read_text_file(set.specs.at(cell::Role::kMultiply)));
  spec["axes"][0]["values"].push_back(card.offset_v);
  testing::write_file(dir / "levels.json", spec.dump());
  sweep::SweepOptions options;
  options.output = dir / "multiply.h5";
  options.jobs = 2;
  NullReporter quiet;
  REQUIRE(sweep::run_sweep(sweep::load_spec(dir / "levels.json"), options, quiet).failed() == 0);
  const store::Results r = store::read_results(options.output);
  const auto& q = r.values.at("q_line_c");
  SingleCell out;
  out.v = r.axes[0].values;
  const std::size_t nt = r.axes[1].values.size();
  for (std::size_t i = 0; i < out.v.size(); ++i) out.q.emplace_back(q.begin() + static_cast<long>(i * nt), q.begin() + static_cast<long>((i + 1) * nt));
  return out;
}

std::size_t level(double x, double lo, double hi, int levels) {
  return static_cast<std::size_t>(std::lround((x - lo) / (hi - lo) * (levels - 1)));
}

}  // namespace

TEST_CASE("a bare subcircuit's ports must be roles; sizes are checked", "[unit][tile]") {
  const auto t = tile::tile_from_subckt(testing::source_dir() / "netlists/cells/pushpull.sub");
  CHECK(t.cell.name == "gc_pushpull");
  CHECK(t.cell.ports == std::vector<std::string>{"wbl", "wwl", "wlr", "wlrb", "rd", "vdd"});
  CHECK(t.converter.name == "gc_c2p_integrator");  // gaincell's converter, from the source tree
  testing::TempDir dir;
  testing::write_file(dir / "bad.sub", "* x\n.subckt weird a b c\n.ends\n");
  CHECK_THROWS_WITH(tile::tile_from_subckt(dir / "bad.sub"),
                    (dir / "bad.sub").string() + ":2:1: error GC-1501: port 'a' of subcircuit weird is not a tile role\n"
                    "  hint: name the ports wbl, wwl, rd (required), wlr and/or wlrb, and vdd, or write a cell card that maps "
                    "your port names to roles (docs/cells.md)");
  auto r = tile::tile_from_card(shipped("pushpull"));
  tile::set_random_inputs(r, 2, 3, 5);
  r.q.pop_back();
  CHECK_THROWS_WITH(tile::validate(r), "error GC-1502: tile: Q has 2 values; expected dims = 3");
  tile::set_random_inputs(r, 65, 1, 5);
  CHECK_THROWS_AS(tile::validate(r), InputError);
}

TEST_CASE("a tile from a card or a subcircuit file, with overrides", "[unit][tile]") {
  const auto card = testing::source_dir() / "netlists/cells/gc3t.cell.json";
  const tile::TileSource from_card = tile::tile_from_card_file(card);
  CHECK(from_card.source == "card " + card.string());
  CHECK(from_card.warning.empty());
  // A subcircuit file with its card beside it is that card's tile.
  const tile::TileSource beside = tile::tile_from_cell_file(testing::source_dir() / "netlists/cells/gc3t.sub");
  CHECK(beside.source == "card " + card.string());
  CHECK(beside.spec.sign == cell::SignScheme::kReferenceColumn);
  // Without one: ports by role, the default cell's levels, and a warning saying so.
  testing::TempDir dir;
  std::filesystem::copy_file(testing::source_dir() / "netlists/cells/pushpull.sub", dir / "mine.sub");
  const tile::TileSource bare = tile::tile_from_cell_file(dir / "mine.sub");
  CHECK(bare.spec.cell.name == "gc_pushpull");
  CHECK(bare.spec.card.empty());
  CHECK(bare.warning == "tile: no card beside " + (dir / "mine.sub").string() + " (looked for " +
                            (dir / "mine.cell.json").string() +
                            "): its ports are taken as roles, the drive levels and converter are the default cell's (docs/cells.md)");
  // Overrides set only what is given; passive and held lines exclude each other.
  tile::TileSpec t = from_card.spec;
  tile::TileOverrides o;
  o.v_ref_v = 0.5;
  o.wlr_active_v = 1.1;
  o.passive_line = true;
  o.c_line_f = 2e-12;
  tile::apply_overrides(t, o);
  CHECK(t.v_ref_v == 0.5);
  CHECK(t.wlr_active_v == 1.1);
  CHECK(t.wlr_idle_v == from_card.spec.wlr_idle_v);
  CHECK(t.passive_line);
  CHECK(t.c_line_f == 2e-12);
  o.held_line = true;
  CHECK_THROWS_WITH(tile::apply_overrides(t, o), "error GC-1502: tile: --passive-line or --held-line, not both");
}

TEST_CASE("a tile run's summary: outcome, times, where the results are, the first lines", "[unit][tile]") {
  auto t = tile::tile_from_card(shipped("pushpull"));
  tile::set_random_inputs(t, 9, 2, 1);
  tile::TileResult r;
  r.outcome = spice::SimOutcome::kOk;
  r.wall_time_s = 1.5;
  r.parse_time_s = 0.01;
  r.run_time_s = 1.2;
  for (std::size_t j = 0; j < 9; ++j) {
    r.q_line_c.push_back(1e-15 * static_cast<double>(j));
    r.v_int_v.push_back(0.01);
    r.pulse_width_s.push_back(2e-9);
  }
  const std::string s = tile::summary(t, r, "t.h5");
  CHECK(s.rfind("tile 9x2 of pushpull: ok in 1.5 s (ngspice parse 10 ms, run 1.2 s)\nresults: t.h5\n"
                "  line 0: charge 0 C, swing 10 mV, pulse 2 ns\n  line 1: charge 1 fC, swing 10 mV, pulse 2 ns\n", 0) == 0);
  CHECK(s.find("  line 7: ") != std::string::npos);
  CHECK(s.find("  line 8: ") == std::string::npos);
  CHECK_THAT(s, Catch::Matchers::EndsWith("pulse 2 ns\n  ... (9 lines in the file)\n"));
  r.outcome = spice::SimOutcome::kTimeout;
  r.message = "the budget ran out";
  CHECK(tile::summary(t, r, "t.h5") ==
        "tile 9x2 of pushpull: timeout in 1.5 s (ngspice parse 10 ms, run 1.2 s)\nresults: t.h5\nthe budget ran out\n");
}

TEST_CASE("random tiles are quantized and reproducible", "[unit][tile]") {
  auto a = tile::tile_from_card(shipped("pushpull"));
  auto b = a, c = a;
  tile::set_random_inputs(a, 8, 8, 3);
  tile::set_random_inputs(b, 8, 8, 3);
  tile::set_random_inputs(c, 8, 8, 4);
  CHECK(a.q == b.q);
  CHECK(a.k_v == b.k_v);
  CHECK(a.k_v != c.k_v);
  for (double q : a.q) CHECK(std::abs(q * 15 - std::round(q * 15)) < 1e-12);
  for (double k : a.k_v) CHECK(std::abs(k / 0.9 * 7 - std::round(k / 0.9 * 7)) < 1e-9);
}

TEST_CASE("a card maps any port names to roles in the tile; sign schemes add companion lines", "[unit][tile]") {
  testing::TempDir dir;
  testing::write_file(dir / "c.sp", ".SUBCKT ODD BL WW RW RB VSS\nM1 RB RW X VSS nch W=100n L=45n\n"
                                    "M2 X SN VSS VSS nch W=100n L=90n\nM3 BL WW SN VSS nch_hvt W=100n L=45n\n.ENDS\n");
  testing::write_file(dir / "c.cell.json", R"({"format": "gaincell-cell/1", "name": "odd",
    "subckt": {"file": "c.sp", "name": "ODD", "ports": {"wbl": "BL", "wwl": "WW", "wlr": "RW", "rd": "RB"},
               "fixed_ports": {"VSS": 0}},
    "models": {"include": ["netlists/models/generic45.lib"]},
    "read": {"scheme": "held", "line_v": 0.45}, "sign": {"scheme": "reference_column", "offset_v": 0.45},
    "converter": {"file": "netlists/cells/c2p_integrator.sub", "name": "gc_c2p_integrator",
                  "ports": {"line": "line", "ramp": "ramp", "out": "out", "vref": "vref", "rst": "rst", "vdd": "vdd"}}})");
  auto t = tile::tile_from_card(cell::load_card(dir / "c.cell.json"));
  tile::set_random_inputs(t, 2, 3, 1);
  const std::string net = tile::render_tile(t);
  // Port order of the subcircuit, nodes by role, the fixed port on its own source.
  CHECK(net.find("X_0_1 wbl_0_1 wwl wlr_1 rdl_0 fix_vss odd\n") != std::string::npos);
  CHECK(net.find("VFIX_vss fix_vss 0 0\n") != std::string::npos);
  // The reference line stores offset_v and its current is mirrored into each line.
  CHECK(net.find("VWBL_ref_2 wbl_ref_2 0 0.45\n") != std::string::npos);
  CHECK(net.find("FSUB_1 0 line_1 vsense_ref 1\n") != std::string::npos);
  CHECK(net.find("VWLRB") == std::string::npos);  // the cell has no active-low word line
  t.sign = cell::SignScheme::kDifferential;
  const std::string diff = tile::render_tile(t);
  CHECK(diff.find("FSUB_0 0 line_0 vsense_m_0 1\n") != std::string::npos);
  CHECK(diff.find("VWBL_m_0_0 wbl_m_0_0 0 " + gaincell::format_exact(0.9 - t.k_v[0])) != std::string::npos);
}

TEST_CASE("an 8x8 tile: integrator, HardSigmoid C2P and superposition of the card's single-cell charges",
          "[ngspice][tile]") {
  testing::TempDir dir;
  const cell::CellCard card = shipped("pushpull");
  tile::TileSpec t = tile::tile_from_card(card);
  tile::set_random_inputs(t, 8, 8, 1);
  // Make some lines strongly positive, one saturating.
  for (std::size_t i = 0; i < 8; ++i) {
    t.k_v[0 * 8 + i] = 0.9;
    t.k_v[1 * 8 + i] = 0.9 * 6 / 7;
  }
  t.q[0] = 1.0;
  t.q[1] = 1.0;
  const double c_int = 1e-12;
  t.set_converter_param("c_int", c_int);  // Q_sat = 0.5 pC: line 0 (8 cells at +128 fC) saturates
  const auto r = tile::run_tile(t, {});
  REQUIRE(r.outcome == spice::SimOutcome::kOk);
  tile::write_tile_results(dir / "t.h5", t, r);

  const double q_sat = c_int * t.v_sat_v;
  for (std::size_t j = 0; j < 8; ++j) {
    INFO("line " << j << ": charge " << r.q_line_c[j] << " C");
    // The integrator turns the line's charge into swing = Q / c_int.
    CHECK(r.v_int_v[j] == Approx(r.q_line_c[j] / c_int).epsilon(0.01).margin(2e-4));
    // The converter is the HardSigmoid of eq. (3).
    const double ideal = t.t_max_s * std::clamp(r.q_line_c[j] / q_sat, 0.0, 1.0);
    CHECK(r.pulse_width_s[j] == Approx(ideal).margin(25e-12));
  }
  CHECK(r.pulse_width_s[0] == Approx(t.t_max_s).margin(25e-12));  // saturated
  CHECK(r.q_line_c[0] > r.q_line_c[1]);
  CHECK(r.q_line_c[1] > 0);

  // Superposition: each line's charge is the sum of its cells' charges from the
  // card's derived single-cell sweep (the line held there too).
  const auto q1 = single_cell_charges(card, dir / "single");
  for (std::size_t j = 0; j < 8; ++j) {
    double sum = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      sum += q1.at(t.k_v[j * 8 + i], level(t.q[i], 0.0, 1.0, 16));
    }
    INFO("line " << j << ": tile " << r.q_line_c[j] << " C, sum of cells " << sum << " C");
    CHECK(r.q_line_c[j] == Approx(sum).epsilon(0.02).margin(1.5e-15));
  }
}

TEST_CASE("unsigned cells: the reference column and the differential pair subtract in the circuit",
          "[ngspice][tile]") {
  testing::TempDir dir;
  for (const char* name : {"gc3t", "osfet2t"}) {
    const cell::CellCard card = shipped(name);
    INFO("cell " << name << ", sign scheme " << cell::to_string(card.sign));
    tile::TileSpec t = tile::tile_from_card(card);
    tile::set_random_inputs(t, 4, 6, 7);
    for (std::size_t i = 0; i < 6; ++i) t.k_v[3 * 6 + i] = card.offset_v;  // line 3 stores 0: net zero
    const auto r = tile::run_tile(t, {});
    REQUIRE(r.outcome == spice::SimOutcome::kOk);
    CHECK(std::abs(r.q_line_c[3]) < 0.05e-15);
    const auto q1 = single_cell_charges(card, dir / name);
    for (std::size_t j = 0; j < 4; ++j) {
      double sum = 0;
      for (std::size_t i = 0; i < 6; ++i) {
        const std::size_t tq = level(t.q[i], 0.0, 1.0, 16);
        const double k = t.k_v[j * 6 + i];
        const double other = card.sign == cell::SignScheme::kDifferential ? 2 * card.offset_v - k : card.offset_v;
        sum += q1.at(k, tq) - q1.at(other, tq);
      }
      INFO("line " << j << ": tile " << r.q_line_c[j] << " C, sum of cell differences " << sum << " C");
      CHECK(r.q_line_c[j] == Approx(sum).epsilon(0.02).margin(1.5e-15));
    }
    // The converter sees the net charge: a negative net gives no pulse.
    for (std::size_t j = 0; j < 4; ++j) {
      if (r.q_line_c[j] < -5e-15) CHECK(r.pulse_width_s[j] < 1e-12);
    }
  }
}

TEST_CASE("an OSFET tile with its card's drive levels: no read, no charge", "[ngspice][tile]") {
  tile::TileSpec t = tile::tile_from_card(shipped("osfet2t"));
  t.sign = cell::SignScheme::kSigned;  // raw lines: no complement
  t.tokens = 3;
  t.dims = 4;
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

TEST_CASE("a pulse shorter than its edges stays short (ngspice reads PW = 0 as TSTOP)", "[ngspice][tile]") {
  tile::TileSpec t = tile::tile_from_card(shipped("osfet2t"));
  t.sign = cell::SignScheme::kSigned;
  t.tokens = 1;
  t.dims = 2;
  t.k_v = {0.9, 0.9};
  t.q = {10e-12 / t.t_max_s, 0.0};  // a 10 ps read of one cell
  const auto r = tile::run_tile(t, {});
  REQUIRE(r.outcome == spice::SimOutcome::kOk);
  // About I(0.9 V) x 10 ps = 3.6 uA x 10 ps = 36 aC (edges and feed-through aside), not a 22 ns read.
  CHECK(std::abs(r.q_line_c[0]) < 1e-15);
}
