// SPDX-License-Identifier: MIT
#include "gaincell/fit/export.h"

#include <fstream>

#include "gaincell/core/error.h"
#include "gaincell/netlist/si_value.h"

namespace gaincell::fit {
namespace {

std::filesystem::path write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw IoError("cannot write " + path.string());
  return path;
}

// Row-major grid over the inputs' valid ranges (the last input fastest).
std::string csv_table(const Model& model, std::size_t n) {
  const ModelInfo& info = info_of(model);
  std::string out;
  for (const auto& in : info.inputs) out += in.name + "[" + in.unit + "],";
  out += info.output.name + "[" + info.output.unit + "]\n";
  const std::size_t dims = info.inputs.size();
  std::size_t total = 1;
  for (std::size_t d = 0; d < dims; ++d) total *= n;
  std::vector<double> x(dims);
  for (std::size_t k = 0; k < total; ++k) {
    std::size_t rest = k;
    for (std::size_t d = dims; d-- > 0;) {
      const auto& v = info.inputs[d];
      const std::size_t i = rest % n;
      // Interpolate, and hit the end of the range exactly.
      x[d] = i + 1 == n ? v.max : v.min + (v.max - v.min) * static_cast<double>(i) / static_cast<double>(n - 1);
      rest /= n;
    }
    for (double xi : x) out += netlist::format_exact(xi) + ",";
    out += netlist::format_exact(evaluate(model, x)) + "\n";
  }
  return out;
}

}  // namespace

std::vector<std::filesystem::path> export_model(const Model& model, const std::string& format,
                                                const std::filesystem::path& dir, const ExportOptions& options) {
  if (options.grid_points < 2) {
    throw InputError("GC-1613", "Invalid configuration. grid_points = " + std::to_string(options.grid_points) +
                                    ". Violated constraint: grid_points >= 2");
  }
  std::filesystem::create_directories(dir);
  const std::string stem = options.stem.empty() ? "model" : options.stem;
  if (format == "json") return {write(dir / (stem + ".json"), to_json(model).dump(1) + "\n")};
  if (format == "csv") return {write(dir / (stem + ".csv"), csv_table(model, options.grid_points))};
  throw InputError("GC-1613", "error GC-1613: unknown export format '" + format +
                                  "'; this gaincell writes json and csv (xspice, verilog-a and reference are planned)");
}

}  // namespace gaincell::fit
