// SPDX-License-Identifier: MIT
// The adaptation loop (docs/calibration.md): the update step by step against
// a hand computation, convergence, the 100-iteration stop, the files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/eval/calibrate.h"
#include "gaincell/eval/config.h"
#include "gaincell/eval/io.h"
#include "test_support.h"

using namespace gaincell;
using namespace gaincell::eval;
using namespace gaincell::testing;

namespace {

ScalerStats uniform_targets(std::size_t heads, double sd, double mean) {
  ScalerStats t;
  for (std::size_t s = 0; s < 4; ++s) {
    t.std[s].assign(heads, sd);
    t.mean[s].assign(heads, mean);
  }
  return t;
}

// A synthetic model: for every scaler, head h has std = sx[h] a + 0.1 b and
// mean = mx[h] a + b (the 0.1 b couples the two, so a moves after step 1).
constexpr double kSx[2] = {0.5, 0.25};
constexpr double kMx[2] = {0.2, 0.4};
ScalerStats synthetic(const std::array<Scaler, 4>& s) {
  ScalerStats m;
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t h = 0; h < 2; ++h) {
      m.std[i].push_back(kSx[h] * s[i].a_of(h) + 0.1 * s[i].b_of(h));
      m.mean[i].push_back(kMx[h] * s[i].a_of(h) + s[i].b_of(h));
    }
  }
  return m;
}

Tensor random_tensor(std::size_t B, std::size_t H, std::size_t T, std::size_t D, double scale, double shift,
                     unsigned seed) {
  Tensor t{{B, H, T, D}, std::vector<float>(B * H * T * D)};
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (float& x : t.data) x = static_cast<float>(shift + scale * n(rng));
  return t;
}

}  // namespace

TEST_CASE("calibrate: alpha goes 1.0 -> 0.1 over 50 iterations, then stays", "[unit][eval][calibrate]") {
  const CalibrationOptions o;
  CHECK(damping_alpha(o, 0) == 1.0);
  CHECK(damping_alpha(o, 1) == Approx(1.0 - 0.9 / 49).epsilon(1e-14));
  CHECK(damping_alpha(o, 25) == Approx(1.0 - 0.9 * 25 / 49).epsilon(1e-14));
  CHECK(damping_alpha(o, 49) == Approx(0.1).epsilon(1e-14));
  CHECK(damping_alpha(o, 50) == 0.1);
  CHECK(damping_alpha(o, 99) == 0.1);
}

TEST_CASE("calibrate: iterations 1..3 reproduce the hand computation", "[unit][eval][calibrate]") {
  // Targets std 2, mean 1. alpha_0 = 1, alpha_1 = 1 - 0.9/49, alpha_2 = 1 - 1.8/49.
  // Head 0 (sx 0.5, mx 0.2), from a = 1, b = 0:
  //  1: std 0.5, mean 0.2          -> a = 2/0.5 = 4, b = 0 + 1 - 0.2 = 0.8
  //  2: std 2.08, mean 1.6         -> a = α1·(4·2/2.08) + (1-α1)·4 = 3.848980, b = 0.8 - 0.6·α1 = 0.211020
  //  3: std 1.945534, mean 0.980816 -> a = 3.952662, b = 0.229499
  // Head 1 (sx 0.25, mx 0.4): 1: a = 8, b = 0.6; 2: a = 7.771270, b = -2.148571; 3: a = 8.949788, b = -2.109980.
  const double want_a[3][2] = {{4.0, 8.0}, {3.848979591836734, 7.771270061422627}, {3.9526617089593694, 8.949788313802104}};
  const double want_b[3][2] = {{0.8, 0.6}, {0.21102040816326528, -2.148571428571429}, {0.22949937526030842, -2.1099797414507715}};
  const ScalerStats targets = uniform_targets(2, 2.0, 1.0);
  for (int n = 1; n <= 3; ++n) {
    CalibrationOptions o;
    o.max_iterations = n;
    const CalibrationResult r = calibrate_loop(synthetic, {}, targets, o);
    CHECK_FALSE(r.converged);
    CHECK(r.iterations == n);
    for (std::size_t s = 0; s < 4; ++s) {
      for (std::size_t h = 0; h < 2; ++h) {
        INFO("iteration " << n << " scaler " << kScalerNames[s] << " head " << h);
        CHECK(r.scalers[s].a[h] == Approx(want_a[n - 1][h]).epsilon(1e-12));
        CHECK(r.scalers[s].b[h] == Approx(want_b[n - 1][h]).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("calibrate: an error within 1e-4 leaves its parameter alone", "[unit][eval][calibrate]") {
  std::array<Scaler, 4> s;
  for (auto& x : s) x = Scaler{{2.0}, {0.5}};
  ScalerStats m = uniform_targets(1, 1.0, 0.0);
  const ScalerStats t = uniform_targets(1, 1.0 + 0.9e-4, 0.9e-4);
  m.std[3][0] = 0.0;  // std 0: a is never divided by it
  m.mean[3][0] = 1.0;
  update_scalers(s, m, t, 0.5, 1e-4);
  CHECK(s[0].a[0] == 2.0);
  CHECK(s[0].b[0] == 0.5);
  CHECK(s[3].a[0] == 2.0);
  CHECK(s[3].b[0] == Approx(0.5 + 0.5 * (0.9e-4 - 1.0)).epsilon(1e-14));
}

TEST_CASE("calibrate: the synthetic model converges below 1e-4", "[unit][eval][calibrate]") {
  std::vector<int> seen;
  const CalibrationResult r = calibrate_loop(synthetic, {}, uniform_targets(2, 2.0, 1.0), {},
                                             [&](int it, double, const WorstError&) { seen.push_back(it); });
  CHECK(r.converged);
  CHECK(r.iterations < 100);
  CHECK(r.worst.error <= 1e-4);
  CHECK(seen.size() == static_cast<std::size_t>(r.iterations) + 1);
  CHECK(r.summary().rfind("converged after " + std::to_string(r.iterations) + " iterations", 0) == 0);
}

TEST_CASE("calibrate: a case that cannot converge stops after 100 iterations", "[unit][eval][calibrate]") {
  // scaler_out head 1 is saturated: its std stays 0.5 whatever a is; the target is 2.
  int calls = 0;
  const Measure stuck = [&](const std::array<Scaler, 4>& s) {
    ++calls;
    ScalerStats m = synthetic(s);
    m.std[3][1] = 0.5;
    m.mean[3][1] = 1.0;  // met: only the std is stuck
    return m;
  };
  const CalibrationResult r = calibrate_loop(stuck, {}, uniform_targets(2, 2.0, 1.0));
  CHECK_FALSE(r.converged);
  CHECK(r.iterations == 100);
  CHECK(calls == 101);  // 100 updates, then the measurement that is reported
  CHECK(r.worst.scaler == Which::kOut);
  CHECK(r.worst.head == 1);
  CHECK(r.worst.is_std);
  CHECK(r.worst.error == Approx(1.5));
  CHECK(r.summary() ==
        "not converged after 100 iterations; largest error scaler_out head 1 std: measured 0.5, target 2, |error| 1.5");
}

TEST_CASE("calibrate: the evaluator's scalers, reference cubic adapted to the linear model", "[unit][eval][calibrate]") {
  const Tensor q = random_tensor(1, 2, 64, 16, 0.3, 0.5, 1);
  const Tensor k = random_tensor(1, 2, 64, 16, 0.3, 0.0, 2);
  const Tensor v = random_tensor(1, 2, 64, 16, 0.3, 0.0, 3);
  EvalConfig ref = preset("linear");
  ref.threads = 1;
  const ScalerStats targets = record_stats(ref, q, k, v);
  // The q, k, v statistics are those of a x + b on the inputs (k: b = 0.45).
  double sum = 0;
  for (std::size_t i = 0; i < 64 * 16; ++i) sum += k.data[i] + 0.45f;
  CHECK(targets.mean[1][0] == Approx(sum / (64 * 16)).epsilon(1e-6));
  REQUIRE(targets.std[3][0] > 0);
  REQUIRE(targets.std[3][1] > 0);

  EvalConfig cubic = preset("reference");
  cubic.threads = 1;
  const ScalerStats before = record_stats(cubic, q, k, v);
  CHECK(worst_error(before, targets).error > 1e-3);  // there is something to adapt
  const CalibrationResult r = calibrate(cubic, q, k, v, targets);
  INFO(r.summary());
  CHECK(r.converged);
  CHECK(r.worst.error <= 1e-4);
  // k and v start at b = 0 (the authors) and end near the linear model's 0.45.
  CHECK(r.scalers[1].b[0] == Approx(0.45).margin(1e-3));
  // The scalers file applied to the configuration gives the calibrated statistics.
  TempDir dir;
  write_scalers_file(dir / "scalers.json", r);
  EvalConfig adapted = preset("reference");
  adapted.threads = 1;
  apply_config_file(adapted, dir / "scalers.json");
  CHECK(adapted.scaler_out.a == r.scalers[3].a);
  CHECK(adapted.scaler_k.b == r.scalers[1].b);
  CHECK(worst_error(record_stats(adapted, q, k, v), targets).error <= 1e-4);
}

TEST_CASE("calibrate: files and errors", "[unit][eval][calibrate]") {
  TempDir dir;
  const ScalerStats t = uniform_targets(3, 0.25, -0.5);
  write_file(dir / "t.json", targets_json(t).dump(2));
  const ScalerStats back = read_targets_file(dir / "t.json");
  CHECK(back.std == t.std);
  CHECK(back.mean == t.mean);

  nlohmann::json j = targets_json(t);
  j["version"] = 2;
  write_file(dir / "v2.json", j.dump(2));
  CHECK_THROWS_WITH(read_targets_file(dir / "v2.json"), Catch::Contains("GC-1733") && Catch::Contains("v2.json:") &&
                                                            Catch::Contains("/version") &&
                                                            Catch::Contains("expected \"version\": 1"));
  j = targets_json(t);
  j["targets"]["scaler_v"]["std"] = {1.0, 2.0};
  write_file(dir / "short.json", j.dump(2));
  CHECK_THROWS_WITH(read_targets_file(dir / "short.json"),
                    Catch::Contains("GC-1733") && Catch::Contains("/targets/scaler_v/std") &&
                        Catch::Contains("expected 3 values"));
  j = targets_json(t);
  j["targets"]["scaler_q"]["std"][1] = -1.0;
  write_file(dir / "neg.json", j.dump(2));
  CHECK_THROWS_WITH(read_targets_file(dir / "neg.json"), Catch::Contains("/targets/scaler_q/std/1"));
  write_file(dir / "x.json", "{");
  CHECK_THROWS_WITH(read_targets_file(dir / "x.json"), Catch::Contains("GC-1732"));

  // A scalers file of another version is refused by the configuration reader.
  CalibrationResult r;
  r.targets = r.final_stats = t;
  nlohmann::json s = scalers_json(r);
  CHECK(s["format"] == "gaincell-scalers");
  s["version"] = 7;
  write_file(dir / "s7.json", s.dump(2));
  EvalConfig c = preset("reference");
  CHECK_THROWS_WITH(apply_config_file(c, dir / "s7.json"), Catch::Contains("GC-1734") && Catch::Contains("version 7"));

  // Heads that disagree; inputs without a head axis.
  CHECK_THROWS_WITH(calibrate_loop(synthetic, {}, uniform_targets(3, 1.0, 0.0)), Catch::Contains("GC-1730"));
  const Tensor x3{{1, 4, 2}, std::vector<float>(8, 0.1f)};
  CHECK_THROWS_WITH(record_stats(preset("reference"), x3, x3, x3), Catch::Contains("GC-1731"));
}

TEST_CASE("calibrate: the command writes a scalers file that gaincell eval accepts", "[integration][eval][calibrate]") {
  TempDir dir;
  const Tensor q = random_tensor(1, 2, 64, 16, 0.3, 0.5, 1);
  const Tensor k = random_tensor(1, 2, 64, 16, 0.3, 0.0, 2);
  const Tensor v = random_tensor(1, 2, 64, 16, 0.3, 0.0, 3);
  write_tensors(dir / "in.h5", {{"Q", &q}, {"K", &k}, {"V", &v}});
  const std::string gc = (bin_dir() / "gaincell").string();
  const std::string in = (dir / "in.h5").string(), out = (dir / "scalers.json").string();
  auto r = run_command(gc + " calibrate -i " + in + " --preset reference --reference linear --save-targets " +
                       (dir / "t.json").string() + " -o " + out);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("calibrate: targets recorded from preset linear (2 heads)") &&
                           Catch::Contains("calibrate: iteration   0  alpha 1.000") &&
                           Catch::Contains("calibrate: converged after"));
  r = run_command(gc + " -q eval --config " + out + " -i " + in + " -o " + (dir / "o.h5").string());
  INFO(r.output);
  CHECK(r.exit_code == 0);
  // The same targets from the file converge; with Q constant in head 1 its
  // std is 0 whatever a is: the target cannot be met, exit 4 and the message.
  r = run_command(gc + " -q calibrate -i " + in + " --targets " + (dir / "t.json").string() + " -o " + out);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  Tensor flat = q;
  std::fill(flat.data.begin() + 64 * 16, flat.data.end(), 0.5f);
  write_tensors(dir / "flat.h5", {{"Q", &flat}, {"K", &k}, {"V", &v}});
  r = run_command(gc + " -q calibrate -i " + (dir / "flat.h5").string() + " --targets " + (dir / "t.json").string() +
                  " -o " + out);
  INFO(r.output);
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.output, Catch::Contains("not converged after 100 iterations; largest error scaler_q head 1 std") &&
                           Catch::Contains("warning: calibration did not converge"));
  r = run_command(gc + " calibrate -i " + in);
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.output, Catch::Contains("GC-1735"));
}
