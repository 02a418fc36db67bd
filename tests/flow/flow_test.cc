// SPDX-License-Identifier: MIT
// The flow's plan, without simulating: every stage is about the card's cell,
// hand-written specs are accepted only for that cell, and a role the card
// cannot give becomes a failing stage with its reason. (ctest flow_cells runs
// whole flows.)
#include "gaincell/flow/flow.h"

#include <catch2/catch.hpp>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "test_support.h"

using namespace gaincell;

namespace {

flow::FlowOptions options(const testing::TempDir& dir, const std::string& card) {
  flow::FlowOptions o;
  o.card = testing::source_dir() / ("netlists/cells/" + card + ".cell.json");
  o.out = dir / "out";
  o.gaincell = testing::bin_dir() / "gaincell";
  return o;
}

const flow::Stage& stage(const flow::FlowPlan& p, const std::string& name) {
  for (const auto& s : p.stages) {
    if (s.name == name) return s;
  }
  FAIL("no stage " << name);
  return p.stages.front();
}

bool has_arg(const flow::Stage& s, const std::string& a) { return std::find(s.args.begin(), s.args.end(), a) != s.args.end(); }

}  // namespace

TEST_CASE("a flow's stages are all about the card's cell", "[unit][flow]") {
  testing::TempDir dir;
  const flow::FlowPlan p = flow::plan_flow(options(dir, "gc3t"));
  std::vector<std::string> names;
  for (const auto& s : p.stages) names.push_back(s.name);
  CHECK(names == std::vector<std::string>{"derive", "sweep_multiply", "sweep_read_current", "sweep_retention", "sweep_energy",
                                          "sweep_c2p", "fit_multiply.paper_poly", "fit_read_current.lut",
                                          "fit_retention.exp_decay", "fit_c2p.hardsigmoid", "export_multiply.paper_poly_reference",
                                          "export_read_current.lut_xspice", "export_read_current.lut_verilog-a",
                                          "export_read_current.lut_csv", "export_multiply.paper_poly_verilog-a",
                                          "export_retention.exp_decay_verilog-a", "export_c2p.hardsigmoid_verilog-a",
                                          "eval_reference", "eval_cell", "spice_check", "lm_eval", "energy",
                                          "report"});
  // The sweeps run the specs derived into OUT, and read the card's subcircuit.
  for (cell::Role r : cell::all_roles()) {
    const auto& s = stage(p, "sweep_" + cell::role_name(r));
    CHECK(s.args.at(2) == (p.out / "derived" / (cell::role_name(r) + ".json")).string());
    const auto& want = r == cell::Role::kConverter ? p.card.converter.file : p.card.cell.file;
    CHECK(std::find(s.inputs.begin(), s.inputs.end(), want) != s.inputs.end());
  }
  // The evaluator, check and energy use this card and this flow's fits, never the shipped ones.
  for (const char* name : {"eval_cell", "spice_check", "lm_eval"}) {
    const auto& s = stage(p, name);
    CHECK(has_arg(s, p.card.path.string()));
    CHECK(has_arg(s, "cell_model=" + (p.out / "fits/read_current.lut.json").string()));
    CHECK(has_arg(s, "c2p_model=" + (p.out / "fits/c2p.hardsigmoid.json").string()));
  }
  CHECK(has_arg(stage(p, "energy"), p.card.path.string()));
  CHECK(has_arg(stage(p, "spice_check"), "--max-charge-error"));
  // A held card is evaluated in fitted mode, a precharged one in ODE mode.
  CHECK(has_arg(stage(p, "eval_cell"), "fitted"));
  CHECK(has_arg(stage(p, "lm_eval"), "fitted"));
  CHECK(has_arg(stage(p, "lm_eval"), "64"));  // --lm-sequences
  // --no-lm leaves the language model out.
  {
    testing::TempDir d;
    auto o = options(d, "gc3t");
    o.lm = false;
    const flow::FlowPlan np = flow::plan_flow(o);
    CHECK(std::none_of(np.stages.begin(), np.stages.end(), [](const flow::Stage& st) { return st.name == "lm_eval"; }));
  }
  // The paper polynomial is fitted around the card's offset, against the measured storage node.
  CHECK(has_arg(stage(p, "fit_multiply.paper_poly"), "t_pulse,v_sn_read_v"));
  // The OSFET card fixes the decay's asymptote.
  testing::TempDir dir2;
  const flow::FlowPlan q = flow::plan_flow(options(dir2, "osfet2t"));
  CHECK(has_arg(stage(q, "fit_retention.exp_decay"), "--v-inf"));
}

TEST_CASE("hand-written specs replace a role only for the same cell, with the names the fits read", "[unit][flow]") {
  testing::TempDir dir;
  auto o = options(dir, "pushpull");
  o.specs = {testing::source_dir() / "characterization/pushpull_retention.json"};
  const flow::FlowPlan p = flow::plan_flow(o);
  CHECK(p.given.at(cell::Role::kRetention));
  CHECK(p.spec_of.at(cell::Role::kRetention) == o.specs[0]);
  CHECK(!p.given.at(cell::Role::kMultiply));

  // Another cell's spec: refused, naming the spec, the role and the card's subcircuit.
  auto other = options(dir, "gc3t");
  other.specs = {testing::source_dir() / "characterization/pushpull_multiply.json"};
  try {
    flow::plan_flow(other);
    FAIL("accepted another cell's spec");
  } catch (const InputError& e) {
    CHECK(e.id() == "GC-1903");
    CHECK(std::string(e.what()).rfind("error GC-1903: " + other.specs[0].string() +
                                          ": the multiply sweep of a flow about cell gc3t must simulate its subcircuit " +
                                          (testing::source_dir() / "netlists/cells/gc3t.sub").lexically_normal().string(),
                                      0) == 0);
  }
  // Two specs for one role.
  o.specs = {testing::source_dir() / "characterization/pushpull_retention.json",
             testing::source_dir() / "characterization/pushpull_retention.json"};
  CHECK_THROWS_WITH(flow::plan_flow(o), Catch::Matchers::StartsWith("error GC-1905: "));
  // A spec of the cell without the names the fits read.
  std::string text = read_text_file(testing::source_dir() / "characterization/pushpull_read_current.json");
  text.replace(text.find("\"param\": \"v_line\""), 17, "\"param\": \"vin\"");
  text.replace(text.find("\"template\": \"../netlists/"), 25, "\"template\": \"" + (testing::source_dir() / "netlists/").string());
  testing::write_file(dir / "rc.json", text);
  o.specs = {dir / "rc.json"};
  CHECK_THROWS_WITH(flow::plan_flow(o), Catch::Matchers::StartsWith("error GC-1904: " + (dir / "rc.json").string() +
                                                                    ": as the flow's read_current sweep it lacks axis v_line"));
  // Not a sweep of any role.
  CHECK(flow::role_of_spec(testing::source_dir() / "characterization/c2p_signed_transfer.json") == cell::Role::kConverter);
}

TEST_CASE("a role the card cannot give is a failing stage with its reason", "[unit][flow]") {
  testing::TempDir dir;
  auto card = nlohmann::json::parse(read_text_file(testing::source_dir() / "netlists/cells/gc3t.cell.json"));
  card["subckt"].erase("storage_node");
  card["subckt"]["file"] = (testing::source_dir() / "netlists/cells/gc3t.sub").string();
  card["models"]["lib"]["file"] = "netlists/models/generic45_corners.lib";
  card["converter"]["file"] = "netlists/cells/c2p_integrator.sub";
  const std::string text = card.dump(2);
  testing::write_file(dir / "nosn.cell.json", text);
  flow::FlowOptions o;
  o.card = dir / "nosn.cell.json";
  o.out = dir / "out";
  const flow::FlowPlan p = flow::plan_flow(o);
  const auto& s = stage(p, "sweep_retention");
  CHECK(s.args.empty());
  CHECK(s.error.find("error GC-2010") != std::string::npos);
  CHECK(p.spec_of.count(cell::Role::kRetention) == 0);
}

TEST_CASE("a flow's command line: the card first, then specs; one card only", "[unit][flow]") {
  testing::TempDir dir;
  const std::string card = (testing::source_dir() / "netlists/cells/gc3t.cell.json").string();
  const std::string spec = (testing::source_dir() / "characterization/gc3t_multiply.json").string();
  flow::FlowOptions o;
  flow::set_inputs(o, {card, spec});
  CHECK(o.card == card);
  CHECK(o.specs == std::vector<std::filesystem::path>{spec});
  // A card after a spec is not the flow's card: a second one is refused.
  flow::FlowOptions none;
  flow::set_inputs(none, {spec});
  CHECK(none.card.empty());
  flow::FlowOptions two;
  CHECK_THROWS_WITH(flow::set_inputs(two, {card, card}),
                    "error GC-1905: flow: " + card + " is a second cell card; a flow is about one cell (give the card first, then specs)");
  CHECK_THROWS_WITH(flow::set_inputs(two, {spec, card}), Catch::Matchers::StartsWith("error GC-1905: flow: " + card));
}

TEST_CASE("a flow's progress lines say how each stage ended", "[unit][flow]") {
  testing::TempDir dir;
  const flow::FlowPlan p = flow::plan_flow(options(dir, "gc3t"));
  CHECK(flow::headline(p) == "cell gc3t (gc_3t of gc3t.sub; held line at 0.45 V, reference_column) -> " + p.out.string());
  flow::StageOutcome r;
  r.status = "ran";
  r.duration_s = 0.26;
  CHECK(flow::outcome_text(r) == "ran (0.3 s)");
  r.points_failed = true;
  CHECK(flow::outcome_text(r) == "ran (0.3 s), some points failed (recorded)");
  r.status = "reused";
  CHECK(flow::outcome_text(r) == "reused");
  r.status = "skipped";
  r.reason = "needs sweeps/c2p.h5, which a failed stage did not write";
  CHECK(flow::outcome_text(r) == "skipped: needs sweeps/c2p.h5, which a failed stage did not write");
  // A log's tail is indented under the stage; the line ends once.
  r.status = "failed";
  r.reason = "exit 3; the end of logs/x.log:\nfirst\nsecond\n";
  CHECK(flow::outcome_text(r) == "FAILED: exit 3; the end of logs/x.log:\n    first\n    second");
}
