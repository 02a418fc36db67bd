// SPDX-License-Identifier: MIT
// File: gaincell/store/results_file.h
//
// The HDF5 file of one sweep (layout in docs/hdf5_layout.md), readable with
// h5py, h5dump and netCDF-4 readers (xarray with h5netcdf) without gaincell.
// The root group is one netCDF-4 dataset:
//   /<axis>              float64[n] (or strings)  coordinate variable (dimension scale), units, long_name
//   /<measure>           float64[shape]  NaN where the point failed; attrs units, long_name
//                                       (a trace has one more dimension, /<measure>_time)
//   /status              uint8[shape]    flag_values, flag_meanings (ok, parse_error, ..., not_run)
//   /message             string[shape]   ngspice's message for failed points
//   /timing/*_time_s     float64[shape]  seconds spent in ngspice per point
//   /axes/<axis>, /measures/<measure>    the same datasets again (hard links)
//   root attributes      format version, gaincell and ngspice versions, hashes, spec text
// The writer works on "<path>.partial" and renames it to <path> only when the
// sweep is complete, so a killed run never leaves a file that looks finished.
//
//   auto w = ResultsWriter::create("out.h5", layout);
//   w.write_point(k, SimOutcome::kOk, values, "", 0.3e-3, 3.4e-3);
//   w.finish({{"wall_time_s", "12.5"}});
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gaincell/spice/outcome.h"

namespace gaincell::store {

constexpr const char* kResultsFormat = "gaincell-sweep/2";
// The layout before netCDF-4 readability (axes only in /axes, status an HDF5
// enum, /trace_times): read_results reads it too.
constexpr const char* kResultsFormatV1 = "gaincell-sweep/1";

struct AxisInfo {
  std::string name;
  std::string unit;
  std::string description;
  std::vector<double> values;
  // Categorical axes (process corners): one label per value; the axis is
  // then stored as a string dimension scale and `values` are 0..n-1.
  std::vector<std::string> labels;
};

// The values a Monte Carlo parameter took in each sample (/monte_carlo/<param>).
struct MonteCarloDraws {
  std::string param;
  std::string unit;
  double sigma = 0.0;
  std::vector<double> values;
};

struct MeasureInfo {
  std::string name;
  std::string unit;
  std::string description;
  // For a trace: its sample times (s); the dataset gets a last dimension of
  // this length with a scale /trace_times/<name>. Empty for a scalar measure.
  std::vector<double> trace_times_s;
  std::size_t width() const { return trace_times_s.empty() ? 1 : trace_times_s.size(); }
};

struct ResultsLayout {
  std::vector<AxisInfo> axes;
  std::vector<MeasureInfo> measures;
  // A shard file holds only these global point indices (ascending): its
  // per-point datasets are 1-D in this order, with /point_index. Empty: every
  // point, datasets shaped by the axes.
  std::vector<std::size_t> points;
  // A shard file even if `points` is empty (a shard beyond the last point):
  // its per-point datasets then have no entries.
  bool shard = false;
  std::map<std::string, std::string> attributes;  // provenance, written on the root group
  std::vector<MonteCarloDraws> monte_carlo;
};

// Throws InputError GC-2102 unless every axis, measure and trace time
// (<measure>_time) of `layout` has a name of its own on the root group
// (`path`: the output, named in the message). ResultsWriter::create checks
// this too; a sweep can call it before it starts.
void check_layout_names(const std::filesystem::path& path, const ResultsLayout& layout);

// Where a writer for `path` keeps the file until it is finished: PATH.partial.
std::filesystem::path partial_path(const std::filesystem::path& path);

class ResultsWriter {
 public:
  // Creates "<path>.partial" with every dataset allocated (NaN / not_run).
  // Throws IoError, or InputError GC-2102 (check_layout_names).
  static ResultsWriter create(const std::filesystem::path& path, const ResultsLayout& layout);
  ~ResultsWriter();
  ResultsWriter(ResultsWriter&&) noexcept;
  ResultsWriter& operator=(ResultsWriter&&) noexcept;

  // Queues point `index` (row-major over the axes); written in batches.
  // `values` holds each measure's values in layout order (width() each).
  void write_point(std::size_t index, spice::SimOutcome outcome, const std::vector<double>& values,
                   const std::string& message, double parse_time_s, double run_time_s);
  // Writes queued points and flushes the file to disk.
  void flush();
  // Flushes, writes the final root attributes, closes and renames to the
  // final path. Throws IoError.
  void finish(const std::map<std::string, std::string>& attributes);
  const std::filesystem::path& partial_path() const;
  const std::filesystem::path& final_path() const;

 private:
  struct Impl;
  explicit ResultsWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Everything in a results file, read into memory (for tests, `gaincell info`, fits).
struct Results {
  std::vector<AxisInfo> axes;
  std::vector<MeasureInfo> measures;
  std::map<std::string, std::vector<double>> values;  // measure -> flat row-major (trace: times last)
  std::vector<spice::SimOutcome> status;
  std::vector<std::string> messages;
  std::vector<double> parse_time_s;
  std::vector<double> run_time_s;
  std::map<std::string, std::string> attributes;      // root string attributes
  std::vector<MonteCarloDraws> monte_carlo;
  std::vector<std::size_t> point_index;               // a shard file's global indices; empty otherwise
  std::size_t size() const { return status.size(); }
};

// Throws IoError if the file is unreadable or not a gaincell results file.
Results read_results(const std::filesystem::path& path);

}  // namespace gaincell::store
