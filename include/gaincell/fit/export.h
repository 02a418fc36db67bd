// SPDX-License-Identifier: MIT
// File: gaincell/fit/export.h
//
// Exports a fitted model for other tools. Formats so far: "json" (the model
// file itself) and "csv" (the model evaluated on a regular grid over its
// valid input ranges, one row per grid point, header `name[unit]`).
//
//   fit::export_model(model, "csv", "out/", {.grid_points = 16});
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "gaincell/fit/model_file.h"

namespace gaincell::fit {

struct ExportOptions {
  std::size_t grid_points = 16;  // per input, >= 2
  std::string stem;              // file name without extension; "" = "model"
};

// Writes the export into `dir` (created if needed) and returns the files
// written. Throws InputError GC-1613 for an unknown format or bad options.
std::vector<std::filesystem::path> export_model(const Model& model, const std::string& format,
                                                const std::filesystem::path& dir, const ExportOptions& options);

}  // namespace gaincell::fit
