// SPDX-License-Identifier: MIT
// gaincell plan / merge / status / slurm: running sweeps on a cluster. A
// shell over sweep/cluster.h and sweep/slurm.h: flags in, the library's
// results printed.
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "commands.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/si_value.h"
#include "gaincell/sweep/cluster.h"
#include "gaincell/sweep/plan.h"
#include "gaincell/sweep/slurm.h"
#include "gaincell/sweep/spec.h"
#include "gaincell/sweep/sweep.h"

namespace gaincell::cli {
namespace {

std::string human_s(double s) {
  if (s < 120) return gaincell::format_human(s, "s", 3, true);
  if (s < 7200) return std::to_string(static_cast<long>(std::lround(s / 60))) + " min";
  return gaincell::format_human(s / 3600, "h", 3, true);
}

struct PlanFlags {
  std::string spec;
  std::size_t shards = 0, probe = 4;
  int jobs = 0;
};

void print_estimate(const sweep::RunEstimate& e, const PlanFlags& f) {
  if (e.probed > 0) {
    std::printf("probe: %zu points, %s per point (one worker)%s\n", e.probed,
                gaincell::format_human(e.per_point_s, "s", 3, true).c_str(),
                e.probe_failed > 0 ? (", " + std::to_string(e.probe_failed) + " failed").c_str() : "");
  }
  if (e.per_point_s > 0) {
    std::printf("estimate: %s of CPU; %s on one machine with %d workers\n", human_s(e.cpu_s()).c_str(),
                human_s(e.machine_s()).c_str(), e.jobs);
  }
  std::size_t shards = f.shards;
  if (shards == 0) {
    shards = e.suggested_shards();
    std::printf("suggested: --shards %zu (about 1 h per shard at %d workers each)\n", shards, e.jobs);
  }
  std::printf("shard layout: %zu shards, interleaved (point k in shard k %% %zu)\n", shards, shards);
  for (std::size_t i = 0; i < shards && i < 8; ++i) {
    const std::size_t n = sweep::shard_points(e.points, i, shards).size();
    std::printf("  shard %zu: %zu points", i, n);
    if (e.per_point_s > 0) std::printf(", about %s with %d workers", human_s(e.shard_s(n)).c_str(), e.jobs);
    std::printf("\n");
  }
  if (shards > 8) std::printf("  ... (%zu shards)\n", shards);
}

int run_plan(const PlanFlags& f) {
  const sweep::SweepSpec spec = sweep::load_spec(f.spec);
  std::printf("spec %s: %zu points\n", spec.name.c_str(), sweep::SweepPlan(spec).size());
  for (const auto& a : spec.axes) {
    std::printf("  axis %-14s %zu values%s%s\n", a.name.c_str(), a.values.size(), a.unit.empty() ? "" : " [",
                a.unit.empty() ? "" : (a.unit + "]").c_str());
  }
  print_estimate(sweep::estimate_run(spec, f.probe, f.jobs), f);
  return 0;
}

struct SlurmFlags {
  std::string spec;
  sweep::SlurmOptions o;
  std::string dir;
  std::string resubmit;
  std::size_t max_array_size = 0;
  bool submit = false;
};

// The options that write (and submit) a job; --resubmit-failed excludes them.
std::vector<CLI::Option*> add_writing_options(CLI::App* cmd, SlurmFlags& f) {
  std::vector<CLI::Option*> writing;
  writing.push_back(cmd->add_option("spec", f.spec, "Sweep spec (JSON)"));
  writing.push_back(cmd->add_option("--shards", f.o.shards, "Array tasks, one shard each")
                        ->capture_default_str()
                        ->check(within(1, static_cast<double>(limits::kMaxShards), "limits::kMaxShards, docs/cli.md#limits")));
  writing.push_back(cmd->add_option("-o,--dir", f.dir, "Directory for the scripts, shard files, logs and the merged file"));
  writing.push_back(cmd->add_option("--partition", f.o.partition, "sbatch --partition"));
  writing.push_back(cmd->add_option("--time", f.o.time, "sbatch --time per shard (e.g. 02:00:00)"));
  writing.push_back(cmd->add_option("--mem", f.o.mem, "sbatch --mem per shard (e.g. 2G)"));
  writing.push_back(cmd->add_option("--account", f.o.account, "sbatch --account"));
  writing.push_back(cmd->add_option("--cpus-per-task", f.o.cpus_per_task, "Cores per shard = gaincell workers")
                        ->capture_default_str()
                        ->check(within(1, limits::kMaxJobs, "limits::kMaxJobs, docs/cli.md#limits")));
  writing.push_back(cmd->add_option("--sbatch", f.o.extra, "Further #SBATCH option, repeatable (e.g. --sbatch=--qos=short)"));
  writing.push_back(cmd->add_option("--dependency", f.o.dependency,
                                    "afterok: merge only if every shard succeeded; afterany: merge anyway (it reports missing points)")
                        ->capture_default_str());
  writing.push_back(cmd->add_option("--output-name", f.o.output_name, "Name of the merged file in DIR")->capture_default_str());
  writing.push_back(cmd->add_flag("--requeue", f.o.requeue,
                                  "sbatch --requeue and --signal=B:USR1@LEAD: on SIGUSR1 a shard stops, keeping its "
                                  "journal, and its task requeues itself and resumes"));
  writing.push_back(cmd->add_option("--signal-lead", f.o.signal_lead_s, "With --requeue: seconds before the time limit "
                                                                         "at which Slurm sends SIGUSR1")
                        ->capture_default_str()
                        ->check(within(1, 65535)));
  writing.push_back(cmd->add_option("--max-requeues", f.o.max_requeues,
                                    "With --requeue: restarts per task (SLURM_RESTART_COUNT) after which a task no "
                                    "longer requeues itself")
                        ->capture_default_str()
                        ->check(within(0, 1000)));
  return writing;
}

int write_slurm(SlurmFlags& f) {
  const sweep::SweepSpec spec = sweep::load_spec(f.spec);
  f.o.dir = f.dir;
  f.o.max_array_size = sweep::cluster_max_array_size(f.max_array_size, f.submit);
  sweep::SlurmLayout job = sweep::lay_out_slurm_job(spec, f.spec, f.o);
  const char* dir = job.dir.c_str();
  std::printf("wrote %s/shards.sbatch (%zu shards in %zu array job%s, MaxArraySize %zu%s), %s/merge.sbatch, "
              "%s/slurm.json\n",
              dir, f.o.shards, job.arrays.size(), job.arrays.size() == 1 ? "" : "s", job.max_array_size,
              job.max_array_size_known ? "" : ": Slurm's default; scontrol show config did not answer", dir, dir);
  if (!f.submit) {
    std::printf("submit with:\n");
    std::string deps;
    for (std::size_t k = 0; k < job.arrays.size(); ++k) {
      std::printf("  a%zu=$(sbatch --parsable --array=%s %s/shards.sbatch %zu)\n", k, job.arrays[k].array.c_str(), dir,
                  job.arrays[k].offset);
      deps += ":${a" + std::to_string(k) + "%%;*}";
    }
    std::printf("  sbatch --dependency=%s%s --kill-on-invalid-dep=yes %s/merge.sbatch\n", f.o.dependency.c_str(),
                deps.c_str(), dir);
    return 0;
  }
  const nlohmann::json record = sweep::submit_slurm_job(job, f.o.dependency);
  std::printf("submitted: shard array %s, merge %s (%s)\nfollow with: gaincell status %s\n",
              sweep::describe_arrays(record).c_str(), record["merge_job_id"].get<std::string>().c_str(),
              f.o.dependency.c_str(), dir);
  return 0;
}

int resubmit_failed(const SlurmFlags& f) {
  sweep::Resubmission r = sweep::plan_resubmission(f.resubmit);
  const char* dir = r.dir.c_str();
  if (r.nothing_to_do) {
    std::printf("%s: all %zu shards are done and merged (%s): nothing to resubmit\n", dir, r.shard_count,
                r.merged.c_str());
    return 0;
  }
  for (const auto& id : sweep::cancel_pending_merges(r)) {
    std::printf("cancelled the earlier merge job %s (it was pending)\n", id.c_str());
  }
  const nlohmann::json record = sweep::submit_resubmission(r, f.o.max_running, f.max_array_size);
  const std::string merge = record["merge_job_id"].get<std::string>();
  if (r.shards.empty()) {
    std::printf("all %zu shards are done; submitted the merge alone: %s\n", r.shard_count, merge.c_str());
  } else {
    std::printf("resubmitted %zu of %zu shards (%s): array %s; merge %s (%s)\nfollow with: gaincell status %s\n",
                r.shards.size(), r.shard_count, sweep::short_list(r.shards).c_str(),
                sweep::describe_arrays(record).c_str(), merge.c_str(), r.dependency.c_str(), dir);
  }
  return 0;
}

}  // namespace

Action add_plan(CLI::App& app, const GlobalOptions&) {
  auto f = std::make_shared<PlanFlags>();
  CLI::App* cmd = app.add_subcommand("plan", "Point count, a run-time estimate from a short probe, and the shard layout");
  cmd->add_option("spec", f->spec, "Sweep spec (JSON)")->required();
  cmd->add_option("--shards", f->shards, "Shards to lay out (0: suggest for about 1 h per shard)")
      ->check(within(0, static_cast<double>(limits::kMaxShards), "limits::kMaxShards, docs/cli.md#limits"));
  cmd->add_option("--probe", f->probe, "Points to simulate for the estimate (spread over the sweep; 0 = none)")
      ->capture_default_str()
      ->check(within(0, 1000));
  cmd->add_option("-j,--jobs", f->jobs, "Worker processes per shard for the estimate (0 = cores here)")
      ->check(within(0, limits::kMaxJobs, "limits::kMaxJobs, docs/cli.md#limits"));
  return [f]() { return run_plan(*f); };
}

Action add_merge(CLI::App& app, const GlobalOptions& global) {
  struct Flags {
    std::vector<std::string> shards;
    std::string output;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("merge", "Merge shard files into one results file, checking that they fit");
  cmd->add_option("shards", f->shards, "Shard files (gaincell sweep --shard i/N)")->required();
  cmd->add_option("-o,--output", f->output, "Merged results file")->required();
  return [f, &global]() {
    std::vector<std::filesystem::path> files(f->shards.begin(), f->shards.end());
    auto reporter = make_terminal_reporter(global.quiet);
    const sweep::MergeSummary s = sweep::merge_shards(files, f->output, *reporter);
    const std::size_t ok = s.outcomes.count(spice::SimOutcome::kOk) ? s.outcomes.at(spice::SimOutcome::kOk) : 0;
    std::printf("merged %zu shards: %zu points, %zu ok, %zu failed -> %s\n", s.shards, s.points, ok, s.points - ok,
                f->output.c_str());
    if (!s.failed_points.empty()) {
      std::printf("failed points (recorded with their messages): %s%s\n", sweep::short_list(s.failed_points).c_str(),
                  s.points - ok > 20 ? ", ..." : "");
    }
    return 0;
  };
}

Action add_status(CLI::App& app, const GlobalOptions&) {
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("status", "Done / failed / pending points of a `gaincell slurm` directory, from its files");
  cmd->add_option("dir", *dir, "The directory given to gaincell slurm -o")->required();
  return [dir]() {
    nlohmann::json manifest;
    const auto states = sweep::shard_status(*dir, &manifest);
    std::size_t ok = 0, failed = 0, pending = 0, done_shards = 0;
    std::printf("%s: %s, %zu points in %zu shards\n", dir->c_str(), manifest.value("spec_name", "").c_str(),
                manifest.value("points_total", std::size_t{0}), states.size());
    for (const auto& s : states) {
      std::printf("  shard %3zu  %-24s %6zu ok %6zu failed %6zu pending  (%s)\n", s.index, s.state.c_str(), s.ok, s.failed,
                  s.pending, s.file.filename().c_str());
      ok += s.ok;
      failed += s.failed;
      pending += s.pending;
      done_shards += s.state == "done" ? 1 : 0;
    }
    const std::filesystem::path merged = manifest.value("output", std::string());
    std::error_code ec;
    std::printf("total: %zu ok, %zu failed, %zu pending; %zu of %zu shards done; merged file %s\n", ok, failed, pending,
                done_shards, states.size(), std::filesystem::exists(merged, ec) ? merged.c_str() : "not yet written");
    return 0;
  };
}

Action add_slurm(CLI::App& app, const GlobalOptions&) {
  auto f = std::make_shared<SlurmFlags>();
  CLI::App* cmd = app.add_subcommand("slurm", "Write (and submit) a Slurm job array of shards and a dependent merge job");
  std::vector<CLI::Option*> writing = add_writing_options(cmd, *f);
  cmd->add_option("--max-running", f->o.max_running,
                  "Tasks of each array job running at once (--array=...%N; 0 = no limit)")
      ->check(within(0, static_cast<double>(limits::kMaxShards), "limits::kMaxShards, docs/cli.md#limits"));
  cmd->add_option("--max-array-size", f->max_array_size,
                  "The cluster's MaxArraySize (default: from `scontrol show config`); more shards go into further arrays")
      ->check(within(1, static_cast<double>(sweep::kSlurmMaxMaxArraySize)));
  writing.push_back(cmd->add_flag("--submit", f->submit, "Submit both with sbatch (the merge after the array)"));
  CLI::Option* resubmit = cmd->add_option(
      "--resubmit-failed", f->resubmit,
      "Submit again, as one array, only the shards of this `gaincell slurm` directory without a complete shard file, "
      "and a new merge");
  for (CLI::Option* o : writing) resubmit->excludes(o);
  CLI::Option* spec_opt = writing[0];
  CLI::Option* dir_opt = writing[2];
  cmd->callback([spec_opt, dir_opt, resubmit]() {
    if (resubmit->count() == 0 && (spec_opt->count() == 0 || dir_opt->count() == 0)) {
      throw CLI::RequiredError("gaincell slurm needs SPEC and -o DIR (or --resubmit-failed DIR)");
    }
  });
  return [f]() { return f->resubmit.empty() ? write_slurm(*f) : resubmit_failed(*f); };
}

}  // namespace gaincell::cli
