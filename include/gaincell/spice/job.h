// SPDX-License-Identifier: MIT
// File: gaincell/spice/job.h
//
// One simulation point as the worker pool sees it: a complete netlist, the
// transient's expected end time, and the measures to take. The result is
// always returned, failed or not: a failure is data (outcome + message).
//
//   SimJob job{.id = 7, .netlist = text, .t_stop_s = 30e-9, .measures = ms};
//   pool.run(1, [&](std::size_t) { return job; }, [](SimResult&& r) { ... });
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gaincell/spice/outcome.h"
#include "gaincell/measure/measure.h"

namespace gaincell::spice {

struct SimJob {
  std::uint64_t id = 0;     // caller's identifier, echoed in the result (a point index)
  std::string netlist;      // full netlist text, title line first, ending with .end
  double t_stop_s = 0.0;    // the transient must reach this time, or the point failed
  std::vector<measure::ResolvedMeasure> measures;
  std::vector<std::string> return_vectors;  // vectors to copy back in full ("time" is implied)
  double timeout_s = 60.0;  // wall-clock budget for this point in the worker
  bool keep_log = false;    // return ngspice's whole output in SimResult::log
};

struct SimResult {
  std::uint64_t id = 0;
  SimOutcome outcome = SimOutcome::kNotRun;
  std::string message;        // ngspice's own words for a failure ("" when ok)
  std::vector<double> values; // one per measure, NaN where not computed
  // Vectors the measures read that the plot does not have (as the measures
  // name them), and then the plot's vector names (for "did you mean").
  std::vector<std::string> missing_vectors;
  std::vector<std::string> plot_vectors;
  std::map<std::string, std::vector<double>> vectors;  // requested vectors, with "time"
  std::vector<std::string> log;  // ngspice output (only with keep_log)
  double parse_time_s = 0.0;  // ngSpice_Circ (or alterparam + reset when reused), inside the worker
  bool reused = false;        // the worker rebuilt its last circuit instead of parsing (spice/worker.h)
  bool altered = false;       // ... by `alter` of its sources, without rebuilding it
  double run_time_s = 0.0;    // the `run` command, inside the worker
  double wall_time_s = 0.0;   // dispatch to result, seen by the parent
  int worker_pid = 0;
  bool ok() const { return outcome == SimOutcome::kOk; }
};

}  // namespace gaincell::spice
