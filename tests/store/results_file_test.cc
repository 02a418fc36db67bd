// SPDX-License-Identifier: MIT
#include "gaincell/store/results_file.h"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "gaincell/core/error.h"
#include "gaincell/store/h5.h"
#include "test_support.h"

using namespace gaincell;
using gaincell::spice::SimOutcome;

TEST_CASE("results round-trip through HDF5 with dimension scales and units", "[unit][store]") {
  testing::TempDir dir;
  const auto path = dir / "r.h5";
  store::ResultsLayout layout;
  layout.axes = {{"v_store", "V", "stored voltage", {0.0, 0.45, 0.9}, {}}, {"t_pulse", "s", "pulse", {0.0, 1e-9}, {}}};
  layout.measures = {{"q_line_c", "C", "charge", {}}, {"v_sn_v", "V", "storage node", {1e-6, 1e-3}},
                     {"v_line_end_v", "V", "line", {}}};
  layout.attributes = {{"spec_sha256", "abc"}};
  {
    auto w = store::ResultsWriter::create(path, layout);
    CHECK(std::filesystem::exists(w.partial_path()));
    CHECK_FALSE(std::filesystem::exists(path));
    // Points arrive out of order, as from a pool.
    w.write_point(5, SimOutcome::kOk, {5e-15, 0.9, 0.8, 0.44}, "", 1e-4, 3e-3);
    w.write_point(0, SimOutcome::kOk, {-1e-15, 0.1, 0.2, 0.46}, "", 1e-4, 3e-3);
    w.write_point(3, SimOutcome::kTimestepTooSmall, {NAN, NAN, NAN, NAN}, "Timestep too small", 1e-4, 2e-3);
    w.finish({{"points_ok", "2"}});
  }
  CHECK_FALSE(std::filesystem::exists(path.string() + ".partial"));
  const store::Results r = store::read_results(path);
  REQUIRE(r.size() == 6);
  CHECK(r.axes[0].name == "v_store");
  CHECK(r.axes[0].unit == "V");
  CHECK(r.axes[1].values == std::vector<double>{0.0, 1e-9});
  CHECK(r.values.at("q_line_c")[5] == 5e-15);
  CHECK(r.values.at("q_line_c")[0] == -1e-15);
  CHECK(r.values.at("v_line_end_v")[5] == 0.44);
  // A trace: the sample time is the last dimension.
  REQUIRE(r.values.at("v_sn_v").size() == 12);
  CHECK(r.values.at("v_sn_v")[5 * 2 + 0] == 0.9);
  CHECK(r.values.at("v_sn_v")[5 * 2 + 1] == 0.8);
  CHECK(r.values.at("v_sn_v")[1] == 0.2);
  CHECK(std::isnan(r.values.at("v_sn_v")[3 * 2]));
  CHECK(r.measures[1].trace_times_s == std::vector<double>{1e-6, 1e-3});
  CHECK(std::isnan(r.values.at("q_line_c")[1]));  // never written: NaN fill
  CHECK(r.status[0] == SimOutcome::kOk);
  CHECK(r.status[3] == SimOutcome::kTimestepTooSmall);
  CHECK(r.status[1] == SimOutcome::kNotRun);
  CHECK(r.messages[3] == "Timestep too small");
  CHECK(r.messages[0].empty());
  CHECK(r.run_time_s[5] == 3e-3);
  CHECK(r.attributes.at("spec_sha256") == "abc");
  CHECK(r.attributes.at("complete") == "yes");
  CHECK(r.attributes.at("gaincell_format") == "gaincell-sweep/1");

  // The measures are shaped by the axes, with the axes attached as scales.
  h5::Handle file = h5::open_file(path.string(), false);
  h5::Handle q = h5::open_dataset(file.id(), "measures/q_line_c");
  CHECK(h5::dataset_shape(q.id()) == std::vector<hsize_t>{3, 2});
  CHECK(h5::read_string_attribute(q.id(), "units") == "C");
  h5::Handle axis = h5::open_dataset(file.id(), "axes/t_pulse");
  CHECK(H5DSis_scale(axis.id()) > 0);
  CHECK(H5DSis_attached(q.id(), axis.id(), 1) > 0);
  CHECK(H5DSis_attached(q.id(), axis.id(), 0) == 0);
  h5::Handle trace = h5::open_dataset(file.id(), "measures/v_sn_v");
  CHECK(h5::dataset_shape(trace.id()) == std::vector<hsize_t>{3, 2, 2});
  h5::Handle times = h5::open_dataset(file.id(), "trace_times/v_sn_v");
  CHECK(H5DSis_attached(trace.id(), times.id(), 2) > 0);
  CHECK(h5::read_string_attribute(times.id(), "units") == "s");
}

TEST_CASE("an unfinished writer leaves a .partial file holding what was computed", "[unit][store]") {
  testing::TempDir dir;
  const auto path = dir / "r.h5";
  store::ResultsLayout layout;
  layout.axes = {{"x", "V", "", {1.0, 2.0}, {}}};
  layout.measures = {{"y", "V", "", {}}};
  { auto w = store::ResultsWriter::create(path, layout);
    w.write_point(1, SimOutcome::kOk, {42.0}, "", 0, 0);
  }  // destroyed without finish()
  CHECK_FALSE(std::filesystem::exists(path));
  REQUIRE(std::filesystem::exists(path.string() + ".partial"));
  const auto r = store::read_results(path.string() + ".partial");
  CHECK(r.attributes.at("complete") == "no");
  CHECK(r.values.at("y")[1] == 42.0);
  CHECK(r.status[0] == SimOutcome::kNotRun);
}

TEST_CASE("reading a file that is not a results file fails clearly", "[unit][store]") {
  testing::TempDir dir;
  testing::write_file(dir / "x.h5", "not hdf5");
  CHECK_THROWS_AS(store::read_results(dir / "x.h5"), IoError);
  CHECK_THROWS_WITH(store::read_results(dir / "missing.h5"),
                    Catch::Matchers::StartsWith("cannot open HDF5 file " + (dir / "missing.h5").string()));
}
