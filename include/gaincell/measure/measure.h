// SPDX-License-Identifier: MIT
// File: gaincell/measure/measure.h
//
// Measures turn a point's simulated waveforms into the numbers stored per
// point. They are pure functions of arrays (as lctime's and OpenRAM's
// measurements), evaluated the same way on vectors copied out of libngspice
// and on vectors read from an `ngspice -b` rawfile, so both paths agree.
// Waveforms are taken as piecewise linear between ngspice's accepted time
// points; integrals of a vector and of a product of two vectors are exact for
// that interpolation. Windows are clipped to the simulated time span.
// A module of its own, below both of its users: the engine (spice) evaluates
// measures in its workers, specs (sweep) and tiles declare them.
//
//   ResolvedMeasure q{"q_line_c", MeasureKind::kIntegral, "C"};
//   q.of = "i(vsense)"; q.t_from_s = 7e-9; q.t_to_s = 30e-9;
//   double charge_c = evaluate(q, waveforms);
#pragma once

#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gaincell::measure {

enum class MeasureKind {
  kIntegral,  // scale * integral of `of` dt over [from, to]
  kValueAt,   // scale * `of` at time `at` (linear interpolation)
  kEnergy,    // scale * -integral of voltage*current dt over [from, to]: energy a V source delivers
  kAverage,   // scale * time-average of `of` over [from, to]
  kMin,       // scale * minimum of `of` over [from, to] (samples and window ends)
  kMax,       // scale * maximum of `of` over [from, to]
  kTimeAbove, // total time `of` spends above `threshold` in [from, to] (a pulse width), s
  kTrace,     // scale * `of` at each of `times_s`: a waveform sampled on a fixed grid
};

const char* to_string(MeasureKind kind);
// Returns false for an unknown name.
bool measure_kind_from_string(const std::string& name, MeasureKind* kind);

// A measure with its times resolved to numbers for one point.
struct ResolvedMeasure {
  std::string name;
  MeasureKind kind = MeasureKind::kValueAt;
  std::string unit;
  std::string of;       // vector, e.g. "i(vsense)" (kIntegral, kValueAt, kAverage, kMin, kMax)
  std::string voltage;  // kEnergy: the source's voltage vector, e.g. "v(vdd)"
  std::string current;  // kEnergy: the source's current vector, e.g. "i(vdd)"
  double scale = 1.0;
  double t_from_s = 0.0;
  double t_to_s = std::numeric_limits<double>::infinity();  // infinity: end of simulation
  double t_at_s = std::numeric_limits<double>::infinity();
  double threshold = 0.0;        // kTimeAbove, in the unit of `of`
  std::vector<double> times_s;   // kTrace: sample times
  // Number of values this measure yields per point (times_s.size() for a trace, else 1).
  std::size_t width() const { return kind == MeasureKind::kTrace ? times_s.size() : 1; }
};

// Vectors of one point, copied out of ngspice: "time" and the saved ones,
// keyed by the names the measures use.
struct Waveforms {
  std::vector<double> time;
  std::map<std::string, std::vector<double>> vectors;
  const std::vector<double>& at(const std::string& name) const;  // throws MeasureError
};

class MeasureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Evaluates one scalar measure. Throws MeasureError if a vector is missing,
// lengths differ, the window is empty or outside the simulated span, or the
// measure is a trace.
double evaluate(const ResolvedMeasure& measure, const Waveforms& waveforms);
// Evaluates any measure into measure.width() values appended to `out`.
void evaluate_into(const ResolvedMeasure& measure, const Waveforms& waveforms, std::vector<double>& out);
// Total width of a list of measures (the length of a point's value vector).
std::size_t total_width(const std::vector<ResolvedMeasure>& measures);

// Names of the vectors the measures read (each once, in first-use order), as
// the measures write them ("v(a,b)", "i(x1.vs)").
std::vector<std::string> required_vectors(const std::vector<ResolvedMeasure>& measures);

// A measure's vector as ngspice has it: a signed sum of vectors ngspice can
// save and return. v(a) -> v(a); v(a,b) -> v(a) - v(b) (a ground node, 0 or
// gnd, adds nothing); i(v1) -> i(v1); a source inside a subcircuit, i(x1.vs)
// -> i(v.x1.vs) (ngspice prefixes the element's letter); a current source
// i(i1) -> @i1[c]; a resistor or capacitor i(r1) -> @r1[i]; @dev[param] as is.
struct VectorTerm {
  std::string name;
  double sign = 1.0;
};
// Throws MeasureError for a name it cannot map (i() of a transistor, say).
std::vector<VectorTerm> vector_terms(const std::string& vector);
// The same as one ngspice expression, for .meas lines: "v(a)", or
// "par('v(a)-v(b)')" for a sum.
std::string ngspice_expression(const std::string& vector);
// What a .save line lists for these measures (each ngspice vector once).
std::vector<std::string> save_names(const std::vector<ResolvedMeasure>& measures);

// Piecewise-linear helpers, exposed for tests.
double interpolate(const std::vector<double>& t, const std::vector<double>& y, double at);
double integrate(const std::vector<double>& t, const std::vector<double>& y, double from, double to);
// Time y spends above `threshold` in [from, to], with crossings interpolated.
double time_above(const std::vector<double>& t, const std::vector<double>& y, double threshold, double from,
                  double to);
double integrate_product(const std::vector<double>& t, const std::vector<double>& a,
                         const std::vector<double>& b, double from, double to);

void to_json(nlohmann::json& j, const ResolvedMeasure& m);
void from_json(const nlohmann::json& j, ResolvedMeasure& m);

}  // namespace gaincell::measure
