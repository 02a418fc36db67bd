// SPDX-License-Identifier: MIT
#include "gaincell/sweep/cluster.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/run_lock.h"
#include "gaincell/spice/worker_pool.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/journal.h"
#include "gaincell/sweep/plan.h"
#include "gaincell/sweep/sweep.h"

namespace gaincell::sweep {
namespace {

namespace fs = std::filesystem;

std::string attr(const store::Results& r, const std::string& key) {
  auto it = r.attributes.find(key);
  return it == r.attributes.end() ? std::string() : it->second;
}

[[noreturn]] void mismatch(const std::string& what) { throw InputError("GC-1806", what); }

// Reads the shard files: finished shard files only (GC-1807, GC-1806).
std::vector<store::Results> read_shards(const std::vector<fs::path>& files) {
  if (files.empty()) throw InputError("GC-1807", "merge: no shard files given");
  std::vector<store::Results> shards;
  for (const auto& f : files) {
    if (f.extension() == ".partial" || f.extension() == ".journal") {
      throw InputError("GC-1807", f.string() +
                                      " is an unfinished shard; finish it with `gaincell sweep ... --resume` first");
    }
    shards.push_back(store::read_results(f));
    const auto& r = shards.back();
    if (attr(r, "shard_count").empty()) mismatch(f.string() + " is not a shard file (no shard_count attribute)");
    if (attr(r, "complete") != "yes") {
      throw InputError("GC-1807", f.string() + " is incomplete; finish it with --resume");
    }
  }
  return shards;
}

// Same experiment and build; and each file's spec is the one its hash names (GC-1806).
void check_one_run(const std::vector<store::Results>& shards, const std::vector<fs::path>& files) {
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const std::string spec_json = attr(shards[i], "spec_json");
    if (!spec_json.empty() && sha256_hex(spec_json) != attr(shards[i], "spec_sha256")) {
      mismatch(files[i].string() + ": its spec_json does not have the SHA-256 its spec_sha256 attribute records: "
                                   "the file was altered");
    }
  }
  const store::Results& first = shards.front();
  for (std::size_t i = 1; i < shards.size(); ++i) {
    for (const char* key : {"spec_sha256", "template_sha256", "include_sha256", "gaincell_version", "gaincell_git_sha",
                            "ngspice_library", "point_count", "shard_count"}) {
      if (attr(shards[i], key) != attr(first, key)) {
        mismatch(files[i].string() + " and " + files[0].string() + " differ in " + key + " (" + attr(shards[i], key) +
                 " vs " + attr(first, key) + "): they are not shards of one run");
      }
    }
  }
}

// A count attribute of a shard file: digits only, within the limit (GC-1806).
std::size_t count_attribute(const store::Results& r, const fs::path& file, const char* key, std::size_t limit) {
  const std::string text = attr(r, key);
  std::size_t value = 0;
  const bool ok = !text.empty() && text.size() <= 12 && text.find_first_not_of("0123456789") == std::string::npos;
  if (ok) value = std::stoul(text);
  if (!ok || value > limit) {
    mismatch(file.string() + ": attribute " + key + " = \"" + text + "\" is not an integer in [0, " +
             std::to_string(limit) + "]");
  }
  return value;
}

// The shards missing from the files; GC-1806 for an index out of range or given twice.
std::vector<std::size_t> missing_shards(const std::vector<store::Results>& shards, const std::vector<fs::path>& files,
                                        std::size_t count) {
  std::vector<int> shard_file(count, -1);
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const std::size_t idx = count_attribute(shards[i], files[i], "shard_index", limits::kMaxShards);
    if (idx >= count) mismatch(files[i].string() + ": shard index out of range");
    if (shard_file[idx] >= 0) {
      mismatch("shard " + std::to_string(idx) + " is given twice: " +
               files[static_cast<std::size_t>(shard_file[idx])].string() + " and " + files[i].string());
    }
    shard_file[idx] = static_cast<int>(i);
  }
  std::vector<std::size_t> missing;
  for (std::size_t i = 0; i < count; ++i) {
    if (shard_file[i] < 0) missing.push_back(i);
  }
  return missing;
}

// Every point exactly once, and run: GC-1806 for duplicates, GC-1807 listing
// the missing shards and points.
void check_every_point_once(const std::vector<store::Results>& shards, const std::vector<fs::path>& files,
                            std::size_t total, const std::vector<std::size_t>& missing_shard_list) {
  std::vector<int> owner(total, -1);
  std::vector<std::size_t> missing, duplicated;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const auto& r = shards[i];
    for (std::size_t j = 0; j < r.point_index.size(); ++j) {
      const std::size_t k = r.point_index[j];
      if (k >= total) mismatch(files[i].string() + ": point index out of range");
      if (owner[k] >= 0) duplicated.push_back(k);
      owner[k] = static_cast<int>(i);
      if (r.status[j] == spice::SimOutcome::kNotRun) missing.push_back(k);
    }
  }
  for (std::size_t k = 0; k < total; ++k) {
    if (owner[k] < 0) missing.push_back(k);
  }
  std::sort(missing.begin(), missing.end());
  if (!duplicated.empty()) mismatch("points in more than one shard: " + short_list(duplicated));
  if (!missing_shard_list.empty() || !missing.empty()) {
    throw InputError("GC-1807", "merge: " +
                                    (missing_shard_list.empty() ? std::string()
                                                                : "shards missing: " + short_list(missing_shard_list) + "; ") +
                                    std::to_string(missing.size()) + " of " + std::to_string(total) +
                                    " points have no result: " + short_list(missing) +
                                    ". Run the missing shards (gaincell status DIR tells which) and merge again");
  }
}

// The merged file's layout: the full one of the first shard, its provenance,
// and the shard files it was merged from.
store::ResultsLayout merged_layout(const store::Results& first, const std::vector<fs::path>& files) {
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
  return layout;
}

// Point j of a results file: its measures' values in layout order.
void point_values(const store::Results& r, std::size_t j, std::vector<double>& values) {
  values.clear();
  for (const auto& m : r.measures) {
    const auto& col = r.values.at(m.name);
    const std::size_t w = m.width();
    values.insert(values.end(), col.begin() + static_cast<std::ptrdiff_t>(j * w),
                  col.begin() + static_cast<std::ptrdiff_t>((j + 1) * w));
  }
}

// Writes every point of every shard into the merged file.
MergeSummary write_merged(const std::vector<store::Results>& shards, store::ResultsWriter& writer, std::size_t total,
                          std::size_t count, Reporter& reporter) {
  MergeSummary summary;
  summary.points = total;
  summary.shards = count;
  std::vector<double> values;
  double parse_total = 0, run_total = 0;
  for (const auto& r : shards) {
    for (std::size_t j = 0; j < r.point_index.size(); ++j) {
      point_values(r, j, values);
      const auto outcome = r.status[j];
      ++summary.outcomes[outcome];
      if (outcome != spice::SimOutcome::kOk && summary.failed_points.size() < 20) summary.failed_points.push_back(r.point_index[j]);
      writer.write_point(r.point_index[j], outcome, values, r.messages[j], r.parse_time_s[j], r.run_time_s[j]);
      parse_total += r.parse_time_s[j];
      run_total += r.run_time_s[j];
    }
  }
  const std::size_t ok = summary.outcomes[spice::SimOutcome::kOk];
  reporter.info("merge: " + std::to_string(count) + " shards, " + std::to_string(total) + " points, " +
                std::to_string(ok) + " ok");
  writer.finish({{"points_ok", std::to_string(ok)},
                 {"points_failed", std::to_string(total - ok)},
                 {"merged_shards", std::to_string(count)},
                 {"ngspice_parse_time_s", std::to_string(parse_total)},
                 {"ngspice_run_time_s", std::to_string(run_total)}});
  return summary;
}

}  // namespace

std::string short_list(const std::vector<std::size_t>& v, std::size_t max) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < max; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  if (v.size() > max) s += ", ... (" + std::to_string(v.size()) + " in all)";
  return s;
}

MergeSummary merge_shards(const std::vector<fs::path>& files, const fs::path& output, Reporter& reporter) {
  const std::vector<store::Results> shards = read_shards(files);
  check_one_run(shards, files);
  const std::size_t total = count_attribute(shards[0], files[0], "point_count", limits::kMaxPoints);
  const std::size_t count = count_attribute(shards[0], files[0], "shard_count", limits::kMaxShards);
  if (count == 0) mismatch(files[0].string() + ": shard_count is 0");
  check_every_point_once(shards, files, total, missing_shards(shards, files, count));
  const store::ResultsLayout layout = merged_layout(shards.front(), files);
  if (!output.parent_path().empty()) fs::create_directories(output.parent_path());
  const RunLock lock(output);
  store::ResultsWriter writer = store::ResultsWriter::create(output, layout);
  return write_merged(shards, writer, total, count, reporter);
}

std::vector<ShardState> shard_status(const fs::path& dir, nlohmann::json* manifest_out) {
  const fs::path mpath = dir / "slurm.json";
  std::error_code ec;
  if (!fs::exists(mpath, ec)) {
    throw InputError("GC-1808", dir.string() + " has no slurm.json: not a `gaincell slurm` directory");
  }
  const nlohmann::json manifest = nlohmann::json::parse(read_text_file(mpath), nullptr, false);
  auto count_of = [&](const char* key, std::size_t limit) -> std::size_t {
    const auto it = manifest.is_object() ? manifest.find(key) : manifest.end();
    if (it == manifest.end() || !it->is_number_unsigned() || it->get<std::size_t>() > limit ||
        (std::string(key) == "shards" && it->get<std::size_t>() == 0)) {
      throw InputError("GC-1808", mpath.string() + ": \"" + key + "\" must be an integer in [" +
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

std::vector<std::size_t> unfinished_shards(const std::vector<ShardState>& states) {
  std::vector<std::size_t> out;
  for (const auto& s : states) {
    if (s.state != "done") out.push_back(s.index);
  }
  return out;
}

std::size_t RunEstimate::suggested_shards() const {
  if (!(per_point_s > 0)) return 1;
  return std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(cpu_s() / jobs / 3600.0)));
}

RunEstimate estimate_run(const SweepSpec& spec, std::size_t probe, int jobs) {
  const SweepPlan plan(spec);
  RunEstimate e;
  e.points = plan.size();
  e.jobs = jobs > 0 ? jobs : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  if (probe == 0 || e.points == 0) return e;
  // A few points spread over the grid with one worker: CPU seconds per point.
  const std::size_t n = std::min(probe, e.points);
  spice::PoolOptions one_worker;
  one_worker.jobs = 1;
  spice::WorkerPool pool(one_worker);
  double sum = 0;
  pool.run(n, [&](std::size_t i) { return plan.job(i * e.points / n); },
           [&](spice::SimResult&& r) {
             sum += r.wall_time_s;
             ++e.probed;
             if (!r.ok()) ++e.probe_failed;
           });
  e.per_point_s = e.probed > 0 ? sum / static_cast<double>(e.probed) : 0;
  return e;
}

}  // namespace gaincell::sweep
