// SPDX-License-Identifier: MIT
// File: gaincell/sweep/cluster.h
//
// Cluster scale (docs/cluster.md): merging shard files, the state of a
// sharded run from its files, a run-time probe, and Slurm job scripts.
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

struct SlurmOptions {
  std::size_t shards = 4;
  std::filesystem::path dir;
  std::string partition, time, mem, account;
  int cpus_per_task = 2;
  std::vector<std::string> extra;       // further #SBATCH lines, e.g. "--qos=short"
  std::string dependency = "afterok";   // or "afterany"
  std::string output_name = "merged.h5";
};

// Writes DIR/shards.sbatch, DIR/merge.sbatch, DIR/slurm.json; returns the
// manifest. Paths in the scripts are absolute.
nlohmann::json write_slurm_job(const SweepSpec& spec, const std::filesystem::path& spec_file, const SlurmOptions& options);

}  // namespace gaincell::sweep
