// SPDX-License-Identifier: MIT
// File: gaincell/eval/calibrate.h
//
// The authors' adaptation ("calibration") loop (docs/calibration.md,
// reference-simulator.md §7): per head, the q, k, v and output scalers
// y = a x + b are adjusted until the std and mean of each scaler's output
// match target statistics (recorded from a reference configuration, the
// linear model, or read from a JSON file):
//
//   a <- alpha (a target_std / std) + (1 - alpha) a      (when |std error| > tol and std != 0)
//   b <- alpha (b + target_mean - mean) + (1 - alpha) b  (when |mean error| > tol)
//
// alpha = 1.0 -> 0.1 linearly over the first 50 iterations, then 0.1; stop
// when no error exceeds 1e-4, or after 100 updates (not converged).
//
//   ScalerStats targets = record_stats(preset("linear"), q, k, v);
//   CalibrationResult r = calibrate(preset("reference"), q, k, v, targets);
//   write_scalers_file("scalers.json", r);   // gaincell eval --config scalers.json
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/eval/config.h"
#include "gaincell/eval/evaluator.h"

namespace gaincell::eval {

inline constexpr const char* kScalersFormat = "gaincell-scalers";
inline constexpr const char* kTargetsFormat = "gaincell-calibration-targets";
inline constexpr int kCalibrationFormatVersion = 1;

// The four scalers, in this order everywhere.
enum class Which { kQ = 0, kK = 1, kV = 2, kOut = 3 };
inline constexpr std::array<const char*, 4> kScalerNames = {"scaler_q", "scaler_k", "scaler_v", "scaler_out"};

// Per scaler, per head: the mean and unbiased std of the scaler's output
// (a x + b, before the clamp) over every dimension but the head.
struct ScalerStats {
  std::array<std::vector<double>, 4> mean;
  std::array<std::vector<double>, 4> std;
  std::size_t heads() const { return mean[0].size(); }
};

struct CalibrationOptions {
  int max_iterations = 100;        // updates before giving up
  int damping_iterations = 50;     // alpha from alpha_start to alpha_end over these
  double alpha_start = 1.0;
  double alpha_end = 0.1;
  double tolerance = 1e-4;         // |std error| and |mean error|
};

// alpha of update k (0-based): linspace(start, end, n)[k] for k < n, then end.
double damping_alpha(const CalibrationOptions& options, int k);

// One update of every (scaler, head) from measured statistics, in place.
void update_scalers(std::array<Scaler, 4>& scalers, const ScalerStats& measured, const ScalerStats& targets,
                    double alpha, double tolerance);

// The worst error of a measurement against the targets.
struct WorstError {
  Which scaler = Which::kQ;
  std::size_t head = 0;
  bool is_std = true;
  double error = 0.0;  // |measured - target|
  double measured = 0.0, target = 0.0;
};
WorstError worst_error(const ScalerStats& measured, const ScalerStats& targets);

struct CalibrationResult {
  std::array<Scaler, 4> scalers;  // per head, a and b lists of `heads` values
  bool converged = false;
  int iterations = 0;             // updates made
  WorstError worst;               // at the last measurement
  ScalerStats targets, final_stats;
  // A sentence: "converged after N iterations (largest error ...)" or
  // "not converged after 100 iterations: largest error ... (scaler_out head 2 std ...)".
  std::string summary() const;
};

// Measures the statistics of the scalers given (scalers[i] has one value or
// one per head).
using Measure = std::function<ScalerStats(const std::array<Scaler, 4>& scalers)>;
// Called after each measurement: (iteration, alpha of the coming update, worst error).
using CalibrationProgress = std::function<void(int iteration, double alpha, const WorstError& worst)>;

// `config` with its four scalers replaced (q, k, v, out, in this order).
EvalConfig with_scalers(EvalConfig config, const std::array<Scaler, 4>& scalers);

// The loop on any measurement; `initial` is expanded to one value per head.
// Throws InputError GC-1730 when targets and measurements disagree in heads.
CalibrationResult calibrate_loop(const Measure& measure, std::array<Scaler, 4> initial, const ScalerStats& targets,
                                 const CalibrationOptions& options = {}, const CalibrationProgress& progress = {});

// The statistics of a configuration's scalers on Q, K, V [B, H, T, D]: the
// q, k, v scaler outputs, and the attention output (a forward pass) as the
// output scaler sees it. Throws as Evaluator does, GC-1731 for rank-3 inputs.
// With `output`, the forward pass's output is kept there.
ScalerStats record_stats(const EvalConfig& config, const Tensor& q, const Tensor& k, const Tensor& v,
                         Tensor* output = nullptr);

// The loop on the evaluator: config's scalers start at a = 1, b = 0 (the
// authors' initialisation), or at config's own with from_config.
CalibrationResult calibrate(const EvalConfig& config, const Tensor& q, const Tensor& k, const Tensor& v,
                            const ScalerStats& targets, const CalibrationOptions& options = {},
                            const CalibrationProgress& progress = {}, bool from_config = false);

// Targets file (format gaincell-calibration-targets, version 1). Throws
// IoError, GC-1732 (not JSON), GC-1733 (wrong format, version or shape).
ScalerStats read_targets_file(const std::filesystem::path& file);
nlohmann::json targets_json(const ScalerStats& stats);
// Scalers file (format gaincell-scalers, version 1): the four scaler keys of
// an evaluator configuration plus "format", "version" and "calibration".
nlohmann::json scalers_json(const CalibrationResult& result);
void write_scalers_file(const std::filesystem::path& file, const CalibrationResult& result);

}  // namespace gaincell::eval
