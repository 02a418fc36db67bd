// SPDX-License-Identifier: MIT
// File: gaincell/sweep/plan.h
//
// A pure expansion of a spec into points. Point k is the row-major index over
// the axes (last axis fastest), so a point's id is stable and the same on
// every machine: shards and resumed runs address points by it.
//
//   SweepPlan plan(spec);
//   for (std::size_t k = 0; k < plan.size(); ++k) std::cout << plan.render(k);
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "gaincell/spice/job.h"
#include "gaincell/sweep/spec.h"

namespace gaincell::sweep {

// A measure or pulse time at a point with these parameter values, s; the end
// of the transient is `end_s`.
double resolve_time(const TimeRef& t, const std::map<std::string, double>& params, double end_s);

class SweepPlan {
 public:
  explicit SweepPlan(const SweepSpec& spec);

  std::size_t size() const { return size_; }
  std::vector<std::size_t> shape() const;
  // Axis values of point k, one per axis. Throws InputError GC-1209 if k >= size().
  std::vector<double> coordinates(std::size_t k) const;
  // Every template parameter's value at point k (defaults, fixed, swept,
  // Monte Carlo draws).
  std::map<std::string, double> parameters(std::size_t k) const;
  // A description of point k's coordinates: "v_store=0.9 corner=ff temp=85".
  std::string describe(std::size_t k) const;
  // The measures with their times resolved at point k.
  std::vector<measure::ResolvedMeasure> measures(std::size_t k) const;
  // The exact netlist the worker runs for point k; `ngspice -b` runs it as is
  // (the .meas lines mirror gaincell's measures and print their values). The
  // workers keep the .meas lines too: their times become breakpoints of the
  // transient, so dropping them would change the time grid and the results.
  std::string render(std::size_t k) const;
  // The job for point k, with the spec's timeout unless `timeout_s` > 0.
  spice::SimJob job(std::size_t k, double timeout_s = 0.0) const;
  const SweepSpec& spec() const { return spec_; }

 private:
  // Template parameters set at point k (fixed, swept, Monte Carlo), before defaults.
  std::map<std::string, double> overrides(std::size_t k) const;

  const SweepSpec& spec_;
  std::size_t size_ = 1;
};

}  // namespace gaincell::sweep
