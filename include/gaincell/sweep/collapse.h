// SPDX-License-Identifier: MIT
// File: gaincell/sweep/collapse.h
//
// The pulse-width axis from one transient (a spec's "collapse",
// docs/spec-format.md#collapse). A group is the set of points that differ only
// in the collapsed width; it is simulated once, at its longest width, with a
// breakpoint at every width's read time (pulse start + w, where a w-wide pulse
// starts to fall). Up to that time the long run is the w-wide run (the circuit
// cannot know the pulse will go on), so a width's measure is the long run's
// up to its read time plus the long run's own turn-off tail (what comes after
// pulse start + the longest width). Measures whose window ends before the
// pulse starts are the same in every run and are read as they are. Width 0
// (no pulse, so no turn-off tail) and widths below two edges (a narrower
// pulse's edges are shorter, so it is not the longest one cut short) are
// simulated on their own, exactly.
//
//   CollapsedPlan cp(plan);
//   for (std::size_t id : cp.runs_of(points)) {
//     spice::SimResult result = simulate(cp.job(id));
//     for (const JournalRecord& r : cp.expand(result)) store(r);  // one per width it gives
//   }
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "gaincell/spice/job.h"
#include "gaincell/sweep/journal.h"
#include "gaincell/sweep/plan.h"

namespace gaincell::sweep {

class CollapsedPlan {
 public:
  // `plan`'s spec must have a collapse (GC_CHECK); `plan` must outlive this.
  explicit CollapsedPlan(const SweepPlan& plan);

  // The group of point k: the point with k's coordinates at the longest width.
  std::size_t group_of(std::size_t k) const;
  // The points of group g, in the order of the collapsed axis' values.
  std::vector<std::size_t> members(std::size_t g) const;
  // True if point k is simulated on its own: its width is 0 or below two
  // edges (the spec's collapse "edge", resolved at k).
  bool is_exact(std::size_t k) const;
  // The simulations that give these points, each once, in first-use order:
  // an exact point's own index, else its group's (group_of).
  std::vector<std::size_t> runs_of(const std::vector<std::size_t>& points) const;
  // The read time of each member of group g (pulse start + width), s.
  std::vector<double> read_times(std::size_t g) const;
  // The job that gives point k. An exact point's is its own (SweepPlan::job).
  // Else it is k's group's, with the group's id: its longest pulse's exact
  // netlist plus a PWL source whose corners are the read times (ngspice lands
  // on every PWL corner), and, per measure, its parts: the value up to each
  // read time and the tail.
  spice::SimJob job(std::size_t k, double timeout_s = 0.0) const;
  // The records a job's result gives: an exact point's own, or one per
  // member of the group that is not exact (members() order). A failed run
  // fails every member with its outcome and message; a member whose values
  // are all finite is ok. The run's parse and run times go to the simulated
  // (longest) point, 0 to the others.
  std::vector<JournalRecord> expand(const spice::SimResult& result) const;
  // How the file was made, for its root attribute collapse_method.
  std::string method() const;

 private:
  const SweepPlan& plan_;
  std::size_t axis_ = 0;
  std::size_t stride_ = 1;    // distance between neighbouring widths' points
  std::size_t longest_ = 0;   // index of the longest width on the axis
};

}  // namespace gaincell::sweep
