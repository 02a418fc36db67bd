// SPDX-License-Identifier: MIT
// gaincell plan / merge / status / slurm: running sweeps on a cluster.
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <thread>
#include <memory>

#include "commands.h"
#include "gaincell/core/error.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/hash.h"
#include "gaincell/netlist/si_value.h"
#include "gaincell/spice/worker_pool.h"
#include "gaincell/sweep/cluster.h"
#include "gaincell/sweep/plan.h"
#include "gaincell/sweep/spec.h"
#include "gaincell/sweep/sweep.h"

namespace gaincell::cli {
namespace {

std::string human_s(double s) {
  if (s < 120) return netlist::format_human(s, "s", 3, true);
  if (s < 7200) return std::to_string(static_cast<long>(std::lround(s / 60))) + " min";
  return netlist::format_human(s / 3600, "h", 3, true);
}

// Runs a command, returns (exit code, stdout).
std::pair<int, std::string> capture(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) throw IoError("cannot run: " + command);
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, out};
}

}  // namespace

Action add_plan(CLI::App& app, const GlobalOptions&) {
  struct Flags {
    std::string spec;
    std::size_t shards = 0, probe = 4;
    int jobs = 0;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("plan", "Point count, a run-time estimate from a short probe, and the shard layout");
  cmd->add_option("spec", f->spec, "Sweep spec (JSON)")->required();
  cmd->add_option("--shards", f->shards, "Shards to lay out (0: suggest for about 1 h per shard)")
      ->check(within(0, static_cast<double>(limits::kMaxShards), "limits::kMaxShards, docs/cli.md#limits"));
  cmd->add_option("--probe", f->probe, "Points to simulate for the estimate (spread over the sweep; 0 = none)")
      ->capture_default_str()
      ->check(within(0, 1000));
  cmd->add_option("-j,--jobs", f->jobs, "Worker processes per shard for the estimate (0 = cores here)")
      ->check(within(0, limits::kMaxJobs, "limits::kMaxJobs, docs/cli.md#limits"));
  return [f]() {
    const sweep::SweepSpec spec = sweep::load_spec(f->spec);
    const sweep::SweepPlan plan(spec);
    const std::size_t total = plan.size();
    std::printf("spec %s: %zu points\n", spec.name.c_str(), total);
    for (const auto& a : spec.axes) std::printf("  axis %-14s %zu values%s%s\n", a.name.c_str(), a.values.size(), a.unit.empty() ? "" : " [", a.unit.empty() ? "" : (a.unit + "]").c_str());
    double per_point_s = 0;
    std::size_t probed = 0, probe_failed = 0;
    if (f->probe > 0 && total > 0) {
      // Simulate a few points spread over the grid with one worker: CPU seconds per point.
      const std::size_t n = std::min(f->probe, total);
      spice::PoolOptions po;
      po.jobs = 1;
      spice::WorkerPool pool(po);
      double sum = 0;
      pool.run(n, [&](std::size_t i) { return plan.job(i * total / n); },
               [&](spice::SimResult&& r) {
                 sum += r.wall_time_s;
                 ++probed;
                 if (!r.ok()) ++probe_failed;
               });
      per_point_s = probed > 0 ? sum / static_cast<double>(probed) : 0;
      std::printf("probe: %zu points, %s per point (one worker)%s\n", probed, netlist::format_human(per_point_s, "s", 3, true).c_str(),
                  probe_failed > 0 ? (", " + std::to_string(probe_failed) + " failed").c_str() : "");
    }
    const int jobs = f->jobs > 0 ? f->jobs : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    const double cpu_s = per_point_s * static_cast<double>(total);
    if (per_point_s > 0) {
      std::printf("estimate: %s of CPU; %s on one machine with %d workers\n", human_s(cpu_s).c_str(),
                  human_s(cpu_s / jobs).c_str(), jobs);
    }
    std::size_t shards = f->shards;
    if (shards == 0) {
      shards = per_point_s > 0 ? std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(cpu_s / jobs / 3600.0))) : 1;
      std::printf("suggested: --shards %zu (about 1 h per shard at %d workers each)\n", shards, jobs);
    }
    std::printf("shard layout: %zu shards, interleaved (point k in shard k %% %zu)\n", shards, shards);
    for (std::size_t i = 0; i < shards && i < 8; ++i) {
      const std::size_t n = sweep::shard_points(total, i, shards).size();
      std::printf("  shard %zu: %zu points", i, n);
      if (per_point_s > 0) std::printf(", about %s with %d workers", human_s(per_point_s * static_cast<double>(n) / jobs).c_str(), jobs);
      std::printf("\n");
    }
    if (shards > 8) std::printf("  ... (%zu shards)\n", shards);
    return 0;
  };
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
      std::string list;
      for (auto k : s.failed_points) list += (list.empty() ? "" : ", ") + std::to_string(k);
      std::printf("failed points (recorded with their messages): %s%s\n", list.c_str(), s.points - ok > 20 ? ", ..." : "");
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
  struct Flags {
    std::string spec;
    sweep::SlurmOptions o;
    std::string dir;
    bool submit = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("slurm", "Write (and submit) a Slurm job array of shards and a dependent merge job");
  cmd->add_option("spec", f->spec, "Sweep spec (JSON)")->required();
  cmd->add_option("--shards", f->o.shards, "Array tasks, one shard each")
      ->capture_default_str()
      ->check(within(1, static_cast<double>(limits::kMaxShards), "limits::kMaxShards, docs/cli.md#limits"));
  cmd->add_option("-o,--dir", f->dir, "Directory for the scripts, shard files, logs and the merged file")->required();
  cmd->add_option("--partition", f->o.partition, "sbatch --partition");
  cmd->add_option("--time", f->o.time, "sbatch --time per shard (e.g. 02:00:00)");
  cmd->add_option("--mem", f->o.mem, "sbatch --mem per shard (e.g. 2G)");
  cmd->add_option("--account", f->o.account, "sbatch --account");
  cmd->add_option("--cpus-per-task", f->o.cpus_per_task, "Cores per shard = gaincell workers")
      ->capture_default_str()
      ->check(within(1, limits::kMaxJobs, "limits::kMaxJobs, docs/cli.md#limits"));
  cmd->add_option("--sbatch", f->o.extra, "Further #SBATCH option, repeatable (e.g. --sbatch=--qos=short)");
  cmd->add_option("--dependency", f->o.dependency,
                  "afterok: merge only if every shard succeeded; afterany: merge anyway (it reports missing points)")
      ->capture_default_str();
  cmd->add_option("--output-name", f->o.output_name, "Name of the merged file in DIR")->capture_default_str();
  cmd->add_flag("--submit", f->submit, "Submit both with sbatch (the merge after the array)");
  return [f]() {
    const sweep::SweepSpec spec = sweep::load_spec(f->spec);
    f->o.dir = f->dir;
    nlohmann::json manifest = sweep::write_slurm_job(spec, f->spec, f->o);
    const std::filesystem::path dir = std::filesystem::absolute(f->dir).lexically_normal();
    std::printf("wrote %s/shards.sbatch (array 0-%zu), %s/merge.sbatch, %s/slurm.json\n", dir.c_str(), f->o.shards - 1,
                dir.c_str(), dir.c_str());
    if (!f->submit) {
      std::printf("submit with:\n  id=$(sbatch --parsable %s/shards.sbatch)\n  sbatch --dependency=%s:${id%%%%;*} "
                  "--kill-on-invalid-dep=yes %s/merge.sbatch\n",
                  dir.c_str(), f->o.dependency.c_str(), dir.c_str());
      return 0;
    }
    auto [rc, out] = capture("sbatch --parsable '" + (dir / "shards.sbatch").string() + "' 2>&1");
    if (rc != 0) throw IoError("sbatch of the shard array failed (exit " + std::to_string(rc) + "): " + out);
    const std::string array_id = out.substr(0, out.find_first_of(";\n"));
    auto [rc2, out2] = capture("sbatch --parsable --dependency=" + f->o.dependency + ":" + array_id +
                               " --kill-on-invalid-dep=yes '" + (dir / "merge.sbatch").string() + "' 2>&1");
    if (rc2 != 0) throw IoError("sbatch of the merge job failed (exit " + std::to_string(rc2) + "): " + out2);
    const std::string merge_id = out2.substr(0, out2.find_first_of(";\n"));
    manifest["array_job_id"] = array_id;
    manifest["merge_job_id"] = merge_id;
    write_text_file(dir / "slurm.json", manifest.dump(1) + "\n");
    std::printf("submitted: shard array %s, merge %s (%s)\nfollow with: gaincell status %s\n", array_id.c_str(),
                merge_id.c_str(), f->o.dependency.c_str(), dir.c_str());
    return 0;
  };
}

}  // namespace gaincell::cli
