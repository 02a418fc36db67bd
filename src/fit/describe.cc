// SPDX-License-Identifier: MIT
#include "gaincell/fit/describe.h"

#include <sstream>

#include "gaincell/core/si_value.h"

namespace gaincell::fit {
namespace {

using nlohmann::json;

std::string human(double v, const std::string& unit) { return gaincell::format_human(v, unit, 4, true); }

void describe_variables(const ModelInfo& info, std::ostream& out) {
  out << "output: " << info.output.name << " [" << info.output.unit << "], observed " << human(info.output.min, info.output.unit)
      << " .. " << human(info.output.max, info.output.unit) << "\n";
  for (const auto& in : info.inputs) {
    out << "input:  " << in.name << " [" << in.unit << "], valid " << human(in.min, in.unit) << " .. "
        << human(in.max, in.unit) << "\n";
  }
  out << "outside the valid range: " << (info.out_of_range == OutOfRange::kClamp ? "clamp with a warning" : "error")
      << "\n";
}

// A list of {name, value} entries of the model file, under a title.
void describe_list(const json& j, const char* key, const char* title, std::ostream& out) {
  if (!j.contains(key) || !j[key].is_array() || j[key].empty()) return;
  out << title << ":\n";
  for (const auto& c : j[key]) out << "  " << c.at("name").get<std::string>() << " = " << c.at("value").dump() << "\n";
}

// A table is its data: say its shape, not every value (the model file holds them).
void describe_table(const LutModel& lut, std::ostream& out) {
  const ModelInfo& info = lut.info();
  out << "table: ";
  for (std::size_t d = 0; d < lut.grids().size(); ++d) {
    const auto& g = lut.grids()[d];
    out << (d ? " x " : "") << g.size() << " " << info.inputs[d].name << " (" << human(g.front(), info.inputs[d].unit) << " .. "
        << human(g.back(), info.inputs[d].unit) << ")";
  }
  out << " = " << lut.values().size() << " values, " << LutModel::interpolation_name(lut.interpolation())
      << " between them\n";
}

void describe_solution(const Model& model, const json& j, std::ostream& out) {
  if (const auto* lut = std::get_if<LutModel>(&model)) {
    describe_table(*lut, out);
  } else {
    describe_list(j, "coefficients", "coefficients", out);
  }
  describe_list(j, "collapsed_at_vin", "determined combinations a_i = sum_j C_ij vin^j (per unit of the pulse-width input)",
                out);
  if (j.contains("parameters") && !j["parameters"].empty() && !std::holds_alternative<LutModel>(model)) {
    out << "parameters: " << j["parameters"].dump() << "\n";
  }
  if (j.contains("rank")) {
    out << "rank: " << j["rank"].at("rank").dump() << " of " << j["rank"].at("unknowns").dump() << " unknowns\n";
  }
  if (j.contains("note")) out << "note: " << j["note"].get<std::string>() << "\n";
}

void describe_quality(const ModelInfo& info, std::ostream& out) {
  const auto& q = info.quality;
  out << "fit quality: " << q.points_used << " points used, " << q.points_excluded << " excluded; RMS residual "
      << human(q.rms_residual, info.output.unit) << ", max |residual| " << human(q.max_abs_residual, info.output.unit)
      << ", R^2 " << q.r_squared;
  if (q.cv_folds > 0) out << ", " << q.cv_folds << "-fold CV RMS " << human(q.cv_rms_residual, info.output.unit);
  out << "\n";
}

}  // namespace

std::string describe(const Model& model) {
  const json j = to_json(model);
  const ModelInfo& info = info_of(model);
  std::ostringstream out;
  out << "model: " << kind_name(model) << " (" << kModelFormat << ")\n";
  describe_variables(info, out);
  describe_solution(model, j, out);
  describe_quality(info, out);
  if (!info.provenance.empty()) out << "provenance: " << info.provenance.dump() << "\n";
  return out.str();
}

}  // namespace gaincell::fit
