// SPDX-License-Identifier: MIT
// Physical sanity of every shipped cell and converter, from their shipped
// characterization specs, with real simulations.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <regex>

#include "gaincell/core/hash.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/spec.h"
#include "gaincell/sweep/sweep.h"
#include "test_support.h"

using namespace gaincell;

namespace {

// Each call writes a results file of its own (a rerun never overwrites one).
store::Results sweep_spec(const testing::TempDir& dir, const std::string& name, const std::string& text = "") {
  static int run = 0;
  const auto path = testing::source_dir() / "characterization" / (name + ".json");
  return testing::sweep_all_ok(text.empty() ? sweep::load_spec(path) : sweep::parse_spec(text, path),
                               dir / (name + "_" + std::to_string(++run) + ".h5"));
}

std::size_t axis_index(const store::Results& r, const std::string& name) {
  for (std::size_t i = 0; i < r.axes.size(); ++i) {
    if (r.axes[i].name == name) return i;
  }
  FAIL("no axis " << name);
  return 0;
}

// Largest deviation from a line through the origin, per stored level (the
// last axis is the pulse width), as a fraction of the full scale.
double pulse_width_nonlinearity(const store::Results& r, const std::string& measure) {
  const auto& q = r.values.at(measure);
  const auto& t = r.axes.back().values;
  const std::size_t nt = t.size();
  double full_scale = 0, worst = 0;
  for (double v : q) full_scale = std::max(full_scale, std::abs(v));
  for (std::size_t start = 0; start < q.size(); start += nt) {
    double sxy = 0, sxx = 0;
    for (std::size_t j = 0; j < nt; ++j) {
      sxy += t[j] * q[start + j];
      sxx += t[j] * t[j];
    }
    for (std::size_t j = 0; j < nt; ++j) worst = std::max(worst, std::abs(q[start + j] - sxy / sxx * t[j]));
  }
  return worst / full_scale;
}

// Apparent time constant of a decay toward 0 V between two samples.
double tau_between(double t1, double v1, double t2, double v2) { return (t2 - t1) / std::log(v1 / v2); }

}  // namespace

TEST_CASE("unsigned cells: charge linear in pulse width, monotonic in stored voltage", "[ngspice][cell]") {
  testing::TempDir dir;
  for (const char* name : {"gc3t_multiply", "osfet2t_multiply"}) {
    INFO(name);
    const auto r = sweep_spec(dir, name);
    const double nonlinearity = pulse_width_nonlinearity(r, "q_line_c");
    WARN(name << ": largest deviation from charge proportional to pulse width: " << 100 * nonlinearity
              << " % of full scale");
    CHECK(nonlinearity < 0.01);
    const auto& q = r.values.at("q_line_c");
    const std::size_t iv = axis_index(r, "v_store"), nv = r.axes[iv].values.size();
    const std::size_t nt = r.axes.back().values.size();
    const std::size_t outer = q.size() / (nv * nt);  // e.g. the 3T cell's v_line axis
    for (std::size_t o = 0; o < outer; ++o) {
      for (std::size_t j = 1; j < nt; ++j) {
        for (std::size_t i = 1; i < nv; ++i) {
          const double lo = q[(o * nv + i - 1) * nt + j], hi = q[(o * nv + i) * nt + j];
          CHECK(hi >= lo - 1e-17);  // never falls (below threshold both are ~0)
        }
        CHECK(q[(o * nv + nv - 1) * nt + j] > 10 * std::abs(q[(o * nv + 0) * nt + j]) + 1e-15);
      }
    }
  }
}

TEST_CASE("retention: silicon cells in milliseconds, the OSFET cell at least 100x longer", "[ngspice][cell]") {
  testing::TempDir dir;
  auto tau_at_09 = [&](const char* name, std::size_t extra_stride) {
    const auto r = sweep_spec(dir, name);
    const auto& v_store = r.axes[axis_index(r, "v_store")].values;
    const std::size_t k = static_cast<std::size_t>(std::find(v_store.begin(), v_store.end(), 0.9) - v_store.begin());
    REQUIRE(k < v_store.size());
    const auto& times = r.measures[0].trace_times_s;
    const auto& trace = r.values.at("v_sn_trace_v");
    const std::size_t base = (extra_stride * v_store.size() + k) * times.size();
    // From the first sample after the write to the last sample.
    return tau_between(times.front(), trace[base], times.back(), trace[base + times.size() - 1]);
  };
  const double tau_pp = tau_at_09("pushpull_retention", 0);
  const double tau_3t = tau_at_09("gc3t_retention", 0);  // corner tt
  const double tau_os = tau_at_09("osfet2t_retention", 0);  // hold level -0.5 V
  WARN("apparent retention time constants at 0.9 V stored: push-pull " << tau_pp << " s, 3T " << tau_3t
                                                                        << " s, OSFET " << tau_os << " s");
  CHECK(tau_pp > 1e-3);
  CHECK(tau_pp < 1.0);
  CHECK(tau_3t > 1e-3);
  CHECK(tau_3t < 1.0);
  CHECK(tau_os > 100 * std::max(tau_pp, tau_3t));
}

TEST_CASE("C2P: zero below, HardSigmoid in between, saturating at Tmax", "[ngspice][cell]") {
  testing::TempDir dir;
  const auto r = sweep_spec(dir, "c2p_transfer");
  const auto& q = r.axes[0].values;
  const auto& pw = r.values.at("pw_s");
  const double t_max = 15e-9, q_sat = 1e-12;
  double worst = 0;
  for (std::size_t i = 0; i < q.size(); ++i) {
    INFO("q_in = " << q[i] << " C, width " << pw[i] << " s");
    if (q[i] <= 0) CHECK(pw[i] == 0.0);
    if (i > 0) CHECK(pw[i] >= pw[i - 1]);
    if (q[i] >= 1.01 * q_sat) CHECK(pw[i] == Approx(t_max).epsilon(1e-3));
    if (q[i] > 0) worst = std::max(worst, std::abs(pw[i] - t_max * std::clamp(q[i] / q_sat, 0.0, 1.0)));
  }
  WARN("C2P: largest width error against 15 ns * clamp(q / 1 pC): " << worst * 1e12 << " ps");
  CHECK(worst < 20e-12);
}

TEST_CASE("signed C2P: the width is symmetric in the sign of the charge", "[ngspice][cell]") {
  testing::TempDir dir;
  const auto r = sweep_spec(dir, "c2p_signed_transfer");
  const auto& q = r.axes[0].values;
  const auto& pw = r.values.at("pw_s");
  for (std::size_t i = 0; i < q.size(); ++i) {
    for (std::size_t k = 0; k < q.size(); ++k) {
      if (q[i] > 5e-15 && std::abs(q[i] + q[k]) < 1e-20) CHECK(pw[i] == Approx(pw[k]).margin(40e-12));
    }
  }
  CHECK(*std::max_element(pw.begin(), pw.end()) == Approx(15e-9).epsilon(2e-3));
}

TEST_CASE("Monte Carlo of the default cell: same seed bit-identical, another seed differs", "[ngspice][cell]") {
  testing::TempDir dir;
  const auto a = sweep_spec(dir, "pushpull_mc");
  const auto b = sweep_spec(dir, "pushpull_mc");
  std::string text = read_text_file(testing::source_dir() / "characterization/pushpull_mc.json");
  text = std::regex_replace(text, std::regex("\"seed\"\\s*:\\s*\\d+"), "\"seed\": 987");
  const auto c = sweep_spec(dir, "pushpull_mc", text);
  CHECK(a.values.at("q_line_c") == b.values.at("q_line_c"));
  std::size_t differ = 0;
  for (std::size_t k = 0; k < a.values.at("q_line_c").size(); ++k) {
    differ += a.values.at("q_line_c")[k] != c.values.at("q_line_c")[k];
  }
  CHECK(differ == a.values.at("q_line_c").size());
}
