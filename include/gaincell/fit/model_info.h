// SPDX-License-Identifier: MIT
// File: gaincell/fit/model_info.h
//
// What every model kind shares: the data a fit takes (named input columns and
// one output column), the description a fitted model carries (its variables
// with the ranges seen in the data, quality, provenance, out-of-range
// policy) and the options common to all fits. Units are whatever the columns
// say; names should carry them (`t_s`).
//
//   FitData data{{{"t_s", "s", t}}, {"v_sn_v", "V", v}};
//   ExpDecayModel m = ExpDecayModel::fit(data, {});
//   const ModelInfo& info = m.info();  // info.inputs[0].min, info.quality.r_squared
#pragma once

#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/fit/fit_quality.h"

namespace gaincell::fit {

// A data column: name (with unit suffix, by convention), unit, values.
struct Column {
  std::string name;
  std::string unit;
  std::vector<double> values;
};

// Inputs and output, all columns of equal length; point p is row p.
struct FitData {
  std::vector<Column> inputs;
  Column output;
};

// A model variable and its valid range: the min/max of the finite data it
// was fitted on (for the output: of the observed values).
struct Variable {
  std::string name;
  std::string unit;
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
};

// What evaluate does with an input outside [min, max] of its Variable:
// kClamp clamps it and reports a warning through the WarningSink (if any);
// kError throws InputError GC-1609.
enum class OutOfRange { kClamp, kError };

using WarningSink = std::function<void(const std::string& message)>;

struct ModelInfo {
  std::vector<Variable> inputs;
  Variable output;
  FitQuality quality;
  OutOfRange out_of_range = OutOfRange::kClamp;
  nlohmann::json provenance = nlohmann::json::object();  // free-form; the caller fills it
};

// Rank information of a linear fit. `identified` rows are an orthonormal
// basis of the combinations of coefficients that the data determine.
struct RankInfo {
  int rank = 0;
  int unknowns = 0;
  std::vector<double> singular_values;          // column-scaled design matrix, descending
  std::vector<std::vector<double>> identified;  // rank rows of `unknowns` entries
};

// The base of every model kind: its ModelInfo and the way to it, info().
class ModelWithInfo {
 public:
  const ModelInfo& info() const { return info_; }
  ModelInfo& info() { return info_; }

 protected:
  ModelWithInfo() = default;
  explicit ModelWithInfo(ModelInfo info) : info_(std::move(info)) {}
  ModelInfo info_;
};

struct FitOptions {
  int cv_folds = 5;             // k of the k-fold CV; 0 or 1 = none; must be >= 0
  double rank_rtol = 1e-10;     // see LeastSquaresOptions
  bool allow_rank_deficient = false;
};

}  // namespace gaincell::fit
