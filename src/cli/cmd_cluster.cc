// SPDX-License-Identifier: MIT
// gaincell plan / merge / status / slurm: running sweeps on a cluster.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>
#include <memory>
#include <sstream>
#include <vector>

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

extern "C" char** environ;

// Runs a program (found on PATH) with argv, no shell; returns (exit code,
// stdout and stderr together). Throws IoError if it cannot start.
std::pair<int, std::string> capture(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw IoError("cannot create a pipe to run " + argv.at(0));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int err = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (err != 0) {
    ::close(fds[0]);
    throw IoError("cannot run " + argv[0] + ": " + std::strerror(err) + " (is Slurm's client installed and on PATH?)");
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0), out};
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

// The job id from `sbatch --parsable` ("id" or "id;cluster").
std::string submit(const std::vector<std::string>& argv) {
  auto [rc, out] = capture(argv);
  const std::string id = out.substr(0, out.find_first_of(";\n"));
  if (rc != 0 || id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    throw IoError(command_line(argv) + " failed (exit " + std::to_string(rc) + "): " + out);
  }
  return id;
}

// MaxArraySize: the override, else `scontrol show config`. With `required`
// false, 0 when Slurm cannot be asked (writing scripts off the cluster).
std::size_t max_array_size(std::size_t override_value, bool required) {
  if (override_value > 0) return override_value;
  std::pair<int, std::string> r{127, ""};
  try {
    r = capture({"scontrol", "show", "config"});
  } catch (const IoError& e) {
    if (!required) return 0;
    throw InputError("GC-1814", std::string("error GC-1814: cannot read the cluster's MaxArraySize: ") + e.what() +
                                    "; give --max-array-size N");
  }
  if (r.first != 0) {
    if (!required) return 0;
    throw InputError("GC-1814", "error GC-1814: cannot read the cluster's MaxArraySize: `scontrol show config` exited " +
                                    std::to_string(r.first) + ": " + r.second.substr(0, 300) +
                                    "; give --max-array-size N");
  }
  return sweep::parse_max_array_size(r.second);
}

// Submits the arrays of `arrays` (shards.sbatch with each one's offset) and a
// merge depending on them (none: a merge alone). Returns the manifest record.
nlohmann::json submit_arrays(const std::filesystem::path& dir, const std::vector<sweep::ArraySubmission>& arrays,
                             const std::string& dependency) {
  nlohmann::json record{{"arrays", nlohmann::json::array()}};
  std::string deps;
  for (const auto& a : arrays) {
    std::string id;
    try {
      id = submit({"sbatch", "--parsable", "--array=" + a.array, (dir / "shards.sbatch").string(),
                   std::to_string(a.offset)});
    } catch (const IoError& e) {
      std::string done;
      for (const auto& j : record["arrays"]) done += " " + j.value("job_id", std::string());
      throw IoError(std::string(e.what()) + (done.empty() ? "" : "; already submitted (cancel them with scancel):" + done));
    }
    record["arrays"].push_back({{"job_id", id}, {"offset", a.offset}, {"array", a.array}, {"shards", a.shards}});
    deps += ":" + id;
  }
  std::vector<std::string> merge{"sbatch", "--parsable"};
  if (!deps.empty()) {
    merge.push_back("--dependency=" + dependency + deps);
    merge.push_back("--kill-on-invalid-dep=yes");
  }
  merge.push_back((dir / "merge.sbatch").string());
  record["merge_job_id"] = submit(merge);
  return record;
}

std::string describe(const nlohmann::json& record) {
  std::string s;
  for (const auto& a : record["arrays"]) {
    s += (s.empty() ? "" : ", ") + a["job_id"].get<std::string>() + " (--array=" + a["array"].get<std::string>() +
         (a["offset"].get<std::size_t>() > 0 ? ", shard offset " + std::to_string(a["offset"].get<std::size_t>()) : "") +
         ")";
  }
  return s;
}

// Job ids recorded in a manifest: every array job, and the merge jobs.
void recorded_jobs(const nlohmann::json& manifest, std::vector<std::string>& arrays, std::vector<std::string>& merges) {
  auto take = [&](const nlohmann::json& record) {
    if (!record.is_object()) return;
    if (record.contains("arrays") && record["arrays"].is_array()) {
      for (const auto& a : record["arrays"]) {
        if (a.is_object() && a.contains("job_id") && a["job_id"].is_string()) arrays.push_back(a["job_id"]);
      }
    }
    if (!record.contains("arrays") && record.contains("array_job_id") && record["array_job_id"].is_string()) {
      arrays.push_back(record["array_job_id"]);  // written before arrays were split
    }
    if (record.contains("merge_job_id") && record["merge_job_id"].is_string()) merges.push_back(record["merge_job_id"]);
  };
  take(manifest);
  if (manifest.contains("resubmissions") && manifest["resubmissions"].is_array()) {
    for (const auto& r : manifest["resubmissions"]) take(r);
  }
}

// squeue lines "arrayjob|task|state" of the given jobs still in the queue.
std::vector<std::string> queued(const std::vector<std::string>& ids) {
  if (ids.empty()) return {};
  std::string list;
  for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
  auto [rc, out] = capture({"squeue", "-h", "-r", "-o", "%F|%i|%T", "-j", list});
  if (rc != 0) {
    // One job id that Slurm has already forgotten: "Invalid job id specified".
    if (out.find("Invalid job id") != std::string::npos) return {};
    throw IoError("squeue -j " + list + " failed (exit " + std::to_string(rc) + "): " + out);
  }
  std::vector<std::string> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
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
    std::string resubmit;
    std::size_t max_array_size = 0;
    bool submit = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("slurm", "Write (and submit) a Slurm job array of shards and a dependent merge job");
  std::vector<CLI::Option*> writing;
  CLI::Option* spec_opt = cmd->add_option("spec", f->spec, "Sweep spec (JSON)");
  writing.push_back(spec_opt);
  writing.push_back(cmd->add_option("--shards", f->o.shards, "Array tasks, one shard each")
                        ->capture_default_str()
                        ->check(within(1, static_cast<double>(limits::kMaxShards), "limits::kMaxShards, docs/cli.md#limits")));
  CLI::Option* dir_opt = cmd->add_option("-o,--dir", f->dir, "Directory for the scripts, shard files, logs and the merged file");
  writing.push_back(dir_opt);
  writing.push_back(cmd->add_option("--partition", f->o.partition, "sbatch --partition"));
  writing.push_back(cmd->add_option("--time", f->o.time, "sbatch --time per shard (e.g. 02:00:00)"));
  writing.push_back(cmd->add_option("--mem", f->o.mem, "sbatch --mem per shard (e.g. 2G)"));
  writing.push_back(cmd->add_option("--account", f->o.account, "sbatch --account"));
  writing.push_back(cmd->add_option("--cpus-per-task", f->o.cpus_per_task, "Cores per shard = gaincell workers")
                        ->capture_default_str()
                        ->check(within(1, limits::kMaxJobs, "limits::kMaxJobs, docs/cli.md#limits")));
  writing.push_back(cmd->add_option("--sbatch", f->o.extra, "Further #SBATCH option, repeatable (e.g. --sbatch=--qos=short)"));
  writing.push_back(cmd->add_option("--dependency", f->o.dependency,
                                    "afterok: merge only if every shard succeeded; afterany: merge anyway (it reports missing points)")
                        ->capture_default_str());
  writing.push_back(cmd->add_option("--output-name", f->o.output_name, "Name of the merged file in DIR")->capture_default_str());
  writing.push_back(cmd->add_flag("--requeue", f->o.requeue,
                                  "sbatch --requeue and --signal=B:USR1@LEAD: on SIGUSR1 a shard stops, keeping its "
                                  "journal, and its task requeues itself and resumes"));
  writing.push_back(cmd->add_option("--signal-lead", f->o.signal_lead_s, "With --requeue: seconds before the time limit "
                                                                          "at which Slurm sends SIGUSR1")
                        ->capture_default_str()
                        ->check(within(1, 65535)));
  writing.push_back(cmd->add_option("--max-requeues", f->o.max_requeues,
                                    "With --requeue: restarts per task (SLURM_RESTART_COUNT) after which a task no "
                                    "longer requeues itself")
                        ->capture_default_str()
                        ->check(within(0, 1000)));
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
  cmd->callback([spec_opt, dir_opt, resubmit]() {
    if (resubmit->count() == 0 && (spec_opt->count() == 0 || dir_opt->count() == 0)) {
      throw CLI::RequiredError("gaincell slurm needs SPEC and -o DIR (or --resubmit-failed DIR)");
    }
  });
  return [f]() {
    if (!f->resubmit.empty()) {
      const std::filesystem::path d = std::filesystem::absolute(f->resubmit).lexically_normal();
      nlohmann::json manifest;
      const auto states = sweep::shard_status(d, &manifest);
      for (const char* script : {"shards.sbatch", "merge.sbatch"}) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(d / script, ec)) {
          throw InputError("GC-1816", "error GC-1816: " + (d / script).string() +
                                          " is missing: --resubmit-failed submits the scripts `gaincell slurm` wrote "
                                          "there; write them again with gaincell slurm SPEC -o " + d.string());
        }
      }
      // The shards must run the spec the directory was written for.
      const std::string spec_file = manifest.value("spec", std::string());
      const std::string recorded = manifest.value("spec_sha256", std::string());
      const sweep::SweepSpec now = sweep::load_spec(spec_file);
      if (sha256_hex(now.text) != recorded) {
        throw InputError("GC-1817", "error GC-1817: " + spec_file + " has changed since gaincell slurm wrote " +
                                        (d / "slurm.json").string() + " (spec_sha256 " + recorded + ", now " +
                                        sha256_hex(now.text) + "): its shards would not merge with the finished "
                                        "ones; restore the spec or start a new directory");
      }
      // Never run a shard twice at once: this directory's jobs must have left the queue.
      std::vector<std::string> arrays, merges;
      recorded_jobs(manifest, arrays, merges);
      const auto live = queued(arrays);
      if (!live.empty()) {
        std::string list;
        for (std::size_t k = 0; k < live.size() && k < 10; ++k) list += "\n  " + live[k];
        throw InputError("GC-1815", "error GC-1815: --resubmit-failed " + d.string() + ": " +
                                        std::to_string(live.size()) + " task(s) of its array jobs are still in the "
                                        "queue (array job|task|state):" + list +
                                        "\nwait until they have ended, or cancel them (scancel ID), then resubmit");
      }
      const std::vector<std::size_t> todo = sweep::unfinished_shards(states);
      const std::string dependency = manifest.value("dependency", std::string("afterok"));
      const std::filesystem::path merged = manifest.value("output", std::string());
      std::error_code ec;
      if (todo.empty() && std::filesystem::exists(merged, ec)) {
        std::printf("%s: all %zu shards are done and merged (%s): nothing to resubmit\n", d.c_str(), states.size(),
                    merged.c_str());
        return 0;
      }
      // A merge still pending on the old arrays can never succeed now: replace it.
      // One that runs is left alone (and the resubmission refused).
      for (const auto& line : queued(merges)) {
        const std::string id = line.substr(0, line.find('|'));
        if (line.substr(line.rfind('|') + 1) != "PENDING") {
          throw InputError("GC-1815", "error GC-1815: --resubmit-failed " + d.string() + ": its merge job " + line +
                                          " is not pending; wait until it has ended, then resubmit");
        }
        auto [rc, out] = capture({"scancel", id});
        if (rc != 0) throw IoError("scancel " + id + " (the earlier merge job) failed: " + out);
        std::printf("cancelled the earlier merge job %s (it was pending)\n", id.c_str());
      }
      std::vector<sweep::ArraySubmission> plan;
      if (!todo.empty()) {
        const std::size_t throttle =
            f->o.max_running > 0 ? f->o.max_running : manifest.value("max_running", std::size_t{0});
        plan = sweep::plan_arrays(todo, max_array_size(f->max_array_size, true), throttle);
      }
      nlohmann::json record = submit_arrays(d, plan, dependency);
      record["shards"] = todo;
      if (!manifest.contains("resubmissions") || !manifest["resubmissions"].is_array()) {
        manifest["resubmissions"] = nlohmann::json::array();
      }
      manifest["resubmissions"].push_back(record);
      manifest["merge_job_id"] = record["merge_job_id"];
      write_text_file(d / "slurm.json", manifest.dump(1) + "\n");
      std::string shards;
      for (std::size_t k = 0; k < todo.size() && k < 20; ++k) shards += (k ? ", " : "") + std::to_string(todo[k]);
      if (todo.size() > 20) shards += ", ... (" + std::to_string(todo.size()) + " in all)";
      if (todo.empty()) {
        std::printf("all %zu shards are done; submitted the merge alone: %s\n", states.size(),
                    record["merge_job_id"].get<std::string>().c_str());
      } else {
        std::printf("resubmitted %zu of %zu shards (%s): array %s; merge %s (%s)\nfollow with: gaincell status %s\n",
                    todo.size(), states.size(), shards.c_str(), describe(record).c_str(),
                    record["merge_job_id"].get<std::string>().c_str(), dependency.c_str(), d.c_str());
      }
      return 0;
    }

    const sweep::SweepSpec spec = sweep::load_spec(f->spec);
    f->o.dir = f->dir;
    f->o.max_array_size = max_array_size(f->max_array_size, f->submit);
    nlohmann::json manifest = sweep::write_slurm_job(spec, f->spec, f->o);
    const std::filesystem::path dir = std::filesystem::absolute(f->dir).lexically_normal();
    std::vector<std::size_t> all(f->o.shards);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    const std::size_t size = f->o.max_array_size > 0 ? f->o.max_array_size : sweep::kSlurmDefaultMaxArraySize;
    const auto plan = sweep::plan_arrays(all, size, f->o.max_running);
    manifest["max_array_size"] = size;
    std::printf("wrote %s/shards.sbatch (%zu shards in %zu array job%s, MaxArraySize %zu%s), %s/merge.sbatch, "
                "%s/slurm.json\n",
                dir.c_str(), f->o.shards, plan.size(), plan.size() == 1 ? "" : "s", size,
                f->o.max_array_size > 0 ? "" : ": Slurm's default; scontrol show config did not answer", dir.c_str(),
                dir.c_str());
    if (!f->submit) {
      write_text_file(dir / "slurm.json", manifest.dump(1) + "\n");
      std::printf("submit with:\n");
      std::string deps;
      for (std::size_t k = 0; k < plan.size(); ++k) {
        std::printf("  a%zu=$(sbatch --parsable --array=%s %s/shards.sbatch %zu)\n", k, plan[k].array.c_str(),
                    dir.c_str(), plan[k].offset);
        deps += ":${a" + std::to_string(k) + "%%;*}";
      }
      std::printf("  sbatch --dependency=%s%s --kill-on-invalid-dep=yes %s/merge.sbatch\n", f->o.dependency.c_str(),
                  deps.c_str(), dir.c_str());
      return 0;
    }
    const nlohmann::json record = submit_arrays(dir, plan, f->o.dependency);
    manifest["arrays"] = record["arrays"];
    manifest["array_job_id"] = record["arrays"][0]["job_id"];
    manifest["merge_job_id"] = record["merge_job_id"];
    write_text_file(dir / "slurm.json", manifest.dump(1) + "\n");
    std::printf("submitted: shard array %s, merge %s (%s)\nfollow with: gaincell status %s\n",
                describe(record).c_str(), record["merge_job_id"].get<std::string>().c_str(),
                f->o.dependency.c_str(), dir.c_str());
    return 0;
  };
}

}  // namespace gaincell::cli
