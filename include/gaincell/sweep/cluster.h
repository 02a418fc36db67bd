// SPDX-License-Identifier: MIT
// File: gaincell/sweep/cluster.h
//
// Cluster scale (docs/cluster.md): merging shard files, the state of a
// sharded run from its files, and a run-time estimate from a short probe.
// The Slurm job scripts and their submission: sweep/slurm.h.
//
//   RunEstimate e = estimate_run(spec, /*probe=*/4, /*jobs=*/8);
//   MergeSummary m = merge_shards({"shard-0.h5", "shard-1.h5"}, "merged.h5", reporter);
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/core/reporter.h"
#include "gaincell/spice/outcome.h"
#include "gaincell/sweep/spec.h"

namespace gaincell::sweep {

struct MergeSummary {
  std::size_t points = 0;
  std::size_t shards = 0;
  std::map<spice::SimOutcome, std::size_t> outcomes;
  std::vector<std::size_t> failed_points;  // the first 20
};

// Checks that the shard files come from the same spec, netlists and gaincell
// build, that each shard of the layout is there once and complete, and that
// every point is present exactly once; then writes one results file equal in
// values to an unsharded run. Throws InputError GC-1806 (mismatch, duplicate
// shard) or GC-1807 (missing or incomplete shards / points, listed).
MergeSummary merge_shards(const std::vector<std::filesystem::path>& shards, const std::filesystem::path& output,
                          Reporter& reporter);

struct ShardState {
  std::size_t index = 0;
  std::filesystem::path file;
  std::string state;  // "done", "running or interrupted", "not started"
  std::size_t points = 0, ok = 0, failed = 0, pending = 0;
};

// The state of a `gaincell slurm` directory, from its manifest and files.
// Throws InputError GC-1808 if DIR has no slurm.json.
std::vector<ShardState> shard_status(const std::filesystem::path& dir, nlohmann::json* manifest = nullptr);

// The shards of a `gaincell slurm` directory that have no complete shard file
// (from shard_status): what `gaincell slurm --resubmit-failed` submits again.
std::vector<std::size_t> unfinished_shards(const std::vector<ShardState>& states);

// "3, 5, 8" or, past `max` items, "3, 5, ... (40 in all)".
std::string short_list(const std::vector<std::size_t>& items, std::size_t max = 20);

// The run time of a sweep, estimated from a few of its points (`gaincell plan`).
struct RunEstimate {
  std::size_t points = 0;        // of the whole sweep
  std::size_t probed = 0;        // points simulated for the estimate
  std::size_t probe_failed = 0;  // of those, points that failed
  double per_point_s = 0.0;      // mean wall time of a probed point with one worker; 0: none probed
  int jobs = 1;                  // workers per machine (and per shard) the times assume
  double cpu_s() const { return per_point_s * static_cast<double>(points); }
  double machine_s() const { return cpu_s() / jobs; }
  // Shards of about an hour each at `jobs` workers; 1 if nothing was probed.
  std::size_t suggested_shards() const;
  // A shard of `shard_points` points at `jobs` workers.
  double shard_s(std::size_t shard_points) const { return per_point_s * static_cast<double>(shard_points) / jobs; }
};

// Simulates min(probe, points) points spread evenly over the sweep (none if
// probe is 0) with one worker, and times them. `jobs` = 0: the cores here.
RunEstimate estimate_run(const SweepSpec& spec, std::size_t probe, int jobs);

}  // namespace gaincell::sweep
