// SPDX-License-Identifier: MIT
// File: gaincell/sweep/slurm.h
//
// Slurm job arrays for a sharded sweep (docs/cluster.md): the job scripts of
// a `gaincell slurm` directory, the layout of its shards as array jobs below
// the cluster's MaxArraySize, and their submission with Slurm's own clients
// (sbatch, squeue, scancel, scontrol on PATH), including resubmitting only
// the shards that did not finish.
//
//   SlurmOptions o;  o.shards = 8;  o.dir = "/scratch/gc3t";
//   o.max_array_size = cluster_max_array_size(0, /*required=*/true);
//   SlurmLayout job = lay_out_slurm_job(spec, "gc3t_corners.json", o);
//   nlohmann::json ids = submit_slurm_job(job, o.dependency);
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/sweep/spec.h"

namespace gaincell::sweep {

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
// offset + t. Throws InputError GC-1809 for invalid options.
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

// The cluster's MaxArraySize: `given` if > 0, else from `scontrol show
// config`. When Slurm cannot be asked: InputError GC-1814 if `required`, else
// 0 (writing scripts off the cluster).
std::size_t cluster_max_array_size(std::size_t given, bool required);

// A `gaincell slurm` directory as written: its manifest and the array jobs
// that run its shards.
struct SlurmLayout {
  std::filesystem::path dir;           // absolute
  nlohmann::json manifest;             // as in DIR/slurm.json
  std::size_t max_array_size = 0;      // the arrays' limit: the cluster's, or Slurm's default
  bool max_array_size_known = false;   // false: Slurm's default was assumed
  std::vector<ArraySubmission> arrays;
};

// Writes the scripts (write_slurm_job) and lays every shard out as array jobs
// below options.max_array_size (Slurm's default if 0); slurm.json records it.
SlurmLayout lay_out_slurm_job(const SweepSpec& spec, const std::filesystem::path& spec_file, const SlurmOptions& options);

// Submits the arrays of `arrays` (DIR/shards.sbatch with each one's offset)
// and DIR/merge.sbatch depending on them with `dependency` (no arrays: the
// merge alone). Returns {"arrays": [{job_id, offset, array, shards}...],
// "merge_job_id": id}. Throws IoError if sbatch fails, naming the jobs
// already submitted.
nlohmann::json submit_arrays(const std::filesystem::path& dir, const std::vector<ArraySubmission>& arrays,
                             const std::string& dependency);

// Submits a laid-out job (submit_arrays) and records the job ids in slurm.json.
nlohmann::json submit_slurm_job(SlurmLayout& layout, const std::string& dependency);

// "123 (--array=0-3), 124 (--array=0-1, shard offset 4)": the arrays of a record of submit_arrays.
std::string describe_arrays(const nlohmann::json& record);

// What `gaincell slurm --resubmit-failed DIR` submits again: the shards of DIR
// without a complete shard file, and a new merge.
struct Resubmission {
  std::filesystem::path dir;            // absolute
  nlohmann::json manifest;
  std::size_t shard_count = 0;
  std::vector<std::size_t> shards;      // to run again, ascending
  std::string dependency;               // of the merge, as first submitted
  std::filesystem::path merged;         // the merged file
  std::vector<std::string> merge_jobs;  // merge jobs submitted before
  bool nothing_to_do = false;           // every shard done and merged
};

// Reads DIR and checks it may be resubmitted: GC-1808 (no slurm.json),
// GC-1816 (a script missing), GC-1817 (the spec changed since), GC-1815 (tasks
// of its arrays still queued). Needs squeue.
Resubmission plan_resubmission(const std::filesystem::path& dir);

// Cancels the earlier merge jobs still pending (they wait for arrays that can
// no longer succeed); returns their ids. GC-1815 if one is not pending.
std::vector<std::string> cancel_pending_merges(const Resubmission& resubmission);

// Submits the shards again as arrays (throttled by `max_running`, else as
// first submitted; below the cluster's MaxArraySize, `max_array_size` if > 0)
// and a new merge; appends the record to slurm.json's "resubmissions".
nlohmann::json submit_resubmission(Resubmission& resubmission, std::size_t max_running, std::size_t max_array_size);

}  // namespace gaincell::sweep
