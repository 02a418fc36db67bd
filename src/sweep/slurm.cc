// SPDX-License-Identifier: MIT
#include "gaincell/sweep/slurm.h"

#include <algorithm>
#include <sstream>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/process.h"
#include "gaincell/core/strings.h"
#include "gaincell/sweep/cluster.h"
#include "gaincell/sweep/plan.h"

namespace gaincell::sweep {
namespace {

namespace fs = std::filesystem;

std::string quote(const fs::path& p) {
  std::string s = "'";
  for (char c : p.string()) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return s + "'";
}

[[noreturn]] void bad_option(const std::string& what) {
  throw InputError("GC-1809", "slurm: " + what);
}

// Each value becomes one #SBATCH line: a newline would start a script line.
void check_one_line(const std::string& option, const std::string& value) {
  for (const unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      bad_option(option + " holds a control character (newline, tab, ...): each value becomes one #SBATCH line");
    }
  }
}

// GC-1809 for options Slurm or the scripts cannot take.
void check_slurm_options(const SlurmOptions& o) {
  if (o.shards < 1 || o.shards > limits::kMaxShards) {
    bad_option("--shards must be 1 to " + std::to_string(limits::kMaxShards) + " (limits::kMaxShards, docs/cli.md#limits)");
  }
  if (o.cpus_per_task < 1 || o.cpus_per_task > limits::kMaxJobs) {
    bad_option("--cpus-per-task must be 1 to " + std::to_string(limits::kMaxJobs));
  }
  check_one_line("--partition", o.partition);
  check_one_line("--time", o.time);
  check_one_line("--mem", o.mem);
  check_one_line("--account", o.account);
  for (const auto& e : o.extra) check_one_line("--sbatch", e);
  check_one_line("--output-name", o.output_name);
  if (o.output_name.empty() || o.output_name.find('/') != std::string::npos || o.output_name == "." || o.output_name == "..") {
    bad_option("--output-name must be a file name in DIR, not a path");
  }
  if (o.dependency != "afterok" && o.dependency != "afterany") bad_option("--dependency must be afterok or afterany");
  // Slurm keeps the --signal lead time in 16 bits (at most 65535 s).
  if (o.signal_lead_s < 1 || o.signal_lead_s > 65535) {
    bad_option("--signal-lead must be 1 to 65535 s (sbatch --signal=B:USR1@S)");
  }
  if (o.max_requeues < 0 || o.max_requeues > 1000) bad_option("--max-requeues must be 0 to 1000");
  if (o.max_running > limits::kMaxShards) {
    bad_option("--max-running must be 0 (no limit) to " + std::to_string(limits::kMaxShards));
  }
  if (o.max_array_size > kSlurmMaxMaxArraySize) {
    bad_option("--max-array-size must be 1 to " + std::to_string(kSlurmMaxMaxArraySize) + " (Slurm's limit for MaxArraySize)");
  }
}

// What the scripts are written from.
struct ScriptContext {
  const SlurmOptions& o;
  std::string spec_name;
  std::size_t points;  // of the whole sweep
  fs::path dir;        // absolute
  fs::path exe;        // this gaincell
  fs::path spec;       // absolute
};

// The lines both scripts start with: the shell and the user's #SBATCH options.
void write_sbatch_header(std::ostream& out, const SlurmOptions& o, const std::string& name) {
  out << "#!/bin/bash\n";
  out << "#SBATCH --job-name=" << name << "\n";
  if (!o.partition.empty()) out << "#SBATCH --partition=" << o.partition << "\n";
  if (!o.time.empty()) out << "#SBATCH --time=" << o.time << "\n";
  if (!o.mem.empty()) out << "#SBATCH --mem=" << o.mem << "\n";
  if (!o.account.empty()) out << "#SBATCH --account=" << o.account << "\n";
  for (const auto& e : o.extra) out << "#SBATCH " << e << "\n";
}

// The shard array's #SBATCH lines and the comments that explain the script.
void write_shards_directives(std::ostream& out, const ScriptContext& c) {
  const SlurmOptions& o = c.o;
  const std::size_t n = o.shards;
  const std::size_t known = o.max_array_size > 0 ? o.max_array_size : kSlurmDefaultMaxArraySize;
  if (n <= known) {
    out << "#SBATCH --array=0-" << n - 1;
    if (o.max_running > 0) out << "%" << o.max_running;
    out << "\n";
  }
  out << "#SBATCH --cpus-per-task=" << o.cpus_per_task << "\n";
  // Slurm's own messages (time limit, cancel); the shard's output goes to logs/shard-<i>.out.
  out << "#SBATCH --output=" << (c.dir / "logs" / "slurm-%A_%a.out").string() << "\n";
  out << "#SBATCH --open-mode=append\n";
  if (o.requeue) {
    out << "#SBATCH --requeue\n";
    out << "#SBATCH --signal=B:USR1@" << o.signal_lead_s << "\n";
  }
  out << "# One shard of " << c.points << " points (" << c.spec_name << ") per array task; written by gaincell "
      << build_info().version << ".\n";
  out << "# Task t of an array submitted as `sbatch --array=... shards.sbatch OFFSET` runs shard OFFSET + t\n";
  out << "# (OFFSET 0 if not given), so arrays stay below the cluster's MaxArraySize.\n";
  if (n > known) {
    out << "# " << n << " shards exceed MaxArraySize " << known << ": submit several arrays (see slurm.json).\n";
  }
  out << "# --resume: a requeued or resubmitted task continues from its journal.\n";
  out << "# Exit 0 also when some points failed (exit 4): failed points are results, recorded in the file.\n";
  if (o.requeue) {
    out << "# SIGUSR1 (sent " << o.signal_lead_s << " s before the time limit, or by hand): the shard stops,\n"
        << "# keeping its journal, and the task requeues itself (at most " << o.max_requeues
        << " restarts, SLURM_RESTART_COUNT).\n";
  }
  out << "# SIGTERM (scancel, time limit, preemption) goes to the shard too: it stops and keeps its journal.\n";
}

// The task's shard from its array offset and task id, run in the background
// with the signals forwarded to it; the exit code of the sweep.
void write_shard_run(std::ostream& out, const ScriptContext& c) {
  const std::size_t n = c.o.shards;
  const std::string d = quote(c.dir);
  out << "set -u\n";
  out << "offset=\"${1:-0}\"\n";
  out << "task=\"${SLURM_ARRAY_TASK_ID:?not in a Slurm array task}\"\n";
  out << "case \"$offset\" in ''|*[!0-9]*) echo \"shards.sbatch: the offset must be a number, not '$offset'\" >&2; exit 2 ;; esac\n";
  out << "i=$((offset + task))\n";
  out << "job=\"${SLURM_ARRAY_JOB_ID:-?}_${task}\"\n";
  out << "if [ \"$i\" -ge " << n << " ]; then echo \"shards.sbatch: shard $i is beyond the " << n
      << " shards\" >&2; exit 2; fi\n";
  out << "exec >>" << d << "/logs/shard-\"$i\".out 2>&1\n";
  out << "echo \"shards.sbatch: shard $i/" << n
      << ", Slurm task $job, start $((${SLURM_RESTART_COUNT:-0} + 1)) on $(hostname) at "
         "$(date '+%F %T')\"\n";
  out << "stop=\nchild=\n";
  out << "forward() { stop=\"$1\"; if [ -n \"$child\" ]; then kill -TERM \"$child\" 2>/dev/null; fi; }\n";
  if (c.o.requeue) out << "trap 'forward USR1' USR1\n";
  out << "trap 'forward TERM' TERM\n";
  out << quote(c.exe) << " sweep " << quote(c.spec) << " --shard \"$i/" << n << "\" -o " << d
      << "/shard-\"$i\".h5 --jobs \"${SLURM_CPUS_PER_TASK:-1}\" --resume &\n";
  out << "child=$!\n";
  out << "if [ -n \"$stop\" ]; then kill -TERM \"$child\" 2>/dev/null; fi\n";
  out << "# wait returns early when a trapped signal arrives: wait again until the shard has exited.\n";
  out << "wait \"$child\"; rc=$?\n";
  out << "while kill -0 \"$child\" 2>/dev/null; do wait \"$child\"; rc=$?; done\n";
  out << "if [ \"$rc\" -eq 4 ]; then rc=0; fi\n";
}

// With --requeue: a shard stopped by SIGUSR1 requeues its own task, up to max_requeues times.
void write_requeue(std::ostream& out, const SlurmOptions& o) {
  out << "if [ \"$stop\" = USR1 ] && [ \"$rc\" -ne 0 ]; then\n";
  out << "  restarts=\"${SLURM_RESTART_COUNT:-0}\"\n";
  out << "  if [ \"$restarts\" -lt " << o.max_requeues << " ]; then\n";
  out << "    echo \"shards.sbatch: shard $i stopped by SIGUSR1 (exit $rc), journal kept; requeueing "
         "$job (restart $((restarts + 1)) of "
      << o.max_requeues << ")\"\n";
  out << "    scontrol requeue \"$job\" || echo \"shards.sbatch: scontrol "
         "requeue failed\"\n";
  out << "  else\n";
  out << "    echo \"shards.sbatch: shard $i stopped by SIGUSR1, not requeued: " << o.max_requeues
      << " restarts already; gaincell slurm --resubmit-failed continues it\"\n";
  out << "  fi\n";
  out << "fi\n";
}

std::string shards_script(const ScriptContext& c) {
  std::ostringstream out;
  write_sbatch_header(out, c.o, "gaincell-" + c.spec_name);
  write_shards_directives(out, c);
  write_shard_run(out, c);
  if (c.o.requeue) write_requeue(out, c.o);
  out << "echo \"shards.sbatch: shard $i exit $rc at $(date '+%F %T')\"\n";
  out << "exit \"$rc\"\n";
  return out.str();
}

std::string merge_script(const ScriptContext& c) {
  std::ostringstream out;
  write_sbatch_header(out, c.o, "gaincell-merge-" + c.spec_name);
  out << "#SBATCH --cpus-per-task=1\n";
  out << "#SBATCH --output=" << (c.dir / "logs" / "merge.out").string() << "\n";
  out << "# Submitted with --dependency=" << c.o.dependency << ":<array job id> by `gaincell slurm --submit`.\n";
  out << "set -u\n";
  out << "files=()\n";
  out << "for i in $(seq 0 " << c.o.shards - 1 << "); do files+=(" << quote(c.dir) << "/shard-\"$i\".h5); done\n";
  out << "exec " << quote(c.exe) << " merge \"${files[@]}\" -o " << quote(c.dir / c.o.output_name) << "\n";
  return out.str();
}

void write_script(const fs::path& path, const std::string& text) {
  write_text_file(path, text);
  fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
}

nlohmann::json manifest_of(const ScriptContext& c, const std::string& spec_sha256) {
  const SlurmOptions& o = c.o;
  return {{"format", "gaincell-slurm/1"},
          {"spec", c.spec.string()},
          {"spec_sha256", spec_sha256},
          {"spec_name", c.spec_name},
          {"points_total", c.points},
          {"shards", o.shards},
          {"shard_rule", "interleaved: point k in shard k % shards"},
          {"output", (c.dir / o.output_name).string()},
          {"dependency", o.dependency},
          {"requeue", o.requeue ? nlohmann::json{{"signal", "B:USR1@" + std::to_string(o.signal_lead_s)},
                                                 {"max_requeues", o.max_requeues}}
                                : nlohmann::json(nullptr)},
          {"max_running", o.max_running},
          {"gaincell", c.exe.string()},
          {"gaincell_version", build_info().version + " (" + build_info().git_sha + ")"}};
}

void write_manifest(const fs::path& dir, const nlohmann::json& manifest) {
  write_text_file(dir / "slurm.json", manifest.dump(1) + "\n");
}

// Runs a Slurm client (looked up on PATH, no shell): (exit code, its output).
std::pair<int, std::string> run_slurm_client(const std::vector<std::string>& argv) {
  try {
    return capture_process(argv);
  } catch (const IoError& e) {
    throw IoError(std::string(e.what()) + " (is Slurm's client installed and on PATH?)");
  }
}

// The job id from `sbatch --parsable` ("id" or "id;cluster").
std::string sbatch(const std::vector<std::string>& argv) {
  auto [rc, out] = run_slurm_client(argv);
  const std::string id = out.substr(0, out.find_first_of(";\n"));
  if (rc != 0 || id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    throw IoError(join(argv, " ") + " failed (exit " + std::to_string(rc) + "): " + out);
  }
  return id;
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
  const std::string list = join(ids, ",");
  auto [rc, out] = run_slurm_client({"squeue", "-h", "-r", "-o", "%F|%i|%T", "-j", list});
  if (rc != 0) {
    // One job id that Slurm has already forgotten: "Invalid job id specified".
    if (out.find("Invalid job id") != std::string::npos) return {};
    throw IoError("squeue -j " + list + " failed (exit " + std::to_string(rc) + "): " + out);
  }
  std::vector<std::string> lines = text_lines(out);
  lines.erase(std::remove(lines.begin(), lines.end(), std::string()), lines.end());
  return lines;
}

// GC-1816: --resubmit-failed submits the scripts already in DIR.
void check_scripts(const fs::path& d) {
  for (const char* script : {"shards.sbatch", "merge.sbatch"}) {
    std::error_code ec;
    if (!fs::is_regular_file(d / script, ec)) {
      throw InputError("GC-1816", (d / script).string() +
                                      " is missing: --resubmit-failed submits the scripts `gaincell slurm` wrote "
                                      "there; write them again with gaincell slurm SPEC -o " + d.string());
    }
  }
}

// GC-1817: the shards must run the spec the directory was written for.
void check_spec_unchanged(const fs::path& d, const nlohmann::json& manifest) {
  const std::string spec_file = manifest.value("spec", std::string());
  const std::string recorded = manifest.value("spec_sha256", std::string());
  const SweepSpec now = load_spec(spec_file);
  if (sha256_hex(now.text) != recorded) {
    throw InputError("GC-1817", spec_file + " has changed since gaincell slurm wrote " +
                                    (d / "slurm.json").string() + " (spec_sha256 " + recorded + ", now " +
                                    sha256_hex(now.text) + "): its shards would not merge with the finished "
                                    "ones; restore the spec or start a new directory");
  }
}

// GC-1815: never run a shard twice at once: DIR's array jobs must have left the queue.
void check_arrays_gone(const fs::path& d, const std::vector<std::string>& arrays) {
  const auto live = queued(arrays);
  if (live.empty()) return;
  std::string list;
  for (std::size_t k = 0; k < live.size() && k < 10; ++k) list += "\n  " + live[k];
  throw InputError("GC-1815", "--resubmit-failed " + d.string() + ": " +
                                  std::to_string(live.size()) + " task(s) of its array jobs are still in the "
                                  "queue (array job|task|state):" + list +
                                  "\nwait until they have ended, or cancel them (scancel ID), then resubmit");
}

}  // namespace

nlohmann::json write_slurm_job(const SweepSpec& spec, const fs::path& spec_file, const SlurmOptions& o) {
  check_slurm_options(o);
  if (spec.collapse) {  // the shards would each be refused when they start (run_sweep, GC-1309)
    throw InputError("GC-1309", "gaincell slurm: " + spec_file.string() + " collapses '" +
                                    spec.axes[spec.collapse->axis].name +
                                    "', and one transient serves the points of several shards; run it whole with "
                                    "gaincell sweep (it needs one simulation per point of the other axes)");
  }
  const fs::path dir = fs::absolute(o.dir).lexically_normal();
  fs::create_directories(dir / "logs");
  const ScriptContext c{o, spec.name, SweepPlan(spec).size(), dir, fs::canonical("/proc/self/exe"),
                        fs::absolute(spec_file).lexically_normal()};
  write_script(dir / "shards.sbatch", shards_script(c));
  write_script(dir / "merge.sbatch", merge_script(c));
  const nlohmann::json manifest = manifest_of(c, sha256_hex(spec.text));
  write_manifest(dir, manifest);
  return manifest;
}

std::vector<ArraySubmission> plan_arrays(std::vector<std::size_t> shards, std::size_t max_array_size,
                                         std::size_t max_running) {
  if (max_array_size == 0 || max_array_size > kSlurmMaxMaxArraySize) {
    throw InputError("GC-1814", "slurm: MaxArraySize is " + std::to_string(max_array_size) +
                                    ": expected 1 to " + std::to_string(kSlurmMaxMaxArraySize) +
                                    " (MaxArraySize=0 in slurm.conf disables job arrays; this cluster cannot run them)");
  }
  std::sort(shards.begin(), shards.end());
  shards.erase(std::unique(shards.begin(), shards.end()), shards.end());
  std::vector<ArraySubmission> out;
  for (std::size_t s : shards) {
    const std::size_t offset = s / max_array_size * max_array_size;
    if (out.empty() || out.back().offset != offset) out.push_back({offset, {}, {}});
    out.back().shards.push_back(s);
  }
  for (auto& a : out) {
    std::string spec;
    for (std::size_t k = 0; k < a.shards.size();) {
      std::size_t e = k;
      while (e + 1 < a.shards.size() && a.shards[e + 1] == a.shards[e] + 1) ++e;
      if (!spec.empty()) spec += ",";
      spec += std::to_string(a.shards[k] - a.offset);
      if (e > k) spec += "-" + std::to_string(a.shards[e] - a.offset);
      k = e + 1;
    }
    if (max_running > 0) spec += "%" + std::to_string(max_running);
    a.array = spec;
  }
  return out;
}

std::size_t parse_max_array_size(const std::string& text) {
  // A line "MaxArraySize            = 1001".
  for (const auto& line : text_lines(text)) {
    if (line.rfind("MaxArraySize", 0) != 0) continue;
    const auto eq = line.find('=');
    const std::string value(eq == std::string::npos ? std::string_view() : trim(std::string_view(line).substr(eq + 1)));
    const bool digits = !value.empty() && value.size() <= 8 && value.find_first_not_of("0123456789") == std::string::npos;
    const std::size_t n = digits ? std::stoul(value) : 0;
    if (!digits || n < 1 || n > kSlurmMaxMaxArraySize) {
      throw InputError("GC-1814", "scontrol show config: MaxArraySize = \"" + value +
                                      "\": expected a count of 1 to " + std::to_string(kSlurmMaxMaxArraySize) +
                                      " (0 disables job arrays); give --max-array-size to override");
    }
    return n;
  }
  throw InputError("GC-1814", "scontrol show config printed no \"MaxArraySize = N\" line; "
                              "give --max-array-size N (the cluster's MaxArraySize) to lay out the arrays");
}

std::size_t cluster_max_array_size(std::size_t given, bool required) {
  if (given > 0) return given;
  std::pair<int, std::string> r{127, ""};
  try {
    r = run_slurm_client({"scontrol", "show", "config"});
  } catch (const IoError& e) {
    if (!required) return 0;
    throw InputError("GC-1814", std::string("cannot read the cluster's MaxArraySize: ") + e.what() +
                                    "; give --max-array-size N");
  }
  if (r.first != 0) {
    if (!required) return 0;
    throw InputError("GC-1814", "cannot read the cluster's MaxArraySize: `scontrol show config` exited " +
                                    std::to_string(r.first) + ": " + r.second.substr(0, 300) +
                                    "; give --max-array-size N");
  }
  return parse_max_array_size(r.second);
}

SlurmLayout lay_out_slurm_job(const SweepSpec& spec, const fs::path& spec_file, const SlurmOptions& options) {
  SlurmLayout job;
  job.manifest = write_slurm_job(spec, spec_file, options);
  job.dir = fs::absolute(options.dir).lexically_normal();
  job.max_array_size_known = options.max_array_size > 0;
  job.max_array_size = job.max_array_size_known ? options.max_array_size : kSlurmDefaultMaxArraySize;
  std::vector<std::size_t> all(options.shards);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  job.arrays = plan_arrays(all, job.max_array_size, options.max_running);
  job.manifest["max_array_size"] = job.max_array_size;
  write_manifest(job.dir, job.manifest);
  return job;
}

nlohmann::json submit_arrays(const fs::path& dir, const std::vector<ArraySubmission>& arrays,
                             const std::string& dependency) {
  nlohmann::json record{{"arrays", nlohmann::json::array()}};
  std::string deps;
  for (const auto& a : arrays) {
    std::string id;
    try {
      id = sbatch({"sbatch", "--parsable", "--array=" + a.array, (dir / "shards.sbatch").string(), std::to_string(a.offset)});
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
  record["merge_job_id"] = sbatch(merge);
  return record;
}

nlohmann::json submit_slurm_job(SlurmLayout& job, const std::string& dependency) {
  const nlohmann::json record = submit_arrays(job.dir, job.arrays, dependency);
  job.manifest["arrays"] = record["arrays"];
  job.manifest["array_job_id"] = record["arrays"][0]["job_id"];
  job.manifest["merge_job_id"] = record["merge_job_id"];
  write_manifest(job.dir, job.manifest);
  return record;
}

std::string describe_arrays(const nlohmann::json& record) {
  std::string s;
  for (const auto& a : record["arrays"]) {
    s += (s.empty() ? "" : ", ") + a["job_id"].get<std::string>() + " (--array=" + a["array"].get<std::string>() +
         (a["offset"].get<std::size_t>() > 0 ? ", shard offset " + std::to_string(a["offset"].get<std::size_t>()) : "") +
         ")";
  }
  return s;
}

Resubmission plan_resubmission(const fs::path& dir) {
  Resubmission r;
  r.dir = fs::absolute(dir).lexically_normal();
  const auto states = shard_status(r.dir, &r.manifest);
  check_scripts(r.dir);
  check_spec_unchanged(r.dir, r.manifest);
  std::vector<std::string> arrays;
  recorded_jobs(r.manifest, arrays, r.merge_jobs);
  check_arrays_gone(r.dir, arrays);
  r.shard_count = states.size();
  r.shards = unfinished_shards(states);
  r.dependency = r.manifest.value("dependency", std::string("afterok"));
  r.merged = r.manifest.value("output", std::string());
  std::error_code ec;
  r.nothing_to_do = r.shards.empty() && fs::exists(r.merged, ec);
  return r;
}

std::vector<std::string> cancel_pending_merges(const Resubmission& r) {
  // A merge still pending on the old arrays can never succeed now: replace it.
  // One that runs is left alone (and the resubmission refused).
  std::vector<std::string> cancelled;
  for (const auto& line : queued(r.merge_jobs)) {
    const std::string id = line.substr(0, line.find('|'));
    if (line.substr(line.rfind('|') + 1) != "PENDING") {
      throw InputError("GC-1815", "--resubmit-failed " + r.dir.string() + ": its merge job " + line +
                                      " is not pending; wait until it has ended, then resubmit");
    }
    auto [rc, out] = run_slurm_client({"scancel", id});
    if (rc != 0) throw IoError("scancel " + id + " (the earlier merge job) failed: " + out);
    cancelled.push_back(id);
  }
  return cancelled;
}

nlohmann::json submit_resubmission(Resubmission& r, std::size_t max_running, std::size_t max_array_size) {
  std::vector<ArraySubmission> arrays;
  if (!r.shards.empty()) {
    const std::size_t throttle = max_running > 0 ? max_running : r.manifest.value("max_running", std::size_t{0});
    arrays = plan_arrays(r.shards, cluster_max_array_size(max_array_size, true), throttle);
  }
  nlohmann::json record = submit_arrays(r.dir, arrays, r.dependency);
  record["shards"] = r.shards;
  if (!r.manifest.contains("resubmissions") || !r.manifest["resubmissions"].is_array()) {
    r.manifest["resubmissions"] = nlohmann::json::array();
  }
  r.manifest["resubmissions"].push_back(record);
  r.manifest["merge_job_id"] = record["merge_job_id"];
  write_manifest(r.dir, r.manifest);
  return record;
}

}  // namespace gaincell::sweep
