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
  // Requeue: `#SBATCH --requeue` and `--signal=B:USR1@<signal_lead_s>`; the
  // script stops the shard on SIGUSR1 (its journal kept) and requeues the task
  // itself, at most `max_requeues` times (counted by SLURM_RESTART_COUNT).
  bool requeue = false;
  int signal_lead_s = 120;
  int max_requeues = 5;
  // Array tasks allowed to run at once per array job (`--array=...%N`); 0 = no limit.
  std::size_t max_running = 0;
  // The cluster's MaxArraySize (task ids < it); 0 = not known when writing
  // (the `#SBATCH --array` line is then written only if Slurm's default, 1001, holds it).
  std::size_t max_array_size = 0;
};

// Slurm's default MaxArraySize (slurm.conf), and the most it allows.
inline constexpr std::size_t kSlurmDefaultMaxArraySize = 1001;
inline constexpr std::size_t kSlurmMaxMaxArraySize = 4000001;

// Writes DIR/shards.sbatch, DIR/merge.sbatch, DIR/slurm.json; returns the
// manifest. Paths in the scripts are absolute. shards.sbatch takes the shard
// offset of its array job as its first argument (default 0): task t runs shard
// offset + t.
nlohmann::json write_slurm_job(const SweepSpec& spec, const std::filesystem::path& spec_file, const SlurmOptions& options);

// One `sbatch --array=<spec> shards.sbatch <offset>` submission.
struct ArraySubmission {
  std::size_t offset = 0;              // shard = offset + task id
  std::vector<std::size_t> shards;     // the shards it runs, ascending
  std::string array;                   // "0-99%8", "1,4-6"
};

// Lays out shards (any subset, any order) as array jobs whose task ids stay
// below max_array_size: shard s goes to the array with offset
// (s / max_array_size) * max_array_size, as task s - offset; consecutive task
// ids become ranges; max_running > 0 appends "%max_running" (a per-array-job
// throttle). Throws InputError GC-1814 if max_array_size is 0.
std::vector<ArraySubmission> plan_arrays(std::vector<std::size_t> shards, std::size_t max_array_size,
                                         std::size_t max_running);

// MaxArraySize from the text of `scontrol show config`. Throws InputError
// GC-1814 if the line is missing or not a count in [1, 4000001].
std::size_t parse_max_array_size(const std::string& scontrol_show_config);

// The shards of a `gaincell slurm` directory that have no complete shard file
// (from shard_status): what `gaincell slurm --resubmit-failed` submits again.
std::vector<std::size_t> unfinished_shards(const std::vector<ShardState>& states);

}  // namespace gaincell::sweep
