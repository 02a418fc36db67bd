// SPDX-License-Identifier: MIT
#include "gaincell/store/results_file.h"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "gaincell/core/error.h"
#include "gaincell/core/reporter.h"
#include "store/h5.h"
#include "gaincell/sweep/cluster.h"
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
  CHECK(r.attributes.at("gaincell_format") == "gaincell-sweep/2");

  // netCDF-4: the axes are coordinate variables on the root group (named
  // again in /axes), the measures are on the root group (named again in
  // /measures), attached to them; a trace's times are /<measure>_time.
  h5::Handle file = h5::open_file(path.string(), false);
  auto same_object = [&](const char* a, const char* b) {
    H5O_info_t ia{}, ib{};
    h5::check(H5Oget_info_by_name(file.id(), a, &ia, H5P_DEFAULT), a);
    h5::check(H5Oget_info_by_name(file.id(), b, &ib, H5P_DEFAULT), b);
    return ia.addr == ib.addr && ia.rc == 2;
  };
  CHECK(same_object("q_line_c", "measures/q_line_c"));
  CHECK(same_object("t_pulse", "axes/t_pulse"));
  h5::Handle q = h5::open_dataset(file.id(), "q_line_c");
  CHECK(h5::dataset_shape(q.id()) == std::vector<hsize_t>{3, 2});
  CHECK(h5::read_string_attribute(q.id(), "units") == "C");
  h5::Handle axis = h5::open_dataset(file.id(), "t_pulse");
  CHECK(H5DSis_scale(axis.id()) > 0);
  CHECK(H5DSis_attached(q.id(), axis.id(), 1) > 0);
  CHECK(H5DSis_attached(q.id(), axis.id(), 0) == 0);
  CHECK(H5DSget_num_scales(q.id(), 0) == 1);
  char name[32] = {};
  H5DSget_scale_name(axis.id(), name, sizeof name);
  CHECK(std::string(name) == "t_pulse");
  CHECK(H5Aexists(q.id(), "DIMENSION_LABELS") == 0);  // no labels: the scale names name the dimensions
  h5::Handle trace = h5::open_dataset(file.id(), "v_sn_v");
  CHECK(h5::dataset_shape(trace.id()) == std::vector<hsize_t>{3, 2, 2});
  h5::Handle times = h5::open_dataset(file.id(), "v_sn_v_time");
  CHECK(H5DSis_attached(trace.id(), times.id(), 2) > 0);
  CHECK(h5::read_string_attribute(times.id(), "units") == "s");
  CHECK(H5Lexists(file.id(), "trace_times", H5P_DEFAULT) == 0);
  // Status: plain uint8 with CF flags, attached to the axes like a measure.
  h5::Handle status = h5::open_dataset(file.id(), "status");
  h5::Handle type(H5Dget_type(status.id()), H5Tclose);
  CHECK(H5Tget_class(type.id()) == H5T_INTEGER);
  CHECK(H5Tget_size(type.id()) == 1);
  CHECK(H5Tget_sign(type.id()) == H5T_SGN_NONE);
  CHECK(h5::read_string_attribute(status.id(), "flag_meanings").rfind("ok parse_error missing_model", 0) == 0);
  CHECK(H5DSis_attached(status.id(), axis.id(), 1) > 0);
  h5::Handle run_time = h5::open_dataset(file.id(), "timing/run_time_s");
  CHECK(H5DSis_attached(run_time.id(), axis.id(), 1) > 0);
}

TEST_CASE("a shard's points are a dimension, /point_index", "[unit][store]") {
  testing::TempDir dir;
  const auto path = dir / "s.h5";
  store::ResultsLayout layout;
  layout.axes = {{"x", "V", "", {1.0, 2.0, 3.0}, {}}};
  layout.measures = {{"y", "V", "", {}}, {"tr", "V", "", {1e-9, 2e-9, 3e-9, 4e-9}}};
  layout.points = {0, 2};
  layout.attributes = {{"shard_count", "2"}, {"shard_index", "0"}};
  {
    auto w = store::ResultsWriter::create(path, layout);
    w.write_point(2, SimOutcome::kOk, {7.0, 1, 2, 3, 4}, "", 0, 0);
    w.write_point(0, SimOutcome::kCrash, {NAN, NAN, NAN, NAN, NAN}, "crashed", 0, 0);
    w.finish({});
  }
  const auto r = store::read_results(path);
  CHECK(r.point_index == std::vector<std::size_t>{0, 2});
  CHECK(r.values.at("y")[1] == 7.0);
  REQUIRE(r.values.at("tr").size() == 8);
  CHECK(std::isnan(r.values.at("tr")[3]));
  CHECK(std::vector<double>(r.values.at("tr").begin() + 4, r.values.at("tr").end()) == std::vector<double>{1, 2, 3, 4});
  CHECK(r.measures[1].trace_times_s.size() == 4);
  CHECK(r.status[0] == SimOutcome::kCrash);
  h5::Handle file = h5::open_file(path.string(), false);
  h5::Handle index = h5::open_dataset(file.id(), "point_index");
  h5::Handle times = h5::open_dataset(file.id(), "tr_time");
  h5::Handle tr = h5::open_dataset(file.id(), "tr");
  h5::Handle status = h5::open_dataset(file.id(), "status");
  CHECK(H5DSis_scale(index.id()) > 0);
  CHECK(H5DSis_attached(tr.id(), index.id(), 0) > 0);
  CHECK(H5DSis_attached(tr.id(), times.id(), 1) > 0);
  CHECK(H5DSis_attached(status.id(), index.id(), 0) > 0);
}

TEST_CASE("Monte Carlo draws run along the mc_sample axis", "[unit][store]") {
  testing::TempDir dir;
  store::ResultsLayout layout;
  layout.axes = {{"mc_sample", "1", "", {0, 1, 2}, {}}, {"v", "V", "", {0.5}, {}}};
  layout.measures = {{"y", "V", "", {}}};
  layout.monte_carlo = {{"dvth", "V", 0.01, {0.001, -0.002, 0.003}}};
  auto written = [&](const std::string& name) {
    auto w = store::ResultsWriter::create(dir / name, layout);
    w.finish({});
    return dir / name;
  };
  const auto path = written("mc.h5");
  const auto r = store::read_results(path);
  REQUIRE(r.monte_carlo.size() == 1);
  CHECK(r.monte_carlo[0].values == std::vector<double>{0.001, -0.002, 0.003});
  {
    h5::Handle file = h5::open_file(path.string(), false);
    h5::Handle draws = h5::open_dataset(file.id(), "monte_carlo/dvth");
    h5::Handle axis = h5::open_dataset(file.id(), "mc_sample");
    CHECK(H5DSis_attached(draws.id(), axis.id(), 0) > 0);
  }
  // Without that axis (a layout built by hand), a dimension of their own.
  layout.axes = {{"v", "V", "", {0.5}, {}}};
  const auto own = written("own.h5");
  const auto o = store::read_results(own);
  REQUIRE(o.monte_carlo.size() == 1);
  CHECK(o.monte_carlo[0].param == "dvth");
  h5::Handle file = h5::open_file(own.string(), false);
  h5::Handle draws = h5::open_dataset(file.id(), "monte_carlo/dvth");
  h5::Handle dim = h5::open_dataset(file.id(), "monte_carlo/mc_sample");
  CHECK(H5DSis_attached(draws.id(), dim.id(), 0) > 0);
}

TEST_CASE("axes, measures and trace times need names of their own (GC-2102)", "[unit][store]") {
  testing::TempDir dir;
  auto refused = [&](store::ResultsLayout layout) {
    try {
      store::ResultsWriter::create(dir / "n.h5", layout);
    } catch (const InputError& e) {
      CHECK_FALSE(std::filesystem::exists(dir / "n.h5.partial"));
      return std::string(e.what());
    }
    return std::string();
  };
  store::ResultsLayout layout;
  layout.axes = {{"v_store", "V", "", {0.0, 0.9}, {}}};
  layout.measures = {{"v_store", "V", "", {}}};
  CHECK(refused(layout) == "error GC-2102: " + (dir / "n.h5").string() +
                               ": the measure v_store is named 'v_store', like the axis v_store; in a results file "
                               "every axis, measure and trace time (<measure>_time) needs a name of its own (they "
                               "share the root group, docs/hdf5_layout.md): rename the measure in the spec");
  layout.measures = {{"status", "1", "", {}}};
  CHECK_THAT(refused(layout), Catch::Matchers::Contains("the measure status is named 'status', like a dataset or "
                                                        "group of every results file"));
  layout.measures = {{"v", "V", "", {1e-9}}, {"v_time", "s", "", {}}};
  CHECK_THAT(refused(layout), Catch::Matchers::Contains("the measure v_time is named 'v_time', like the sample times "
                                                        "of the trace v"));
  layout.measures = {{"v", "V", "", {1e-9}}, {"w", "s", "", {}}};
  CHECK(refused(layout).empty());
  // The same check, for a sweep to make before it starts.
  CHECK_NOTHROW(store::check_layout_names(dir / "n.h5", layout));
  layout.axes.push_back({"w", "V", "", {1.0}, {}});
  CHECK_THROWS_WITH(store::check_layout_names(dir / "n.h5", layout),
                    Catch::Matchers::StartsWith("error GC-2102: " + (dir / "n.h5").string() +
                                                ": the measure w is named 'w', like the axis w;"));
}

namespace {
std::filesystem::path v1_file(const std::string& name) { return testing::source_dir() / "tests/store/data" / name; }
}  // namespace

TEST_CASE("gaincell-sweep/1 files (before netCDF-4) still read", "[unit][store]") {
  // Written by gaincell 0.1.0 (fd8fe04), tests/store/data/README.md.
  const auto f = store::read_results(v1_file("v1_faulty_rc.h5"));
  CHECK(f.attributes.at("gaincell_format") == "gaincell-sweep/1");
  REQUIRE(f.size() == 8);
  CHECK(f.status == std::vector<SimOutcome>{SimOutcome::kTimeout, SimOutcome::kTimeout, SimOutcome::kTimestepTooSmall,
                                            SimOutcome::kTimestepTooSmall, SimOutcome::kNoConvergence,
                                            SimOutcome::kNoConvergence, SimOutcome::kOk, SimOutcome::kOk});
  CHECK(f.messages[4].rfind("Error: Transient op failed", 0) == 0);
  CHECK(f.messages[6].empty());
  CHECK(f.axes[0].values == std::vector<double>{3, 1, 2, 0});
  CHECK(std::isnan(f.values.at("v_out_v")[0]));
  CHECK(f.values.at("v_out_v")[7] == Approx(0.99988).epsilon(1e-4));

  const auto r = store::read_results(v1_file("v1_gc3t_retention.h5"));
  CHECK(r.axes[0].labels == std::vector<std::string>{"tt", "ff", "ss"});
  REQUIRE(r.measures[0].name == "v_sn_trace_v");
  REQUIRE(r.measures[0].trace_times_s.size() == 31);
  CHECK(r.measures[0].trace_times_s.front() == Approx(1e-5));
  CHECK(r.measures[0].trace_times_s.back() == Approx(1e-2));
  CHECK(r.values.at("v_sn_trace_v").size() == 9 * 31);
  CHECK(r.values.at("v_sn_trace_v")[(2 * 3 + 1) * 31 + 30] == r.values.at("v_sn_end_v")[2 * 3 + 1]);

  // Its shards merge into a gaincell-sweep/2 file with the same data.
  testing::TempDir dir;
  NullReporter quiet;
  sweep::merge_shards({v1_file("v1_gc3t_retention.shard-0.h5"), v1_file("v1_gc3t_retention.shard-1.h5")},
                      dir / "merged.h5", quiet);
  const auto m = store::read_results(dir / "merged.h5");
  CHECK(m.attributes.at("gaincell_format") == "gaincell-sweep/2");
  CHECK(m.measures[0].trace_times_s == r.measures[0].trace_times_s);
  CHECK(m.axes[0].labels == r.axes[0].labels);
  testing::require_same_data(m, r);
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
