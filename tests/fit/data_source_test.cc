// SPDX-License-Identifier: MIT
#include "gaincell/fit/data_source.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "gaincell/core/error.h"
#include "gaincell/store/results_file.h"
#include "test_support.h"

using namespace gaincell;
using spice::SimOutcome;

namespace {

// A 3 x 2 results file with a scalar measure, a per-point measure, a trace
// and one failed point.
std::filesystem::path make_results(const testing::TempDir& dir) {
  const auto path = dir / "r.h5";
  store::ResultsLayout layout;
  layout.axes = {{"v_store", "V", "", {0.0, 0.45, 0.9}, {}}, {"t_pulse", "s", "", {1e-9, 2e-9}, {}}};
  layout.measures = {{"q_c", "C", "", {}}, {"v_sn_v", "V", "", {}}, {"trace_v", "V", "", {1e-3, 2e-3}}};
  auto w = store::ResultsWriter::create(path, layout);
  for (std::size_t k = 0; k < 6; ++k) {
    const double v = static_cast<double>(k / 2) * 0.45, t = static_cast<double>(k % 2 + 1) * 1e-9;
    if (k == 3) {
      w.write_point(k, SimOutcome::kTimestepTooSmall, {NAN, NAN, NAN, NAN}, "Timestep too small", 0, 0);
      continue;
    }
    w.write_point(k, SimOutcome::kOk, {v * t, v - 0.01, v, v / 2}, "", 0, 0);
  }
  w.finish({});
  return path;
}

}  // namespace

TEST_CASE("fit data from a results file: axes and measures as inputs, failures dropped", "[unit][fit]") {
  testing::TempDir dir;
  const auto path = make_results(dir);
  fit::DataReport report;
  const auto data = fit::load_results_data(path, {{"t_pulse", "v_sn_v"}, "q_c", {}}, &report);
  CHECK(report.points_total == 6);
  CHECK(report.points_failed == 1);
  REQUIRE(data.output.values.size() == 5);
  CHECK(data.inputs[0].unit == "s");
  CHECK(data.inputs[1].unit == "V");
  CHECK(data.output.unit == "C");
  CHECK(data.inputs[0].values == std::vector<double>{1e-9, 2e-9, 1e-9, 1e-9, 2e-9});
  CHECK(data.inputs[1].values[4] == Approx(0.89));
  CHECK(data.output.values[4] == Approx(0.9 * 2e-9));
  CHECK(report.source_sha256.size() == 64);

  // A trace: one row per sample, its time as an input; filtered by an axis value.
  const auto trace = fit::load_results_data(path, {{"trace_v_time_s"}, "trace_v", {{"v_store", 0.9}}}, &report);
  CHECK(report.points_filtered == 4);
  CHECK(trace.inputs[0].values == std::vector<double>{1e-3, 2e-3, 1e-3, 2e-3});
  CHECK(trace.output.values == std::vector<double>{0.9, 0.45, 0.9, 0.45});

  CHECK_THROWS_WITH(fit::load_results_data(path, {{"t_pulse"}, "charge", {}}, nullptr),
                    path.string() + ": error GC-1611: no axis, measure or column named 'charge'; it has: v_store "
                                    "(axis), t_pulse (axis), q_c (measure), v_sn_v (measure), trace_v (measure)");
  CHECK_THROWS_WITH(fit::load_results_data(path, {{"t_pulse"}, "q_c", {{"v_store", 0.5}}}, nullptr),
                    path.string() + ": error GC-1611: v_store = 0.5 is not a value of that axis");
}

TEST_CASE("fit data from a CSV characterized elsewhere", "[unit][fit]") {
  testing::TempDir dir;
  testing::write_file(dir / "d.csv",
                      "# from another simulator\n"
                      "t_pulse[s], v_store[V], q[C]\n"
                      "1n, 0.9, 1.2e-14\n"
                      "2e-9, 0.45, nan\n"
                      "3n, 0.0, -1.1e-14\n");
  fit::DataReport report;
  const auto data = fit::load_csv_data(dir / "d.csv", {{"t_pulse", "v_store"}, "q", {}}, &report);
  CHECK(data.inputs[0].unit == "s");
  CHECK(data.inputs[0].values == std::vector<double>{1e-9, 2e-9, 3e-9});
  CHECK(data.output.unit == "C");
  CHECK(std::isnan(data.output.values[1]));  // excluded and counted by the fit
  testing::write_file(dir / "bad.csv", "a[V],b[V]\n1,2\n3,4V\n");
  CHECK_THROWS_WITH(fit::load_csv_data(dir / "bad.csv", {{"a"}, "b", {}}, nullptr),
                    Catch::Matchers::StartsWith((dir / "bad.csv").string() + ":3:3: error GC-1612: field 2 (column 'b'): value \"4V\""));
  testing::write_file(dir / "spaced.csv", "a[V], b[V]\n1, 2\n3,   x\n");
  CHECK_THROWS_WITH(fit::load_csv_data(dir / "spaced.csv", {{"a"}, "b", {}}, nullptr),
                    Catch::Matchers::StartsWith((dir / "spaced.csv").string() + ":3:6: error GC-1612: field 2 (column 'b'): value \"x\""));
  testing::write_file(dir / "noname.csv", "a[V],[V]\n1,2\n");
  CHECK_THROWS_WITH(fit::load_csv_data(dir / "noname.csv", {{"a"}, "b", {}}, nullptr),
                    Catch::Matchers::StartsWith((dir / "noname.csv").string() + ":1:6: error GC-1612: field 2 of the header has no column name"));
  testing::write_file(dir / "short.csv", "a[V],b[V]\n1\n");
  CHECK_THROWS_WITH(fit::load_csv_data(dir / "short.csv", {{"a"}, "b", {}}, nullptr),
                    (dir / "short.csv").string() + ":2: error GC-1612: expected 2 values, found 1");
}

TEST_CASE("fit data from any HDF5 file whose dataset has named dimension scales", "[unit][fit]") {
  testing::TempDir dir;
  // Written the way h5py users do: two scales, a 2-D dataset, units attributes.
  const auto path = dir / "foreign.h5";
  const std::string script =
      "import h5py, numpy as np\n"
      "with h5py.File('" + path.string() + "', 'w') as f:\n"
      "    v = f.create_dataset('v', data=[0.0, 0.45, 0.9]); v.attrs['units'] = 'V'; v.make_scale('v')\n"
      "    t = f.create_dataset('t', data=[1e-9, 2e-9]); t.attrs['units'] = 's'; t.make_scale('t')\n"
      "    q = f.create_dataset('res/q', data=np.array([[0, 0], [1, 2], [3, 6]]) * 1e-15)\n"
      "    q.attrs['units'] = 'C'\n"
      "    q.dims[0].attach_scale(v); q.dims[1].attach_scale(t)\n";
  testing::write_file(dir / "make.py", script);
  REQUIRE(testing::run_command("/usr/bin/python3 make.py", dir.path()).exit_code == 0);
  fit::DataReport report;
  const auto data = fit::load_hdf5_data(path, {{"t", "v"}, "res/q", {}}, &report);
  CHECK(data.output.name == "q");
  CHECK(data.output.unit == "C");
  CHECK(data.inputs[0].unit == "s");
  CHECK(data.inputs[1].unit == "V");
  CHECK(data.inputs[0].values == std::vector<double>{1e-9, 2e-9, 1e-9, 2e-9, 1e-9, 2e-9});
  CHECK(data.inputs[1].values == std::vector<double>{0, 0, 0.45, 0.45, 0.9, 0.9});
  CHECK(data.output.values[5] == Approx(6e-15));
  CHECK_THROWS_WITH(fit::load_hdf5_data(path, {{"temp"}, "res/q", {}}, nullptr),
                    path.string() + ": error GC-1611: no axis or dataset named 'temp'; the axes of 'res/q' are: v, t");
  // A gaincell results file goes through the results reader.
  const auto ours = make_results(dir);
  CHECK(fit::load_hdf5_data(ours, {{"t_pulse"}, "q_c", {}}, &report).output.values.size() == 5);
}
