// SPDX-License-Identifier: MIT
// File: gaincell/fit/model_file.h
//
// The model file: a versioned JSON document, format "gaincell-model/1", that
// holds one fitted model of any kind with its inputs (name, unit, valid
// min/max from the data), output, named coefficients, fit quality, rank
// information of linear fits, free-form provenance and the out-of-range
// policy evaluate applies. docs/fitting.md ("Model file format") shows a full
// example. Doubles are written with round-trip precision; NaN is written as
// null and read back as NaN.
//
//   Model m = PolyModel::fit(data, {});
//   std::get<PolyModel>(m).info().provenance["source_sha256"] = sha;
//   nlohmann::json j = to_json(m);
//   Model back = model_from_json(j);
//   double y = evaluate(back, std::vector<double>{0.3, 0.6});
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "gaincell/fit/models.h"

namespace gaincell::fit {

inline constexpr const char* kModelFormat = "gaincell-model/1";

using Model = std::variant<PaperPolyModel, PolyModel, ExpDecayModel, HardSigmoidModel, LutModel>;

// "paper_poly", "poly", "exp_decay", "hard_sigmoid" or "lut".
std::string kind_name(const Model& model);
const ModelInfo& info_of(const Model& model);
ModelInfo& info_of(Model& model);

// Serializes any model. Never throws for a fitted model.
nlohmann::json to_json(const Model& model);

// Reads a model file document. Throws InputError GC-1608 naming the JSON
// Pointer of the first problem: wrong or missing "format", unknown "kind",
// missing or mistyped keys, wrong coefficient count or names.
Model model_from_json(const nlohmann::json& j);
// Reads a model file: errors (GC-1608, also for text that is not JSON, with
// its line and column) name the file. The one reader of model files: the
// CLI, the evaluator and the Python module all load through it.
Model load_model_file(const std::filesystem::path& path);
// Writes to_json(model) as a model file (one-space indent, final newline)
// through write_text_file: GC-1812 for a path that is not a regular file,
// IoError when it cannot be written.
void save_model_file(const std::filesystem::path& path, const Model& model);

// Evaluates any model; see the kinds' evaluate (GC-1609, GC-1610).
double evaluate(const Model& model, std::span<const double> inputs, const WarningSink& warn = {});

}  // namespace gaincell::fit
