// SPDX-License-Identifier: MIT
// What a flow derives from a card: valid specs with the names the fits read,
// a testbench that runs as it is under ngspice -b and gives what gaincell
// measures, and a clear refusal when the card cannot give a role.
#include "gaincell/cell/derive.h"

#include <catch2/catch.hpp>
#include <regex>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/sweep/spec.h"
#include "test_support.h"

using namespace gaincell;

namespace {
cell::CellCard shipped(const std::string& name) {
  return cell::load_card(testing::source_dir() / ("netlists/cells/" + name + ".cell.json"));
}
}  // namespace

TEST_CASE("every derived spec loads and has what the flow's fits read", "[unit][cell]") {
  testing::TempDir dir;
  for (const char* name : {"pushpull", "gc3t", "osfet2t"}) {
    INFO(name);
    const cell::CellCard card = shipped(name);
    const cell::DerivedSet set = cell::write_derived(card, dir / name);
    CHECK(set.unavailable.empty());
    for (cell::Role role : cell::all_roles()) {
      INFO(cell::role_name(role));
      const sweep::SweepSpec spec = sweep::load_spec(set.specs.at(role));
      const auto needs = cell::role_needs(role);
      for (const auto& a : needs.axes) {
        CHECK(std::any_of(spec.axes.begin(), spec.axes.end(), [&](const sweep::Axis& x) { return x.name == a; }));
      }
      for (const auto& m : needs.measures) {
        CHECK(std::any_of(spec.measures.begin(), spec.measures.end(), [&](const sweep::MeasureSpec& x) { return x.name == m; }));
      }
      // The template reads the card's subcircuit (or converter), by content.
      const auto deps = netlist::dependency_files(spec.netlist);
      const auto want = role == cell::Role::kConverter ? card.converter.file : card.cell.file;
      CHECK(std::find(deps.begin(), deps.end(), want) != deps.end());
    }
    // The multiply surface is the DAC levels x the PWM levels.
    const sweep::SweepSpec m = sweep::load_spec(set.specs.at(cell::Role::kMultiply));
    CHECK(m.axes[0].values == cell::store_levels(card));
    CHECK(m.axes[1].values.size() == 16);
    CHECK(m.params.at("c_line") == 1e-6);  // a held line
  }
  // A card without a storage node cannot give a retention sweep: said, not guessed.
  cell::CellCard card = shipped("gc3t");
  card.storage_node.clear();
  CHECK_THROWS_WITH(cell::derive_spec(card, cell::Role::kRetention, "t.cir"),
                    "error GC-2010: " + card.path.string() +
                        ": cell gc3t: the retention sweep traces the storage node, and the card names none (/subckt/storage_node)");
  const cell::DerivedSet set = cell::write_derived(card, dir / "nosn");
  CHECK(set.specs.count(cell::Role::kRetention) == 0);
  CHECK(set.unavailable.count(cell::Role::kRetention) == 1);
}

TEST_CASE("the derived testbench runs under ngspice -b and agrees with gaincell's sweep of it", "[ngspice][cell]") {
  testing::TempDir dir;
  const cell::CellCard card = shipped("gc3t");
  const cell::DerivedSet set = cell::write_derived(card, dir.path());
  // ngspice alone: the template's own .meas lines (v_store = offset, 15 ns pulse, line held).
  const auto run = testing::run_command("ngspice -b " + set.cell_template.string(), dir.path());
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  std::smatch mt;
  REQUIRE(std::regex_search(run.output, mt, std::regex(R"(q_line\s+=\s+(\S+))")));
  const double q_ngspice = std::stod(mt[1]);
  // gaincell's sweep of the same point.
  testing::write_file(dir / "one.json", R"({"format": "gaincell-spec/1", "name": "one", "template": ")" +
                                            set.cell_template.filename().string() + R"x(",
    "axes": [{"param": "v_store", "values": [0.45]}], "analysis": {"tran": {"step": "0.2n", "stop": "30n"}},
    "options": {"gmin": 1e-18},
    "measures": [{"name": "q", "kind": "integral", "of": "i(vsense)", "from": "7.5n", "to": "end", "unit": "C"}]})x");
  const store::Results r = testing::sweep_all_ok(sweep::load_spec(dir / "one.json"), dir / "one.h5");
  INFO("ngspice " << q_ngspice << " C, gaincell " << r.values.at("q")[0] << " C");
  CHECK(r.values.at("q")[0] == Approx(q_ngspice).epsilon(1e-4));
  CHECK(q_ngspice > 1e-16);  // the 3T cell conducts at 0.45 V stored
}
