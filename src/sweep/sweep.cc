// SPDX-License-Identifier: MIT
#include "gaincell/sweep/sweep.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <optional>
#include <sstream>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/process.h"
#include "gaincell/core/run_lock.h"
#include "gaincell/core/json_location.h"
#include "gaincell/core/strings.h"
#include "gaincell/netlist/si_value.h"
#include "gaincell/netlist/subckt.h"
#include "gaincell/netlist/template.h"
#include "gaincell/spice/worker.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/journal.h"
#include "gaincell/sweep/plan.h"

namespace gaincell::sweep {
namespace {

using Clock = std::chrono::steady_clock;

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string seconds_text(double s) { return netlist::format_human(s, "s", 3, true); }

// A plot's vector name as a measure would write it: node -> v(node),
// v.x1.vs#branch -> i(x1.vs), vs#branch -> i(vs).
std::string user_vector_name(std::string n) {
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto hash = n.find("#branch");
  if (hash != std::string::npos) {
    n = n.substr(0, hash);
    if (n.size() > 2 && n[1] == '.') n = n.substr(2);
    return "i(" + n + ")";
  }
  if (n.find('(') != std::string::npos || n.find('@') != std::string::npos || n == "time") return n;
  return "v(" + n + ")";
}

// Stops the sweep when its first point failed for a reason every point shares.
void check_preflight(const SweepSpec& spec, const SweepPlan& plan, const spice::SimResult& r) {
  using spice::SimOutcome;
  if (r.outcome == SimOutcome::kMeasureError && !r.missing_vectors.empty()) {
    std::vector<std::string> have;
    for (const auto& n : r.plot_vectors) {
      const std::string u = user_vector_name(n);
      if (u != "time") have.push_back(u);
    }
    const std::string missing = r.missing_vectors.front();
    for (std::size_t i = 0; i < spec.measures.size(); ++i) {
      const auto& m = spec.measures[i];
      for (const auto& [key, vec] : {std::pair{"of", m.of}, std::pair{"voltage", m.voltage}, std::pair{"current", m.current}}) {
        if (vec != missing) continue;
        const std::string pointer = "/measures/" + std::to_string(i) + "/" + key;
        const auto [line, col] = locate_json_pointer(spec.text, pointer);
        // The part the circuit lacks (of v(a,b), a or b), as the user writes it.
        std::string lacking = missing;
        std::vector<std::string> plot_lower;
        for (const auto& n : r.plot_vectors) plot_lower.push_back(lower(n));
        for (const auto& t : vector_terms(missing)) {
          const std::string inner = t.name.size() > 3 && t.name[1] == '(' ? t.name.substr(2, t.name.size() - 3) : t.name;
          const bool present = std::find(plot_lower.begin(), plot_lower.end(), lower(inner)) != plot_lower.end() ||
                               std::find(plot_lower.begin(), plot_lower.end(), lower(t.name)) != plot_lower.end() ||
                               std::find(plot_lower.begin(), plot_lower.end(), lower(inner) + "#branch") != plot_lower.end();
          if (!present) {
            lacking = t.name[0] == 'v' ? t.name : missing;
            break;
          }
        }
        // Suggestions from the circuit itself (the plot holds only the saved vectors).
        for (const auto& n : netlist::circuit_vector_names(spec.netlist.text(), netlist::dependency_files(spec.netlist))) {
          if (std::find(have.begin(), have.end(), n) == have.end()) have.push_back(n);
        }
        const auto close = closest_names(lacking, have, 3);
        throw_input_error({spec.path.string(), line, col, pointer}, "GC-1213",
                          "measure '" + m.name + "' reads " + missing + ", but the circuit has no " + lacking + " (point " +
                              std::to_string(r.id) + " was simulated first; nothing else ran)",
                          close.empty() ? "the circuit has no vectors to offer" : "closest: " + join(close, ", "));
      }
    }
  }
  const bool fatal = r.outcome == SimOutcome::kParseError || r.outcome == SimOutcome::kControlledExit ||
                     (r.outcome == SimOutcome::kMissingModel &&
                      std::none_of(spec.axes.begin(), spec.axes.end(), [](const Axis& a) { return a.kind == Axis::Kind::kCorner; }));
  if (!fatal) return;
  throw InputError("GC-1214", "error GC-1214: " + spec.path.string() + ": point " + std::to_string(r.id) + " (" +
                                  plan.describe(r.id) + ") failed as " + std::string(spice::to_string(r.outcome)) +
                                  ", a reason no other point can escape; nothing else was run. ngspice said:\n  " +
                                  [&] {
                                    std::string m = r.message;
                                    for (std::size_t p = m.find('\n'); p != std::string::npos; p = m.find('\n', p + 3)) m.insert(p + 1, "  ");
                                    return m;
                                  }());
}

}  // namespace

std::vector<std::size_t> shard_points(std::size_t total, std::size_t index, std::size_t count) {
  std::vector<std::size_t> points;
  if (count == 0) {
    points.resize(total);
    for (std::size_t k = 0; k < total; ++k) points[k] = k;
    return points;
  }
  for (std::size_t k = index; k < total; k += count) points.push_back(k);
  return points;
}

std::pair<std::size_t, std::size_t> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  auto fail = [&]() -> std::pair<std::size_t, std::size_t> {
    throw InputError("GC-1801", "error GC-1801: --shard \"" + text +
                                    "\": expected i/N with 0 <= i < N (e.g. 3/8, or ${SLURM_ARRAY_TASK_ID}/8)");
  };
  if (slash == std::string::npos || slash == 0 || slash + 1 >= text.size()) return fail();
  // Digits only: stoul would take "-2" as 2^64 - 2.
  if (text.find_first_not_of("0123456789/") != std::string::npos) return fail();
  try {
    std::size_t used = 0;
    const unsigned long i = std::stoul(text.substr(0, slash), &used);
    if (used != slash) return fail();
    const std::string rest = text.substr(slash + 1);
    const unsigned long n = std::stoul(rest, &used);
    if (used != rest.size() || n == 0 || i >= n) return fail();
    if (n > limits::kMaxShards) {
      throw InputError("GC-1801", "error GC-1801: --shard \"" + text + "\": at most " +
                                      std::to_string(limits::kMaxShards) + " shards (limits::kMaxShards, docs/cli.md#limits)");
    }
    return {i, n};
  } catch (const std::logic_error&) {
    return fail();
  }
}

std::size_t SweepSummary::ok() const {
  auto it = outcomes.find(spice::SimOutcome::kOk);
  return it == outcomes.end() ? 0 : it->second;
}

std::string SweepSummary::brief() const {
  std::ostringstream out;
  if (interrupted) {
    out << "sweep '" << name << "': interrupted after " << done << " of " << points << " points (" << ok()
        << " ok); finished points are saved in " << output.string();
    return out.str();
  }
  out << "sweep '" << name << "': " << ok() << " of " << points << " points ok";
  if (failed() > 0) {
    out << ", " << failed() << " failed (";
    bool first = true;
    for (const auto& [o, n] : outcomes) {
      if (o == spice::SimOutcome::kOk) continue;
      out << (first ? "" : ", ") << n << " " << spice::to_string(o);
      first = false;
    }
    out << ")";
  }
  out << " in " << seconds_text(wall_time_s) << " with " << jobs << " worker" << (jobs == 1 ? "" : "s");
  if (points > 0) {
    out << " (" << seconds_text(wall_time_s / static_cast<double>(points)) << " per point; ngspice "
        << seconds_text((parse_time_s + run_time_s) / static_cast<double>(points)) << " per point)";
  }
  out << "\nresults: " << output.string();
  if (parent_peak_rss_kib > 0) {
    out << "\npeak memory: " << static_cast<double>(parent_peak_rss_kib) / 1024.0 << " MiB driver, "
        << static_cast<double>(worker_peak_rss_kib) / 1024.0
        << " MiB largest worker";
  }
  return out.str();
}

std::string SweepSummary::full() const {
  std::ostringstream out;
  out << brief() << "\n";
  for (const auto& r : ranges) {
    out << "  " << r.name << ": ";
    if (std::isnan(r.min)) {
      out << "no value (no point succeeded)\n";
    } else {
      out << netlist::format_human(r.min, r.unit, 4, true) << " .. " << netlist::format_human(r.max, r.unit, 4, true)
          << "\n";
    }
  }
  if (!failures.groups().empty()) out << "  failed points, by message:\n" << failures.text(8, "    ");
  return out.str();
}

void FailureDigest::add(std::size_t point, spice::SimOutcome outcome, const std::string& message) {
  const std::string first = message.substr(0, message.find('\n'));
  // Messages that differ only in numbers (a pid, a point, a time) are one kind.
  std::string pattern;
  for (std::size_t i = 0; i < first.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(first[i]))) {
      while (i + 1 < first.size() && std::isdigit(static_cast<unsigned char>(first[i + 1]))) ++i;
      pattern += '#';
    } else {
      pattern += first[i];
    }
  }
  for (auto& g : groups_) {
    if (g.outcome == outcome && g.pattern == pattern) {
      ++g.count;
      if (point < g.first_point) {
        g.first_point = point;
        g.message = first;
      }
      return;
    }
  }
  groups_.push_back({outcome, first, pattern, 1, point});
}

std::string FailureDigest::text(std::size_t max_groups, const std::string& indent) const {
  std::vector<FailureGroup> sorted = groups_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
  std::ostringstream out;
  for (std::size_t i = 0; i < sorted.size() && i < max_groups; ++i) {
    const auto& g = sorted[i];
    out << indent << g.count << " x " << spice::to_string(g.outcome) << " from point " << g.first_point << ": "
        << (g.message.empty() ? "(no message)" : g.message) << "\n";
  }
  if (sorted.size() > max_groups) out << indent << "... and " << sorted.size() - max_groups << " other messages\n";
  return out.str();
}

SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& options, Reporter& reporter) {
  if (options.output.empty()) {
    throw InputError("GC-1302", "Invalid configuration. output = \"\". Violated constraint: an output file is required");
  }
  if (!(options.timeout_s >= 0 && options.timeout_s <= limits::kMaxTimeout_s)) {
    char given[32];
    std::snprintf(given, sizeof given, "%g", options.timeout_s);
    throw InputError("GC-1303", "error GC-1303: timeout " + std::string(given) +
                                    " s: expected 0 (the spec's) to " + netlist::format_exact(limits::kMaxTimeout_s) +
                                    " s (limits::kMaxTimeout_s, docs/cli.md#limits)");
  }
  if (options.jobs < 0 || options.jobs > limits::kMaxJobs) {
    throw InputError("GC-1301", "error GC-1301: " + std::to_string(options.jobs) + " workers: expected 0 (one per core) to " +
                                    std::to_string(limits::kMaxJobs) + " (limits::kMaxJobs, docs/cli.md#limits)");
  }
  check_output_file(options.output);
  check_regular_or_absent(options.output.string() + ".journal");
  if (!options.output.parent_path().empty()) std::filesystem::create_directories(options.output.parent_path());
  // One run per output: a second one (say a --resume while this one still
  // writes) is refused here, before it opens the .partial or the journal.
  const RunLock lock(options.output);
  const auto start = Clock::now();
  SweepPlan plan(spec);
  spice::PoolOptions pool_options;
  pool_options.jobs = options.jobs;
  pool_options.recycle_after = options.recycle_after;
  pool_options.worker = options.worker;
  pool_options.stop = options.stop;
  pool_options.ngspice_init = spec.ngspice_init;
  spice::WorkerPool pool(pool_options);
  pool.start();  // workers load libngspice while we set up the results file

  SweepSummary summary;
  summary.name = spec.name;
  summary.output = options.output;
  summary.points = plan.size();
  summary.jobs = pool.jobs();

  // Provenance: enough to tell whether two files describe the same experiment.
  store::ResultsLayout layout;
  for (const auto& a : spec.axes) layout.axes.push_back({a.name, a.unit, a.description, a.values, a.labels});
  // Monte Carlo draws, per sample, so results can be related to them.
  if (spec.monte_carlo.samples > 0) {
    for (const auto& [name, sigma] : spec.monte_carlo.sigma) {
      store::MonteCarloDraws d;
      d.param = name;
      d.unit = spec.netlist.find_param(name)->unit;
      d.sigma = sigma;
      for (std::size_t s = 0; s < spec.monte_carlo.samples; ++s) d.values.push_back(monte_carlo_value(spec, name, s));
      layout.monte_carlo.push_back(std::move(d));
    }
    layout.attributes["monte_carlo_seed"] = std::to_string(spec.monte_carlo.seed);
  }
  for (const auto& m : spec.measures) layout.measures.push_back({m.name, m.unit, m.description, m.times_s});
  auto& attrs = layout.attributes;
  attrs["gaincell_version"] = build_info().version;
  attrs["gaincell_git_sha"] = build_info().git_sha;
  attrs["ngspice_library"] = build_info().ngspice_path;
  attrs["spec_name"] = spec.name;
  attrs["spec_description"] = spec.description;
  attrs["spec_file"] = spec.path.string();
  attrs["spec_sha256"] = sha256_hex(spec.text);
  attrs["spec_json"] = spec.text;
  // What every worker's .spiceinit held (gaincell's lines and the spec's ngspice_init).
  attrs["ngspice_init"] = spice::worker_spiceinit(spec.ngspice_init);
  attrs["template_file"] = spec.template_path.string();
  attrs["template_sha256"] = sha256_hex(spec.netlist.text());
  std::string includes;
  for (const auto& inc : netlist::dependency_files(spec.netlist)) {
    std::error_code ec;
    includes += inc.string() + " " + (std::filesystem::exists(inc, ec) ? sha256_file(inc) : "missing") + "\n";
  }
  attrs["include_sha256"] = includes;
  attrs["created_utc"] = utc_now();
  attrs["host"] = host_name();
  attrs["point_count"] = std::to_string(plan.size());
  attrs["point_order"] = "row-major over axes (last axis fastest)";

  // Which points this run owns: all, or one shard's.
  if (options.shard_count > 0 && options.shard_index >= options.shard_count) {
    throw InputError("GC-1801", "error GC-1801: shard " + std::to_string(options.shard_index) + "/" +
                                    std::to_string(options.shard_count) + ": expected 0 <= i < N");
  }
  const std::vector<std::size_t> owned = shard_points(plan.size(), options.shard_index, options.shard_count);
  if (options.shard_count > 0) {
    layout.points = owned;
    layout.shard = true;
    attrs["shard_index"] = std::to_string(options.shard_index);
    attrs["shard_count"] = std::to_string(options.shard_count);
    attrs["shard_points"] = std::to_string(owned.size());
    attrs["shard_rule"] = "interleaved: point k belongs to shard k % shard_count";
  }
  summary.points = owned.size();

  // Names that cannot share the file's root group are refused before any file is made.
  store::check_layout_names(options.output, layout);

  // The journal: what makes a killed run resumable.
  const std::filesystem::path journal_path = options.output.string() + ".journal";
  nlohmann::json header{{"format", "gaincell-journal/1"},
                        {"spec_name", spec.name},
                        {"spec_sha256", attrs["spec_sha256"]},
                        {"template_sha256", attrs["template_sha256"]},
                        {"include_sha256", attrs["include_sha256"]},
                        {"gaincell_version", build_info().version},
                        {"gaincell_git_sha", build_info().git_sha},
                        {"points_total", plan.size()},
                        {"shard_index", options.shard_index},
                        {"shard_count", options.shard_count}};
  std::error_code exists_ec;
  const bool have_journal = std::filesystem::exists(journal_path, exists_ec);
  std::vector<JournalRecord> earlier;
  std::optional<JournalWriter> journal;
  if (have_journal && !options.resume) {
    throw InputError("GC-1803", "error GC-1803: " + journal_path.string() + " exists: an earlier run of " +
                                    options.output.string() + " was interrupted. Rerun with --resume to finish it " +
                                    "(its points are kept), or delete " + journal_path.string() + " and " +
                                    options.output.string() + ".partial to start over");
  }
  if (!options.resume && !options.overwrite && std::filesystem::exists(options.output, exists_ec)) {
    throw InputError("GC-1810", "error GC-1810: " + options.output.string() +
                                    " exists; refusing to overwrite it: give --overwrite to replace it, or another -o");
  }
  // Preflight (a fresh run): the first point runs alone, and a failure no
  // point can escape stops the sweep with that point's reason.
  std::optional<spice::SimResult> first;
  if (!have_journal && !owned.empty()) {
    pool.run(1, [&](std::size_t) { return plan.job(owned.front(), options.timeout_s); },
             [&](spice::SimResult&& r) { first = std::move(r); });
    if (first) check_preflight(spec, plan, *first);
  }
  if (options.resume && !have_journal && std::filesystem::exists(options.output, exists_ec)) {
    // A finished file of this very run: nothing to do (a requeued array task).
    const store::Results done = store::read_results(options.output);
    auto same = [&](const char* key, const std::string& want) {
      auto it = done.attributes.find(key);
      return it != done.attributes.end() && it->second == want;
    };
    const std::string shard_index = options.shard_count > 0 ? std::to_string(options.shard_index) : std::string();
    const bool shard_ok = options.shard_count > 0
                              ? same("shard_index", shard_index) && same("shard_count", std::to_string(options.shard_count))
                              : done.attributes.count("shard_count") == 0;
    if (same("complete", "yes") && same("spec_sha256", attrs["spec_sha256"]) && same("gaincell_git_sha", build_info().git_sha) &&
        shard_ok) {
      for (auto st : done.status) {
        if (st != spice::SimOutcome::kNotRun) ++summary.outcomes[st];
      }
      summary.done = summary.resumed = done.status.size();
      reporter.info("resume: " + options.output.string() + " is already complete; nothing to run");
      return summary;
    }
    throw InputError("GC-1803", "error GC-1803: " + options.output.string() +
                                    " exists and is not a finished file of this run; --resume will not overwrite it");
  }
  if (have_journal) {
    JournalContents jc = read_journal(journal_path);
    for (const char* key : {"spec_sha256", "template_sha256", "include_sha256", "gaincell_version", "gaincell_git_sha",
                            "points_total", "shard_index", "shard_count"}) {
      if (jc.header.value(key, nlohmann::json()) != header[key]) {
        throw InputError("GC-1805", "error GC-1805: " + journal_path.string() + " was written by a different run (" +
                                        key + ": " + jc.header.value(key, nlohmann::json()).dump() + ", now " +
                                        header[key].dump() + "); --resume continues only the same spec, netlists, " +
                                        "shard and gaincell build. Delete the journal and the .partial file to start over");
      }
    }
    if (jc.torn_tail) reporter.warning("resume: the journal's last record was cut short by the kill; that point is rerun");
    earlier = std::move(jc.records);
    journal.emplace(JournalWriter::append(journal_path, jc.valid_bytes));
  } else {
    if (options.resume) reporter.info("resume: no journal at " + journal_path.string() + "; starting from the beginning");
    journal.emplace(JournalWriter::create(journal_path, header));
  }
  // A write that fails (disk full) loses nothing the journal holds: say so.
  const auto keep_going = [&](const IoError& e) {
    return IoError(std::string(e.what()) + "\n  every finished point is in " + journal_path.string() +
                   ": free some space (or raise the file size limit) and rerun with --resume");
  };
  std::optional<store::ResultsWriter> writer_slot;
  try {
    writer_slot.emplace(store::ResultsWriter::create(options.output, layout));
  } catch (const IoError& e) {
    throw keep_going(e);
  }
  store::ResultsWriter& writer = *writer_slot;

  std::vector<double> lo(spec.measures.size(), std::numeric_limits<double>::infinity());
  std::vector<double> hi(spec.measures.size(), -std::numeric_limits<double>::infinity());
  Progress progress;
  progress.stage = "sweep " + spec.name;
  progress.total = plan.size();
  auto last_flush = Clock::now();

  std::vector<bool> have(plan.size(), false);
  auto account = [&](std::size_t id, spice::SimOutcome outcome, const std::vector<double>& values,
                     const std::string& message, double parse_s, double run_s) {
    ++summary.outcomes[outcome];
    summary.parse_time_s += parse_s;
    summary.run_time_s += run_s;
    if (outcome == spice::SimOutcome::kOk) {
      std::size_t offset = 0;
      for (std::size_t m = 0; m < lo.size(); ++m) {
        const std::size_t width = layout.measures[m].width();
        for (std::size_t i = offset; i < offset + width && i < values.size(); ++i) {
          lo[m] = std::min(lo[m], values[i]);
          hi[m] = std::max(hi[m], values[i]);
        }
        offset += width;
      }
    } else {
      ++progress.failed;
      summary.failures.add(id, outcome, message);
    }
    writer.write_point(id, outcome, values, message, parse_s, run_s);
    ++progress.done;
  };
  for (const auto& r : earlier) {
    if (r.point >= plan.size() || have[r.point]) continue;
    have[r.point] = true;
    account(r.point, r.outcome, r.values, r.message, r.parse_time_s, r.run_time_s);
  }
  summary.resumed = progress.done;
  if (first) {
    journal->write({first->id, first->outcome, first->values, first->parse_time_s, first->run_time_s, first->message});
    have[first->id] = true;
    account(first->id, first->outcome, first->values, first->message, first->parse_time_s, first->run_time_s);
    progress.total = owned.size();
    progress.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
    reporter.progress(progress);
  }
  std::vector<std::size_t> remaining;
  for (std::size_t k : owned) {
    if (!have[k]) remaining.push_back(k);
  }
  progress.total = owned.size();

  reporter.info("sweep '" + spec.name + "': " + std::to_string(owned.size()) + " points" +
                (options.shard_count > 0 ? " (shard " + std::to_string(options.shard_index) + "/" +
                                               std::to_string(options.shard_count) + " of " +
                                               std::to_string(plan.size()) + ")"
                                         : std::string()) +
                (summary.resumed > 0 ? ", " + std::to_string(summary.resumed) + " from the journal, " +
                                           std::to_string(remaining.size()) + " to run"
                                     : std::string()) +
                ", " + std::to_string(pool.jobs()) + " worker(s), output " + writer.partial_path().string());

  bool finished = false;
  try {
  finished = pool.run(
      remaining.size(), [&](std::size_t k) { return plan.job(remaining[k], options.timeout_s); },
      [&](spice::SimResult&& r) {
        // The journal first: once it holds the record, a kill cannot lose the point.
        journal->write({r.id, r.outcome, r.values, r.parse_time_s, r.run_time_s, r.message});
        account(r.id, r.outcome, r.values, r.message, r.parse_time_s, r.run_time_s);
        progress.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
        progress.eta_s = progress.elapsed_s / static_cast<double>(progress.done) *
                         static_cast<double>(progress.total - progress.done);
        reporter.progress(progress);
        // Flush now and then so a killed run keeps what it computed.
        if (Clock::now() - last_flush > std::chrono::seconds(5)) {
          writer.flush();
          journal->sync();
          last_flush = Clock::now();
        }
      });
  } catch (const IoError& e) {
    throw keep_going(e);
  }
  reporter.progress_done(progress);
  summary.done = progress.done;
  if (!finished) {
    // Keep every finished point: write the queue, flush, and leave the
    // .partial file (complete = "no") for inspection or a rerun.
    summary.interrupted = true;
    summary.wall_time_s = std::chrono::duration<double>(Clock::now() - start).count();
    summary.output = writer.partial_path();
    writer.flush();
    journal->sync();
    reporter.warning("interrupted: " + std::to_string(progress.done) + " of " + std::to_string(owned.size()) +
                     " points were finished and are saved in " + writer.partial_path().string() + " and " +
                     journal_path.string() + "; rerun with --resume to finish");
    return summary;
  }

  summary.wall_time_s = std::chrono::duration<double>(Clock::now() - start).count();
  summary.pool = pool.stats();
  summary.ngspice_version = pool.ngspice_version();
  pool.shutdown();  // reap every worker so their peak memory is counted
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) {
    summary.parent_peak_rss_kib = usage.ru_maxrss;
    summary.parent_cpu_time_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                                1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  }
  if (::getrusage(RUSAGE_CHILDREN, &usage) == 0) summary.worker_peak_rss_kib = usage.ru_maxrss;
  for (std::size_t m = 0; m < spec.measures.size(); ++m) {
    const bool any = lo[m] <= hi[m];
    summary.ranges.push_back({spec.measures[m].name, spec.measures[m].unit,
                              any ? lo[m] : std::nan(""), any ? hi[m] : std::nan("")});
  }
  std::map<std::string, std::string> final_attrs;
  final_attrs["points_ok"] = std::to_string(summary.ok());
  final_attrs["points_failed"] = std::to_string(summary.failed());
  final_attrs["wall_time_s"] = netlist::format_exact(summary.wall_time_s);
  final_attrs["jobs"] = std::to_string(summary.jobs);
  final_attrs["ngspice_version"] = summary.ngspice_version;
  final_attrs["parent_cpu_time_s"] = netlist::format_exact(summary.parent_cpu_time_s);
  final_attrs["parent_peak_rss_kib"] = std::to_string(summary.parent_peak_rss_kib);
  final_attrs["worker_peak_rss_kib"] = std::to_string(summary.worker_peak_rss_kib);
  final_attrs["ngspice_parse_time_s"] = netlist::format_exact(summary.parse_time_s);
  final_attrs["ngspice_run_time_s"] = netlist::format_exact(summary.run_time_s);
  if (summary.resumed > 0) final_attrs["points_from_journal"] = std::to_string(summary.resumed);
  writer.finish(final_attrs);
  journal->close_and_remove();  // the results file is complete; the journal has served
  return summary;
}

}  // namespace gaincell::sweep
