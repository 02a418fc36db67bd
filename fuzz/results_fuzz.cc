// SPDX-License-Identifier: MIT
// Fuzz target: results files (HDF5) whose structure disagrees with itself.
// The input does not replace the file's bytes (that would fuzz libhdf5's own
// parser, which we cannot fix): it is a list of edits applied through the
// HDF5 API to a valid results file or shard: datasets cut short, grown,
// deleted, retyped, or emptied, root attributes rewritten. The edited file
// then goes through every reader: read_results, the fit's data loader and
// merge_shards (with the other, intact, shard).
#include <hdf5.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "gaincell/core/reporter.h"
#include "gaincell/fit/data_source.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/cluster.h"

namespace {

namespace fs = std::filesystem;
using gaincell::store::ResultsLayout;

// A small valid file: 3 x 4 points (or one of two shards of them), a scalar
// and a trace measure, a few failed points.
void write_base(const fs::path& path, std::vector<std::size_t> points, std::size_t shard) {
  ResultsLayout layout;
  layout.axes.push_back({"v_store", "V", "stored voltage", {0.0, 0.45, 0.9}, {}});
  layout.axes.push_back({"t_pulse", "s", "pulse", {1e-9, 5e-9, 10e-9, 15e-9}, {}});
  layout.measures.push_back({"q_c", "C", "charge", {}});
  layout.measures.push_back({"v_sn_v", "V", "trace", {1e-9, 2e-9, 3e-9}});
  layout.points = points;
  layout.attributes["spec_sha256"] = "x";
  layout.attributes["point_count"] = "12";
  if (!points.empty()) {
    layout.attributes["shard_count"] = "2";
    layout.attributes["shard_index"] = std::to_string(shard);
  }
  auto w = gaincell::store::ResultsWriter::create(path, layout);
  const std::size_t n = points.empty() ? 12 : points.size();
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t global = points.empty() ? k : points[k];
    const bool ok = global % 5 != 3;
    w.write_point(global, ok ? gaincell::spice::SimOutcome::kOk : gaincell::spice::SimOutcome::kTimeout,
                  {1e-15 * static_cast<double>(global), 0.1, 0.2, 0.3}, ok ? "" : "timed out", 1e-3, 2e-3);
  }
  w.finish({});
}

struct Bases {
  fs::path full, shard0, shard1;
};

const Bases& bases() {
  static const Bases b = [] {
    Bases x{gaincell::fuzz::scratch() / "full.h5", gaincell::fuzz::scratch() / "shard0.h5",
            gaincell::fuzz::scratch() / "shard1.h5"};
    write_base(x.full, {}, 0);
    write_base(x.shard0, {0, 2, 4, 6, 8, 10}, 0);
    write_base(x.shard1, {1, 3, 5, 7, 9, 11}, 1);
    return x;
  }();
  return b;
}

const char* const kDatasets[] = {"status", "message", "measures/q_c", "measures/v_sn_v", "timing/parse_time_s",
                                 "timing/run_time_s", "axes/v_store", "axes/t_pulse", "point_index",
                                 "v_sn_v_time"};
const char* const kAttributes[] = {"axes", "measures", "shard_count", "shard_index", "point_count", "complete",
                                   "gaincell_format"};

// Replaces dataset `name` by a 1-D one of `n` elements of `type` (0: double,
// 1: uint8, 2: int32, 3: variable-length string).
void replace(hid_t file, const std::string& name, std::size_t n, int type) {
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0) H5Ldelete(file, name.c_str(), H5P_DEFAULT);
  const hsize_t dims[1] = {n};
  const hid_t space = H5Screate_simple(1, dims, nullptr);
  hid_t t = H5T_NATIVE_DOUBLE;
  hid_t str = -1;
  if (type == 1) t = H5T_NATIVE_UINT8;
  if (type == 2) t = H5T_NATIVE_INT32;
  if (type == 3) {
    str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, H5T_VARIABLE);
    t = str;
  }
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  const hid_t ds = H5Dcreate2(file, name.c_str(), t, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  if (ds >= 0 && n > 0 && type != 3) {
    std::vector<std::uint8_t> bytes(n * H5Tget_size(t), 7);
    H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
  }
  if (ds >= 0) H5Dclose(ds);
  H5Pclose(lcpl);
  if (str >= 0) H5Tclose(str);
  H5Sclose(space);
}

void set_attribute(hid_t file, const char* name, const std::string& value) {
  if (H5Aexists(file, name) > 0) H5Adelete(file, name);
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, value.empty() ? 1 : value.size());
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(file, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
  if (a >= 0) {
    std::string v = value.empty() ? std::string(1, '\0') : value;
    H5Awrite(a, t, v.data());
    H5Aclose(a);
  }
  H5Sclose(space);
  H5Tclose(t);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const Bases& b = bases();
  if (size == 0) return 0;
  const fs::path work = gaincell::fuzz::scratch() / "work.h5";
  fs::copy_file(data[0] % 2 == 0 ? b.full : b.shard0, work, fs::copy_options::overwrite_existing);
  // Edits: 3 bytes each (what, which, how much); an attribute edit takes its
  // value from the bytes that follow, up to a 0.
  const hid_t file = H5Fopen(work.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (file < 0) return 0;
  std::size_t i = 1;
  for (int edits = 0; edits < 8 && i + 3 <= size; ++edits) {
    const int op = data[i] % 4;
    const std::uint8_t which = data[i + 1], amount = data[i + 2];
    i += 3;
    if (op < 3) {
      const std::string name = kDatasets[which % (sizeof kDatasets / sizeof *kDatasets)];
      if (op == 0) replace(file, name, amount % 40, (amount / 40) % 4);
      if (op == 1 && H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0) H5Ldelete(file, name.c_str(), H5P_DEFAULT);
      if (op == 2) replace(file, name, 0, 0);
    } else {
      std::string value;
      while (i < size && data[i] != 0 && value.size() < 64) value += static_cast<char>(data[i++]);
      ++i;
      set_attribute(file, kAttributes[which % (sizeof kAttributes / sizeof *kAttributes)], value);
    }
  }
  H5Fclose(file);
  gaincell::fuzz::expect_clean([&] { (void)gaincell::store::read_results(work); });
  gaincell::fuzz::expect_clean([&] {
    gaincell::fit::FitRequest req;
    req.inputs = {"v_store", "t_pulse"};
    req.output = "q_c";
    gaincell::fit::DataReport report;
    (void)gaincell::fit::load_results_data(work, req, &report);
  });
  gaincell::fuzz::expect_clean([&] {
    gaincell::NullReporter quiet;
    const fs::path merged = gaincell::fuzz::scratch() / "merged.h5";
    std::error_code ec;
    fs::remove(merged, ec);
    (void)gaincell::sweep::merge_shards({work, b.shard1}, merged, quiet);
  });
  return 0;
}
