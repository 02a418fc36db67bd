// SPDX-License-Identifier: MIT
// A foundry-style PDK through gaincell (docs/pdk.md). The fixture library
// (tests/data/pdk/models/models.lib) bins its BSIM4 cards by the width of one
// finger, which ngspice 39.3 honours only with `set ngbehavior=hsa` in
// .spiceinit; its corners are .lib sections that .lib another section of the
// same file, and its tt_mm section switches on an agauss() mismatch.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "gaincell/core/error.h"
#include "gaincell/core/reporter.h"
#include "gaincell/spice/worker.h"
#include "gaincell/spice/worker_pool.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/plan.h"
#include "gaincell/sweep/spec.h"
#include "gaincell/sweep/sweep.h"
#include "test_support.h"

using namespace gaincell;
namespace fs = std::filesystem;

namespace {

fs::path pdk_dir() { return testing::source_dir() / "tests/data/pdk"; }

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The fenced block that follows "<!-- file: NAME -->" in docs/pdk.md.
std::string doc_block(const std::string& name) {
  const std::string page = read_file(testing::source_dir() / "docs/pdk.md");
  const std::string mark = "<!-- file: " + name + " -->\n";
  const auto at = page.find(mark);
  REQUIRE(at != std::string::npos);
  const auto open = page.find('\n', at + mark.size());
  const auto close = page.find("```", open);
  REQUIRE(close != std::string::npos);
  return page.substr(open + 1, close - open - 1);
}

// The drain current of point k.
double at(const store::Results& r, std::size_t k) { return r.values.at("i_d_a")[k]; }

// The fixture's spec with its relative paths made absolute, to be written elsewhere.
std::string with_absolute_paths(std::string text) {
  for (const std::string rel : {"bench/nfet_bench.cir", "models/models.lib"}) {
    const auto p = text.find("\"" + rel + "\"");
    REQUIRE(p != std::string::npos);
    text.replace(p + 1, rel.size(), (pdk_dir() / rel).string());
  }
  const std::string roots = "[\"models\"]";
  text.replace(text.find(roots), roots.size(), "[\"" + (pdk_dir() / "models").string() + "\"]");
  return text;
}

}  // namespace

TEST_CASE("a PDK binned by finger width runs with set ngbehavior=hsa, and only with it", "[ngspice][pdk]") {
  // The worked example of docs/pdk.md is the fixture's spec, byte for byte.
  const std::string text = read_file(pdk_dir() / "nfet.json");
  REQUIRE(doc_block("tests/data/pdk/nfet.json") == text);
  const sweep::SweepSpec spec = sweep::load_spec(pdk_dir() / "nfet.json");
  REQUIRE(spec.ngspice_init == std::vector<std::string>{"set ngbehavior=hsa", "set ng_nomodcheck"});

  testing::TempDir dir;
  const store::Results r = testing::sweep_all_ok(spec, dir / "pdk.h5");
  // Recorded: what every worker's .spiceinit held.
  CHECK(r.attributes.at("ngspice_init") == spice::worker_spiceinit(spec.ngspice_init));
  CHECK(r.attributes.at("ngspice_init").find("\nset ngbehavior=hsa\nset ng_nomodcheck\n") != std::string::npos);
  REQUIRE(r.axes[0].labels == std::vector<std::string>{"tt", "ff", "ss", "tt_mm"});

  // The right value: the same device as one unbinned card with the tt numbers,
  // simulated without any init line, gives the same current.
  testing::write_file(dir / "plain.json",
                      "{\"format\": \"gaincell-spec/1\", \"name\": \"plain_nfet\",\n"
                      " \"template\": \"" + (pdk_dir() / "bench/nfet_plain.cir").string() + "\",\n"
                      " \"include_roots\": [\"" + (pdk_dir() / "models").string() + "\"],\n"
                      " \"axes\": [{\"param\": \"v_gate\", \"values\": [0.9, 1.2]}],\n"
                      " \"analysis\": {\"tran\": {\"step\": \"0.1n\", \"stop\": \"4n\"}},\n"
                      " \"measures\": [{\"name\": \"i_d_a\", \"kind\": \"average\", \"of\": \"i(vd)\", \"from\": \"2n\","
                      " \"scale\": -1, \"unit\": \"A\"}]}\n");
  const store::Results plain = testing::sweep_all_ok(sweep::load_spec(dir / "plain.json"), dir / "plain.h5");
  for (std::size_t g = 0; g < 2; ++g) {
    INFO("v_gate point " << g);
    CHECK(at(r, g) == Approx(at(plain, g)).epsilon(1e-9));  // tt
    CHECK(at(r, g) > 1e-6);
  }
  // The table of docs/pdk.md, uA: tt, ff, ss, tt_mm at 0.9 V and 1.2 V.
  const double table_ua[4][2] = {{35.17, 135.97}, {50.19, 166.35}, {23.23, 109.12}, {37.69, 133.36}};
  for (std::size_t k = 0; k < 8; ++k) CHECK(at(r, k) * 1e6 == Approx(table_ua[k / 2][k % 2]).epsilon(5e-4));
  // Corners move the current the way they should: ff above tt above ss.
  for (std::size_t g = 0; g < 2; ++g) {
    CHECK(at(r, 2 + g) > 1.1 * at(r, g));  // ff
    CHECK(at(r, 4 + g) < 0.9 * at(r, g));  // ss
  }
  // tt_mm is tt with the mismatch switch on: a 10 mV-sigma draw moves it a little, not by a corner.
  for (std::size_t g = 0; g < 2; ++g) {
    CHECK(at(r, 6 + g) != at(r, g));
    CHECK(std::abs(at(r, 6 + g) / at(r, g) - 1.0) < 0.1);
  }

  // Without the init line ngspice finds no bin for 1.6 um of width: every point
  // fails with ngspice's own words (with a corner axis a missing model is data).
  std::string without = with_absolute_paths(text);
  const std::string init = "  \"ngspice_init\": [\"set ngbehavior=hsa\", \"set ng_nomodcheck\"],\n";
  REQUIRE(without.find(init) != std::string::npos);
  without.erase(without.find(init), init.size());
  testing::write_file(dir / "without.json", without);
  sweep::SweepOptions options;
  options.output = dir / "without.h5";
  options.jobs = 2;
  NullReporter quiet;
  const sweep::SweepSummary summary = sweep::run_sweep(sweep::load_spec(dir / "without.json"), options, quiet);
  CHECK(summary.failed() == 8);
  const store::Results w = store::read_results(dir / "without.h5");
  for (std::size_t k = 0; k < w.size(); ++k) {
    INFO("point " << k);
    CHECK(w.status[k] == spice::SimOutcome::kMissingModel);
    CHECK(w.messages[k].find("could not find a valid modelname") != std::string::npos);
    CHECK(std::isnan(at(w, k)));
  }
  // Without a corner axis, the first point alone stops the sweep, with the same words.
  std::string one = without;
  const std::string corner = "    {\"corner\": \"" + (pdk_dir() / "models/models.lib").string() +
                             "\", \"values\": [\"tt\", \"ff\", \"ss\", \"tt_mm\"]},\n";
  REQUIRE(one.find(corner) != std::string::npos);
  one.erase(one.find(corner), corner.size());
  testing::write_file(dir / "one.json", one);
  options.output = dir / "one.h5";
  try {
    sweep::run_sweep(sweep::load_spec(dir / "one.json"), options, quiet);
    FAIL("the sweep ran");
  } catch (const InputError& e) {
    CHECK(e.id() == "GC-1214");
    CHECK_THAT(e.what(), Catch::Contains("failed as missing_model") && Catch::Contains("could not find a valid modelname"));
  }
}

TEST_CASE("a mismatch section draws the same values for a point in any worker, order or run", "[ngspice][pdk]") {
  const sweep::SweepSpec spec = sweep::load_spec(pdk_dir() / "nfet.json");
  const sweep::SweepPlan plan(spec);
  REQUIRE(plan.describe(6) == "corner=tt_mm v_gate=0.9 V");
  spice::PoolOptions options;
  options.jobs = 1;
  options.ngspice_init = spec.ngspice_init;
  spice::WorkerPool pool(options);
  // Point 6 three times in one worker, between others: ngspice's generator
  // would have moved on by then, but each point seeds it afresh.
  spice::SimJob other_id = plan.job(6);
  other_id.id = 1006;  // the same circuit as another point: another draw
  const std::vector<spice::SimJob> jobs = {plan.job(6), plan.job(0), plan.job(6), plan.job(7), other_id, plan.job(6)};
  std::map<std::size_t, double> first;
  std::vector<double> six;
  pool.run(jobs.size(), [&](std::size_t k) { return jobs[k]; }, [&](spice::SimResult&& r) {
    REQUIRE(r.ok());
    if (r.id == 6) six.push_back(r.values[0]);
    first.emplace(r.id, r.values[0]);
  });
  REQUIRE(six.size() == 3);
  CHECK(six[0] == six[1]);
  CHECK(six[1] == six[2]);
  CHECK(first.at(1006) != six[0]);

  // And ngspice -b agrees on the rendered point, given the same .spiceinit and
  // the same seed: point 6 is seeded with 7, `.option seed=7` in the netlist.
  // (A `setseed 7` in .spiceinit does not do it: standalone ngspice 39.3 then
  // draws differently from run to run.)
  testing::TempDir dir;
  testing::write_file(dir / ".spiceinit", spice::worker_spiceinit(spec.ngspice_init));
  std::string p6 = plan.render(6);
  REQUIRE(p6.size() > 5);
  REQUIRE(p6.compare(p6.size() - 5, 5, ".end\n") == 0);
  p6.insert(p6.size() - 5, ".option seed=7\n");
  testing::write_file(dir / "p6.cir", p6);
  const auto out = testing::run_command("ngspice -b p6.cir", dir.path());
  INFO(out.output);
  const auto pos = out.output.find("i_d_a_1");
  REQUIRE(pos != std::string::npos);
  const double printed = std::stod(out.output.substr(out.output.find('=', pos) + 1));
  CHECK(-printed == Approx(six[0]).epsilon(1e-6));  // ngspice prints 7 digits
  CHECK(printed == Approx(-3.769196e-05).epsilon(1e-6));  // docs/pdk.md
}

TEST_CASE("a corner axis on a library two .lib lines read is refused; a wrapper library works", "[ngspice][pdk]") {
  testing::TempDir dir;
  const std::string text = with_absolute_paths(read_file(pdk_dir() / "nfet.json"));
  // bench/nfet_mim.cir reads models.lib twice: the corner and the mim section.
  std::string both = text;
  both.replace(both.find("nfet_bench.cir"), 14, "nfet_mim.cir");
  testing::write_file(dir / "both.json", both);
  const std::string lib = (pdk_dir() / "models/models.lib").string();
  try {
    sweep::load_spec(dir / "both.json");
    FAIL("loaded");
  } catch (const InputError& e) {
    CHECK(e.id() == "GC-1219");
    CHECK_THAT(e.what(), Catch::Contains("/axes/0/corner: the template reads " + lib +
                                         " in 2 `.lib FILE SECTION` lines (nfet_mim.cir lines 7, 8)"));
  }
  // The same bench with the corners read through corners.lib runs, point for
  // point the same currents as the bench without the capacitor.
  std::string wrapped = both;
  wrapped.replace(wrapped.find("nfet_mim.cir"), 12, "nfet_mim_wrapped.cir");
  wrapped.replace(wrapped.find(lib), lib.size(), (pdk_dir() / "models/corners.lib").string());
  testing::write_file(dir / "wrapped.json", wrapped);
  const store::Results w = testing::sweep_all_ok(sweep::load_spec(dir / "wrapped.json"), dir / "wrapped.h5");
  const store::Results r = testing::sweep_all_ok(sweep::load_spec(pdk_dir() / "nfet.json"), dir / "direct.h5");
  REQUIRE(w.size() == 8);
  for (std::size_t k = 0; k < w.size(); ++k) {
    INFO("point " << k);
    CHECK(at(w, k) == Approx(at(r, k)).epsilon(1e-9));
  }
  // A shard draws what the whole sweep draws for its points (tt_mm is point 6 and 7).
  sweep::SweepOptions options;
  options.output = dir / "shard.h5";
  options.jobs = 2;
  options.shard_index = 1;
  options.shard_count = 2;
  NullReporter quiet;
  REQUIRE(sweep::run_sweep(sweep::load_spec(pdk_dir() / "nfet.json"), options, quiet).failed() == 0);
  const store::Results shard = store::read_results(dir / "shard.h5");
  REQUIRE(shard.point_index == std::vector<std::size_t>{1, 3, 5, 7});
  for (std::size_t i = 0; i < 4; ++i) CHECK(shard.values.at("i_d_a")[i] == at(r, shard.point_index[i]));
}

TEST_CASE("a PDK outside the template's directory needs an include root", "[unit][pdk]") {
  testing::TempDir dir;
  std::string text = with_absolute_paths(read_file(pdk_dir() / "nfet.json"));
  const std::string roots = "  \"include_roots\": [\"" + (pdk_dir() / "models").string() + "\"],\n";
  REQUIRE(text.find(roots) != std::string::npos);
  text.erase(text.find(roots), roots.size());
  testing::write_file(dir / "noroot.json", text);
  try {
    sweep::load_spec(dir / "noroot.json");
    FAIL("loaded");
  } catch (const InputError& e) {
    CHECK(e.id() == "GC-1111");
    CHECK_THAT(e.what(), Catch::Contains("models.lib is outside the directories a deck may read"));
  }
}
