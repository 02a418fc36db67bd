// SPDX-License-Identifier: MIT
#include "gaincell/sweep/sweep.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/process.h"
#include "gaincell/core/run_lock.h"
#include "gaincell/core/json_location.h"
#include "gaincell/core/strings.h"
#include "gaincell/core/si_value.h"
#include "gaincell/netlist/subckt.h"
#include "gaincell/netlist/template.h"
#include "gaincell/spice/worker.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/collapse.h"
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

std::string seconds_text(double s) { return gaincell::format_human(s, "s", 3, true); }

// "0.00061 %", "100 %": a percentage, 3 significant digits.
std::string pct_text(double pct) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g %%", pct);
  return buf;
}

// --verify's largest difference in words: a percentage, infinite (a measure
// whose full scale is 0 differs; `worst` says where and why), or unknown.
std::string verify_error_text(const CollapseSummary& c) {
  if (std::isnan(c.max_error_pct)) return "an unknown amount (no point could be compared)";
  if (std::isinf(c.max_error_pct)) return "an infinite amount (" + c.worst + ")";
  return pct_text(c.max_error_pct) + " of full scale (" + c.worst + ")";
}

// A verify error (%) as a results-file attribute: "inf" stays "inf"; "nan": nothing compared.
std::string pct_attribute(double pct) {
  if (std::isnan(pct)) return "nan";
  if (std::isinf(pct)) return "inf";
  return gaincell::format_exact(pct);
}

// A plot's vector name as a measure would write it: node -> v(node),
// v.x1.vs#branch -> i(x1.vs), vs#branch -> i(vs).
std::string user_vector_name(std::string n) {
  n = lower(n);
  const auto hash = n.find("#branch");
  if (hash != std::string::npos) {
    n = n.substr(0, hash);
    if (n.size() > 2 && n[1] == '.') n = n.substr(2);
    return "i(" + n + ")";
  }
  if (n.find('(') != std::string::npos || n.find('@') != std::string::npos || n == "time") return n;
  return "v(" + n + ")";
}

// The part of vector `missing` (of v(a,b): a or b) that a plot with these
// vectors lacks, as the user writes it.
std::string lacking_part(const std::string& missing, const std::vector<std::string>& plot_vectors) {
  std::vector<std::string> plot_lower;
  for (const auto& n : plot_vectors) plot_lower.push_back(lower(n));
  const auto in_plot = [&](const std::string& name) {
    return std::find(plot_lower.begin(), plot_lower.end(), lower(name)) != plot_lower.end();
  };
  for (const auto& t : measure::vector_terms(missing)) {
    const std::string inner = t.name.size() > 3 && t.name[1] == '(' ? t.name.substr(2, t.name.size() - 3) : t.name;
    if (!in_plot(inner) && !in_plot(t.name) && !in_plot(inner + "#branch")) return t.name[0] == 'v' ? t.name : missing;
  }
  return missing;
}

// The vectors to suggest for a missing one: the plot's (the saved ones) and
// every vector the circuit has.
std::vector<std::string> offered_vectors(const SweepSpec& spec, const std::vector<std::string>& plot_vectors) {
  std::vector<std::string> have;
  for (const auto& n : plot_vectors) {
    const std::string u = user_vector_name(n);
    if (u != "time") have.push_back(u);
  }
  for (const auto& n : netlist::circuit_vector_names(spec.netlist.text(), netlist::dependency_files(spec.netlist))) {
    if (std::find(have.begin(), have.end(), n) == have.end()) have.push_back(n);
  }
  return have;
}

// GC-1213 at the measure that reads a vector the first point's plot lacks.
void check_missing_vectors(const SweepSpec& spec, const spice::SimResult& r) {
  if (r.outcome != spice::SimOutcome::kMeasureError || r.missing_vectors.empty()) return;
  const std::string missing = r.missing_vectors.front();
  for (std::size_t i = 0; i < spec.measures.size(); ++i) {
    const auto& m = spec.measures[i];
    for (const auto& [key, vec] : {std::pair{"of", m.of}, std::pair{"voltage", m.voltage}, std::pair{"current", m.current}}) {
      if (vec != missing) continue;
      const std::string pointer = "/measures/" + std::to_string(i) + "/" + key;
      const auto [line, col] = locate_json_pointer(spec.text, pointer);
      const std::string lacking = lacking_part(missing, r.plot_vectors);
      const auto close = closest_names(lacking, offered_vectors(spec, r.plot_vectors), 3);
      throw InputError("GC-1213",
                        "measure '" + m.name + "' reads " + missing + ", but the circuit has no " + lacking + " (point " +
                            std::to_string(r.id) + " was checked first; nothing was stored)",
                        close.empty() ? "the circuit has no vectors to offer" : "closest: " + join(close, ", ")).at({spec.path.string(), line, col, pointer});
    }
  }
}

// Stops the sweep when its first point failed for a reason every point shares.
void check_preflight(const SweepSpec& spec, const SweepPlan& plan, const spice::SimResult& r) {
  using spice::SimOutcome;
  check_missing_vectors(spec, r);
  const bool has_corners =
      std::any_of(spec.axes.begin(), spec.axes.end(), [](const Axis& a) { return a.kind == Axis::Kind::kCorner; });
  const bool fatal = r.outcome == SimOutcome::kParseError || r.outcome == SimOutcome::kControlledExit ||
                     (r.outcome == SimOutcome::kMissingModel && !has_corners);
  if (!fatal) return;
  std::string said = r.message;
  for (std::size_t p = said.find('\n'); p != std::string::npos; p = said.find('\n', p + 3)) said.insert(p + 1, "  ");
  throw InputError("GC-1214", spec.path.string() + ": point " + std::to_string(r.id) + " (" +
                                  plan.describe(r.id) + ") failed as " + std::string(spice::to_string(r.outcome)) +
                                  ", a reason no other point can escape; nothing was stored. ngspice said:\n  " + said);
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
    throw InputError("GC-1801", "--shard \"" + text +
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
      throw InputError("GC-1801", "--shard \"" + text + "\": at most " +
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
      out << gaincell::format_human(r.min, r.unit, 4, true) << " .. " << gaincell::format_human(r.max, r.unit, 4, true)
          << "\n";
    }
  }
  if (!failures.groups().empty()) out << "  failed points, by message:\n" << failures.text(8, "    ");
  if (collapse.enabled) {
    out << "collapse: '" << collapse.axis << "' from one transient per point of the other axes: " << collapse.simulations
        << " simulation" << (collapse.simulations == 1 ? "" : "s") << " for " << points << " points\n";
    if (!collapse.verified.empty()) {
      out << "verify: " << collapse.verified.size() << " point(s) simulated exactly: largest difference "
          << verify_error_text(collapse) << ", threshold " << gaincell::format_exact(collapse.threshold_pct) << " %: "
          << (collapse.exceeded ? "FAILED" : "passed") << "\n";
    }
  }
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

namespace {

// GC-1302 (no output), GC-1303 (timeout), GC-1301 (jobs): before anything starts.
void check_options(const SweepOptions& options) {
  if (options.output.empty()) {
    throw InputError("GC-1302", "Invalid configuration. output = \"\". Violated constraint: an output file is required");
  }
  if (!(options.timeout_s >= 0 && options.timeout_s <= limits::kMaxTimeout_s)) {
    char given[32];
    std::snprintf(given, sizeof given, "%g", options.timeout_s);
    throw InputError("GC-1303", "timeout " + std::string(given) +
                                    " s: expected 0 (the spec's) to " + gaincell::format_exact(limits::kMaxTimeout_s) +
                                    " s (limits::kMaxTimeout_s, docs/cli.md#limits)");
  }
  if (options.jobs < 0 || options.jobs > limits::kMaxJobs) {
    throw InputError("GC-1301", std::to_string(options.jobs) + " workers: expected 0 (one per core) to " +
                                    std::to_string(limits::kMaxJobs) + " (limits::kMaxJobs, docs/cli.md#limits)");
  }
}

spice::PoolOptions pool_options(const SweepSpec& spec, const SweepOptions& options) {
  return {.jobs = options.jobs, .recycle_after = options.recycle_after, .worker = options.worker,
          .ngspice_library = {}, .scratch_dir = {}, .ngspice_init = spec.ngspice_init, .stop = options.stop};
}

// Monte Carlo draws, per sample, so results can be related to them.
void add_monte_carlo_draws(const SweepSpec& spec, store::ResultsLayout& layout) {
  if (spec.monte_carlo.samples == 0) return;
  for (const auto& [name, sigma] : spec.monte_carlo.sigma) {
    store::MonteCarloDraws d{name, spec.netlist.find_param(name)->unit, sigma, {}};
    for (std::size_t s = 0; s < spec.monte_carlo.samples; ++s) d.values.push_back(monte_carlo_value(spec, name, s));
    layout.monte_carlo.push_back(std::move(d));
  }
  layout.attributes["monte_carlo_seed"] = std::to_string(spec.monte_carlo.seed);
}

// Provenance: enough to tell whether two files describe the same experiment.
std::map<std::string, std::string> provenance(const SweepSpec& spec, const SweepPlan& plan) {
  std::string includes;
  for (const auto& inc : netlist::dependency_files(spec.netlist)) {
    std::error_code ec;
    includes += inc.string() + " " + (std::filesystem::exists(inc, ec) ? sha256_file(inc) : "missing") + "\n";
  }
  return {{"gaincell_version", build_info().version},
          {"gaincell_git_sha", build_info().git_sha},
          {"ngspice_library", build_info().ngspice_path},
          {"spec_name", spec.name},
          {"spec_description", spec.description},
          {"spec_file", spec.path.string()},
          {"spec_sha256", sha256_hex(spec.text)},
          {"spec_json", spec.text},
          // What every worker's .spiceinit held (gaincell's lines and the spec's ngspice_init).
          {"ngspice_init", spice::worker_spiceinit(spec.ngspice_init)},
          {"template_file", spec.template_path.string()},
          {"template_sha256", sha256_hex(spec.netlist.text())},
          {"include_sha256", includes},
          {"created_utc", utc_now()},
          {"host", host_name()},
          {"point_count", std::to_string(plan.size())},
          {"point_order", "row-major over axes (last axis fastest)"}};
}

// The results file's layout: axes, measures, Monte Carlo draws, provenance,
// and for a shard the points it owns.
store::ResultsLayout results_layout(const SweepSpec& spec, const SweepPlan& plan, const SweepOptions& options,
                                    const std::vector<std::size_t>& owned) {
  store::ResultsLayout layout;
  for (const auto& a : spec.axes) layout.axes.push_back({a.name, a.unit, a.description, a.values, a.labels});
  add_monte_carlo_draws(spec, layout);
  for (const auto& m : spec.measures) layout.measures.push_back({m.name, m.unit, m.description, m.times_s});
  layout.attributes.merge(provenance(spec, plan));
  if (options.shard_count > 0) {
    layout.points = owned;
    layout.shard = true;
    layout.attributes["shard_index"] = std::to_string(options.shard_index);
    layout.attributes["shard_count"] = std::to_string(options.shard_count);
    layout.attributes["shard_points"] = std::to_string(owned.size());
    layout.attributes["shard_rule"] = "interleaved: point k belongs to shard k % shard_count";
  }
  return layout;
}

// What a journal records of its run: --resume continues only the same one.
nlohmann::json journal_header(const SweepSpec& spec, const SweepPlan& plan, const SweepOptions& options,
                              const std::map<std::string, std::string>& attrs) {
  return {{"format", "gaincell-journal/1"},
          {"spec_name", spec.name},
          {"spec_sha256", attrs.at("spec_sha256")},
          {"template_sha256", attrs.at("template_sha256")},
          {"include_sha256", attrs.at("include_sha256")},
          {"gaincell_version", build_info().version},
          {"gaincell_git_sha", build_info().git_sha},
          {"points_total", plan.size()},
          {"shard_index", options.shard_index},
          {"shard_count", options.shard_count}};
}

// GC-1803 if the journal was written by another run.
void check_same_run(const JournalContents& jc, const nlohmann::json& header, const std::filesystem::path& journal_path) {
  for (const char* key : {"spec_sha256", "template_sha256", "include_sha256", "gaincell_version", "gaincell_git_sha",
                          "points_total", "shard_index", "shard_count"}) {
    if (jc.header.value(key, nlohmann::json()) != header[key]) {
      throw InputError("GC-1805", journal_path.string() + " was written by a different run (" +
                                      key + ": " + jc.header.value(key, nlohmann::json()).dump() + ", now " +
                                      header[key].dump() + "); --resume continues only the same spec, netlists, " +
                                      "shard and gaincell build. Delete the journal and the .partial file to start over");
    }
  }
}

// Is `done` the finished results file of this very run (spec, build, shard)?
bool is_finished_file_of(const store::Results& done, const SweepOptions& options, const std::string& spec_sha256) {
  auto same = [&](const char* key, const std::string& want) {
    auto it = done.attributes.find(key);
    return it != done.attributes.end() && it->second == want;
  };
  const bool shard_ok = options.shard_count > 0 ? same("shard_index", std::to_string(options.shard_index)) &&
                                                      same("shard_count", std::to_string(options.shard_count))
                                                : done.attributes.count("shard_count") == 0;
  return same("complete", "yes") && same("spec_sha256", spec_sha256) && same("gaincell_git_sha", build_info().git_sha) &&
         shard_ok;
}

// A write that fails (disk full) loses nothing the journal holds: say so.
IoError with_journal_hint(const IoError& e, const std::filesystem::path& journal_path) {
  return IoError(std::string(e.what()) + "\n  every finished point is in " + journal_path.string() +
                 ": free some space (or raise the file size limit) and rerun with --resume");
}

// Peak memory and CPU time of this process and its reaped workers.
void record_resource_use(SweepSummary& summary) {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) {
    summary.parent_peak_rss_kib = usage.ru_maxrss;
    summary.parent_cpu_time_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                                1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  }
  if (::getrusage(RUSAGE_CHILDREN, &usage) == 0) summary.worker_peak_rss_kib = usage.ru_maxrss;
}

// The root attributes a finished sweep adds to its results file.
std::map<std::string, std::string> final_attributes(const SweepSummary& summary) {
  std::map<std::string, std::string> attrs{
      {"points_ok", std::to_string(summary.ok())},
      {"points_failed", std::to_string(summary.failed())},
      {"wall_time_s", gaincell::format_exact(summary.wall_time_s)},
      {"jobs", std::to_string(summary.jobs)},
      {"ngspice_version", summary.ngspice_version},
      {"parent_cpu_time_s", gaincell::format_exact(summary.parent_cpu_time_s)},
      {"parent_peak_rss_kib", std::to_string(summary.parent_peak_rss_kib)},
      {"worker_peak_rss_kib", std::to_string(summary.worker_peak_rss_kib)},
      {"ngspice_parse_time_s", gaincell::format_exact(summary.parse_time_s)},
      {"ngspice_run_time_s", gaincell::format_exact(summary.run_time_s)}};
  attrs["points_reused"] = std::to_string(summary.reused);
  attrs["points_altered"] = std::to_string(summary.altered);
  if (summary.resumed > 0) attrs["points_from_journal"] = std::to_string(summary.resumed);
  return attrs;
}

// One sweep after its output is locked, as named steps: plan and start the
// workers, lay out the file, preflight the first point, open (or resume) the
// journal and the results file, run the remaining points, finish.
class SweepRun {
 public:
  SweepRun(const SweepSpec& spec, const SweepOptions& options, Reporter& reporter)
      : spec_(spec), options_(options), reporter_(reporter), plan_(spec), pool_(pool_options(spec, options)),
        journal_path_(options.output.string() + ".journal") {
    if (spec_.collapse) collapsed_.emplace(plan_);
    pool_.start();  // workers load libngspice while we set up the results file
  }

  SweepSummary run() {
    lay_out();
    check_existing_output();
    if (options_.resume && !have_journal_ && exists(options_.output)) return finished_file_summary();
    init_state();
    // A fresh run checks its first result before it makes any file (check_first);
    // a resumed one has its files already.
    const bool fresh = !have_journal_ && !owned_.empty();
    if (!fresh) {
      open_journal();
      open_writer();
      replay(earlier_);
    }
    const std::vector<std::size_t> remaining = remaining_points();
    if (!fresh) announce(remaining.size());  // a fresh run's once its files exist (check_first)
    const bool finished = run_points(remaining);
    if (!writer_) {  // stopped before the first point's result: the files of an interrupted run
      open_journal();
      open_writer();
      for (const spice::SimResult& r : waiting_) store(r);
      waiting_.clear();
    }
    reporter_.progress_done(progress_);
    summary_.done = progress_.done;
    if (finished && !verify_points_.empty() && !run_verify()) return interrupted();
    return finished ? finish() : interrupted();
  }

 private:
  static bool exists(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::exists(p, ec);
  }
  double elapsed_s() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  // Which points this run owns (all, or one shard's), and the file that holds them.
  void lay_out() {
    summary_.name = spec_.name;
    summary_.output = options_.output;
    summary_.jobs = pool_.jobs();
    if (options_.shard_count > 0 && options_.shard_index >= options_.shard_count) {
      throw InputError("GC-1801", "shard " + std::to_string(options_.shard_index) + "/" +
                                      std::to_string(options_.shard_count) + ": expected 0 <= i < N");
    }
    owned_ = shard_points(plan_.size(), options_.shard_index, options_.shard_count);
    summary_.points = owned_.size();
    check_collapse_options();
    layout_ = results_layout(spec_, plan_, options_, owned_);
    // Names that cannot share the file's root group are refused before any file is made.
    store::check_layout_names(options_.output, layout_);
    header_ = journal_header(spec_, plan_, options_, layout_.attributes);
    have_journal_ = exists(journal_path_);
  }

  // GC-1307 (--verify K beyond the points), GC-1308 (--verify without a
  // collapse), GC-1309 (a collapsed sweep in shards); then the points to verify.
  void check_collapse_options() {
    const std::string spec_file = spec_.path.string();
    if (!collapsed_) {
      if (options_.verify > 0) {
        throw InputError("GC-1308", "--verify " + std::to_string(options_.verify) + ": " + spec_file +
                                        " has no \"collapse\"; every point of it is simulated exactly already");
      }
      return;
    }
    if (options_.shard_count > 0) {
      throw InputError("GC-1309", "--shard " + std::to_string(options_.shard_index) + "/" +
                                      std::to_string(options_.shard_count) + ": " + spec_file + " collapses '" +
                                      spec_.axes[spec_.collapse->axis].name +
                                      "', and one transient serves the points of several shards; run it whole "
                                      "(it needs one simulation per value of the other axes)");
    }
    if (options_.verify > owned_.size()) {
      throw InputError("GC-1307", "--verify " + std::to_string(options_.verify) + ": " + spec_file +
                                      " has " + std::to_string(owned_.size()) + " points; verify at most that many");
    }
    if (options_.verify == 0) {
      const bool forced = spec_.collapse->line != Collapse::Line::kHeld;
      reporter_.warning("collapse: '" + spec_.axes[spec_.collapse->axis].name + "' is collapsed" +
                        (forced ? " by force (the spec's line is not held)" : "") +
                        " and no point is checked against an exact simulation; add --verify K "
                        "(docs/spec-format.md#collapse)");
    }
    // K distinct points, a seeded partial Fisher-Yates shuffle: the same seed picks the same points.
    std::vector<std::size_t> pool = owned_;
    std::uint64_t state = splitmix64(options_.verify_seed);
    for (std::size_t i = 0; i < options_.verify; ++i) {
      state = splitmix64(state);
      std::swap(pool[i], pool[i + state % (pool.size() - i)]);
    }
    verify_points_.assign(pool.begin(), pool.begin() + static_cast<long>(options_.verify));
    std::sort(verify_points_.begin(), verify_points_.end());
    summary_.collapse.enabled = true;
    summary_.collapse.axis = spec_.axes[spec_.collapse->axis].name;
    summary_.collapse.threshold_pct = spec_.collapse->verify_threshold_pct;
    announce_exact_points();
  }

  // Says which widths are simulated on their own (width 0, below two edges), and how many points.
  void announce_exact_points() const {
    const Axis& axis = spec_.axes[spec_.collapse->axis];
    std::set<double> widths;
    std::size_t count = 0;
    for (std::size_t k : owned_) {
      if (!collapsed_->is_exact(k)) continue;
      ++count;
      widths.insert(plan_.coordinates(k)[spec_.collapse->axis]);
    }
    if (count == 0) return;
    std::vector<std::string> shown;
    for (double w : widths) shown.push_back(gaincell::format_exact(w));
    const TimeRef& e = spec_.collapse->edge;
    const std::string edge = e.kind == TimeRef::Kind::kParam ? e.param : gaincell::format_exact(e.value_s) + " s";
    reporter_.info("collapse: " + axis.name + " = " + join(shown, ", ") + " s (width 0 or below two edges, " + edge +
                   ") simulated on its own: " + std::to_string(count) + " of " + std::to_string(owned_.size()) + " points");
  }

  // GC-1803: an interrupted run's journal without --resume; GC-1810: an existing output.
  void check_existing_output() const {
    if (have_journal_ && !options_.resume) {
      throw InputError("GC-1803", journal_path_.string() + " exists: an earlier run of " +
                                      options_.output.string() + " was interrupted. Rerun with --resume to finish it " +
                                      "(its points are kept), or delete " + journal_path_.string() + " and " +
                                      options_.output.string() + ".partial to start over");
    }
    if (!options_.resume && !options_.overwrite && exists(options_.output)) {
      throw InputError("GC-1810", options_.output.string() +
                                      " exists; refusing to overwrite it: give --overwrite to replace it, or another -o");
    }
  }

  // A fresh run's results wait here until its first point's is in: a
  // failure no point can escape stops the sweep with that point's reason and
  // leaves no file; else the files are made and every result so far goes in.
  // The workers go on with the next points meanwhile, so the check and the
  // files cost no simulation time. False while still waiting.
  bool check_first(spice::SimResult&& r) {
    const bool front = r.id == first_job_id_;
    waiting_.push_back(std::move(r));
    if (!front) return false;
    check_preflight(spec_, plan_, waiting_.back());
    open_journal();
    open_writer();
    announce(owned_.size());
    return true;
  }

  // --resume without a journal on an existing file: done if it is this very
  // run's finished file (a requeued array task), else GC-1803.
  SweepSummary finished_file_summary() {
    const store::Results done = store::read_results(options_.output);
    if (!is_finished_file_of(done, options_, layout_.attributes.at("spec_sha256"))) {
      throw InputError("GC-1803", options_.output.string() +
                                      " exists and is not a finished file of this run; --resume will not overwrite it");
    }
    for (auto st : done.status) {
      if (st != spice::SimOutcome::kNotRun) ++summary_.outcomes[st];
    }
    summary_.done = summary_.resumed = done.status.size();
    reporter_.info("resume: " + options_.output.string() + " is already complete; nothing to run");
    return summary_;
  }

  // The journal: what makes a killed run resumable.
  void open_journal() {
    if (!have_journal_) {
      if (options_.resume) reporter_.info("resume: no journal at " + journal_path_.string() + "; starting from the beginning");
      journal_.emplace(JournalWriter::create(journal_path_, header_));
      return;
    }
    JournalContents jc = read_journal(journal_path_);
    check_same_run(jc, header_, journal_path_);
    if (jc.torn_tail) reporter_.warning("resume: the journal's last record was cut short by the kill; that point is rerun");
    earlier_ = std::move(jc.records);
    journal_.emplace(JournalWriter::append(journal_path_, jc.valid_bytes));
  }

  void init_state() {
    lo_.assign(spec_.measures.size(), std::numeric_limits<double>::infinity());
    hi_.assign(spec_.measures.size(), -std::numeric_limits<double>::infinity());
    have_.assign(plan_.size(), false);
    progress_.stage = "sweep " + spec_.name;
    progress_.total = owned_.size();
  }

  void open_writer() {
    try {
      writer_.emplace(store::ResultsWriter::create(options_.output, layout_));
    } catch (const IoError& e) {
      throw with_journal_hint(e, journal_path_);
    }
  }

  // Counts a point's result in the summary and the value ranges, and queues it for the file.
  void account(const JournalRecord& r) {
    have_[r.point] = true;
    if (std::binary_search(verify_points_.begin(), verify_points_.end(), r.point)) {
      collapsed_values_[r.point] = r.outcome == spice::SimOutcome::kOk ? r.values : std::vector<double>{};
    }
    ++summary_.outcomes[r.outcome];
    summary_.parse_time_s += r.parse_time_s;
    summary_.run_time_s += r.run_time_s;
    if (r.outcome == spice::SimOutcome::kOk) {
      std::size_t offset = 0;
      for (std::size_t m = 0; m < lo_.size(); ++m) {
        const std::size_t width = layout_.measures[m].width();
        for (std::size_t i = offset; i < offset + width && i < r.values.size(); ++i) {
          lo_[m] = std::min(lo_[m], r.values[i]);
          hi_[m] = std::max(hi_[m], r.values[i]);
        }
        offset += width;
      }
    } else {
      ++progress_.failed;
      summary_.failures.add(r.point, r.outcome, r.message);
    }
    writer_->write_point(r.point, r.outcome, r.values, r.message, r.parse_time_s, r.run_time_s);
    ++progress_.done;
  }

  // The journal's points of an earlier run.
  void replay(const std::vector<JournalRecord>& earlier) {
    for (const auto& r : earlier) {
      if (r.point < plan_.size() && !have_[r.point]) account(r);
    }
    summary_.resumed = progress_.done;
  }

  // A result into the journal first (once it holds the record, a kill cannot
  // lose the point), then into the summary and the file.
  void store(const spice::SimResult& r) {
    if (collapsed_) ++summary_.collapse.simulations;
    for (const JournalRecord& record : records_of(r)) {
      journal_->write(record);
      account(record);
    }
  }

  static JournalRecord record_of(const spice::SimResult& r) {
    return {r.id, r.outcome, r.values, r.parse_time_s, r.run_time_s, r.message};
  }

  // A result's records: one point, or (collapsed) every point of its group not yet had.
  // Also counts the simulations a worker ran on its last circuit (spice/worker.h).
  std::vector<JournalRecord> records_of(const spice::SimResult& r) {
    if (r.reused) ++summary_.reused;
    if (r.altered) ++summary_.altered;
    if (!collapsed_) return {record_of(r)};
    std::vector<JournalRecord> out;
    for (auto& rec : collapsed_->expand(r)) {
      if (!have_[rec.point]) out.push_back(std::move(rec));
    }
    return out;
  }

  // The simulation that gives point k: its own, or its group's.
  spice::SimJob job(std::size_t k) const {
    return collapsed_ ? collapsed_->job(k, options_.timeout_s) : plan_.job(k, options_.timeout_s);
  }

  std::vector<std::size_t> remaining_points() const {
    std::vector<std::size_t> remaining;
    for (std::size_t k : owned_) {
      if (!have_[k]) remaining.push_back(k);
    }
    return remaining;
  }

  void announce(std::size_t remaining) const {
    std::string shard, resumed;
    if (options_.shard_count > 0) {
      shard = " (shard " + std::to_string(options_.shard_index) + "/" + std::to_string(options_.shard_count) + " of " +
              std::to_string(plan_.size()) + ")";
    }
    if (summary_.resumed > 0) {
      resumed = ", " + std::to_string(summary_.resumed) + " from the journal, " + std::to_string(remaining) + " to run";
    }
    reporter_.info("sweep '" + spec_.name + "': " + std::to_string(owned_.size()) + " points" + shard + resumed + ", " +
                   std::to_string(pool_.jobs()) + " worker(s), output " + store::partial_path(options_.output).string());
  }

  // Runs the points; false if stopped before every one had a result.
  bool run_points(const std::vector<std::size_t>& remaining) {
    auto last_flush = Clock::now();
    // Collapsed: one simulation per group that still has a point to compute, and one per exact point.
    const std::vector<std::size_t> runs = collapsed_ ? collapsed_->runs_of(remaining) : remaining;
    try {
      return pool_.run(
          runs.size(),
          [&](std::size_t k) {
            spice::SimJob j = job(runs[k]);
            if (k == 0) first_job_id_ = j.id;  // made before any result can come
            return j;
          },
          [&](spice::SimResult&& result) {
            std::vector<spice::SimResult> ready;
            if (writer_) {
              ready.push_back(std::move(result));
            } else if (check_first(std::move(result))) {
              ready.swap(waiting_);
            }
            for (const spice::SimResult& r : ready) {
              store(r);
              progress_.elapsed_s = elapsed_s();
              progress_.eta_s = progress_.elapsed_s / static_cast<double>(std::max<std::size_t>(progress_.done, 1)) *
                                static_cast<double>(progress_.total - progress_.done);
              reporter_.progress(progress_);
            }
            if (ready.empty()) return;
            // Flush now and then so a killed run keeps what it computed.
            if (Clock::now() - last_flush > std::chrono::seconds(5)) {
              writer_->flush();
              journal_->sync();
              last_flush = Clock::now();
            }
          });
    } catch (const IoError& e) {
      throw with_journal_hint(e, journal_path_);
    }
  }

  // --verify K: the chosen points simulated exactly, against their collapsed
  // values, in % of each measure's full scale (its largest |value| here).
  // False if stopped first.
  bool run_verify() {
    reporter_.info("verify: simulating " + std::to_string(verify_points_.size()) + " point(s) of the collapsed sweep exactly");
    std::vector<double> full_scale;
    for (std::size_t m = 0; m < lo_.size(); ++m) full_scale.push_back(lo_[m] <= hi_[m] ? std::max(std::abs(lo_[m]), std::abs(hi_[m])) : 0.0);
    CollapseSummary& c = summary_.collapse;
    std::vector<double> worst(spec_.measures.size(), std::nan(""));
    // The measures the threshold applies to (the spec's verify_measures, else all); every one's error is stored.
    const auto& listed = spec_.collapse->verify_measures;
    std::vector<bool> checked;
    for (const auto& m : spec_.measures) {
      checked.push_back(listed.empty() || std::find(listed.begin(), listed.end(), m.name) != listed.end());
    }
    const bool finished = pool_.run(
        verify_points_.size(), [&](std::size_t i) { return plan_.job(verify_points_[i], options_.timeout_s); },
        [&](spice::SimResult&& r) {
          const std::vector<double>& collapsed = collapsed_values_[r.id];
          if (!r.ok() || collapsed.size() != r.values.size()) {
            ++c.unusable;
            reporter_.warning("verify: point " + std::to_string(r.id) + " has no value to compare (exact run: " +
                              std::string(spice::to_string(r.outcome)) + (collapsed.empty() ? ", collapsed: failed" : "") + ")");
            return;
          }
          std::size_t offset = 0;
          for (std::size_t m = 0; m < spec_.measures.size(); ++m) {
            for (std::size_t e = offset; e < offset + layout_.measures[m].width(); ++e) {
              const double diff = std::abs(r.values[e] - collapsed[e]);
              const double pct = full_scale[m] > 0 ? 100.0 * diff / full_scale[m]
                                                   : (diff == 0 ? 0.0 : std::numeric_limits<double>::infinity());
              if (std::isnan(worst[m]) || pct > worst[m]) worst[m] = pct;
              if (checked[m] && (c.worst.empty() || pct > c.max_error_pct)) {
                c.max_error_pct = pct;
                c.worst = spec_.measures[m].name + " at point " + std::to_string(r.id);
                if (std::isinf(pct)) {
                  const std::string exact = std::isfinite(r.values[e]) ? gaincell::format_exact(r.values[e]) + " " + spec_.measures[m].unit
                                                                       : "a value that is not finite";
                  c.worst += (full_scale[m] > 0 ? ": " : ": its full scale is 0 (every value of it in the file is 0), and ") +
                             std::string("the exact run gives ") + exact;
                }
              }
            }
            offset += layout_.measures[m].width();
          }
        });
    if (!finished) return false;
    c.verified = verify_points_;
    for (std::size_t m = 0; m < spec_.measures.size(); ++m) c.errors_pct.emplace_back(spec_.measures[m].name, worst[m]);
    if (c.worst.empty()) c.max_error_pct = std::nan("");
    c.exceeded = !(c.max_error_pct <= c.threshold_pct);
    if (c.exceeded) {
      reporter_.warning("verify: the collapsed sweep differs from exact simulations by " + verify_error_text(c) +
                        ", above the threshold of " + gaincell::format_exact(c.threshold_pct) +
                        " %: do not trust it; run the sweep without \"collapse\"");
    }
    return true;
  }

  // Root attributes that say how a collapsed file was made (docs/formats.md).
  std::map<std::string, std::string> collapse_attributes() const {
    const CollapseSummary& c = summary_.collapse;
    std::map<std::string, std::string> a{
        {"collapse_axis", c.axis},
        {"collapse_method", collapsed_->method()},
        {"collapse_line", to_string(spec_.collapse->line)},
        {"collapse_forced", spec_.collapse->force ? "yes" : "no"},
        {"collapse_simulations", std::to_string(c.simulations)},
        {"collapse_verify_points", std::to_string(c.verified.size())},
        {"collapse_verify_threshold_pct", gaincell::format_exact(c.threshold_pct)},
        {"collapse_verify_measures", spec_.collapse->verify_measures.empty() ? "all" : join(spec_.collapse->verify_measures, " ")}};
    if (c.verified.empty()) return a;
    std::string list;
    for (std::size_t k : c.verified) list += (list.empty() ? "" : " ") + std::to_string(k);
    nlohmann::json errors = nlohmann::json::object();
    for (const auto& [name, pct] : c.errors_pct) {
      errors[name] = std::isfinite(pct) ? nlohmann::json(pct) : (std::isinf(pct) ? nlohmann::json("inf") : nlohmann::json());
    }
    a["collapse_verify_seed"] = std::to_string(options_.verify_seed);
    a["collapse_verify_point_list"] = list;
    a["collapse_verify_errors_pct"] = errors.dump();
    a["collapse_verify_max_error_pct"] = pct_attribute(c.max_error_pct);
    a["collapse_verify_worst"] = c.worst;
    a["collapse_verify_passed"] = c.exceeded ? "no" : "yes";
    return a;
  }

  // Keeps every finished point: writes the queue, flushes, and leaves the
  // .partial file (complete = "no") for inspection or a rerun.
  SweepSummary interrupted() {
    summary_.interrupted = true;
    summary_.wall_time_s = elapsed_s();
    summary_.output = writer_->partial_path();
    writer_->flush();
    journal_->sync();
    reporter_.warning("interrupted: " + std::to_string(progress_.done) + " of " + std::to_string(owned_.size()) +
                      " points were finished and are saved in " + writer_->partial_path().string() + " and " +
                      journal_path_.string() + "; rerun with --resume to finish");
    return summary_;
  }

  SweepSummary finish() {
    summary_.wall_time_s = elapsed_s();
    summary_.pool = pool_.stats();
    summary_.ngspice_version = pool_.ngspice_version();
    pool_.shutdown();  // reap every worker so their peak memory is counted
    record_resource_use(summary_);
    for (std::size_t m = 0; m < spec_.measures.size(); ++m) {
      const bool any = lo_[m] <= hi_[m];
      summary_.ranges.push_back({spec_.measures[m].name, spec_.measures[m].unit, any ? lo_[m] : std::nan(""),
                                 any ? hi_[m] : std::nan("")});
    }
    auto attrs = final_attributes(summary_);
    if (collapsed_) attrs.merge(collapse_attributes());
    writer_->finish(attrs);
    journal_->close_and_remove();  // the results file is complete; the journal has served
    return summary_;
  }

  const SweepSpec& spec_;
  const SweepOptions& options_;
  Reporter& reporter_;
  const Clock::time_point start_ = Clock::now();
  const SweepPlan plan_;
  spice::WorkerPool pool_;
  const std::filesystem::path journal_path_;
  SweepSummary summary_;
  std::vector<std::size_t> owned_;
  store::ResultsLayout layout_;
  nlohmann::json header_;
  bool have_journal_ = false;
  std::optional<CollapsedPlan> collapsed_;      // a spec's "collapse"
  std::size_t first_job_id_ = 0;                // a fresh run's first job: checked before the files are made
  std::vector<spice::SimResult> waiting_;       // results that came before it
  std::vector<std::size_t> verify_points_;      // --verify: sorted
  std::map<std::size_t, std::vector<double>> collapsed_values_;  // of verify_points_ ({}: failed)
  std::vector<JournalRecord> earlier_;
  std::optional<JournalWriter> journal_;
  std::optional<store::ResultsWriter> writer_;
  std::vector<double> lo_, hi_;  // value ranges of the measures over ok points
  std::vector<bool> have_;       // points with a result
  Progress progress_;
};

}  // namespace

std::vector<MeasureRange> measure_ranges(const store::Results& results) {
  std::vector<MeasureRange> ranges;
  for (const auto& m : results.measures) {
    double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
    for (double v : results.values.at(m.name)) {
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
    const bool any = lo <= hi;
    ranges.push_back({m.name, m.unit, any ? lo : std::nan(""), any ? hi : std::nan("")});
  }
  return ranges;
}

FailureDigest failure_digest(const store::Results& results) {
  FailureDigest digest;
  for (std::size_t k = 0; k < results.status.size(); ++k) {
    const spice::SimOutcome s = results.status[k];
    if (s != spice::SimOutcome::kOk && s != spice::SimOutcome::kNotRun) {
      digest.add(k, s, k < results.messages.size() ? results.messages[k] : "");
    }
  }
  return digest;
}

SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& options, Reporter& reporter) {
  check_options(options);
  check_output_file(options.output);
  check_regular_or_absent(options.output.string() + ".journal");
  if (!options.output.parent_path().empty()) std::filesystem::create_directories(options.output.parent_path());
  // One run per output: a second one (say a --resume while this one still
  // writes) is refused here, before it opens the .partial or the journal.
  const RunLock lock(options.output);
  return SweepRun(spec, options, reporter).run();
}

}  // namespace gaincell::sweep
