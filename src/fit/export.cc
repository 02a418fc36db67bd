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

}  // namespace

double equivalent_linear_slope(const std::array<double, 4>& a, double half_range_v) {
  // Over a symmetric range the even powers drop out: a_1 + a_3 <y^4>/<y^2>.
  return a[1] + a[3] * 0.6 * half_range_v * half_range_v;
}

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
  if (format == "reference") {
    return {write(dir / (stem + ".reference.json"), reference_json(model, options).dump(1) + "\n")};
  }
  throw InputError("GC-1613", "error GC-1613: unknown export format '" + format +
                                  "'; this gaincell writes json, csv and reference (xspice and verilog-a are planned)");
}

}  // namespace gaincell::fit
