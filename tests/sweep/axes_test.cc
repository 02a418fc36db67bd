// SPDX-License-Identifier: MIT
// Process corners, temperature and seeded Monte Carlo as sweep axes.
#include <catch2/catch.hpp>
#include <cmath>

#include "gaincell/core/error.h"
#include "gaincell/core/si_value.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/plan.h"
#include "gaincell/sweep/spec.h"
#include "gaincell/sweep/sweep.h"
#include "test_support.h"

using namespace gaincell;

namespace {

std::string spec_text(const std::string& axes, const std::string& extra = "") {
  return "{\n"
         "  \"format\": \"gaincell-spec/1\", \"name\": \"corner_rc\",\n"
         "  \"template\": \"" + (testing::source_dir() / "tests/data/corner_rc.cir").string() + "\",\n"
         "  \"axes\": " + axes + ",\n" + extra +
         "  \"analysis\": {\"tran\": {\"step\": \"0.01n\", \"stop\": \"5n\"}},\n"
         "  \"measures\": [{\"name\": \"v_out_v\", \"kind\": \"value_at\", \"of\": \"v(out)\", \"at\": \"2n\", "
         "\"unit\": \"V\"}]\n}\n";
}

const std::string kLib = (testing::source_dir() / "tests/data/rc_corners.lib").string();

store::Results run(const testing::TempDir& dir, const std::string& text, const std::string& name) {
  testing::write_file(dir / (name + ".json"), text);
  return testing::sweep_all_ok(sweep::load_spec(dir / (name + ".json")), dir / (name + ".h5"));
}

}  // namespace

TEST_CASE("corners, temperature and Monte Carlo axes render and run", "[ngspice][sweep][axes]") {
  testing::TempDir dir;
  const std::string axes = "[{\"corner\": \"" + kLib + "\", \"values\": [\"tt\", \"ff\", \"ss\"]},\n"
                           "   {\"option\": \"temp\", \"values\": [27, 127]},\n"
                           "   {\"monte_carlo\": {\"samples\": 4, \"seed\": 7, \"vary\": {\"r_scale\": {\"sigma\": 0.1}}}}]";
  testing::write_file(dir / "s.json", spec_text(axes));
  const auto spec = sweep::load_spec(dir / "s.json");
  const sweep::SweepPlan plan(spec);
  REQUIRE(plan.size() == 3 * 2 * 4);
  const std::string net = plan.render(8 + 4 + 1);  // ff, temp 127, sample 1
  CHECK(net.find(".lib \"" + kLib + "\" ff\n") != std::string::npos);
  CHECK(net.find(".options temp=127\n") != std::string::npos);
  CHECK(plan.describe(13) == "corner=ff temp=127 degC mc_sample=1");
  const double r_scale = plan.parameters(13).at("r_scale");
  CHECK(r_scale == 1.0 + 0.1 * sweep::monte_carlo_normal(7, 1, "r_scale"));
  CHECK(net.find(".param r_scale=" + gaincell::format_exact(r_scale)) != std::string::npos);

  const auto r = run(dir, spec_text(axes), "a");
  CHECK(r.axes[0].labels == std::vector<std::string>{"tt", "ff", "ss"});
  CHECK(r.axes[1].unit == "degC");
  REQUIRE(r.monte_carlo.size() == 1);
  CHECK(r.monte_carlo[0].param == "r_scale");
  CHECK(r.monte_carlo[0].values[1] == r_scale);
  const auto& v = r.values.at("v_out_v");
  auto at = [&](std::size_t corner, std::size_t temp, std::size_t sample) { return v[(corner * 2 + temp) * 4 + sample]; };
  for (std::size_t s = 0; s < 4; ++s) {
    // A smaller resistor charges faster: ff > tt > ss; heat raises R (tc1 > 0).
    CHECK(at(1, 0, s) > at(0, 0, s));
    CHECK(at(0, 0, s) > at(2, 0, s));
    CHECK(at(0, 1, s) < at(0, 0, s));
  }
  // Samples differ from each other.
  CHECK(at(0, 0, 0) != at(0, 0, 1));
}

TEST_CASE("Monte Carlo with the same seed is bit-identical; another seed differs", "[ngspice][sweep][axes]") {
  testing::TempDir dir;
  auto axes = [](int seed) {
    return "[{\"monte_carlo\": {\"samples\": 6, \"seed\": " + std::to_string(seed) +
           ", \"vary\": {\"r_scale\": {\"sigma\": 0.05}, \"c_load\": {\"sigma\": \"50f\"}}}}]";
  };
  const auto a = run(dir, spec_text(axes(11)), "a");
  const auto b = run(dir, spec_text(axes(11)), "b");
  const auto c = run(dir, spec_text(axes(12)), "c");
  CHECK(a.values.at("v_out_v") == b.values.at("v_out_v"));  // exactly
  for (std::size_t s = 0; s < 6; ++s) CHECK(a.values.at("v_out_v")[s] != c.values.at("v_out_v")[s]);
  // The draws look like N(0, sigma): not all on one side of the nominal.
  std::size_t above = 0;
  for (double x : a.monte_carlo[1].values) above += x > 1.0;  // r_scale (sorted after c_load)
  CHECK(above > 0);
  CHECK(above < 6);
}

TEST_CASE("the Monte Carlo generator is a deterministic standard normal", "[unit][axes]") {
  double sum = 0, sum2 = 0;
  const int n = 20000;
  for (int s = 0; s < n; ++s) {
    const double z = sweep::monte_carlo_normal(3, static_cast<std::size_t>(s), "dvth_mw");
    sum += z;
    sum2 += z * z;
  }
  CHECK(std::abs(sum / n) < 0.03);
  CHECK(std::abs(sum2 / n - 1.0) < 0.03);
  CHECK(sweep::monte_carlo_normal(3, 5, "dvth_mw") == sweep::monte_carlo_normal(3, 5, "dvth_mw"));
  CHECK(sweep::monte_carlo_normal(3, 5, "dvth_mw") != sweep::monte_carlo_normal(3, 5, "dvth_mr"));
  CHECK(sweep::monte_carlo_normal(3, 5, "dvth_mw") != sweep::monte_carlo_normal(4, 5, "dvth_mw"));
}

TEST_CASE("corner and leakage mistakes are refused before anything runs", "[unit][axes]") {
  testing::TempDir dir;
  auto error_of = [&](const std::string& text) -> std::string {
    testing::write_file(dir / "s.json", text);
    try {
      sweep::load_spec(dir / "s.json");
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  CHECK(error_of(spec_text("[{\"corner\": \"" + kLib + "\", \"values\": [\"tt\", \"fs\"]}]"))
            .find("error GC-1210: /axes/0/values/1: section 'fs' is not in " + kLib + "; it defines: tt, ff, ss") !=
        std::string::npos);
  CHECK(error_of(spec_text("[{\"corner\": \"other.lib\", \"values\": [\"tt\"]}]"))
            .find("error GC-1210: /axes/0/corner: the template has no `.lib") != std::string::npos);
  // A leakage-sensitive measure with ngspice's default gmin is refused.
  std::string leaky = spec_text("[{\"param\": \"c_load\", \"values\": [1e-15]}]");
  leaky.replace(leaky.find("\"unit\": \"V\"}"), 12, "\"unit\": \"V\", \"leakage\": true}");
  CHECK(error_of(leaky).find("error GC-1211: /options: measure 'v_out_v' is leakage-sensitive but gmin = 1e-12 "
                             "(ngspice's default); retention needs gmin <= 1e-18 and abstol <= 1e-18") !=
        std::string::npos);
  std::string half = leaky;
  half.replace(half.find("  \"analysis\""), 0, "  \"options\": {\"gmin\": 1e-18, \"abstol\": 1e-15},\n");
  CHECK(error_of(half).find("error GC-1211: /options/abstol: measure 'v_out_v' is leakage-sensitive but abstol = "
                            "1e-15;") != std::string::npos);
  std::string fine = leaky;
  fine.replace(fine.find("  \"analysis\""), 0, "  \"options\": {\"gmin\": 1e-20, \"abstol\": 1e-18},\n");
  CHECK(error_of(fine).empty());
}
