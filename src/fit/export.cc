// SPDX-License-Identifier: MIT
#include "gaincell/fit/export.h"

#include <cctype>
#include <fstream>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/netlist/si_value.h"

namespace gaincell::fit {
namespace {

std::filesystem::path write(const std::filesystem::path& path, const std::string& text) {
  write_text_file(path, text);
  return path;
}

// n points over [min, max], hitting the end exactly.
std::vector<double> linspace_axis(const Variable& v, std::size_t n) {
  std::vector<double> g;
  for (std::size_t i = 0; i < n; ++i) {
    g.push_back(i + 1 == n ? v.max : v.min + (v.max - v.min) * static_cast<double>(i) / static_cast<double>(n - 1));
  }
  return g;
}

// One line per point of the grid `axes` (row-major, the last input fastest):
// the inputs, then the model's value, joined by `sep`.
std::string grid_rows(const Model& model, const std::vector<std::vector<double>>& axes, const std::string& sep) {
  std::size_t total = 1;
  for (const auto& a : axes) total *= a.size();
  std::string out;
  std::vector<double> x(axes.size());
  for (std::size_t k = 0; k < total; ++k) {
    std::size_t rest = k;
    for (std::size_t d = axes.size(); d-- > 0;) {
      x[d] = axes[d][rest % axes[d].size()];
      rest /= axes[d].size();
    }
    for (double xi : x) out += netlist::format_exact(xi) + sep;
    out += netlist::format_exact(evaluate(model, x)) + "\n";
  }
  return out;
}

constexpr std::size_t kDefaultGrid = 16;

// The grid of input d: a lut's own nodes when no size is asked for (its
// measured points stay exact), else n points over the valid range.
std::vector<double> input_axis(const Model& model, std::size_t d, std::size_t n) {
  const auto* lut = std::get_if<LutModel>(&model);
  if (n == 0 && lut != nullptr) return lut->grids().at(d);
  return linspace_axis(info_of(model).inputs.at(d), n == 0 ? kDefaultGrid : n);
}

// Row-major grid over the inputs (the last input fastest).
std::string csv_table(const Model& model, std::size_t n) {
  const ModelInfo& info = info_of(model);
  std::string out;
  for (const auto& in : info.inputs) out += in.name + "[" + in.unit + "],";
  out += info.output.name + "[" + info.output.unit + "]\n";
  std::vector<std::vector<double>> axes;
  for (std::size_t d = 0; d < info.inputs.size(); ++d) axes.push_back(input_axis(model, d, n));
  return out + grid_rows(model, axes, ",");
}

// A paper-poly model in the reference simulator's layout and units.
nlohmann::json reference_json(const Model& model, const ExportOptions& o) {
  const auto* m = std::get_if<PaperPolyModel>(&model);
  if (m == nullptr) {
    throw InputError("GC-1613", "error GC-1613: the reference format holds paper-poly models; this is a " +
                                    kind_name(model) + " model");
  }
  const ModelInfo& info = m->info();
  // y = x_pw * sum C_ij (v - offset)^i vin^j. In the reference, Q = x_pw / t_max
  // (when x_pw is a time) and S = y / q_unit (when y is a charge).
  const double time_scale = info.inputs.at(0).unit == "s" ? o.t_max_s : 1.0;
  const double q_unit = info.output.unit == "C" ? o.q_sat_c / o.s_sat : 1.0;
  const double factor = time_scale / q_unit;
  nlohmann::json c = nlohmann::json::array();
  for (double v : m->coefficients()) c.push_back(v * factor);
  std::array<double, 4> a = m->collapsed();
  nlohmann::json collapsed = nlohmann::json::array();
  for (double& ai : a) {
    ai *= factor;
    collapsed.push_back(ai);
  }
  return nlohmann::json{
      {"format", "gaincell-reference/1"},
      {"layout", "C[k] for i in 0..3 for j in 0..3-i (i: power of K - offset, j: power of Vin), as the authors' "
                 "simulator lists its 10 coefficients"},
      {"coefficients", c},
      {"offset_v", m->offset_v()},
      {"vin_v", m->vin_v()},
      {"collapsed_at_vin", collapsed},
      {"linear_slope", equivalent_linear_slope(a)},
      {"normalization",
       {{"t_max_s", time_scale == 1.0 ? nlohmann::json(nullptr) : nlohmann::json(o.t_max_s)},
        {"q_unit_c", q_unit == 1.0 ? nlohmann::json(nullptr) : nlohmann::json(q_unit)},
        {"q_sat_c", o.q_sat_c},
        {"s_sat", o.s_sat},
        {"rule", "Q = pulse width / t_max; S = charge / q_unit with q_unit = q_sat / s_sat, so the charge-to-pulse "
                 "converter saturates at S = s_sat"}}},
      {"fit_quality", {{"r_squared", info.quality.r_squared}, {"max_abs_residual", info.quality.max_abs_residual},
                       {"unit", info.output.unit}}},
      {"provenance", info.provenance}};
}

// Grid of one input for a table (input_axis), plus 0 when the range excludes
// it (ngspice's table models use the origin at the operating point).
std::vector<double> table_axis(const Model& model, std::size_t d, std::size_t n) {
  const Variable& v = info_of(model).inputs.at(d);
  std::vector<double> g = input_axis(model, d, n);
  if (v.min > 0) g.insert(g.begin(), 0.0);
  if (v.max < 0) g.push_back(0.0);
  return g;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// XSPICE table2D/table3D data file and a wrapper subcircuit (docs/fitting.md).
std::vector<std::filesystem::path> xspice_export(const Model& model, const std::filesystem::path& dir,
                                                 const std::string& stem_in, std::size_t n) {
  const ModelInfo& info = info_of(model);
  const std::size_t dims = info.inputs.size();
  if (dims != 2 && dims != 3) {
    throw InputError("GC-1613", "error GC-1613: XSPICE tables take 2 or 3 inputs; this model has " +
                                    std::to_string(dims) + " (export it as csv)");
  }
  // ngspice lower-cases names in model cards: keep every name lower-case.
  const std::string stem = lower(stem_in);
  std::vector<std::vector<double>> axes;
  for (std::size_t d = 0; d < dims; ++d) axes.push_back(table_axis(model, d, n == 0 ? 0 : std::max<std::size_t>(n, 4)));
  std::string tbl = "* gaincell XSPICE table" + std::to_string(dims) + "D of model '" + info.output.name + "' [" +
                    info.output.unit + "]\n* inputs:";
  for (const auto& in : info.inputs) tbl += " " + in.name + " [" + in.unit + "]";
  tbl += "\n* values are the model evaluated on the grid (inputs clamped to their valid ranges)\n";
  for (const auto& a : axes) tbl += std::to_string(a.size()) + "\n";
  for (const auto& a : axes) {
    for (std::size_t i = 0; i < a.size(); ++i) tbl += (i ? " " : "") + netlist::format_exact(a[i]);
    tbl += "\n";
  }
  std::vector<double> x(dims);
  const std::size_t nz = dims == 3 ? axes[2].size() : 1;
  for (std::size_t k = 0; k < nz; ++k) {
    if (dims == 3) {
      x[2] = axes[2][k];
      tbl += "*table " + netlist::format_exact(x[2]) + "\n";
    }
    for (std::size_t j = 0; j < axes[1].size(); ++j) {  // row j: y_j
      x[1] = axes[1][j];
      for (std::size_t i = 0; i < axes[0].size(); ++i) {  // column i: x_i
        x[0] = axes[0][i];
        tbl += (i ? " " : "") + netlist::format_exact(evaluate(model, x));
      }
      tbl += "\n";
    }
  }
  const bool current = info.output.unit == "A";
  std::string ports, inputs;
  for (const auto& in : info.inputs) {
    ports += lower(in.name) + " ";
    inputs += "%vd(" + lower(in.name) + " 0) ";
  }
  std::string sub = "* gaincell XSPICE wrapper of model '" + info.output.name + "' [" + info.output.unit + "]\n";
  sub += "* Ports: the inputs as node voltages (value in the input's SI unit), then out.\n";
  sub += current ? "* The table drives its output current (A) into node out.\n"
                 : "* The table drives node out to the model's value (in its unit, as a voltage).\n";
  sub += "* The table file is named relative to the working directory: run ngspice in this directory\n";
  sub += "* (or give file= an absolute, lower-case path; ngspice lower-cases it).\n";
  sub += ".subckt " + stem + " " + ports + "out\n";
  sub += "a_" + stem + " " + inputs + (current ? "%id(out 0)" : "%vd(out 0)") + " " + stem + "_tab\n";
  sub += ".model " + stem + "_tab table" + std::to_string(dims) + "d (file=\"" + stem + ".tbl\" order=2)\n";
  sub += ".ends " + stem + "\n";
  return {write(dir / (stem + ".tbl"), tbl), write(dir / (stem + ".sub"), sub)};
}

// Verilog-A module using $table_model on a gridded data file (one sample per
// line, the last input varying fastest), for simulators with Verilog-A
// (Spectre, HSPICE, ...). Linear interpolation, clamped at the grid's ends.
std::vector<std::filesystem::path> verilog_a_export(const Model& model, const std::filesystem::path& dir,
                                                    const std::string& stem_in, std::size_t n) {
  const ModelInfo& info = info_of(model);
  const std::size_t dims = info.inputs.size();
  const std::string stem = lower(stem_in);
  std::vector<std::vector<double>> axes;
  for (std::size_t d = 0; d < dims; ++d) axes.push_back(table_axis(model, d, n));
  std::string data = "# gaincell $table_model data of model '" + info.output.name + "' [" + info.output.unit +
                     "]\n# columns:";
  for (const auto& in : info.inputs) data += " " + in.name + "[" + in.unit + "]";
  data += " " + info.output.name + "[" + info.output.unit + "]\n# gridded, the last input varying fastest\n";
  data += grid_rows(model, axes, " ");
  const bool current = info.output.unit == "A";
  std::string ports, args, control;
  for (std::size_t d = 0; d < dims; ++d) {
    const std::string p = lower(info.inputs[d].name);
    ports += p + ", ";
    args += "V(" + p + "), ";
    control += std::string(d ? "," : "") + "1C";
  }
  std::string va = "// gaincell Verilog-A model of '" + info.output.name + "' [" + info.output.unit + "]\n";
  va += "// Inputs are node voltages carrying the input values in SI units: ";
  for (const auto& in : info.inputs) va += in.name + " [" + in.unit + "] ";
  va += "\n// " + std::string(current ? "The output current (A) is driven into node out."
                                      : "Node out is driven to the model's value (in its unit, as a voltage).") +
        "\n// Table: " + stem + ".tbl (linear interpolation, clamped at the grid's ends).\n";
  va += "`include \"disciplines.vams\"\n\nmodule " + stem + "(" + ports + "out);\n";
  va += "  inout " + ports + "out;\n  electrical " + ports + "out;\n  analog begin\n";
  va += current ? "    I(out) <+ -$table_model(" : "    V(out) <+ $table_model(";
  va += args + "\"" + stem + ".tbl\", \"" + control + "\");\n  end\nendmodule\n";
  return {write(dir / (stem + ".tbl"), data), write(dir / (stem + ".va"), va)};
}

}  // namespace

double equivalent_linear_slope(const std::array<double, 4>& a, double half_range_v) {
  // Over a symmetric range the even powers drop out: a_1 + a_3 <y^4>/<y^2>.
  return a[1] + a[3] * 0.6 * half_range_v * half_range_v;
}

std::vector<std::filesystem::path> export_model(const Model& model, const std::string& format,
                                                const std::filesystem::path& dir, const ExportOptions& options) {
  if (options.grid_points == 1) {
    throw InputError("GC-1613", "Invalid configuration. grid_points = 1. Violated constraint: grid_points >= 2 "
                                "(or 0: a lut's own grid, else 16)");
  }
  std::filesystem::create_directories(dir);
  const std::string stem = options.stem.empty() ? "model" : options.stem;
  if (format == "json") return {write(dir / (stem + ".json"), to_json(model).dump(1) + "\n")};
  if (format == "csv") return {write(dir / (stem + ".csv"), csv_table(model, options.grid_points))};
  if (format == "xspice") return xspice_export(model, dir, stem, options.grid_points);
  if (format == "verilog-a") return verilog_a_export(model, dir, stem, options.grid_points);
  if (format == "reference") {
    return {write(dir / (stem + ".reference.json"), reference_json(model, options).dump(1) + "\n")};
  }
  throw InputError("GC-1613", "error GC-1613: unknown export format '" + format +
                                  "'; this gaincell writes json, csv, reference, xspice and verilog-a");
}

}  // namespace gaincell::fit
