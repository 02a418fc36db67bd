// SPDX-License-Identifier: MIT
#include "gaincell/fit/model_file.h"

#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include "gaincell/core/error.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/json_reader.h"

namespace gaincell::fit {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& pointer, const std::string& what) {
  throw InputError("GC-1608", what).at_pointer(pointer);
}

json number_json(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

const json& member(const json& obj, const std::string& pointer, const char* key) {
  if (!obj.is_object()) bad(pointer.empty() ? "/" : pointer, std::string("expected an object, found ") + obj.type_name());
  const auto it = obj.find(key);
  if (it == obj.end()) bad(pointer.empty() ? "/" : pointer, std::string("missing key \"") + key + "\"");
  return *it;
}

double number(const json& j, const std::string& pointer) {
  if (j.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!j.is_number()) bad(pointer, std::string("expected a number, found ") + j.type_name());
  return j.get<double>();
}

std::string text(const json& j, const std::string& pointer) {
  if (!j.is_string()) bad(pointer, std::string("expected a string, found ") + j.type_name());
  return j.get<std::string>();
}

const json& array(const json& j, const std::string& pointer) {
  if (!j.is_array()) bad(pointer, std::string("expected an array, found ") + j.type_name());
  return j;
}

int integer(const json& j, const std::string& pointer) {
  if (!j.is_number_integer()) bad(pointer, std::string("expected an integer, found ") + j.type_name());
  const long long v = j.get<long long>();
  if (v < -1'000'000'000 || v > 1'000'000'000) bad(pointer, "integer out of range: " + std::to_string(v));
  return static_cast<int>(v);
}

// Finite numbers, each > the previous one (a grid), or each > 0.
void check_increasing(const std::vector<double>& v, const std::string& pointer) {
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (!std::isfinite(v[k])) bad(pointer + "/" + std::to_string(k), "expected a finite number");
    if (k > 0 && !(v[k] > v[k - 1])) {
      bad(pointer + "/" + std::to_string(k), "a grid must increase strictly (" + std::to_string(v[k - 1]) + " then " +
                                                 std::to_string(v[k]) + ")");
    }
  }
}

json variable_json(const Variable& v) {
  return json{{"name", v.name}, {"unit", v.unit}, {"min", number_json(v.min)}, {"max", number_json(v.max)}};
}

Variable variable_from(const json& j, const std::string& p) {
  return Variable{text(member(j, p, "name"), p + "/name"), text(member(j, p, "unit"), p + "/unit"),
                  number(member(j, p, "min"), p + "/min"), number(member(j, p, "max"), p + "/max")};
}

// The quality's real numbers by their keys in the file (NaN written as null).
constexpr std::pair<const char*, double FitQuality::*> kQualityNumbers[] = {
    {"rms_residual", &FitQuality::rms_residual},
    {"max_abs_residual", &FitQuality::max_abs_residual},
    {"r_squared", &FitQuality::r_squared},
    {"cv_rms_residual", &FitQuality::cv_rms_residual}};

json quality_json(const FitQuality& q) {
  json j{{"points_used", q.points_used}, {"points_excluded", q.points_excluded}, {"cv_folds", q.cv_folds}};
  for (const auto& [key, field] : kQualityNumbers) j[key] = number_json(q.*field);
  j["cv_fold_rule"] = "point p (in input order, non-finite points dropped) is in fold p % cv_folds";
  return j;
}

FitQuality quality_from(const json& j, const std::string& p) {
  FitQuality q;
  q.points_used = static_cast<std::size_t>(integer(member(j, p, "points_used"), p + "/points_used"));
  q.points_excluded = static_cast<std::size_t>(integer(member(j, p, "points_excluded"), p + "/points_excluded"));
  for (const auto& [key, field] : kQualityNumbers) q.*field = number(member(j, p, key), p + "/" + key);
  q.cv_folds = integer(member(j, p, "cv_folds"), p + "/cv_folds");
  return q;
}

json rank_json(const RankInfo& r) {
  json ident = json::array();
  for (const auto& row : r.identified) ident.push_back(row);
  return json{{"rank", r.rank},
              {"unknowns", r.unknowns},
              {"singular_values", r.singular_values},
              {"identified_combinations", ident}};
}

std::vector<double> numbers(const json& j, const std::string& p) {
  std::vector<double> out;
  for (std::size_t k = 0; k < array(j, p).size(); ++k) out.push_back(number(j[k], p + "/" + std::to_string(k)));
  return out;
}

RankInfo rank_from(const json& j, const std::string& p) {
  RankInfo r;
  r.rank = integer(member(j, p, "rank"), p + "/rank");
  r.unknowns = integer(member(j, p, "unknowns"), p + "/unknowns");
  r.singular_values = numbers(member(j, p, "singular_values"), p + "/singular_values");
  const json& ident = array(member(j, p, "identified_combinations"), p + "/identified_combinations");
  for (std::size_t k = 0; k < ident.size(); ++k) {
    r.identified.push_back(numbers(ident[k], p + "/identified_combinations/" + std::to_string(k)));
  }
  return r;
}

json coefficient(const std::string& name, double value) { return json{{"name", name}, {"value", number_json(value)}}; }

// Reads the coefficient list and checks the names against `names`.
std::vector<double> coefficients_from(const json& j, const std::vector<std::string>& names) {
  const json& list = array(member(j, "", "coefficients"), "/coefficients");
  if (list.size() != names.size()) {
    bad("/coefficients", "expected " + std::to_string(names.size()) + " coefficients, found " +
                             std::to_string(list.size()));
  }
  std::vector<double> out;
  for (std::size_t k = 0; k < list.size(); ++k) {
    const std::string p = "/coefficients/" + std::to_string(k);
    const std::string name = text(member(list[k], p, "name"), p + "/name");
    if (name != names[k]) bad(p + "/name", "expected \"" + names[k] + "\", found \"" + name + "\"");
    out.push_back(number(member(list[k], p, "value"), p + "/value"));
  }
  return out;
}

// The kind's own parts of the document: coefficients, parameters and the
// rank of a linear fit.
void write_kind(const PaperPolyModel& m, json& j) {
  j["parameters"] = json{{"offset_v", m.offset_v()}, {"vin_v", m.vin_v()}};
  for (int k = 0; k < PaperPolyModel::kCoefficients; ++k) {
    j["coefficients"].push_back(coefficient(PaperPolyModel::coefficient_name(k), m.coefficients()[static_cast<std::size_t>(k)]));
  }
  json collapsed = json::array();
  const auto a = m.collapsed();
  for (std::size_t i = 0; i < a.size(); ++i) collapsed.push_back(coefficient("a_" + std::to_string(i), a[i]));
  j["collapsed_at_vin"] = collapsed;
  j["rank"] = rank_json(m.rank_info());
  if (!m.note().empty()) j["note"] = m.note();
}

void write_kind(const PolyModel& m, json& j) {
  j["parameters"] = json{{"degree", m.degree()}, {"centers", m.centers()}, {"half_ranges", m.half_ranges()}};
  for (std::size_t k = 0; k < m.coefficients().size(); ++k) {
    j["coefficients"].push_back(coefficient(m.coefficient_name(k), m.coefficients()[k]));
  }
  j["rank"] = rank_json(m.rank_info());
}

void write_kind(const ExpDecayModel& m, json& j) {
  j["coefficients"] = json::array({coefficient("tau_s", m.tau_s()), coefficient("v_inf_v", m.v_inf_v()),
                                   coefficient("v0_v", m.v0_v())});
}

void write_kind(const HardSigmoidModel& m, json& j) {
  j["coefficients"] = json::array({coefficient("x0", m.x0()), coefficient("x_sat", m.x_sat()),
                                   coefficient("y_low", m.y_low()), coefficient("y_sat", m.y_sat())});
}

void write_kind(const LutModel& m, json& j) {
  json grids = json::array();
  for (const auto& g : m.grids()) {
    json axis = json::array();
    for (double v : g) axis.push_back(number_json(v));
    grids.push_back(axis);
  }
  json values = json::array();
  for (double v : m.values()) values.push_back(number_json(v));
  j["parameters"] = json{{"interpolation", LutModel::interpolation_name(m.interpolation())},
                         {"grids", grids},
                         {"values", values},
                         {"layout", "values row-major over the grids, the last input varying fastest"}};
}

// The parts every kind has: inputs, output, quality, policy, provenance.
ModelInfo info_from(const json& j) {
  ModelInfo info;
  const json& inputs = array(member(j, "", "inputs"), "/inputs");
  for (std::size_t k = 0; k < inputs.size(); ++k) info.inputs.push_back(variable_from(inputs[k], "/inputs/" + std::to_string(k)));
  info.output = variable_from(member(j, "", "output"), "/output");
  info.quality = quality_from(member(j, "", "quality"), "/quality");
  const std::string policy = text(member(j, "", "out_of_range"), "/out_of_range");
  if (policy == "clamp") {
    info.out_of_range = OutOfRange::kClamp;
  } else if (policy == "error") {
    info.out_of_range = OutOfRange::kError;
  } else {
    bad("/out_of_range", "expected \"clamp\" or \"error\", found \"" + policy + "\"");
  }
  info.provenance = member(j, "", "provenance");
  if (!info.provenance.is_object()) bad("/provenance", std::string("expected an object, found ") + info.provenance.type_name());
  return info;
}

void expect_inputs(const ModelInfo& info, const std::string& kind, std::size_t lo, std::size_t hi) {
  if (info.inputs.size() < lo || info.inputs.size() > hi) {
    bad("/inputs", "a " + kind + " model takes " + std::to_string(lo) + (hi != lo ? " or " + std::to_string(hi) : "") +
                       " inputs, found " + std::to_string(info.inputs.size()));
  }
}

double parameter(const json& parameters, const char* key) {
  return number(member(parameters, "/parameters", key), std::string("/parameters/") + key);
}

std::vector<double> parameter_list(const json& parameters, const char* key) {
  return numbers(member(parameters, "/parameters", key), std::string("/parameters/") + key);
}

PaperPolyModel paper_poly_from(const json& j, const json& parameters, ModelInfo info) {
  expect_inputs(info, "paper_poly", 2, 3);
  std::vector<std::string> names;
  for (int k = 0; k < PaperPolyModel::kCoefficients; ++k) names.push_back(PaperPolyModel::coefficient_name(k));
  const std::vector<double> c = coefficients_from(j, names);
  PaperPolyModel::Coefficients arr{};
  std::copy(c.begin(), c.end(), arr.begin());
  return PaperPolyModel(std::move(info), arr, parameter(parameters, "offset_v"), parameter(parameters, "vin_v"),
                        rank_from(member(j, "", "rank"), "/rank"));
}

// Centres finite, half ranges finite and > 0, one of each per input.
void check_scaling(const std::vector<double>& centers, const std::vector<double>& half, std::size_t n_inputs) {
  if (centers.size() != n_inputs || half.size() != n_inputs) {
    bad("/parameters", "centers and half_ranges need one entry per input (" + std::to_string(n_inputs) + ")");
  }
  for (std::size_t d = 0; d < half.size(); ++d) {
    if (!std::isfinite(centers[d])) bad("/parameters/centers/" + std::to_string(d), "expected a finite number");
    if (!(std::isfinite(half[d]) && half[d] > 0)) {
      bad("/parameters/half_ranges/" + std::to_string(d), "expected a finite number > 0 (inputs are scaled by it)");
    }
  }
}

PolyModel poly_from(const json& j, const json& parameters, ModelInfo info) {
  expect_inputs(info, "poly", 1, 16);
  const int degree = integer(member(parameters, "/parameters", "degree"), "/parameters/degree");
  if (degree < 0 || degree > PolyModel::kMaxDegree) bad("/parameters/degree", "expected 0..5, found " + std::to_string(degree));
  std::vector<double> centers = parameter_list(parameters, "centers");
  std::vector<double> half = parameter_list(parameters, "half_ranges");
  check_scaling(centers, half, info.inputs.size());
  // Coefficient names depend on the input names: build them with a model shell.
  PolyModel shell(info, degree, centers, half, {}, {});
  std::vector<std::string> names;
  for (std::size_t k = 0; k < PolyModel::monomials(info.inputs.size(), degree).size(); ++k) {
    names.push_back(shell.coefficient_name(k));
  }
  std::vector<double> c = coefficients_from(j, names);
  return PolyModel(std::move(info), degree, std::move(centers), std::move(half), std::move(c),
                   rank_from(member(j, "", "rank"), "/rank"));
}

ExpDecayModel exp_decay_from(const json& j, ModelInfo info) {
  expect_inputs(info, "exp_decay", 1, 1);
  const std::vector<double> c = coefficients_from(j, {"tau_s", "v_inf_v", "v0_v"});
  if (!(std::isfinite(c[0]) && c[0] > 0)) bad("/coefficients/tau_s", "expected a finite time constant > 0 s");
  return ExpDecayModel(std::move(info), c[0], c[1], c[2]);
}

HardSigmoidModel hard_sigmoid_from(const json& j, ModelInfo info) {
  expect_inputs(info, "hard_sigmoid", 1, 1);
  const std::vector<double> c = coefficients_from(j, {"x0", "x_sat", "y_low", "y_sat"});
  if (!(std::isfinite(c[0]) && std::isfinite(c[1]) && c[1] > c[0])) {
    bad("/coefficients", "expected finite x0 < x_sat (the ramp between them)");
  }
  return HardSigmoidModel(std::move(info), c[0], c[1], c[2], c[3]);
}

// One strictly increasing grid per input, at most limits::kMaxListValues points in all.
std::vector<std::vector<double>> lut_grids(const json& parameters, std::size_t n_inputs, std::size_t& product) {
  const json& g = array(member(parameters, "/parameters", "grids"), "/parameters/grids");
  if (g.size() != n_inputs) bad("/parameters/grids", "expected one grid per input");
  std::vector<std::vector<double>> grids;
  product = 1;
  for (std::size_t d = 0; d < g.size(); ++d) {
    grids.push_back(numbers(g[d], "/parameters/grids/" + std::to_string(d)));
    if (grids.back().size() < 2) bad("/parameters/grids/" + std::to_string(d), "a grid needs >= 2 values");
    check_increasing(grids.back(), "/parameters/grids/" + std::to_string(d));
    if (grids.back().size() > limits::kMaxListValues / product) {
      bad("/parameters/grids", "more than " + std::to_string(limits::kMaxListValues) + " grid points (limits::kMaxListValues)");
    }
    product *= grids.back().size();
  }
  return grids;
}

LutModel lut_from(const json& parameters, ModelInfo info) {
  expect_inputs(info, "lut", 1, 8);
  const std::string interp = text(member(parameters, "/parameters", "interpolation"), "/parameters/interpolation");
  if (interp != "linear" && interp != "cubic") {
    bad("/parameters/interpolation", "expected \"linear\" or \"cubic\", found \"" + interp + "\"");
  }
  std::size_t product = 1;
  std::vector<std::vector<double>> grids = lut_grids(parameters, info.inputs.size(), product);
  std::vector<double> values = parameter_list(parameters, "values");
  if (values.size() != product) {
    bad("/parameters/values", "expected " + std::to_string(product) + " values (the grid's size), found " +
                                  std::to_string(values.size()));
  }
  return LutModel(std::move(info), std::move(grids), std::move(values),
                  interp == "cubic" ? LutModel::Interpolation::kCubic : LutModel::Interpolation::kLinear);
}

}  // namespace

std::string kind_name(const Model& model) {
  static const char* const kNames[] = {"paper_poly", "poly", "exp_decay", "hard_sigmoid", "lut"};
  return kNames[model.index()];
}

const ModelInfo& info_of(const Model& model) {
  return std::visit([](const auto& m) -> const ModelInfo& { return m.info(); }, model);
}

ModelInfo& info_of(Model& model) {
  return std::visit([](auto& m) -> ModelInfo& { return m.info(); }, model);
}

json to_json(const Model& model) {
  const ModelInfo& info = info_of(model);
  json j;
  j["format"] = kModelFormat;
  j["kind"] = kind_name(model);
  j["inputs"] = json::array();
  for (const Variable& v : info.inputs) j["inputs"].push_back(variable_json(v));
  j["output"] = variable_json(info.output);
  j["parameters"] = json::object();
  j["coefficients"] = json::array();
  std::visit([&](const auto& m) { write_kind(m, j); }, model);
  j["quality"] = quality_json(info.quality);
  j["out_of_range"] = info.out_of_range == OutOfRange::kClamp ? "clamp" : "error";
  j["provenance"] = info.provenance;
  return j;
}

Model model_from_json(const json& j) {
  const std::string format = text(member(j, "", "format"), "/format");
  if (format != kModelFormat) {
    bad("/format", "expected \"" + std::string(kModelFormat) + "\", found \"" + format + "\"");
  }
  const std::string kind = text(member(j, "", "kind"), "/kind");
  ModelInfo info = info_from(j);
  const json& parameters = member(j, "", "parameters");
  if (kind == "paper_poly") return paper_poly_from(j, parameters, std::move(info));
  if (kind == "poly") return poly_from(j, parameters, std::move(info));
  if (kind == "exp_decay") return exp_decay_from(j, std::move(info));
  if (kind == "hard_sigmoid") return hard_sigmoid_from(j, std::move(info));
  if (kind == "lut") return lut_from(parameters, std::move(info));
  bad("/kind", "unknown kind \"" + kind + "\"; expected paper_poly, poly, exp_decay, hard_sigmoid or lut");
}

Model load_model_file(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  const json j = parse_json_text(text, path.string(), "GC-1608");
  try {
    return model_from_json(j);
  } catch (const InputError& e) {
    throw e.in_file(path.string(), text);
  }
}

void save_model_file(const std::filesystem::path& path, const Model& model) {
  write_text_file(path, to_json(model).dump(1) + "\n");
}

double evaluate(const Model& model, std::span<const double> inputs, const WarningSink& warn) {
  return std::visit([&](const auto& m) { return m.evaluate(inputs, warn); }, model);
}

}  // namespace gaincell::fit
