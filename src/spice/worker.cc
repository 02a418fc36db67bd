// SPDX-License-Identifier: MIT
#include "gaincell/spice/worker.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <optional>
#include <limits>
#include <memory>
#include <sstream>

#include "gaincell/core/error.h"
#include "gaincell/spice/fault_injection.h"
#include "gaincell/spice/ngspice_library.h"
#include "gaincell/spice/protocol.h"

namespace gaincell::spice {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

void fail(SimResult& r, SimOutcome outcome, const std::vector<std::string>& log, const std::string& extra) {
  r.outcome = outcome;
  r.message = failure_excerpt(log);
  if (!extra.empty()) r.message = r.message.empty() ? extra : extra + "\n" + r.message;
}

// Error lines go to stderr as they come, so the parent still has them if
// ngspice then crashes the process.
void echo_errors(const std::vector<std::string>& log) {
  for (const auto& l : log) {
    if (l.rfind("stderr ", 0) == 0) {
      const std::string text = l.substr(7) + "\n";
      [[maybe_unused]] ssize_t n = ::write(2, text.data(), text.size());
    }
  }
}

}  // namespace

std::string worker_spiceinit() {
  // This file shadows ~/.spiceinit (ngspice reads one or the other), so a
  // user's settings cannot change our results. One OpenMP thread per worker:
  // with several workers the default 2 threads made BSIM4 5-10x slower.
  return "* gaincell worker init (generated; shadows ~/.spiceinit)\n"
         "set num_threads=1\n"
         "set noaskquit\n"
         "set nomoremode\n";
}

SimResult simulate(NgspiceLibrary& ng, const SimJob& job) {
  SimResult r;
  r.id = job.id;
  r.worker_pid = static_cast<int>(::getpid());
  r.values.assign(sweep::total_width(job.measures), std::numeric_limits<double>::quiet_NaN());

  // Clean slate: stale plots survive failed runs and would be read as ours.
  ng.command("destroy all");
  ng.command("remcirc");
  ng.take_log();

  const auto t0 = Clock::now();
  const int circ_status = ng.load_circuit(split_lines(job.netlist));
  r.parse_time_s = seconds_since(t0);
  std::vector<std::string> log = ng.take_log();
  echo_errors(log);
  if (ng.is_poisoned() || circ_status != 0) {
    fail(r, SimOutcome::kControlledExit, log,
         "libngspice could not load the netlist and must be restarted (ControlledExit)");
    if (job.keep_log) r.log = log;
    return r;
  }
  if (SimOutcome o = classify_log(log); o != SimOutcome::kOk) {
    fail(r, o, log, "");
    if (job.keep_log) r.log = log;
    return r;
  }

  const auto t1 = Clock::now();
  ng.command("run");
  r.run_time_s = seconds_since(t1);
  std::vector<std::string> run_log = ng.take_log();
  echo_errors(run_log);
  log.insert(log.end(), run_log.begin(), run_log.end());
  if (job.keep_log) r.log = log;
  if (ng.is_poisoned()) {
    fail(r, SimOutcome::kControlledExit, log, "libngspice requested ControlledExit during the run");
    return r;
  }
  if (SimOutcome o = classify_log(run_log); o != SimOutcome::kOk) {
    fail(r, o, log, "");
    return r;
  }
  const std::string plot = ng.current_plot();
  if (plot.rfind("tran", 0) != 0) {
    fail(r, SimOutcome::kNoConvergence, log, "no transient plot was produced (current plot: '" + plot + "')");
    return r;
  }
  auto time = ng.vector("time");
  if (!time || time->empty()) {
    fail(r, SimOutcome::kNoConvergence, log, "the transient produced no time points");
    return r;
  }
  if (time->back() < job.t_stop_s * (1.0 - 1e-9)) {
    std::ostringstream why;
    why << "the transient stopped at " << time->back() << " s of " << job.t_stop_s << " s";
    fail(r, SimOutcome::kNoConvergence, log, why.str());
    return r;
  }

  // Every vector the measures read, from the vectors ngspice has (v(a,b) is
  // v(a) - v(b), i(x1.vs) is i(v.x1.vs): sweep::vector_terms).
  sweep::Waveforms waves;
  waves.time = std::move(*time);
  std::vector<std::string> wanted = sweep::required_vectors(job.measures);
  for (const auto& v : job.return_vectors) wanted.push_back(v);
  std::vector<std::string> problems;
  for (const auto& name : wanted) {
    if (name == "time" || waves.vectors.count(name) != 0) continue;
    std::vector<double> sum(waves.time.size(), 0.0);
    bool found = true;
    try {
      for (const auto& term : sweep::vector_terms(name)) {
        auto data = ng.vector(term.name);
        if (!data || data->size() != sum.size()) {
          found = false;
          break;
        }
        for (std::size_t k = 0; k < sum.size(); ++k) sum[k] += term.sign * (*data)[k];
      }
    } catch (const sweep::MeasureError&) {
      found = false;
    }
    if (!found) {
      r.missing_vectors.push_back(name);
      continue;
    }
    for (double v : sum) {
      if (!std::isfinite(v)) {
        fail(r, SimOutcome::kNoConvergence, log, "vector '" + name + "' holds NaN or Inf");
        return r;
      }
    }
    waves.vectors.emplace(name, std::move(sum));
  }
  if (!r.missing_vectors.empty()) r.plot_vectors = ng.vector_names();

  // Each measure on its own: one that cannot be evaluated leaves NaN and a
  // message; the others keep their values.
  std::vector<double> values;
  values.reserve(r.values.size());
  for (const auto& m : job.measures) {
    const std::size_t before = values.size();
    try {
      sweep::evaluate_into(m, waves, values);
    } catch (const sweep::MeasureError& e) {
      values.resize(before);
      values.insert(values.end(), m.width(), std::numeric_limits<double>::quiet_NaN());
      problems.push_back("measure '" + m.name + "': " + e.what());
    }
  }
  if (!r.missing_vectors.empty()) {
    std::string have;
    for (const auto& n : r.plot_vectors) have += (have.empty() ? "" : ", ") + n;
    problems.insert(problems.begin(), "not in the plot: " + [&] {
      std::string m;
      for (const auto& n : r.missing_vectors) m += (m.empty() ? "" : ", ") + n;
      return m;
    }() + "; it has: " + have);
  }
  r.values = std::move(values);
  for (const auto& name : job.return_vectors) {
    if (waves.vectors.count(name) != 0) r.vectors[name] = waves.at(name);
  }
  if (!job.return_vectors.empty()) r.vectors["time"] = waves.time;
  if (!problems.empty()) {
    r.outcome = SimOutcome::kMeasureError;
    for (const auto& p : problems) r.message += (r.message.empty() ? "" : "\n") + p;
    return r;
  }
  r.outcome = SimOutcome::kOk;
  return r;
}

namespace {

// GAINCELL_TEST_FAULTS (spice/fault_injection.h): fail this point on purpose.
void inject_fault(InjectedFault fault, SimJob& job) {
  switch (fault) {
    case InjectedFault::kNone:
      return;
    case InjectedFault::kSegfault:
      std::signal(SIGSEGV, SIG_DFL);  // past any handler libngspice installed
      std::raise(SIGSEGV);
      return;
    case InjectedFault::kHang:
      for (;;) ::pause();  // until the pool's timeout kills us
    case InjectedFault::kExit:
      ::_exit(7);
    case InjectedFault::kNgspiceError: {
      // A line ngspice cannot parse, after the title.
      const auto eol = job.netlist.find('\n');
      job.netlist.insert(eol == std::string::npos ? job.netlist.size() : eol + 1, "Xinjected_fault n1 n2 gaincell_injected_no_such_subckt\n");
      return;
    }
  }
}

}  // namespace

int run_worker(int socket_fd, const std::string& library_path) {
  std::unique_ptr<NgspiceLibrary> ng;
  try {
    ng = std::make_unique<NgspiceLibrary>(library_path);
  } catch (const Error& e) {
    protocol::write_frame(socket_fd, {{"type", "fatal"}, {"message", e.what()}});
    return 1;
  }
  protocol::write_frame(socket_fd, {{"type", "hello"},
                                    {"pid", static_cast<int>(::getpid())},
                                    {"ngspice_version", ng->version()}});
  std::size_t commands_since_clear = 0;
  const std::optional<FaultPlan> faults = fault_plan_from_env();  // tests only
  while (true) {
    auto message = protocol::read_frame(socket_fd);
    if (!message || message->at("type") == "quit") return 0;
    SimJob job = protocol::job_from_json(*message);
    if (faults) inject_fault(fault_for(*faults, job.id), job);
    SimResult result = simulate(*ng, job);
    if (!protocol::write_frame(socket_fd, protocol::result_to_json(result))) return 1;
    if (ng->is_poisoned()) return 3;  // the pool replaces us
    commands_since_clear += 3;
    if (commands_since_clear > 5000) {
      ng->clear_history();
      commands_since_clear = 0;
    }
  }
}

}  // namespace gaincell::spice
