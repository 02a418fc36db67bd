// SPDX-License-Identifier: MIT
// File: gaincell/sweep/spec.h
//
// A sweep spec (JSON, documented in docs/spec-format.md) names a netlist
// template, fixes some of its parameters, sweeps others along axes, and lists
// the measures to take from each point's transient. Numbers are JSON numbers
// in SI base units or strings with a SPICE scale suffix ("15n"). Every error
// names the file, the line and column, the JSON Pointer and what was expected:
//   characterization/x.json:12:18: error GC-1203: /axes/0/values/2: expected a number (V), found string "0.9V"
//
//   SweepSpec spec = load_spec("characterization/pushpull_multiply.json");
//   std::cout << spec.name << ": " << spec.axes.size() << " axes\n";
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gaincell/netlist/template.h"
#include "gaincell/measure/measure.h"

namespace gaincell::sweep {

constexpr const char* kSpecFormat = "gaincell-spec/1";

// A time in a measure window: a number, the start or end of the transient,
// or the value of a template parameter at the point ("t_read").
struct TimeRef {
  enum class Kind { kNumber, kStart, kEnd, kParam };
  Kind kind = Kind::kEnd;
  double value_s = 0.0;
  std::string param;
};

struct MeasureSpec {
  std::string name;
  measure::MeasureKind kind = measure::MeasureKind::kValueAt;
  std::string unit;
  std::string description;
  std::string of;
  std::string voltage;
  std::string current;
  double scale = 1.0;
  TimeRef from{TimeRef::Kind::kStart, 0.0, ""};
  TimeRef to{TimeRef::Kind::kEnd, 0.0, ""};
  TimeRef at{TimeRef::Kind::kEnd, 0.0, ""};
  double threshold = 0.0;       // time_above
  std::vector<double> times_s;  // trace
  // Leakage-sensitive (retention): the spec must set gmin and abstol <= 1e-18,
  // or ngspice's default gmin (1e-12 S) fakes the leak.
  bool leakage = false;
};

constexpr double kLeakageToleranceMax = 1e-18;  // S for gmin, A for abstol

// Seeded Monte Carlo over template parameters (typically per-device
// threshold shifts dvth_<device>): sample s draws, for each varied parameter,
// nominal + sigma * z with z ~ N(0, 1) from a counter-based generator keyed by
// (seed, s, parameter name), so a sample's values do not depend on the order
// or the sharding of the points.
struct MonteCarlo {
  std::uint64_t seed = 1;
  std::size_t samples = 0;
  std::map<std::string, double> sigma;  // parameter -> standard deviation (its unit)
};

struct Axis {
  enum class Kind {
    kParam,       // a template parameter
    kOption,      // an ngspice option, e.g. temp (rendered in .options)
    kCorner,      // the section of a template's `.lib FILE SECTION` line
    kMonteCarlo,  // the Monte Carlo sample index
  };
  Kind kind = Kind::kParam;
  std::string name;          // the axis' name in the results: the parameter, option, "corner" (or the
                             // corner axis' "name") or "mc_sample"
  std::vector<double> values;        // numeric values (corner: 0..n-1; Monte Carlo: sample index)
  std::vector<std::string> labels;   // corner: section names, one per value
  std::filesystem::path lib_file;    // corner: the library file (absolute)
  std::string unit;                  // from the template's "$ [UNIT]" comment
  std::string description;
};

struct TranAnalysis {
  double step_s = 0.0;
  double stop_s = 0.0;
  double start_s = 0.0;
  double max_step_s = 0.0;  // 0: ngspice's default
};

// `"collapse"`: the pulse-width axis from one transient per point of the
// other axes (docs/spec-format.md#collapse). The run at the longest width is
// read at pulse_start + w for every width w (a breakpoint lands the simulator
// there), plus that run's own turn-off tail.
struct Collapse {
  enum class Line { kHeld, kPrecharged, kIntegrator };
  std::size_t axis = 0;       // index into SweepSpec::axes (a param axis)
  TimeRef pulse_start{TimeRef::Kind::kParam, 0.0, "t_read"};
  // The read pulse's rise (and fall) time: widths below two of it, and width
  // 0, are not the longest pulse cut short and are simulated on their own.
  TimeRef edge{TimeRef::Kind::kParam, 0.0, "t_edge"};
  Line line = Line::kHeld;    // what the read line is; only kHeld collapses unforced
  bool force = false;         // collapse a line for which the tail is not w-independent
  double verify_threshold_pct = 0.05;  // --verify: largest allowed difference, % of full scale
  std::vector<std::string> verify_measures;  // the measures the threshold applies to; empty: all
};
const char* to_string(Collapse::Line line);

// How a collapsed sweep gets a measure of every width from the longest run.
enum class CollapseRead {
  kBefore,  // its window ends before the pulse starts: the same in every run, read as is
  kTail,    // integral/energy/average to the end, value_at the end: read at the cut, plus the tail
};

struct SweepSpec {
  std::filesystem::path path;  // the spec file
  std::string text;            // its bytes (hashed for provenance)
  std::string name;
  std::string description;
  std::filesystem::path template_path;
  std::vector<std::filesystem::path> include_roots;  // extra directories its files may come from (absolute)
  netlist::NetlistTemplate netlist;
  std::map<std::string, double> params;  // fixed overrides, SI units
  std::vector<Axis> axes;                // row-major: the last axis varies fastest
  TranAnalysis tran;
  std::vector<std::pair<std::string, std::string>> options;  // rendered as .options
  std::vector<MeasureSpec> measures;
  double timeout_s = 60.0;               // per point
  // Extra ngspice init lines for every worker's .spiceinit (what a foundry
  // PDK's spinit asks for, e.g. "set ngbehavior=hsa"), checked and normalized
  // by spice::check_init_line; docs/pdk.md.
  std::vector<std::string> ngspice_init;
  MonteCarlo monte_carlo;                // samples = 0: none
  std::optional<Collapse> collapse;      // "collapse": none unless given
  std::vector<CollapseRead> collapse_reads;  // with collapse: one per measure
};

// The standard normal deviate of Monte Carlo sample `sample` for `name`.
double monte_carlo_normal(std::uint64_t seed, std::size_t sample, const std::string& name);

// The value Monte Carlo parameter `name` takes in `sample`: its nominal value
// (fixed in /params, else the template's default) + sigma * z. The one rule
// for both the simulated netlists and the stored /monte_carlo draws.
double monte_carlo_value(const SweepSpec& spec, const std::string& name, std::size_t sample);

// Loads and validates a spec and its template. Throws InputError (GC-12xx,
// GC-11xx from the template) or IoError.
SweepSpec load_spec(const std::filesystem::path& path);
// Same from text; `origin` names the file and anchors the relative template path.
SweepSpec parse_spec(std::string text, const std::filesystem::path& origin);

}  // namespace gaincell::sweep
