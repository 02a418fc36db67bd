// SPDX-License-Identifier: MIT
#include "gaincell/sweep/sweep.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <sstream>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/netlist/si_value.h"
#include "gaincell/netlist/template.h"
#include "gaincell/store/results_file.h"
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

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string seconds_text(double s) { return netlist::format_human(s, "s", 3, true); }

}  // namespace

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
  for (const auto& f : failures) {
    std::string first_line = f.message.substr(0, f.message.find('\n'));
    out << "  point " << f.point << ": " << spice::to_string(f.outcome) << ": " << first_line << "\n";
  }
  return out.str();
}

SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& options, Reporter& reporter) {
  if (options.output.empty()) {
    throw InputError("GC-1302", "Invalid configuration. output = \"\". Violated constraint: an output file is required");
  }
  if (options.timeout_s < 0) {
    throw InputError("GC-1303", "Invalid configuration. timeout_s = " + std::to_string(options.timeout_s) +
                                    ". Violated constraint: timeout_s >= 0");
  }
  const auto start = Clock::now();
  SweepPlan plan(spec);
  spice::PoolOptions pool_options;
  pool_options.jobs = options.jobs;
  pool_options.recycle_after = options.recycle_after;
  pool_options.worker = options.worker;
  pool_options.stop = options.stop;
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

  std::filesystem::path parent = options.output.parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  store::ResultsWriter writer = store::ResultsWriter::create(options.output, layout);

  std::vector<double> lo(spec.measures.size(), std::numeric_limits<double>::infinity());
  std::vector<double> hi(spec.measures.size(), -std::numeric_limits<double>::infinity());
  Progress progress;
  progress.stage = "sweep " + spec.name;
  progress.total = plan.size();
  auto last_flush = Clock::now();

  reporter.info("sweep '" + spec.name + "': " + std::to_string(plan.size()) + " points, " +
                std::to_string(pool.jobs()) + " worker(s), output " + writer.partial_path().string());

  const bool finished = pool.run(
      plan.size(), [&](std::size_t k) { return plan.job(k, options.timeout_s); },
      [&](spice::SimResult&& r) {
        ++summary.outcomes[r.outcome];
        summary.parse_time_s += r.parse_time_s;
        summary.run_time_s += r.run_time_s;
        if (r.ok()) {
          std::size_t offset = 0;
          for (std::size_t m = 0; m < lo.size(); ++m) {
            const std::size_t width = layout.measures[m].width();
            for (std::size_t i = offset; i < offset + width && i < r.values.size(); ++i) {
              lo[m] = std::min(lo[m], r.values[i]);
              hi[m] = std::max(hi[m], r.values[i]);
            }
            offset += width;
          }
        } else {
          ++progress.failed;
          if (summary.failures.size() < 5) summary.failures.push_back({r.id, r.outcome, r.message});
        }
        writer.write_point(r.id, r.outcome, r.values, r.message, r.parse_time_s, r.run_time_s);
        ++progress.done;
        progress.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
        progress.eta_s = progress.elapsed_s / static_cast<double>(progress.done) *
                         static_cast<double>(progress.total - progress.done);
        reporter.progress(progress);
        // Flush now and then so a killed run keeps what it computed.
        if (Clock::now() - last_flush > std::chrono::seconds(5)) {
          writer.flush();
          last_flush = Clock::now();
        }
      });
  reporter.progress_done(progress);
  summary.done = progress.done;
  if (!finished) {
    // Keep every finished point: write the queue, flush, and leave the
    // .partial file (complete = "no") for inspection or a rerun.
    summary.interrupted = true;
    summary.wall_time_s = std::chrono::duration<double>(Clock::now() - start).count();
    summary.output = writer.partial_path();
    writer.flush();
    reporter.warning("interrupted: " + std::to_string(progress.done) + " of " + std::to_string(plan.size()) +
                     " points were finished and are saved in " + writer.partial_path().string());
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
  writer.finish(final_attrs);
  return summary;
}

}  // namespace gaincell::sweep
