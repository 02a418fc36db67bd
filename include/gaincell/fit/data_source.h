// SPDX-License-Identifier: MIT
// File: gaincell/fit/data_source.h
//
// Where fit data comes from: a gaincell results file (inputs are axes or
// per-point measures, the output a measure; failed points are dropped and
// counted), or a CSV file characterized elsewhere (Spectre, HSPICE...) whose
// header names each column with its unit, `name[unit]`.
//
//   FitRequest req{.inputs = {"t_pulse", "v_sn_read_v"}, .output = "q_line_c"};
//   FitData data = load_results_data("out/mult.h5", req, &report);
//   FitData csv = load_csv_data("spectre.csv", req, &report);
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "gaincell/fit/models.h"

namespace gaincell::fit {

struct FitRequest {
  std::vector<std::string> inputs;          // axis or measure names (results), column names (CSV)
  std::string output;                       // measure or column name
  std::map<std::string, double> where;      // keep only points where these axes equal these values
  // For a trace output: the sample time becomes an input named "<output>_time_s".
};

struct DataReport {
  std::size_t points_total = 0;
  std::size_t points_failed = 0;   // status != ok (results files)
  std::size_t points_filtered = 0; // dropped by `where`
  std::string source_sha256;
  std::map<std::string, std::string> provenance;  // spec hash, ngspice version... (results files)
};

// Reads a results file. A trace output contributes one row per sample time,
// with the time as an extra input. Throws InputError GC-1611 for an unknown
// name (listing the axes and measures), a `where` value not on its axis, or
// nothing left to fit.
FitData load_results_data(const std::filesystem::path& path, const FitRequest& request, DataReport* report);

// Reads any HDF5 file whose output dataset (a path such as "q" or
// "results/q") has a dimension scale attached to every dimension (h5py's
// `dims[i].attach_scale`, netCDF-4, xarray). Inputs are the scales' names
// (the last path component) or other datasets of the output's shape; units
// come from `units` attributes ("1" if absent). NaN points are left for the
// fit to exclude. Throws InputError GC-1611 naming what is missing.
FitData load_hdf5_data(const std::filesystem::path& path, const FitRequest& request, DataReport* report);

// Reads a CSV file: a header row of `name[unit]` (or `name`, unit "1"),
// then numeric rows; `#` starts a comment line. Throws InputError GC-1612
// with file:line for malformed content, GC-1611 for unknown columns.
FitData load_csv_data(const std::filesystem::path& path, const FitRequest& request, DataReport* report);

// Reads a CSV file (extension .csv) with load_csv_data, any other file with
// load_hdf5_data: what `gaincell fit DATA` reads.
FitData load_fit_data(const std::filesystem::path& path, const FitRequest& request, DataReport* report);

}  // namespace gaincell::fit
