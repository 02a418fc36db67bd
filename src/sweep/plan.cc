// SPDX-License-Identifier: MIT
#include "gaincell/sweep/plan.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "gaincell/core/error.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/si_value.h"

namespace gaincell::sweep {

double resolve_time(const TimeRef& t, const std::map<std::string, double>& params, double end_s) {
  switch (t.kind) {
    case TimeRef::Kind::kNumber: return t.value_s;
    case TimeRef::Kind::kStart: return 0.0;
    case TimeRef::Kind::kEnd: return end_s;
    case TimeRef::Kind::kParam: return params.at(t.param);
  }
  return end_s;
}

namespace {

// A measure's vector as plain ngspice vectors, one .meas line per term: an
// expression (par('...')) makes ngspice build a B source, which for a name the
// circuit lacks adds a floating node and breaks the operating point. A sum
// (v(a,b)) or a scale gets a comment that says how gaincell combines them.
struct MeasTerms {
  std::vector<measure::VectorTerm> terms;
  std::string note;  // "" for one plain vector, unscaled
};

MeasTerms meas_terms(const measure::ResolvedMeasure& m) {
  using gaincell::format_exact;
  MeasTerms t;
  t.terms = m.of.empty() ? std::vector<measure::VectorTerm>{} : measure::vector_terms(m.of);
  if (t.terms.size() != 1 || t.terms[0].sign != 1.0 || m.scale != 1.0) {
    t.note = "* gaincell measure " + m.name + " = " + (m.scale == 1.0 ? "" : format_exact(m.scale) + " * ") + "(";
    for (std::size_t i = 0; i < t.terms.size(); ++i) {
      t.note += (t.terms[i].sign < 0 ? " - " : (i == 0 ? "" : " + ")) + m.name + "_" + std::to_string(i + 1);
    }
    t.note += ")\n";
  }
  return t;
}

// The note, then `what` once per term, %N its name and %V its vector.
std::string term_lines(const measure::ResolvedMeasure& m, const MeasTerms& t, const std::string& what) {
  std::string out;
  for (std::size_t i = 0; i < t.terms.size(); ++i) {
    const std::string name = t.terms.size() == 1 && t.note.empty() ? m.name : m.name + "_" + std::to_string(i + 1);
    std::string l = what;
    for (std::size_t p = l.find("%N"); p != std::string::npos; p = l.find("%N")) l.replace(p, 2, name);
    for (std::size_t p = l.find("%V"); p != std::string::npos; p = l.find("%V")) l.replace(p, 2, t.terms[i].name);
    out += (out.empty() ? "" : "\n") + l;
  }
  return t.note + out;
}

// ngspice has no "time above"; its first-pulse width equals it for a single pulse.
std::string time_above_lines(const measure::ResolvedMeasure& m, const MeasTerms& t, const std::string& from,
                             const std::string& to) {
  const std::string th = gaincell::format_exact(m.threshold);
  std::string l = "* gaincell measure " + m.name + ": time " + m.of + " > " + th + " in [" + from + ", " + to + "] s";
  if (t.terms.size() == 1 && t.terms[0].sign == 1.0) {
    l += "\n.meas tran " + m.name + "_first_pulse trig " + t.terms[0].name + " val=" + th + " rise=1 targ " +
         t.terms[0].name + " val=" + th + " fall=1";
  }
  return l;
}

std::string meas_line(const measure::ResolvedMeasure& m, double t_stop_s);

// A .meas line per sample is a breakpoint each: fine for a retention trace's
// tens of samples, absurd for a 100k-sample waveform.
std::string trace_lines(const measure::ResolvedMeasure& m, double t_stop_s) {
  constexpr std::size_t kMaxMeasLines = 1000;
  if (m.times_s.size() > kMaxMeasLines) {
    return "* gaincell measure " + m.name + ": " + std::to_string(m.times_s.size()) + " samples of " + m.of +
           " (no .meas lines beyond " + std::to_string(kMaxMeasLines) + " samples)";
  }
  std::string lines;
  for (std::size_t i = 0; i < m.times_s.size(); ++i) {
    if (i > 0) lines += "\n";
    measure::ResolvedMeasure one = m;
    one.name = m.name + "_" + std::to_string(i);
    one.kind = measure::MeasureKind::kValueAt;
    one.t_at_s = m.times_s[i];
    lines += meas_line(one, t_stop_s);
  }
  return lines;
}

// A .meas line computing the same quantity as gaincell's measure, so that the
// rendered netlist documents itself under `ngspice -b`. ngspice prints 7
// digits; gaincell's values come from the vectors. Plain vectors are used
// where possible: each par('...') makes ngspice build a new vector over all
// time points, about 0.7 M instructions a line for the default cell (~2 % of
// a point each). Energies are written as comments: ngspice's INTEG of a
// product is not the exact integral gaincell computes, and printing a
// different number would mislead.
std::string meas_line(const measure::ResolvedMeasure& m, double t_stop_s) {
  using gaincell::format_exact;
  const std::string from = format_exact(m.t_from_s);
  const std::string to = format_exact(std::isinf(m.t_to_s) ? t_stop_s : m.t_to_s);
  const MeasTerms t = meas_terms(m);
  switch (m.kind) {
    case measure::MeasureKind::kIntegral:
      return term_lines(m, t, ".meas tran %N integ %V from=" + from + " to=" + to);
    case measure::MeasureKind::kValueAt:
      return term_lines(m, t, ".meas tran %N find %V at=" + format_exact(std::isinf(m.t_at_s) ? t_stop_s : m.t_at_s));
    case measure::MeasureKind::kEnergy:
      return "* gaincell measure " + m.name + " = -" + (m.scale == 1.0 ? "" : format_exact(m.scale) + " * ") +
             "integral of " + m.voltage + " * " + m.current + " dt over [" + from + ", " + to + "] s";
    case measure::MeasureKind::kAverage:
      return term_lines(m, t, ".meas tran %N avg %V from=" + from + " to=" + to);
    case measure::MeasureKind::kMin:
      return term_lines(m, t, ".meas tran %N min %V from=" + from + " to=" + to);
    case measure::MeasureKind::kMax:
      return term_lines(m, t, ".meas tran %N max %V from=" + from + " to=" + to);
    case measure::MeasureKind::kTimeAbove:
      return time_above_lines(m, t, from, to);
    case measure::MeasureKind::kTrace:
      return trace_lines(m, t_stop_s);
  }
  return "";
}

}  // namespace

SweepPlan::SweepPlan(const SweepSpec& spec) : spec_(spec) {
  for (const auto& a : spec_.axes) {
    GC_CHECK(!a.values.empty()) << "axis " << a.name << " has no values";
    if (a.values.size() > limits::kMaxPoints / size_) {
      throw InputError("GC-1209", "the sweep has more than " +
                                      std::to_string(limits::kMaxPoints) + " points (limits::kMaxPoints, docs/cli.md#limits)").in_file(spec_.path.string());
    }
    size_ *= a.values.size();
  }
}

std::vector<std::size_t> SweepPlan::shape() const {
  std::vector<std::size_t> s;
  for (const auto& a : spec_.axes) s.push_back(a.values.size());
  return s;
}

std::vector<double> SweepPlan::coordinates(std::size_t k) const {
  if (k >= size_) {
    throw InputError("GC-1209", "point " + std::to_string(k) + " does not exist; " +
                                    spec_.path.string() + " has points 0.." + std::to_string(size_ - 1));
  }
  std::vector<double> c(spec_.axes.size());
  for (std::size_t i = spec_.axes.size(); i-- > 0;) {
    const auto n = spec_.axes[i].values.size();
    c[i] = spec_.axes[i].values[k % n];
    k /= n;
  }
  return c;
}

std::map<std::string, double> SweepPlan::overrides(std::size_t k) const {
  std::map<std::string, double> values = spec_.params;
  const auto c = coordinates(k);
  for (std::size_t i = 0; i < c.size(); ++i) {
    const Axis& a = spec_.axes[i];
    if (a.kind == Axis::Kind::kParam) values[a.name] = c[i];
    if (a.kind == Axis::Kind::kMonteCarlo) {
      const auto sample = static_cast<std::size_t>(c[i]);
      for (const auto& draw : spec_.monte_carlo.sigma) values[draw.first] = monte_carlo_value(spec_, draw.first, sample);
    }
  }
  return values;
}

std::map<std::string, double> SweepPlan::parameters(std::size_t k) const {
  return spec_.netlist.resolve(overrides(k));
}

std::string SweepPlan::describe(std::size_t k) const {
  const auto c = coordinates(k);
  std::string out;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const Axis& a = spec_.axes[i];
    const std::string value = a.kind == Axis::Kind::kCorner ? a.labels[static_cast<std::size_t>(c[i])]
                                                            : gaincell::format_exact(c[i]);
    const bool has_unit = a.kind != Axis::Kind::kCorner && !a.unit.empty() && a.unit != "1";
    out += (out.empty() ? "" : " ") + a.name + "=" + value + (has_unit ? " " + a.unit : "");
  }
  return out;
}

std::vector<measure::ResolvedMeasure> SweepPlan::measures(std::size_t k) const {
  const auto params = parameters(k);
  const double end = std::numeric_limits<double>::infinity();  // the end of the simulation, whenever it is
  std::vector<measure::ResolvedMeasure> out;
  for (const auto& m : spec_.measures) {
    // ResolvedMeasure's fields in order: the spec's measure with its times resolved at point k.
    out.push_back({m.name, m.kind, m.unit, m.of, m.voltage, m.current, m.scale, resolve_time(m.from, params, end),
                   resolve_time(m.to, params, end), resolve_time(m.at, params, end), m.threshold, m.times_s});
  }
  return out;
}

std::string SweepPlan::render(std::size_t k) const {
  using gaincell::format_exact;
  netlist::RenderRequest req;
  req.values = overrides(k);
  req.comments.push_back("gaincell sweep '" + spec_.name + "' point " + std::to_string(k) + " of " +
                         std::to_string(size_) + ": " + describe(k));
  req.options = spec_.options;
  const auto c = coordinates(k);
  for (std::size_t i = 0; i < c.size(); ++i) {
    const Axis& a = spec_.axes[i];
    if (a.kind == Axis::Kind::kOption) {
      // An option axis overrides the same option from /options.
      auto it = std::find_if(req.options.begin(), req.options.end(), [&](const auto& o) { return o.first == a.name; });
      if (it != req.options.end()) {
        it->second = format_exact(c[i]);
      } else {
        req.options.emplace_back(a.name, format_exact(c[i]));
      }
    }
    if (a.kind == Axis::Kind::kCorner) req.lib_sections[a.lib_file] = a.labels[static_cast<std::size_t>(c[i])];
  }
  const auto& t = spec_.tran;
  req.analysis = ".tran " + format_exact(t.step_s) + " " + format_exact(t.stop_s);
  if (t.start_s > 0 || t.max_step_s > 0) req.analysis += " " + format_exact(t.start_s);
  if (t.max_step_s > 0) req.analysis += " " + format_exact(t.max_step_s);
  const auto ms = measures(k);
  req.saves = measure::save_names(ms);
  std::string text = spec_.netlist.render(req);
  // .meas lines go before the final .end.
  std::string meas;
  for (const auto& m : ms) meas += meas_line(m, t.stop_s) + "\n";
  text.insert(text.size() - std::string(".end\n").size(), meas);
  return text;
}

spice::SimJob SweepPlan::job(std::size_t k, double timeout_s) const {
  spice::SimJob j;
  j.id = k;
  j.netlist = render(k);
  j.t_stop_s = spec_.tran.stop_s;
  j.measures = measures(k);
  j.timeout_s = timeout_s > 0 ? timeout_s : spec_.timeout_s;
  return j;
}

}  // namespace gaincell::sweep
