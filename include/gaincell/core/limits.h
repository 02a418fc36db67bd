// SPDX-License-Identifier: MIT
// File: gaincell/core/limits.h
//
// The documented limits of gaincell (docs/cli.md, "Limits"): sizes beyond
// them are refused, naming the limit, before anything is allocated or run.
// Each is far above any use we know of; raising one is a one-line change.
#pragma once

#include <cstddef>

namespace gaincell::limits {

// Points of one sweep (the product of its axes' lengths).
inline constexpr std::size_t kMaxPoints = 10'000'000;
// Values of one list (a linspace/logspace count, trace sample times).
inline constexpr std::size_t kMaxListValues = 10'000'000;
// Samples of one trace measure, per point.
inline constexpr std::size_t kMaxTraceSamples = 100'000;
// A per-point (or tile) time budget, s: about 11.6 days.
inline constexpr double kMaxTimeout_s = 1e6;
// Worker processes of a sweep, or threads of the evaluator.
inline constexpr int kMaxJobs = 256;
// Shards of one sweep (gaincell sweep --shard i/N, gaincell slurm --shards).
inline constexpr std::size_t kMaxShards = 100'000;
// Time points of one transient: (stop - start) / step, and / max_step.
inline constexpr double kMaxTranSteps = 1e8;
// Values of one evaluator input (Q, K or V): 4 GB of float32.
inline constexpr std::size_t kMaxTensorElements = 1'000'000'000;
// Points a worker runs before it is replaced (--recycle).
inline constexpr std::size_t kMaxRecycle = 1'000'000'000;
// Nesting depth of a JSON file (specs, cards, configurations, model files).
inline constexpr int kMaxJsonDepth = 128;

}  // namespace gaincell::limits
