// SPDX-License-Identifier: MIT
#include "gaincell/sweep/cluster.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <set>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/run_lock.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/journal.h"
#include "gaincell/sweep/plan.h"
#include "gaincell/sweep/sweep.h"

namespace gaincell::sweep {
namespace {

namespace fs = std::filesystem;

std::string list_of(const std::vector<std::size_t>& v, std::size_t max = 20) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < max; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  if (v.size() > max) s += ", ... (" + std::to_string(v.size()) + " in all)";
  return s;
}

std::string attr(const store::Results& r, const std::string& key) {
  auto it = r.attributes.find(key);
  return it == r.attributes.end() ? std::string() : it->second;
}

std::string quote(const fs::path& p) {
  std::string s = "'";
  for (char c : p.string()) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return s + "'";
}

}  // namespace

MergeSummary merge_shards(const std::vector<fs::path>& files, const fs::path& output, Reporter& reporter) {
  if (files.empty()) throw InputError("GC-1807", "error GC-1807: merge: no shard files given");
  std::vector<store::Results> shards;
  for (const auto& f : files) {
    if (f.extension() == ".partial" || f.extension() == ".journal") {
      throw InputError("GC-1807", "error GC-1807: " + f.string() +
                                      " is an unfinished shard; finish it with `gaincell sweep ... --resume` first");
    }
    shards.push_back(store::read_results(f));
    const auto& r = shards.back();
    if (attr(r, "shard_count").empty()) {
      throw InputError("GC-1806", "error GC-1806: " + f.string() + " is not a shard file (no shard_count attribute)");
    }
    if (attr(r, "complete") != "yes") {
      throw InputError("GC-1807", "error GC-1807: " + f.string() + " is incomplete; finish it with --resume");
    }
  }
  // Same experiment and build; and each file's spec is the one its hash names.
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const std::string spec_json = attr(shards[i], "spec_json");
    if (!spec_json.empty() && sha256_hex(spec_json) != attr(shards[i], "spec_sha256")) {
      throw InputError("GC-1806", "error GC-1806: " + files[i].string() +
                                      ": its spec_json does not have the SHA-256 its spec_sha256 attribute records: "
                                      "the file was altered");
    }
  }
  const store::Results& first = shards.front();
  for (std::size_t i = 1; i < shards.size(); ++i) {
    for (const char* key : {"spec_sha256", "template_sha256", "include_sha256", "gaincell_version", "gaincell_git_sha",
                            "ngspice_library", "point_count", "shard_count"}) {
      if (attr(shards[i], key) != attr(first, key)) {
        throw InputError("GC-1806", "error GC-1806: " + files[i].string() + " and " + files[0].string() +
                                        " differ in " + key + " (" + attr(shards[i], key) + " vs " +
                                        attr(first, key) + "): they are not shards of one run");
      }
    }
  }
  // A count attribute of a shard file: digits only, within the limits.
  auto count_attr = [&](std::size_t i, const char* key, std::size_t limit) -> std::size_t {
    const std::string text = attr(shards[i], key);
    std::size_t value = 0;
    bool ok = !text.empty() && text.size() <= 12 && text.find_first_not_of("0123456789") == std::string::npos;
    if (ok) value = std::stoul(text);
    if (!ok || value > limit) {
      throw InputError("GC-1806", "error GC-1806: " + files[i].string() + ": attribute " + key + " = \"" + text +
                                      "\" is not an integer in [0, " + std::to_string(limit) + "]");
    }
    return value;
  };
  const std::size_t total = count_attr(0, "point_count", limits::kMaxPoints);
  const std::size_t count = count_attr(0, "shard_count", limits::kMaxShards);
  if (count == 0) throw InputError("GC-1806", "error GC-1806: " + files[0].string() + ": shard_count is 0");
  std::vector<int> shard_file(count, -1);
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const std::size_t idx = count_attr(i, "shard_index", limits::kMaxShards);
    if (idx >= count) throw InputError("GC-1806", "error GC-1806: " + files[i].string() + ": shard index out of range");
    if (shard_file[idx] >= 0) {
      throw InputError("GC-1806", "error GC-1806: shard " + std::to_string(idx) + " is given twice: " +
                                      files[static_cast<std::size_t>(shard_file[idx])].string() + " and " + files[i].string());
    }
    shard_file[idx] = static_cast<int>(i);
  }
  std::vector<std::size_t> missing_shards;
  for (std::size_t i = 0; i < count; ++i) {
    if (shard_file[i] < 0) missing_shards.push_back(i);
  }
  // Every point exactly once, and run.
  std::vector<int> owner(total, -1);
  std::vector<std::size_t> missing, duplicated;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const auto& r = shards[i];
    for (std::size_t j = 0; j < r.point_index.size(); ++j) {
      const std::size_t k = r.point_index[j];
      if (k >= total) throw InputError("GC-1806", "error GC-1806: " + files[i].string() + ": point index out of range");
      if (owner[k] >= 0) duplicated.push_back(k);
      owner[k] = static_cast<int>(i);
      if (r.status[j] == spice::SimOutcome::kNotRun) missing.push_back(k);
    }
  }
  for (std::size_t k = 0; k < total; ++k) {
    if (owner[k] < 0) missing.push_back(k);
  }
  std::sort(missing.begin(), missing.end());
  if (!duplicated.empty()) {
    throw InputError("GC-1806", "error GC-1806: points in more than one shard: " + list_of(duplicated));
  }
  if (!missing_shards.empty() || !missing.empty()) {
    throw InputError("GC-1807", "error GC-1807: merge: " +
                                    (missing_shards.empty() ? std::string()
                                                            : "shards missing: " + list_of(missing_shards) + "; ") +
                                    std::to_string(missing.size()) + " of " + std::to_string(total) +
                                    " points have no result: " + list_of(missing) +
                                    ". Run the missing shards (gaincell status DIR tells which) and merge again");
  }
  // The merged file: the full layout, every point from its shard.
  store::ResultsLayout layout;
  for (const auto& a : first.axes) layout.axes.push_back(a);
  layout.measures = first.measures;
  layout.monte_carlo = first.monte_carlo;
  for (const auto& [k, v] : first.attributes) {
    if (k.rfind("shard_", 0) == 0 || k == "complete" || k == "gaincell_format" || k == "axes" || k == "measures") continue;
    layout.attributes[k] = v;
  }
  std::string sources;
  for (const auto& f : files) sources += f.string() + " " + sha256_file(f) + "\n";
  layout.attributes["merged_from"] = sources;
  if (!output.parent_path().empty()) fs::create_directories(output.parent_path());
  const RunLock lock(output);
  store::ResultsWriter writer = store::ResultsWriter::create(output, layout);
  MergeSummary summary;
  summary.points = total;
  summary.shards = count;
  std::vector<double> values;
  double parse_total = 0, run_total = 0;
  for (const auto& r : shards) {
    for (std::size_t j = 0; j < r.point_index.size(); ++j) {
      values.clear();
      for (const auto& m : r.measures) {
        const auto& col = r.values.at(m.name);
        const std::size_t w = m.width();
        values.insert(values.end(), col.begin() + static_cast<std::ptrdiff_t>(j * w),
                      col.begin() + static_cast<std::ptrdiff_t>((j + 1) * w));
      }
      const auto outcome = r.status[j];
      ++summary.outcomes[outcome];
      if (outcome != spice::SimOutcome::kOk && summary.failed_points.size() < 20) summary.failed_points.push_back(r.point_index[j]);
      writer.write_point(r.point_index[j], outcome, values, r.messages[j], r.parse_time_s[j], r.run_time_s[j]);
      parse_total += r.parse_time_s[j];
      run_total += r.run_time_s[j];
    }
  }
  std::size_t ok = summary.outcomes[spice::SimOutcome::kOk];
  reporter.info("merge: " + std::to_string(count) + " shards, " + std::to_string(total) + " points, " +
                std::to_string(ok) + " ok");
  writer.finish({{"points_ok", std::to_string(ok)},
                 {"points_failed", std::to_string(total - ok)},
                 {"merged_shards", std::to_string(count)},
                 {"ngspice_parse_time_s", std::to_string(parse_total)},
                 {"ngspice_run_time_s", std::to_string(run_total)}});
  return summary;
}

std::vector<ShardState> shard_status(const fs::path& dir, nlohmann::json* manifest_out) {
  const fs::path mpath = dir / "slurm.json";
  std::error_code ec;
  if (!fs::exists(mpath, ec)) {
    throw InputError("GC-1808", "error GC-1808: " + dir.string() + " has no slurm.json: not a `gaincell slurm` directory");
  }
  const nlohmann::json manifest = nlohmann::json::parse(read_text_file(mpath), nullptr, false);
  auto count_of = [&](const char* key, std::size_t limit) -> std::size_t {
    const auto it = manifest.is_object() ? manifest.find(key) : manifest.end();
    if (it == manifest.end() || !it->is_number_unsigned() || it->get<std::size_t>() > limit ||
        (std::string(key) == "shards" && it->get<std::size_t>() == 0)) {
      throw InputError("GC-1808", "error GC-1808: " + mpath.string() + ": \"" + key + "\" must be an integer in [" +
                                      (std::string(key) == "shards" ? "1" : "0") + ", " + std::to_string(limit) +
                                      "]; the file is damaged or not written by gaincell slurm");
    }
    return it->get<std::size_t>();
  };
  const std::size_t total = count_of("points_total", limits::kMaxPoints);
  const std::size_t count = count_of("shards", limits::kMaxShards);
  if (manifest_out != nullptr) *manifest_out = manifest;
  std::vector<ShardState> out;
  for (std::size_t i = 0; i < count; ++i) {
    ShardState s;
    s.index = i;
    s.file = dir / ("shard-" + std::to_string(i) + ".h5");
    s.points = shard_points(total, i, count).size();
    const fs::path journal = s.file.string() + ".journal";
    if (fs::exists(s.file, ec)) {
      const store::Results r = store::read_results(s.file);
      for (auto st : r.status) {
        if (st == spice::SimOutcome::kOk) {
          ++s.ok;
        } else if (st != spice::SimOutcome::kNotRun) {
          ++s.failed;
        }
      }
      s.state = "done";
    } else if (fs::exists(journal, ec)) {
      const JournalContents j = read_journal(journal);
      std::set<std::size_t> seen;
      for (const auto& rec : j.records) {
        if (!seen.insert(rec.point).second) continue;
        if (rec.outcome == spice::SimOutcome::kOk) {
          ++s.ok;
        } else {
          ++s.failed;
        }
      }
      s.state = "running or interrupted";
    } else {
      s.state = "not started";
    }
    s.pending = s.points - std::min(s.points, s.ok + s.failed);
    out.push_back(s);
  }
  return out;
}

std::vector<ArraySubmission> plan_arrays(std::vector<std::size_t> shards, std::size_t max_array_size,
                                         std::size_t max_running) {
  if (max_array_size == 0 || max_array_size > kSlurmMaxMaxArraySize) {
    throw InputError("GC-1814", "error GC-1814: slurm: MaxArraySize is " + std::to_string(max_array_size) +
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
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MaxArraySize", 0) != 0) continue;
    const auto eq = line.find('=');
    std::string value = eq == std::string::npos ? std::string() : line.substr(eq + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r") + 1);
    const bool digits = !value.empty() && value.size() <= 8 && value.find_first_not_of("0123456789") == std::string::npos;
    const std::size_t n = digits ? std::stoul(value) : 0;
    if (!digits || n < 1 || n > kSlurmMaxMaxArraySize) {
      throw InputError("GC-1814", "error GC-1814: scontrol show config: MaxArraySize = \"" + value +
                                      "\": expected a count of 1 to " + std::to_string(kSlurmMaxMaxArraySize) +
                                      " (0 disables job arrays); give --max-array-size to override");
    }
    return n;
  }
  throw InputError("GC-1814", "error GC-1814: scontrol show config printed no \"MaxArraySize = N\" line; "
                              "give --max-array-size N (the cluster's MaxArraySize) to lay out the arrays");
}

std::vector<std::size_t> unfinished_shards(const std::vector<ShardState>& states) {
  std::vector<std::size_t> out;
  for (const auto& s : states) {
    if (s.state != "done") out.push_back(s.index);
  }
  return out;
}

nlohmann::json write_slurm_job(const SweepSpec& spec, const fs::path& spec_file, const SlurmOptions& o) {
  if (o.shards < 1 || o.shards > limits::kMaxShards) {
    throw InputError("GC-1809", "error GC-1809: slurm: --shards must be 1 to " + std::to_string(limits::kMaxShards) +
                                    " (limits::kMaxShards, docs/cli.md#limits)");
  }
  if (o.cpus_per_task < 1 || o.cpus_per_task > limits::kMaxJobs) {
    throw InputError("GC-1809", "error GC-1809: slurm: --cpus-per-task must be 1 to " + std::to_string(limits::kMaxJobs));
  }
  // Each value becomes one #SBATCH line: a newline would start a script line.
  auto one_line = [](const std::string& option, const std::string& value) {
    for (const unsigned char c : value) {
      if (c < 0x20 || c == 0x7f) {
        throw InputError("GC-1809", "error GC-1809: slurm: " + option + " holds a control character (newline, tab, ...): "
                                        "each value becomes one #SBATCH line");
      }
    }
  };
  one_line("--partition", o.partition);
  one_line("--time", o.time);
  one_line("--mem", o.mem);
  one_line("--account", o.account);
  for (const auto& e : o.extra) one_line("--sbatch", e);
  one_line("--output-name", o.output_name);
  if (o.output_name.empty() || o.output_name.find('/') != std::string::npos || o.output_name == "." || o.output_name == "..") {
    throw InputError("GC-1809", "error GC-1809: slurm: --output-name must be a file name in DIR, not a path");
  }
  if (o.dependency != "afterok" && o.dependency != "afterany") {
    throw InputError("GC-1809", "error GC-1809: slurm: --dependency must be afterok or afterany");
  }
  // Slurm keeps the --signal lead time in 16 bits (at most 65535 s).
  if (o.signal_lead_s < 1 || o.signal_lead_s > 65535) {
    throw InputError("GC-1809", "error GC-1809: slurm: --signal-lead must be 1 to 65535 s (sbatch --signal=B:USR1@S)");
  }
  if (o.max_requeues < 0 || o.max_requeues > 1000) {
    throw InputError("GC-1809", "error GC-1809: slurm: --max-requeues must be 0 to 1000");
  }
  if (o.max_running > limits::kMaxShards) {
    throw InputError("GC-1809", "error GC-1809: slurm: --max-running must be 0 (no limit) to " +
                                    std::to_string(limits::kMaxShards));
  }
  if (o.max_array_size > kSlurmMaxMaxArraySize) {
    throw InputError("GC-1809", "error GC-1809: slurm: --max-array-size must be 1 to " +
                                    std::to_string(kSlurmMaxMaxArraySize) + " (Slurm's limit for MaxArraySize)");
  }
  const fs::path dir = fs::absolute(o.dir).lexically_normal();
  fs::create_directories(dir / "logs");
  const fs::path exe = fs::canonical("/proc/self/exe");
  const fs::path spec_abs = fs::absolute(spec_file).lexically_normal();
  const SweepPlan plan(spec);
  auto common = [&](std::ostream& out, const std::string& name) {
    out << "#!/bin/bash\n";
    out << "#SBATCH --job-name=" << name << "\n";
    if (!o.partition.empty()) out << "#SBATCH --partition=" << o.partition << "\n";
    if (!o.time.empty()) out << "#SBATCH --time=" << o.time << "\n";
    if (!o.mem.empty()) out << "#SBATCH --mem=" << o.mem << "\n";
    if (!o.account.empty()) out << "#SBATCH --account=" << o.account << "\n";
    for (const auto& e : o.extra) out << "#SBATCH " << e << "\n";
  };
  {
    const std::size_t n = o.shards;
    const std::string d = quote(dir);
    std::ostringstream out;
    common(out, "gaincell-" + spec.name);
    const std::size_t known = o.max_array_size > 0 ? o.max_array_size : kSlurmDefaultMaxArraySize;
    if (n <= known) {
      out << "#SBATCH --array=0-" << n - 1;
      if (o.max_running > 0) out << "%" << o.max_running;
      out << "\n";
    }
    out << "#SBATCH --cpus-per-task=" << o.cpus_per_task << "\n";
    // Slurm's own messages (time limit, cancel); the shard's output goes to logs/shard-<i>.out.
    out << "#SBATCH --output=" << (dir / "logs" / "slurm-%A_%a.out").string() << "\n";
    out << "#SBATCH --open-mode=append\n";
    if (o.requeue) {
      out << "#SBATCH --requeue\n";
      out << "#SBATCH --signal=B:USR1@" << o.signal_lead_s << "\n";
    }
    out << "# One shard of " << plan.size() << " points (" << spec.name << ") per array task; written by gaincell "
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
    if (o.requeue) out << "trap 'forward USR1' USR1\n";
    out << "trap 'forward TERM' TERM\n";
    out << quote(exe) << " sweep " << quote(spec_abs) << " --shard \"$i/" << n << "\" -o " << d
        << "/shard-\"$i\".h5 --jobs \"${SLURM_CPUS_PER_TASK:-1}\" --resume &\n";
    out << "child=$!\n";
    out << "if [ -n \"$stop\" ]; then kill -TERM \"$child\" 2>/dev/null; fi\n";
    out << "# wait returns early when a trapped signal arrives: wait again until the shard has exited.\n";
    out << "wait \"$child\"; rc=$?\n";
    out << "while kill -0 \"$child\" 2>/dev/null; do wait \"$child\"; rc=$?; done\n";
    out << "if [ \"$rc\" -eq 4 ]; then rc=0; fi\n";
    if (o.requeue) {
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
    out << "echo \"shards.sbatch: shard $i exit $rc at $(date '+%F %T')\"\n";
    out << "exit \"$rc\"\n";
    write_text_file(dir / "shards.sbatch", out.str());
  }
  {
    std::ostringstream out;
    common(out, "gaincell-merge-" + spec.name);
    out << "#SBATCH --cpus-per-task=1\n";
    out << "#SBATCH --output=" << (dir / "logs" / "merge.out").string() << "\n";
    out << "# Submitted with --dependency=" << o.dependency << ":<array job id> by `gaincell slurm --submit`.\n";
    out << "set -u\n";
    out << "files=()\n";
    out << "for i in $(seq 0 " << o.shards - 1 << "); do files+=(" << quote(dir) << "/shard-\"$i\".h5); done\n";
    out << "exec " << quote(exe) << " merge \"${files[@]}\" -o " << quote(dir / o.output_name) << "\n";
    write_text_file(dir / "merge.sbatch", out.str());
  }
  fs::permissions(dir / "shards.sbatch", fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
  fs::permissions(dir / "merge.sbatch", fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
  nlohmann::json manifest{{"format", "gaincell-slurm/1"},
                          {"spec", spec_abs.string()},
                          {"spec_sha256", sha256_hex(spec.text)},
                          {"spec_name", spec.name},
                          {"points_total", plan.size()},
                          {"shards", o.shards},
                          {"shard_rule", "interleaved: point k in shard k % shards"},
                          {"output", (dir / o.output_name).string()},
                          {"dependency", o.dependency},
                          {"requeue", o.requeue ? nlohmann::json{{"signal", "B:USR1@" + std::to_string(o.signal_lead_s)},
                                                                 {"max_requeues", o.max_requeues}}
                                                : nlohmann::json(nullptr)},
                          {"max_running", o.max_running},
                          {"gaincell", exe.string()},
                          {"gaincell_version", build_info().version + " (" + build_info().git_sha + ")"}};
  write_text_file(dir / "slurm.json", manifest.dump(1) + "\n");
  return manifest;
}

}  // namespace gaincell::sweep
