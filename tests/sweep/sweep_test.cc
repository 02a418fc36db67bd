// SPDX-License-Identifier: MIT
#include "gaincell/sweep/sweep.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "gaincell/core/error.h"
#include "gaincell/store/results_file.h"
#include "test_support.h"

using namespace gaincell;
using spice::SimOutcome;

TEST_CASE("a sweep records every failing point and completes the others", "[ngspice][sweep]") {
  testing::TempDir dir;
  // mode axis [3, 1, 2, 0] x v_in [0.5, 1]: endless, timestep, operating point, fine.
  const auto spec = sweep::load_spec(testing::source_dir() / "tests/data/faulty_rc.json");
  sweep::SweepOptions options;
  options.output = dir / "faulty.h5";
  options.jobs = 2;
  options.timeout_s = 1.0;
  CapturingReporter reporter;
  const auto summary = sweep::run_sweep(spec, options, reporter);
  CHECK(summary.points == 8);
  CHECK(summary.ok() == 2);
  CHECK(summary.outcomes.at(SimOutcome::kTimeout) == 2);
  CHECK(summary.outcomes.at(SimOutcome::kTimestepTooSmall) == 2);
  CHECK(summary.outcomes.at(SimOutcome::kNoConvergence) == 2);
  CHECK(reporter.progress_calls() == 8);

  const auto r = store::read_results(options.output);
  const std::vector<SimOutcome> expected = {SimOutcome::kTimeout,          SimOutcome::kTimeout,
                                            SimOutcome::kTimestepTooSmall, SimOutcome::kTimestepTooSmall,
                                            SimOutcome::kNoConvergence,    SimOutcome::kNoConvergence,
                                            SimOutcome::kOk,               SimOutcome::kOk};
  CHECK(r.status == expected);
  for (std::size_t k = 0; k < 6; ++k) {
    INFO("point " << k);
    CHECK(std::isnan(r.values.at("v_out_v")[k]));
    CHECK_FALSE(r.messages[k].empty());
  }
  CHECK(r.messages[2].find("Timestep too small") != std::string::npos);
  CHECK(r.messages[4].find("Transient op failed") != std::string::npos);
  CHECK(r.messages[0].find("exceeded its timeout of 1 s") != std::string::npos);
  // The good points: v(out) = v_in (1 - exp(-9)) of the 1 ns RC at 10 ns.
  CHECK(r.values.at("v_out_v")[6] == Approx(0.5 * (1 - std::exp(-9.0))).epsilon(2e-3));
  CHECK(r.values.at("v_out_v")[7] == Approx(1.0 * (1 - std::exp(-9.0))).epsilon(2e-3));
  CHECK(r.values.at("q_in_c")[7] == Approx(2.0 * r.values.at("q_in_c")[6]).epsilon(1e-6));
  CHECK(r.messages[6].empty());
  CHECK(r.attributes.at("complete") == "yes");
  CHECK(r.attributes.at("points_failed") == "6");
  CHECK(r.attributes.at("spec_name") == "faulty_rc");
  CHECK(r.attributes.at("spec_sha256").size() == 64);
  CHECK(r.attributes.at("template_sha256").size() == 64);
  CHECK(r.attributes.at("ngspice_version").rfind("ngspice-", 0) == 0);
  CHECK(r.attributes.at("gaincell_version") == "0.1.0");
}

TEST_CASE("the default cell's multiply surface is physically sane", "[ngspice][sweep][cell]") {
  testing::TempDir dir;
  const auto spec = sweep::load_spec(testing::source_dir() / "characterization/pushpull_multiply.json");
  REQUIRE(spec.axes.size() == 2);
  CHECK(spec.axes[0].values.size() >= 8);   // stored voltage levels
  CHECK(spec.axes[1].values.size() >= 16);  // pulse width levels
  sweep::SweepOptions options;
  options.output = dir / "mult.h5";
  NullReporter quiet;
  const auto summary = sweep::run_sweep(spec, options, quiet);
  REQUIRE(summary.failed() == 0);
  const auto r = store::read_results(options.output);
  const auto& q = r.values.at("q_line_c");
  const std::size_t nv = r.axes[0].values.size(), nt = r.axes[1].values.size();
  auto at = [&](std::size_t i, std::size_t j) { return q[i * nt + j]; };
  const double full_scale = std::max(std::abs(at(0, nt - 1)), std::abs(at(nv - 1, nt - 1)));
  CHECK(full_scale > 50e-15);  // tens of fC at 15 ns
  for (std::size_t j = 1; j < nt; ++j) {
    // Sign: negative below 0.45 V stored, positive above.
    CHECK(at(0, j) < 0);
    CHECK(at(nv - 1, j) > 0);
    // Monotonic in the stored voltage.
    for (std::size_t i = 1; i < nv; ++i) CHECK(at(i, j) > at(i - 1, j));
  }
  // Linear in pulse width: a line through the origin per level fits within 0.5 % of full scale.
  double worst = 0;
  for (std::size_t i = 0; i < nv; ++i) {
    double sxy = 0, sxx = 0;
    for (std::size_t j = 0; j < nt; ++j) {
      sxy += r.axes[1].values[j] * at(i, j);
      sxx += r.axes[1].values[j] * r.axes[1].values[j];
    }
    const double slope = sxy / sxx;
    for (std::size_t j = 0; j < nt; ++j) {
      CHECK(std::abs(at(i, j) - slope * r.axes[1].values[j]) < 0.005 * full_scale);
      worst = std::max(worst, std::abs(at(i, j) - slope * r.axes[1].values[j]));
    }
  }
  WARN("push-pull: largest deviation from charge proportional to pulse width: " << 100 * worst / full_scale
                                                                                << " % of full scale");
  // The line is held near VDD/2.
  for (double v : r.values.at("v_line_end_v")) CHECK(std::abs(v - 0.45) < 0.03);
}

TEST_CASE("sweep options are validated", "[unit][sweep]") {
  const auto spec = sweep::load_spec(testing::source_dir() / "tests/data/faulty_rc.json");
  sweep::SweepOptions options;
  NullReporter quiet;
  CHECK_THROWS_WITH(sweep::run_sweep(spec, options, quiet),
                    "error GC-1302: Invalid configuration. output = \"\". Violated constraint: an output file is required");
  testing::TempDir dir;
  options.output = dir / "x.h5";
  for (const double bad : {-1.0, 1e10, std::nan("")}) {
    options.timeout_s = bad;
    CHECK_THROWS_WITH(sweep::run_sweep(spec, options, quiet),
                      Catch::StartsWith("error GC-1303: timeout ") && Catch::Contains("kMaxTimeout_s"));
  }
  options.timeout_s = 0;
  options.jobs = 257;
  CHECK_THROWS_WITH(sweep::run_sweep(spec, options, quiet), Catch::Contains("GC-1301"));
  CHECK_FALSE(std::filesystem::exists(dir / "x.h5.partial"));
}
