// SPDX-License-Identifier: MIT
// The pulse-width axis from one transient (a spec's "collapse"): what may be
// collapsed, the breakpoints, the results file against an exact sweep of the
// same spec for every shipped cell, and --verify.
#include "gaincell/sweep/collapse.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <atomic>
#include <cmath>

#include <nlohmann/json.hpp>

#include "gaincell/cell/card.h"
#include "gaincell/cell/derive.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/strings.h"
#include "gaincell/spice/worker_pool.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/sweep.h"
#include "test_support.h"

using namespace gaincell;
using nlohmann::json;

namespace {

json shipped(const std::string& name) {
  return json::parse(read_text_file(testing::source_dir() / "characterization" / (name + ".json")));
}

// A shipped spec's text with `collapse` (and `extra` measures), parsed as if it lay beside the shipped ones.
sweep::SweepSpec with_collapse(const std::string& name, const json& collapse, const json& extra = json::array()) {
  json s = shipped(name);
  s["collapse"] = collapse;
  for (const auto& m : extra) s["measures"].push_back(m);
  return sweep::parse_spec(s.dump(1), testing::source_dir() / "characterization" / (name + "_collapsed.json"));
}

// The multiply spec a card derives (into `dir`), with `collapse` if given.
sweep::SweepSpec derived_multiply(const cell::CellCard& card, const std::filesystem::path& dir,
                                  const json& collapse = nullptr) {
  const cell::DerivedSet set = cell::write_derived(card, dir);
  json s = json::parse(read_text_file(set.specs.at(cell::Role::kMultiply)));
  if (!collapse.is_null()) s["collapse"] = collapse;
  const auto path = dir / (collapse.is_null() ? "multiply_exact.json" : "multiply_collapsed.json");
  testing::write_file(path, s.dump(1));
  return sweep::load_spec(path);
}

sweep::SweepSummary run(const sweep::SweepSpec& spec, const std::filesystem::path& out, std::size_t verify = 0,
                        std::uint64_t seed = 1) {
  sweep::SweepOptions options;
  options.output = out;
  options.jobs = 2;
  options.verify = verify;
  options.verify_seed = seed;
  CapturingReporter reporter;
  sweep::SweepSummary summary = sweep::run_sweep(spec, options, reporter);
  // A collapse that no exact simulation checks says so.
  const bool warned = std::any_of(reporter.lines().begin(), reporter.lines().end(), [](const std::string& l) {
    return l.find("no point is checked against an exact simulation; add --verify K") != std::string::npos;
  });
  CHECK(warned == (spec.collapse.has_value() && verify == 0));
  return summary;
}

// Largest |a - b| over the points, in % of the measure's full scale (its largest |a|).
double max_error_pct(const store::Results& exact, const store::Results& collapsed, const std::string& measure) {
  const auto& a = exact.values.at(measure);
  const auto& b = collapsed.values.at(measure);
  REQUIRE(a.size() == b.size());
  double full_scale = 0, worst = 0;
  for (double v : a) full_scale = std::max(full_scale, std::abs(v));
  for (std::size_t k = 0; k < a.size(); ++k) worst = std::max(worst, std::abs(a[k] - b[k]));
  return full_scale > 0 ? 100 * worst / full_scale : 0;
}

}  // namespace

TEST_CASE("collapse: a swept pulse-width axis, a held line and measures it can read", "[unit][collapse]") {
  const json held = {{"axis", "t_pulse"}, {"line", "held"}};
  const auto spec = with_collapse("pushpull_multiply", held);
  REQUIRE(spec.collapse.has_value());
  CHECK(spec.axes[spec.collapse->axis].name == "t_pulse");
  CHECK(spec.collapse->pulse_start.param == "t_read");
  CHECK(spec.collapse->verify_threshold_pct == 0.05);
  // v_sn_read_v (7.9 ns) ends before the pulse (8 ns); the others end at the end.
  for (std::size_t i = 0; i < spec.measures.size(); ++i) {
    INFO(spec.measures[i].name);
    CHECK(spec.collapse_reads[i] ==
          (spec.measures[i].name == "v_sn_read_v" ? sweep::CollapseRead::kBefore : sweep::CollapseRead::kTail));
  }
  CHECK_FALSE(sweep::load_spec(testing::source_dir() / "characterization/pushpull_multiply.json").collapse.has_value());

  auto fails = [&](const json& collapse, const json& extra, const std::string& message) {
    CHECK_THROWS_WITH(with_collapse("pushpull_multiply", collapse, extra), Catch::Contains(message));
  };
  fails({{"axis", "v_stor"}, {"line", "held"}}, json::array(),
        "error GC-1225: /collapse/axis: collapse axis 'v_stor' is not a swept template parameter; the spec sweeps "
        "v_store, t_pulse");
  fails({{"axis", "v_store"}, {"line", "held"}}, json::array(),
        "error GC-1225: /collapse/axis: collapse axis 'v_store' is declared in V (");
  fails({{"axis", "v_store"}, {"line", "held"}}, json::array(), "pushpull_cell.cir:");
  fails({{"axis", "v_store"}, {"line", "held"}}, json::array(), "); a pulse-width axis is a time in s");
  fails({{"axis", "t_pulse"}, {"line", "precharged"}}, json::array(),
        "error GC-1226: /collapse/line: collapsing 't_pulse' needs a read line held at a fixed voltage; a precharged "
        "line's turn-off tail depends on the charge read so far, so the longest pulse's tail does not fit the others");
  fails({{"axis", "t_pulse"}, {"line", "floating"}}, json::array(),
        "error GC-1226: /collapse/line: unknown line \"floating\"; expected held, precharged or integrator");
  fails(held, json::array({{{"name", "i_peak_a"}, {"kind", "max"}, {"of", "i(vsense)"}, {"unit", "A"}}}),
        "error GC-1227: /measures/9: measure 'i_peak_a' (max) depends on the waveform after the pulse start (t_read, "
        "8e-09 s), which is not the sum of the longest pulse's run up to a width's read time and its tail");
  fails(held, json::array({{{"name", "v_10n_v"}, {"kind", "value_at"}, {"of", "v(rbl)"}, {"at", "10n"}, {"unit", "V"}}}),
        "error GC-1227: /measures/9: measure 'v_10n_v' ends at 1e-08 s, after the pulse start (t_read, 8e-09 s) and "
        "before the end of the transient; a narrower pulse has ended there, the longest has not");
  fails(held, json::array({{{"name", "q_9n_c"}, {"kind", "integral"}, {"of", "i(vsense)"}, {"from", "9n"}, {"unit", "C"}}}),
        "error GC-1227: /measures/9: measure 'q_9n_c' starts its window at 9e-09 s, after the pulse start (t_read, "
        "8e-09 s); a narrower pulse's read time could lie before it");
  fails(held, json::array({{{"name", "v_w_v"}, {"kind", "value_at"}, {"of", "v(rbl)"}, {"at", "t_pulse"}, {"unit", "V"}}}),
        "error GC-1227: /measures/9: measure 'v_w_v' takes a time from 't_pulse', the collapsed axis; it cannot be "
        "collapsed");
  fails({{"axis", "t_pulse"}, {"line", "held"}, {"pulse_start", "20n"}}, json::array(),
        "error GC-1228: /collapse/pulse_start: the widths are read from the pulse start, 2e-08 s, to the pulse start + "
        "the longest width, 3.5e-08 s, which must lie inside the transient (0 s to 3e-08 s)");
  fails({{"axis", "t_pulse"}, {"line", "held"}, {"pulse_start", "end"}}, json::array(),
        "error GC-1228: /collapse/pulse_start: expected the time the read pulse starts rising: a number (s) or a "
        "template parameter other than 't_pulse'");
  fails({{"axis", "t_pulse"}, {"line", "held"}, {"edge", "end"}}, json::array(),
        "error GC-1230: /collapse/edge: expected the read pulse's rise (and fall) time: a number >= 0 (s) or a template "
        "parameter other than 't_pulse', found \"end\"");
  fails({{"axis", "t_pulse"}, {"line", "held"}, {"edge", "-20p"}}, json::array(), "error GC-1230: /collapse/edge: expected "
        "the read pulse's rise (and fall) time: a number >= 0 (s) or a template parameter other than 't_pulse', found \"-20p\"");
  fails({{"axis", "t_pulse"}, {"line", "held"}, {"edge", "t_pulse"}}, json::array(), "error GC-1230: /collapse/edge: ");
  CHECK(with_collapse("pushpull_multiply", {{"axis", "t_pulse"}, {"line", "held"}, {"edge", "t_read"}}).collapse->edge.param ==
        "t_read");
  CHECK(with_collapse("pushpull_multiply", held).collapse->edge.param == "t_edge");
  fails({{"axis", "t_pulse"}, {"line", "held"}, {"verify_threshold_pct", 0}}, json::array(),
        "error GC-1229: /collapse/verify_threshold_pct: expected a percentage of full scale in (0, 100], found 0");
  fails({{"axis", "t_pulse"}, {"line", "held"}, {"verify_measures", {"q"}}}, json::array(),
        "error GC-1229: /collapse/verify_measures/0: verify_measures names 'q', which is not a measure of this spec; it "
        "has q_line_c, v_line_end_v");
}

TEST_CASE("collapse: a template without t_edge needs an edge (GC-1230)", "[unit][collapse]") {
  testing::TempDir dir;
  testing::write_file(dir / "step.cir", "ideal step\n.param t_pulse=1n $ [s] width\n.param t_read=2n $ [s] start\n"
                                        "V1 in 0 PWL(0 0 {t_read} 0 {t_read+1e-15} 1)\nR1 in 0 1k\n.end\n");
  json s = {{"format", "gaincell-spec/1"},
            {"name", "step"},
            {"template", "step.cir"},
            {"axes", {{{"param", "t_pulse"}, {"values", {0, 1e-9}}}}},
            {"analysis", {{"tran", {{"step", "0.1n"}, {"stop", "10n"}}}}},
            {"measures", {{{"name", "v_v"}, {"kind", "value_at"}, {"of", "v(in)"}, {"at", "end"}, {"unit", "V"}}}},
            {"collapse", {{"axis", "t_pulse"}, {"line", "held"}}}};
  const auto path = dir / "step.json";
  CHECK_THROWS_WITH(sweep::parse_spec(s.dump(1), path),
                    Catch::Contains("step.json:") &&
                        Catch::Contains("error GC-1230: /collapse: the template (" + (dir / "step.cir").string() +
                                        ") has no parameter 't_edge' for the read pulse's rise (and fall) time; expected "
                                        "the read pulse's rise (and fall) time: a number >= 0 (s) or a template parameter "
                                        "other than 't_pulse'\n  hint: give \"edge\": a number (s, 0 for an ideal step) or "
                                        "the template parameter that sets it"));
  s["collapse"]["edge"] = 0;
  CHECK(sweep::parse_spec(s.dump(1), path).collapse->edge.value_s == 0);
}

TEST_CASE("collapse: which shipped specs and read schemes qualify", "[unit][collapse]") {
  // The line is the spec's declaration, not checked against the template: the 3T multiply spec's
  // precharged 10 pF line declared held loads (docs/spec-format.md#collapse; --verify is the check).
  CHECK(with_collapse("gc3t_multiply", {{"axis", "t_pulse"}, {"line", "held"}}).collapse->line ==
        sweep::Collapse::Line::kHeld);
  // The shipped multiply specs read a 10 pF line precharged to v_line and then floating: a precharged line.
  for (const char* name : {"pushpull_multiply", "gc3t_multiply", "osfet2t_multiply"}) {
    INFO(name);
    CHECK_THROWS_WITH(with_collapse(name, {{"axis", "t_pulse"}, {"line", "precharged"}}), Catch::Contains("GC-1226"));
    CHECK(with_collapse(name, {{"axis", "t_pulse"}, {"line", "precharged"}, {"force", true}}).collapse->force);
  }
  // The converter (an integrator input, its input pulse t_int swept) is refused, and forced it still
  // cannot give its output pulse width.
  json c2p = shipped("c2p_transfer");
  c2p["axes"] = json::array({{{"param", "t_int"}, {"values", {"0.5n", "1n"}}}});
  const auto c2p_path = testing::source_dir() / "characterization/c2p_collapsed.json";
  c2p["collapse"] = {{"axis", "t_int"}, {"line", "integrator"}, {"pulse_start", "t_q"}};
  CHECK_THROWS_WITH(sweep::parse_spec(c2p.dump(), c2p_path),
                    Catch::Contains("error GC-1226: /collapse/line: collapsing 't_int' needs a read line held"));
  c2p["collapse"]["force"] = true;
  CHECK_THROWS_WITH(sweep::parse_spec(c2p.dump(), c2p_path),
                    Catch::Contains("error GC-1227: /measures/0: measure 'pw_s' (time_above) depends on the waveform"));
  // A card's "held" scheme (the derived specs hold the line with 1 uF) collapses every measure it derives.
  testing::TempDir dir;
  for (const char* card : {"pushpull", "gc3t", "osfet2t"}) {
    INFO(card);
    const auto c = cell::load_card(testing::source_dir() / "netlists/cells" / (std::string(card) + ".cell.json"));
    REQUIRE(c.scheme == cell::ReadScheme::kHeld);
    const auto spec = derived_multiply(c, dir.path() / card, {{"axis", "t_pulse"}, {"line", "held"}});
    CHECK(spec.collapse_reads.size() == spec.measures.size());
  }
}

TEST_CASE("collapse: one job per group, read times on breakpoints", "[unit][collapse]") {
  const auto spec = with_collapse("gc3t_multiply", {{"axis", "t_pulse"}, {"line", "precharged"}, {"force", true}});
  const sweep::SweepPlan plan(spec);
  const sweep::CollapsedPlan cp(plan);
  // v_line (4) x v_store (8) x t_pulse (16): point 37 is v_line 0, v_store 2, t_pulse 5; its group ends at t_pulse 15.
  CHECK(cp.group_of(37) == 47);
  CHECK(cp.group_of(47) == 47);
  const auto members = cp.members(47);
  REQUIRE(members.size() == 16);
  CHECK(members.front() == 32);
  CHECK(members.back() == 47);
  // Width 0 (points 0, 16) is simulated on its own; the others come from their group's run.
  CHECK(cp.runs_of({0, 1, 15, 16, 37}) == std::vector<std::size_t>{0, 15, 16, 47});
  const auto times = cp.read_times(47);
  CHECK(times.front() == 8e-9);
  CHECK(times.back() == Approx(23e-9).epsilon(1e-15));
  const spice::SimJob job = cp.job(47);
  CHECK(job.id == 47);
  const auto pwl = job.netlist.find("VGC_COLLAPSE_CUTS gc_collapse_cuts 0 PWL(0 0 8e-09 0 ");
  REQUIRE(pwl != std::string::npos);
  const std::string line = job.netlist.substr(pwl, job.netlist.find('\n', pwl) - pwl);
  CHECK(std::count(line.begin(), line.end(), ' ') == 4 + 2 * 16);  // 16 corners: the read times
  CHECK(plan.render(47).find("VGC_COLLAPSE_CUTS") == std::string::npos);  // render --point K stays exact
  // Per tail measure: 16 reads and the tail (value_at: its start and end too); per measure before the pulse: 1.
  std::size_t tails = 0;
  for (auto r : spec.collapse_reads) tails += r == sweep::CollapseRead::kTail;
  std::size_t values_at_end = 0;
  for (std::size_t i = 0; i < spec.measures.size(); ++i) {
    values_at_end += spec.collapse_reads[i] == sweep::CollapseRead::kTail && spec.measures[i].kind == measure::MeasureKind::kValueAt;
  }
  CHECK(job.measures.size() == (spec.measures.size() - tails) + tails * 17 + values_at_end);
}

TEST_CASE("collapse: every read time is a time point of the long run (within 1 ps)", "[ngspice][collapse]") {
  const auto spec = with_collapse("pushpull_multiply", {{"axis", "t_pulse"}, {"line", "precharged"}, {"force", true}});
  const sweep::SweepPlan plan(spec);
  const sweep::CollapsedPlan cp(plan);
  spice::SimJob collapsed = cp.job(15);
  spice::SimJob exact = plan.job(15);  // the same run without the breakpoints
  collapsed.return_vectors = exact.return_vectors = {"time"};
  exact.id = 1000;
  spice::PoolOptions options;
  options.jobs = 1;
  spice::WorkerPool pool(options);
  std::map<std::uint64_t, std::vector<double>> time;
  pool.run(2, [&](std::size_t k) { return k == 0 ? collapsed : exact; },
           [&](spice::SimResult&& r) {
             REQUIRE(r.ok());
             time[r.id] = r.vectors.at("time");
           });
  auto off_grid_s = [](const std::vector<double>& t, double at) {
    double best = 1;
    for (double x : t) best = std::min(best, std::abs(x - at));
    return best;
  };
  std::size_t exact_misses = 0;
  for (double at : cp.read_times(15)) {
    INFO("read time " << at);
    CHECK(off_grid_s(time.at(15), at) <= 1e-12);
    exact_misses += off_grid_s(time.at(1000), at) > 1e-12;
  }
  CHECK(exact_misses > 0);  // without the PWL corners ngspice steps over them
}

TEST_CASE("collapse: held lines of every shipped cell match the exact sweep", "[ngspice][collapse]") {
  testing::TempDir dir;
  for (const char* card : {"pushpull", "gc3t", "osfet2t"}) {
    INFO(card);
    const auto c = cell::load_card(testing::source_dir() / "netlists/cells" / (std::string(card) + ".cell.json"));
    const auto exact_spec = derived_multiply(c, dir.path() / card);
    const auto spec = derived_multiply(c, dir.path() / card, {{"axis", "t_pulse"}, {"line", "held"}});
    const auto exact_out = dir.path() / card / "exact.h5";
    const auto collapsed_out = dir.path() / card / "collapsed.h5";
    const auto exact_summary = run(exact_spec, exact_out);
    REQUIRE(exact_summary.failed() == 0);
    const auto s = run(spec, collapsed_out, 4);
    INFO(s.full());
    REQUIRE(s.failed() == 0);
    CHECK(s.collapse.simulations == 16);  // 8 stored levels x 16 widths: 8 long runs and 8 points of width 0
    CHECK(s.collapse.verified.size() == 4);
    CHECK_FALSE(s.collapse.exceeded);
    CHECK(s.collapse.max_error_pct < 0.05);

    const auto exact = store::read_results(exact_out);
    const auto collapsed = store::read_results(collapsed_out);
    // Shaped as the exact sweep's file: axes, measures, units, status.
    REQUIRE(collapsed.axes.size() == exact.axes.size());
    for (std::size_t a = 0; a < exact.axes.size(); ++a) {
      CHECK(collapsed.axes[a].name == exact.axes[a].name);
      CHECK(collapsed.axes[a].unit == exact.axes[a].unit);
      CHECK(collapsed.axes[a].values == exact.axes[a].values);
    }
    REQUIRE(collapsed.measures.size() == exact.measures.size());
    for (std::size_t m = 0; m < exact.measures.size(); ++m) {
      CHECK(collapsed.measures[m].name == exact.measures[m].name);
      CHECK(collapsed.measures[m].unit == exact.measures[m].unit);
      const double err = max_error_pct(exact, collapsed, exact.measures[m].name);
      INFO(exact.measures[m].name << ": " << err << " % of full scale");
      CHECK(err < 0.01);  // without the tail: 0.051 % (push-pull) and 0.074 % (3T) on q_line_c
    }
    CHECK(collapsed.status == exact.status);
    CHECK(collapsed.attributes.count("collapse_axis") == 1);
    CHECK(exact.attributes.count("collapse_axis") == 0);
    CHECK(collapsed.attributes.at("collapse_axis") == "t_pulse");
    CHECK(collapsed.attributes.at("collapse_line") == "held");
    CHECK(collapsed.attributes.at("collapse_forced") == "no");
    CHECK(collapsed.attributes.at("collapse_simulations") == "16");
    CHECK(collapsed.attributes.at("collapse_verify_points") == "4");
    CHECK(collapsed.attributes.at("collapse_verify_passed") == "yes");
    CHECK(std::stod(collapsed.attributes.at("collapse_verify_max_error_pct")) == Approx(s.collapse.max_error_pct));
    const json errors = json::parse(collapsed.attributes.at("collapse_verify_errors_pct"));
    CHECK(errors.size() == exact.measures.size());
    // The seed draws the same points again; another seed others.
    const auto again = run(spec, dir.path() / card / "again.h5", 4);
    CHECK(again.collapse.verified == s.collapse.verified);
    CHECK(run(spec, dir.path() / card / "seed2.h5", 4, 2).collapse.verified != s.collapse.verified);
  }
}

TEST_CASE("collapse: width 0 and widths below two edges are simulated on their own", "[ngspice][collapse]") {
  // The push-pull card's held multiply spec, two stored levels, widths 0, two below two edges
  // (t_edge 20 ps) and three from two edges on, plus the energy of the held line and of the supply
  // to the end, and (ending at the pulse start, so read as they are) what a width-0 point was read as
  // before it was simulated on its own: the run up to the pulse start, without a tail.
  testing::TempDir dir;
  const auto card = cell::load_card(testing::source_dir() / "netlists/cells/pushpull.cell.json");
  const cell::DerivedSet set = cell::write_derived(card, dir.path());
  json s = json::parse(read_text_file(set.specs.at(cell::Role::kMultiply)));
  s["axes"][0]["values"] = {0.3, 0.9};
  s["axes"][1] = {{"param", "t_pulse"}, {"values", {0, 10e-12, 30e-12, 40e-12, 2e-9, 15e-9}}};
  const json q_from = s["measures"][0]["from"];
  auto energy = [](const std::string& name, const std::string& v, const std::string& i, const std::string& to) {
    return json{{"name", name}, {"kind", "energy"}, {"voltage", v}, {"current", i}, {"from", "start"}, {"to", to}, {"unit", "J"}};
  };
  s["measures"].push_back(energy("e_line_j", "v(line)", "i(vsense)", "end"));
  s["measures"].push_back(energy("e_vdd_j", "v(vdd)", "i(vdd)", "end"));
  s["measures"].push_back(energy("e_vdd_at_start_j", "v(vdd)", "i(vdd)", "t_read"));
  s["measures"].push_back({{"name", "q_line_at_start_c"}, {"kind", "integral"}, {"of", "i(vsense)"}, {"from", q_from},
                           {"to", "t_read"}, {"unit", "C"}});
  testing::write_file(dir / "exact.json", s.dump(1));
  s["collapse"] = {{"axis", "t_pulse"}, {"line", "held"}};
  testing::write_file(dir / "collapsed.json", s.dump(1));
  s["collapse"]["edge"] = 0;  // every width > 0 read from the long run
  testing::write_file(dir / "edge0.json", s.dump(1));

  const auto spec = sweep::load_spec(dir / "collapsed.json");
  const sweep::SweepPlan plan(spec);
  const sweep::CollapsedPlan cp(plan);
  // Widths 0, 10 ps and 30 ps (points 0-2, 6-8) on their own; 40 ps (two edges) and up from the long runs (5, 11).
  auto is_own = [](std::size_t k) { return k % 6 < 3; };
  for (std::size_t k = 0; k < plan.size(); ++k) {
    INFO("point " << k);
    CHECK(cp.is_exact(k) == is_own(k));
  }
  CHECK(cp.runs_of({0, 1, 3, 4, 5, 9, 8}) == std::vector<std::size_t>{0, 1, 5, 11, 8});
  CHECK(cp.job(1).id == 1);
  CHECK(cp.job(1).netlist == plan.job(1).netlist);  // the exact netlist, no breakpoints
  CHECK(cp.job(3).id == 5);
  CHECK(cp.method().find("t_pulse = 0 and every t_pulse below two edges (t_edge) simulated on its own, exactly") !=
        std::string::npos);

  REQUIRE(run(sweep::load_spec(dir / "exact.json"), dir / "exact.h5").failed() == 0);
  const auto summary = run(spec, dir / "collapsed.h5", 4);
  INFO(summary.full());
  REQUIRE(summary.failed() == 0);
  CHECK(summary.collapse.simulations == 2 + 2 * 3);  // two long runs, six points on their own
  CHECK_FALSE(summary.collapse.exceeded);
  REQUIRE(run(sweep::load_spec(dir / "edge0.json"), dir / "edge0.h5").failed() == 0);
  const auto exact = store::read_results(dir / "exact.h5");
  const auto collapsed = store::read_results(dir / "collapsed.h5");
  const auto edge0 = store::read_results(dir / "edge0.h5");
  CHECK(collapsed.attributes.at("collapse_simulations") == "8");
  // docs/formats.md: a point simulated on its own carries its own run time; a long run's other widths 0.
  for (std::size_t k = 0; k < plan.size(); ++k) {
    INFO("point " << k);
    CHECK((collapsed.run_time_s[k] > 0) == (is_own(k) || k % 6 == 5));
  }
  // Percent of full scale (the exact sweep's largest |value|) of |exact - other| at the points `which` picks.
  auto worst_pct = [&](const store::Results& other, const std::string& exact_name, const std::string& name, auto which) {
    const auto& a = exact.values.at(name);
    double full_scale = 0, worst = 0;
    for (double v : a) full_scale = std::max(full_scale, std::abs(v));
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (which(k)) worst = std::max(worst, std::abs(other.values.at(exact_name)[k] - a[k]));
    }
    return 100 * worst / full_scale;
  };
  for (const auto& m : exact.measures) {
    INFO(m.name);
    for (std::size_t k = 0; k < plan.size(); ++k) {
      if (is_own(k)) CHECK(collapsed.values.at(m.name)[k] == exact.values.at(m.name)[k]);  // the same simulation
    }
    // The measures of the held line within 0.01 % of full scale; the supply, not held, within 0.02 % (0.0105 % at 2 ns).
    CHECK(max_error_pct(exact, collapsed, m.name) < (m.name == "e_vdd_j" ? 0.02 : 0.01));
  }
  // docs/spec-format.md#what-is-simulated-on-its-own: width 0 read at the pulse start without a tail
  // was off by up to 0.024 % of full scale (the supply's energy; 0.006 % for the line's charge), and
  // 10 ps and 30 ps read from the long run by up to 0.31 % (0.023 %).
  auto width0 = [](std::size_t k) { return k % 6 == 0; };
  auto narrow = [](std::size_t k) { return k % 6 == 1 || k % 6 == 2; };
  const double w0_energy = worst_pct(exact, "e_vdd_at_start_j", "e_vdd_j", width0);
  const double w0_charge = worst_pct(exact, "q_line_at_start_c", "q_line_c", width0);
  const double narrow_energy = worst_pct(edge0, "e_vdd_j", "e_vdd_j", narrow);
  const double narrow_charge = worst_pct(edge0, "q_line_c", "q_line_c", narrow);
  INFO("width 0: " << w0_energy << " % and " << w0_charge << " %; below two edges: " << narrow_energy << " % and "
                   << narrow_charge << " %");
  CHECK(w0_energy == Approx(0.024).epsilon(0.1));
  CHECK(w0_charge == Approx(0.006).epsilon(0.1));
  CHECK(narrow_energy == Approx(0.31).epsilon(0.1));
  CHECK(narrow_charge == Approx(0.023).epsilon(0.1));
}

TEST_CASE("collapse: an infinite --verify difference is stored as inf and exits 4", "[ngspice][collapse]") {
  // A template that breaks the collapse's premise: v(x) depends on the width itself, 0.5 V between
  // 1 and 10 ns, else 0: every collapsed value is 0 (a full scale of 0), the exact 5 ns run's is not.
  testing::TempDir dir;
  testing::write_file(dir / "bad.cir",
                      "width-dependent source\n"
                      ".param t_pulse=15n $ [s] pulse width\n"
                      ".param t_read=8n $ [s] pulse start\n"
                      ".param t_edge=20p $ [s] rise and fall time\n"
                      ".param v_bad={t_pulse > 1e-9 && t_pulse < 1e-8 ? 0.5 : 0}\n"
                      ".param pw_flat={max(t_pulse-t_edge,1e-12)}\n"
                      "V1 in 0 PULSE(0 1 {t_read} {t_edge} {t_edge} {pw_flat} 1)\n"
                      "R1 in 0 1k\n"
                      "V2 x 0 {v_bad}\n"
                      "R2 x 0 1k\n"
                      ".end\n");
  const json s = {{"format", "gaincell-spec/1"},
                  {"name", "infinite"},
                  {"template", "bad.cir"},
                  {"axes", {{{"param", "t_pulse"}, {"values", {0, 5e-9, 15e-9}}}}},
                  {"analysis", {{"tran", {{"step", "0.1n"}, {"stop", "30n"}}}}},
                  {"measures", {{{"name", "v_x_v"}, {"kind", "value_at"}, {"of", "v(x)"}, {"at", "end"}, {"unit", "V"}}}},
                  {"collapse", {{"axis", "t_pulse"}, {"line", "held"}}}};
  testing::write_file(dir / "infinite.json", s.dump(1));
  const std::string gaincell = (testing::bin_dir() / "gaincell").string();
  const auto r = testing::run_command(gaincell + " sweep infinite.json -o infinite.h5 -j 2 --verify 3 2>&1", dir.path());
  INFO(r.output);
  CHECK(r.exit_code == 4);
  CHECK(r.output.find("collapse: t_pulse = 0 s (width 0 or below two edges, t_edge) simulated on its own: 1 of 3 points") !=
        std::string::npos);
  const std::string why = "v_x_v at point 1: its full scale is 0 (every value of it in the file is 0), and the exact "
                          "run gives 0.5 V";
  CHECK(r.output.find("warning: verify: the collapsed sweep differs from exact simulations by an infinite amount (" +
                      why + "), above the threshold of 0.05 %") != std::string::npos);
  CHECK(r.output.find("largest difference an infinite amount (" + why + "), threshold 0.05 %: FAILED") !=
        std::string::npos);
  const auto res = store::read_results(dir / "infinite.h5");
  CHECK(res.attributes.at("collapse_verify_max_error_pct") == "inf");
  CHECK(res.attributes.at("collapse_verify_worst") == why);
  CHECK(res.attributes.at("collapse_verify_passed") == "no");
  CHECK(json::parse(res.attributes.at("collapse_verify_errors_pct")) == json{{"v_x_v", "inf"}});
  const auto info = testing::run_command(gaincell + " info infinite.h5 2>&1", dir.path());
  INFO(info.output);
  CHECK(info.output.find("verified: 3 points exactly, largest difference infinite (" + why + "), threshold 0.05 %: FAILED") !=
        std::string::npos);
}

TEST_CASE("collapse: above the threshold a sweep warns, records it and exits 4", "[ngspice][collapse]") {
  testing::TempDir dir;
  // The shipped 3T multiply spec's 10 pF line, precharged and floating, forced, with a threshold no run can meet.
  json s = shipped("gc3t_multiply");
  s["template"] = (testing::source_dir() / "netlists/gc3t_cell.cir").string();
  s["axes"][0]["values"] = {0.9};  // one line level: 8 groups
  s["collapse"] = {{"axis", "t_pulse"}, {"line", "precharged"}, {"force", true}, {"verify_threshold_pct", 1e-12},
                   {"verify_measures", {"q_line_c"}}};
  testing::write_file(dir / "strict.json", s.dump(1));
  const std::string gaincell = (testing::bin_dir() / "gaincell").string();
  const auto r = testing::run_command(gaincell + " sweep strict.json -o strict.h5 -j 2 --verify 3 2>&1", dir.path());
  INFO(r.output);
  CHECK(r.exit_code == 4);
  CHECK(r.output.find("warning: verify: the collapsed sweep differs from exact simulations by ") != std::string::npos);
  CHECK(r.output.find("threshold 1e-12 %: FAILED") != std::string::npos);
  const auto res = store::read_results(dir / "strict.h5");
  CHECK(res.attributes.at("collapse_verify_passed") == "no");
  CHECK(res.attributes.at("collapse_forced") == "yes");
  CHECK(res.attributes.at("collapse_verify_measures") == "q_line_c");
  CHECK(std::stod(res.attributes.at("collapse_verify_max_error_pct")) > 1e-12);
  CHECK(std::all_of(res.status.begin(), res.status.end(), [](auto st) { return st == spice::SimOutcome::kOk; }));
  const auto info = testing::run_command(gaincell + " info strict.h5 2>&1", dir.path());
  INFO(info.output);
  CHECK(info.output.find("  collapsed: 't_pulse' from 16 simulations (line precharged, forced)\n  verified: 3 points "
                         "exactly, largest difference ") != std::string::npos);
  CHECK(info.output.find("(q_line_c at point ") != std::string::npos);
  CHECK(info.output.find("threshold 1e-12 %: FAILED") != std::string::npos);
  // The same without --verify: nothing compared, exit 0.
  const auto plain = testing::run_command(gaincell + " -q sweep strict.json -o plain.h5 -j 2 2>&1", dir.path());
  INFO(plain.output);
  CHECK(plain.exit_code == 0);
  CHECK(store::read_results(dir / "plain.h5").attributes.at("collapse_verify_points") == "0");
}

TEST_CASE("collapse: --verify and --shard are checked against the spec", "[ngspice][collapse]") {
  testing::TempDir dir;
  const auto collapsed = with_collapse("pushpull_multiply", {{"axis", "t_pulse"}, {"line", "precharged"}, {"force", true}});
  sweep::SweepOptions options;
  options.output = dir / "x.h5";
  options.jobs = 1;
  NullReporter quiet;
  options.verify = 129;
  CHECK_THROWS_WITH(sweep::run_sweep(collapsed, options, quiet),
                    Catch::Contains("error GC-1307: --verify 129: ") &&
                        Catch::Contains("has 128 points; verify at most that many"));
  options.verify = 2;
  const auto exact = sweep::load_spec(testing::source_dir() / "characterization/pushpull_multiply.json");
  CHECK_THROWS_WITH(sweep::run_sweep(exact, options, quiet),
                    Catch::Contains("error GC-1308: --verify 2: ") &&
                        Catch::Contains("has no \"collapse\"; every point of it is simulated exactly already"));
  options.verify = 0;
  options.shard_index = 1;
  options.shard_count = 4;
  CHECK_THROWS_WITH(sweep::run_sweep(collapsed, options, quiet),
                    Catch::Contains("error GC-1309: --shard 1/4: ") &&
                        Catch::Contains("collapses 't_pulse', and one transient serves the points of several shards"));
  // gaincell slurm refuses it before writing any job.
  json spec = shipped("pushpull_multiply");
  spec["template"] = (testing::source_dir() / "netlists/pushpull_cell.cir").string();
  spec["collapse"] = {{"axis", "t_pulse"}, {"line", "held"}};
  testing::write_file(dir / "c.json", spec.dump(1));
  const auto r = testing::run_command((testing::bin_dir() / "gaincell").string() + " slurm c.json --shards 4 -o job 2>&1",
                                      dir.path());
  INFO(r.output);
  CHECK(r.exit_code == 3);
  CHECK(r.output.find("error GC-1309: gaincell slurm: c.json collapses 't_pulse'") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "job" / "shards.sbatch"));
}

namespace {
// Asks the sweep to stop once `after` points have a result.
class StopAfter final : public Reporter {
 public:
  StopAfter(std::atomic<bool>& stop, std::size_t after) : stop_(stop), after_(after) {}
  void info(const std::string&) override {}
  void warning(const std::string&) override {}
  void progress(const Progress& p) override {
    if (p.done >= after_) stop_ = true;
  }
  void progress_done(const Progress&) override {}

 private:
  std::atomic<bool>& stop_;
  std::size_t after_;
};
}  // namespace

TEST_CASE("collapse: an interrupted collapsed sweep resumes to the same file", "[ngspice][collapse]") {
  testing::TempDir dir;
  const auto spec = with_collapse("pushpull_multiply", {{"axis", "t_pulse"}, {"line", "precharged"}, {"force", true}});
  const auto whole = run(spec, dir / "whole.h5");
  REQUIRE(whole.failed() == 0);
  std::atomic<bool> stop{false};
  sweep::SweepOptions options;
  options.output = dir / "cut.h5";
  options.jobs = 2;
  options.stop = &stop;
  StopAfter stopper(stop, 32);  // after two groups of 15 widths and their points of width 0
  const auto first = sweep::run_sweep(spec, options, stopper);
  REQUIRE(first.interrupted);
  CHECK(first.done < 128);
  options.resume = true;
  options.stop = nullptr;
  NullReporter quiet;
  const auto second = sweep::run_sweep(spec, options, quiet);
  CHECK_FALSE(second.interrupted);
  CHECK(second.resumed == first.done);
  CHECK(first.collapse.simulations + second.collapse.simulations == 16);  // no run is repeated
  testing::require_same_data(store::read_results(dir / "whole.h5"), store::read_results(dir / "cut.h5"));
}
