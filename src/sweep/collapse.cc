// SPDX-License-Identifier: MIT
#include "gaincell/sweep/collapse.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "gaincell/core/error.h"
#include "gaincell/core/si_value.h"

namespace gaincell::sweep {
namespace {

constexpr double kEnd = std::numeric_limits<double>::infinity();

}  // namespace

CollapsedPlan::CollapsedPlan(const SweepPlan& plan) : plan_(plan) {
  const SweepSpec& spec = plan.spec();
  GC_CHECK(spec.collapse.has_value()) << "spec " << spec.name << " has no collapse";
  axis_ = spec.collapse->axis;
  for (std::size_t i = axis_ + 1; i < spec.axes.size(); ++i) stride_ *= spec.axes[i].values.size();
  const auto& w = spec.axes[axis_].values;
  longest_ = static_cast<std::size_t>(std::max_element(w.begin(), w.end()) - w.begin());
}

std::size_t CollapsedPlan::group_of(std::size_t k) const {
  const std::size_t n = plan_.spec().axes[axis_].values.size();
  const std::size_t index = (k / stride_) % n;
  return k - index * stride_ + longest_ * stride_;
}

std::vector<std::size_t> CollapsedPlan::members(std::size_t g) const {
  const std::size_t n = plan_.spec().axes[axis_].values.size();
  const std::size_t first = g - longest_ * stride_;
  std::vector<std::size_t> out(n);
  for (std::size_t j = 0; j < n; ++j) out[j] = first + j * stride_;
  return out;
}

bool CollapsedPlan::is_exact(std::size_t k) const {
  const SweepSpec& spec = plan_.spec();
  const auto& widths = spec.axes[axis_].values;
  const double w = widths[(k / stride_) % widths.size()];
  if (!(w > 0)) return true;
  const TimeRef& e = spec.collapse->edge;
  const double edge = e.kind == TimeRef::Kind::kNumber ? e.value_s : resolve_time(e, plan_.parameters(k), spec.tran.stop_s);
  // A template's narrow pulse has edges of w/2 (t_rise = min(t_edge, w/2)):
  // below two edges it is not the longest pulse cut short. 1e-9 relative
  // keeps w = 2 * edge, parsed as two different decimal numbers, collapsed.
  return w < 2 * edge * (1 - 1e-9);
}

std::vector<std::size_t> CollapsedPlan::runs_of(const std::vector<std::size_t>& points) const {
  std::vector<std::size_t> runs;
  std::set<std::size_t> seen;
  for (std::size_t k : points) {
    const std::size_t run = is_exact(k) ? k : group_of(k);
    if (seen.insert(run).second) runs.push_back(run);
  }
  return runs;
}

std::vector<double> CollapsedPlan::read_times(std::size_t g) const {
  const double t0 = resolve_time(plan_.spec().collapse->pulse_start, plan_.parameters(g), plan_.spec().tran.stop_s);
  std::vector<double> out;
  for (double w : plan_.spec().axes[axis_].values) out.push_back(t0 + w);
  return out;
}

spice::SimJob CollapsedPlan::job(std::size_t k, double timeout_s) const {
  if (is_exact(k)) return plan_.job(k, timeout_s);
  const SweepSpec& spec = plan_.spec();
  const std::size_t g = group_of(k);
  spice::SimJob j = plan_.job(g, timeout_s);
  const std::vector<double> cuts = read_times(g);
  const double cut_max = cuts[longest_];
  // Breakpoints: a PWL source's corners are breakpoints of ngspice's
  // transient (a .meas time is not), so every read time is a time point.
  std::set<double> corners(cuts.begin(), cuts.end());
  std::string pwl = "VGC_COLLAPSE_CUTS gc_collapse_cuts 0 PWL(0 0";
  for (double t : corners) {
    if (t > 0) {  // appended piece by piece: gcc 12's -Wrestrict misreads " " + string (gcc PR 105329)
      pwl += ' ';
      pwl += gaincell::format_exact(t);
      pwl += " 0";
    }
  }
  pwl += ")\n";
  const std::string note = "* gaincell collapse of '" + spec.axes[axis_].name + "': this run, at its longest value, is read at " +
                           "every value's read time (the corners of VGC_COLLAPSE_CUTS, which carries no current)\n";
  j.netlist.insert(j.netlist.size() - std::string(".end\n").size(), note + pwl);
  std::vector<measure::ResolvedMeasure> parts;
  for (std::size_t i = 0; i < j.measures.size(); ++i) {
    const measure::ResolvedMeasure& m = j.measures[i];
    if (spec.collapse_reads[i] == CollapseRead::kBefore) {
      parts.push_back(m);
      continue;
    }
    for (std::size_t w = 0; w < cuts.size(); ++w) {
      measure::ResolvedMeasure p = m;
      p.name = m.name + "@" + gaincell::format_exact(cuts[w]);
      if (m.kind == measure::MeasureKind::kValueAt) {
        p.t_at_s = cuts[w];
      } else {
        if (m.kind == measure::MeasureKind::kAverage) p.kind = measure::MeasureKind::kIntegral;
        p.t_to_s = cuts[w];
      }
      parts.push_back(p);
    }
    measure::ResolvedMeasure tail = m;  // the tail: after the longest pulse's read time
    tail.name = m.name + "@tail";
    if (m.kind == measure::MeasureKind::kValueAt) {
      measure::ResolvedMeasure before = m;
      before.name = m.name + "@tail_start";
      before.t_at_s = cut_max;
      tail.t_at_s = kEnd;
      parts.push_back(before);
    } else {
      if (m.kind == measure::MeasureKind::kAverage) tail.kind = measure::MeasureKind::kIntegral;
      tail.t_from_s = cut_max;
      tail.t_to_s = kEnd;
    }
    parts.push_back(tail);
  }
  j.measures = std::move(parts);
  return j;
}

std::vector<JournalRecord> CollapsedPlan::expand(const spice::SimResult& r) const {
  if (is_exact(r.id)) return {{r.id, r.outcome, r.values, r.parse_time_s, r.run_time_s, r.message}};
  const SweepSpec& spec = plan_.spec();
  const std::size_t g = r.id;
  const std::vector<std::size_t> points = members(g);
  const auto& widths = spec.axes[axis_].values;
  const auto measures = plan_.measures(g);
  const bool has_values = r.outcome == spice::SimOutcome::kOk || r.outcome == spice::SimOutcome::kMeasureError;
  std::vector<JournalRecord> out;
  for (std::size_t j = 0; j < points.size(); ++j) {
    if (is_exact(points[j])) continue;  // simulated on its own
    JournalRecord rec{points[j], r.outcome, {}, 0.0, 0.0, r.message};
    if (points[j] == g) {
      rec.parse_time_s = r.parse_time_s;
      rec.run_time_s = r.run_time_s;
    }
    std::size_t at = 0;  // the next part in r.values
    auto part = [&](std::size_t offset) {
      return has_values && at + offset < r.values.size() ? r.values[at + offset] : std::nan("");
    };
    for (std::size_t i = 0; i < measures.size(); ++i) {
      const measure::ResolvedMeasure& m = measures[i];
      if (spec.collapse_reads[i] == CollapseRead::kBefore) {
        for (std::size_t e = 0; e < m.width(); ++e) rec.values.push_back(part(e));
        at += m.width();
        continue;
      }
      double v = 0;
      if (m.kind == measure::MeasureKind::kValueAt) {
        v = part(j) + part(widths.size() + 1) - part(widths.size());
        at += widths.size() + 2;
      } else {
        v = part(j) + part(widths.size());
        if (m.kind == measure::MeasureKind::kAverage) {
          v /= spec.tran.stop_s - std::max(m.t_from_s, spec.tran.start_s);
        }
        at += widths.size() + 1;
      }
      rec.values.push_back(v);
    }
    if (has_values) {
      const bool all_finite = std::all_of(rec.values.begin(), rec.values.end(), [](double x) { return std::isfinite(x); });
      rec.outcome = all_finite ? spice::SimOutcome::kOk : spice::SimOutcome::kMeasureError;
      if (all_finite) rec.message.clear();
    }
    out.push_back(std::move(rec));
  }
  return out;
}

std::string CollapsedPlan::method() const {
  const SweepSpec& spec = plan_.spec();
  const Collapse& c = *spec.collapse;
  const std::string& a = spec.axes[axis_].name;
  const std::string start = c.pulse_start.kind == TimeRef::Kind::kParam ? c.pulse_start.param
                                                                          : gaincell::format_exact(c.pulse_start.value_s) + " s";
  const std::string edge = c.edge.kind == TimeRef::Kind::kParam ? c.edge.param : gaincell::format_exact(c.edge.value_s) + " s";
  return "one transient per point of the other axes, at the longest " + a + " (" +
         gaincell::format_exact(spec.axes[axis_].values[longest_]) + " s); each " + a + " read at " + start + " + " + a +
         " (a breakpoint of that run) plus the run's own turn-off tail after " + start + " + the longest " + a + "; " + a +
         " = 0 and every " + a + " below two edges (" + edge + ") simulated on its own, exactly; measures that end before " +
         start + " read as they are (docs/spec-format.md#collapse)";
}

}  // namespace gaincell::sweep
