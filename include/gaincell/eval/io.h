// SPDX-License-Identifier: MIT
// File: gaincell/eval/io.h
//
// HDF5 input and output of the evaluator (docs/evaluator.md, "files").
// Input: datasets Q, K, V (any float type) shaped [batch, head, token, dim]
// or [batch, token, dim]. Output (`gaincell-eval/1`): `output` (float32,
// Q's shape), optionally `S` and `phi` [batch, (head,) query, key]; root
// attributes: format, versions, mode, the whole configuration as JSON, the
// cell mapping, input file and its SHA-256, time spent.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "gaincell/eval/evaluator.h"

namespace gaincell::eval {

inline constexpr const char* kEvalFormat = "gaincell-eval/1";

// Reads one dataset as float32. Throws IoError for an unreadable file,
// InputError GC-1711 for a missing dataset (listing the ones present).
Tensor read_tensor(const std::filesystem::path& file, const std::string& name);

// Writes a tensor file with the given datasets (used for samples and tests).
void write_tensors(const std::filesystem::path& file, const std::vector<std::pair<std::string, const Tensor*>>& tensors);

// Writes OUT.partial then renames it to OUT. `meta` is stored as the root
// attribute "run" (JSON text).
void write_eval_results(const std::filesystem::path& file, const EvalResult& result, const Evaluator& evaluator,
                        const nlohmann::json& meta);

nlohmann::json cell_json(const CellMapping& cell);

}  // namespace gaincell::eval
