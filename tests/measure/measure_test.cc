// SPDX-License-Identifier: MIT
#include "gaincell/measure/measure.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace gaincell::measure;

namespace {
ResolvedMeasure make(const char* name, MeasureKind kind, const char* unit) {
  ResolvedMeasure m;
  m.name = name;
  m.kind = kind;
  m.unit = unit;
  return m;
}
}  // namespace

TEST_CASE("integrals are exact for piecewise-linear waveforms", "[unit][measure]") {
  const std::vector<double> t = {0, 1, 2, 4};
  const std::vector<double> y = {0, 2, 2, 0};  // area 1 + 2 + 2 = 5
  CHECK(integrate(t, y, 0, 4) == Approx(5.0).epsilon(1e-15));
  CHECK(integrate(t, y, -10, 10) == Approx(5.0).epsilon(1e-15));  // clipped to the span
  CHECK(integrate(t, y, 0.5, 1.5) == Approx(0.5 * (1.0 + 2.0) / 2 + 0.5 * 2.0).epsilon(1e-15));
  CHECK(integrate(t, y, 3, 3) == 0.0);
  CHECK(interpolate(t, y, 3) == 1.0);
  CHECK(interpolate(t, y, 0.25) == 0.5);
}

TEST_CASE("the product integral is exact for two linear factors", "[unit][measure]") {
  const std::vector<double> t = {0, 2};
  const std::vector<double> a = {0, 2};   // a = t
  const std::vector<double> b = {1, 5};   // b = 1 + 2t
  // integral_0^2 t(1 + 2t) dt = 2 + 16/3
  CHECK(integrate_product(t, a, b, 0, 2) == Approx(2.0 + 16.0 / 3.0).epsilon(1e-15));
  CHECK(integrate_product(t, a, b, 0, 1) == Approx(0.5 + 2.0 / 3.0).epsilon(1e-15));
}

TEST_CASE("measures evaluate on waveforms and report what is missing", "[unit][measure]") {
  Waveforms w;
  w.time = {0, 1e-9, 2e-9};
  w.vectors["v(vdd)"] = {0.9, 0.9, 0.9};
  w.vectors["i(vdd)"] = {-1e-6, -2e-6, -1e-6};
  w.vectors["v(out)"] = {0.0, 0.5, 0.25};

  ResolvedMeasure e = make("e_vdd_j", MeasureKind::kEnergy, "J");
  e.voltage = "v(vdd)";
  e.current = "i(vdd)";
  CHECK(evaluate(e, w) == Approx(0.9 * 3e-15).epsilon(1e-12));

  ResolvedMeasure v = make("v_end_v", MeasureKind::kValueAt, "V");
  v.of = "v(out)";
  CHECK(evaluate(v, w) == 0.25);  // "at" defaults to the end
  v.t_at_s = 1.5e-9;
  CHECK(evaluate(v, w) == Approx(0.375));
  v.t_at_s = 3e-9;
  CHECK_THROWS_AS(evaluate(v, w), MeasureError);

  ResolvedMeasure mx = make("v_max_v", MeasureKind::kMax, "V");
  mx.of = "v(out)";
  CHECK(evaluate(mx, w) == 0.5);
  mx.kind = MeasureKind::kMin;
  mx.t_from_s = 0.5e-9;
  CHECK(evaluate(mx, w) == 0.25);
  mx.kind = MeasureKind::kAverage;
  mx.t_from_s = 0;
  CHECK(evaluate(mx, w) == Approx((0.25 + 0.375) * 1e-9 / 2e-9));

  ResolvedMeasure missing = make("x", MeasureKind::kIntegral, "C");
  missing.of = "i(vsense)";
  CHECK_THROWS_WITH(evaluate(missing, w), "vector 'i(vsense)' was not simulated");
  CHECK(required_vectors({e, v, missing}) == std::vector<std::string>{"v(vdd)", "i(vdd)", "v(out)", "i(vsense)"});
}

TEST_CASE("resolved measures survive the JSON round trip, infinity included", "[unit][measure]") {
  ResolvedMeasure m = make("q", MeasureKind::kIntegral, "C");
  m.of = "i(v1)";
  m.t_from_s = 7e-9;
  m.scale = -1;
  const nlohmann::json j = m;
  const auto back = j.get<ResolvedMeasure>();
  CHECK(back.name == "q");
  CHECK(back.kind == MeasureKind::kIntegral);
  CHECK(back.t_from_s == 7e-9);
  CHECK(std::isinf(back.t_to_s));
  CHECK(back.scale == -1);
}

TEST_CASE("time above a threshold interpolates the crossings", "[unit][measure]") {
  // A trapezoid pulse 0 -> 1 V over 1 ns, flat 3 ns, back over 1 ns: above 0.5 V for 4 ns.
  const std::vector<double> t = {0, 1e-9, 2e-9, 5e-9, 6e-9, 10e-9};
  const std::vector<double> y = {0, 0, 1, 1, 0, 0};
  CHECK(time_above(t, y, 0.5, 0, 10e-9) == Approx(4e-9).epsilon(1e-12));
  CHECK(time_above(t, y, 0.25, 0, 10e-9) == Approx(4.5e-9).epsilon(1e-12));
  CHECK(time_above(t, y, 0.5, 3e-9, 10e-9) == Approx(2.5e-9).epsilon(1e-12));
  CHECK(time_above(t, y, 2.0, 0, 10e-9) == 0.0);
  Waveforms w;
  w.time = t;
  w.vectors["v(out)"] = y;
  ResolvedMeasure m = make("pw_s", MeasureKind::kTimeAbove, "s");
  m.of = "v(out)";
  m.threshold = 0.5;
  CHECK(evaluate(m, w) == Approx(4e-9).epsilon(1e-12));
}

TEST_CASE("a trace samples a waveform at fixed times", "[unit][measure]") {
  Waveforms w;
  w.time = {0, 1, 2};
  w.vectors["v(sn)"] = {0.9, 0.8, 0.6};
  ResolvedMeasure m = make("v_sn_v", MeasureKind::kTrace, "V");
  m.of = "v(sn)";
  m.times_s = {0, 0.5, 1.5, 2};
  CHECK(m.width() == 4);
  std::vector<double> out = {42.0};
  evaluate_into(m, w, out);
  REQUIRE(out.size() == 5);
  const double expected[] = {42.0, 0.9, 0.85, 0.7, 0.6};
  for (std::size_t i = 0; i < 5; ++i) CHECK(out[i] == Approx(expected[i]).epsilon(1e-15));
  m.times_s = {3};
  CHECK_THROWS_AS(evaluate_into(m, w, out), MeasureError);
  CHECK_THROWS_AS(evaluate(m, w), MeasureError);
  CHECK(total_width({m, make("x", MeasureKind::kValueAt, "V")}) == 2);
}
