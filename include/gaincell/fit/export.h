// SPDX-License-Identifier: MIT
// File: gaincell/fit/export.h
//
// Exports a fitted model for other tools. Formats so far: "json" (the model
// file itself), "csv" (the model evaluated on a regular grid over its valid
// input ranges, one row per grid point, header `name[unit]`) and "reference"
// (a paper-poly model's 10 coefficients in the layout and normalized units of
// the authors' attention simulator, with the equivalent linear slope) and
// "xspice" (an ngspice table2d/table3d data file and a wrapper subcircuit)
// and "verilog-a" (a closed-form module for paper-poly, poly, exp-decay and
// hard-sigmoid models; for a lut a $table_model module, which only
// Spectre/HSPICE-class simulators take, and its gridded data file).
//
// Sign convention of every export of a current (output unit A): a positive
// value is a current flowing from the external node into terminal `out` (the
// model sinks it), as the characterization's i(vsense) counts the line's
// current into the cell. docs/fitting.md states it; the tests check it.
//
//   fit::export_model(model, "csv", "out/", {.grid_points = 16});
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "gaincell/fit/model_file.h"

namespace gaincell::fit {

struct ExportOptions {
  // Grid points per input of the csv, xspice and verilog-a tables: 0 = a lut
  // model's own grid (its measured points, kept exactly), else 16; >= 2 = that
  // many, evenly spaced over each input's valid range.
  std::size_t grid_points = 0;
  std::string stem;              // file name without extension; "" = "model"
  // reference: the normalization. Pulse widths are divided by t_max; charges
  // by q_unit = q_sat / s_sat, so that the converter saturates at S = s_sat.
  double t_max_s = 15e-9;
  double q_sat_c = 1e-12;  // the shipped C2P's saturation charge (fits/c2p.hardsigmoid.json)
  double s_sat = 80.0;     // the reference simulator's S_sat
};

// The slope a of the least-squares line S = a * (K - offset) through the
// origin fitted to sum_i a_i (K - offset)^i over K uniform in
// [offset - half_range, offset + half_range]: a_1 + (3/5) half_range^2 a_3.
// For the authors' coefficients this is 19.21, against their 19.3.
double equivalent_linear_slope(const std::array<double, 4>& collapsed, double half_range_v = 0.45);

// A legal Verilog-A identifier made from `text`: lower-cased, every
// character other than a-z, 0-9 and _ replaced by _, "model" if empty, "m_"
// before a leading digit, "_" after a Verilog-AMS keyword or discipline name
// ("read_current.lut" -> "read_current_lut", "2t" -> "m_2t", "exp" -> "exp_").
std::string verilog_a_identifier(const std::string& text);

// Writes the export into `dir` (created if needed) and returns the files
// written. Throws InputError GC-1613 for an unknown format or bad options,
// GC-1615 for a non-finite number a closed-form Verilog-A module would hold.
std::vector<std::filesystem::path> export_model(const Model& model, const std::string& format,
                                                const std::filesystem::path& dir, const ExportOptions& options);

// Exports the model file `model_file` (load_model_file, GC-1608) as
// export_model does; an empty options.stem becomes the file's own stem
// ("fits/c2p.hardsigmoid.json" -> "c2p.hardsigmoid"). What `gaincell export` does.
std::vector<std::filesystem::path> export_model_file(const std::filesystem::path& model_file, const std::string& format,
                                                     const std::filesystem::path& dir, ExportOptions options);

}  // namespace gaincell::fit
