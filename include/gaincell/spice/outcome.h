// SPDX-License-Identifier: MIT
// File: gaincell/spice/outcome.h
//
// A simulation failure is data: each point gets a `SimOutcome` and, when it
// failed, ngspice's own message. ngspice returns 0 from ngSpice_Circ and from
// `run` even when parsing or the transient failed, so the outcome is decided
// from what it printed and from the plot it left (see classify_log).
//
//   SimOutcome o = classify_log({"stderr Error: circuit not parsed."});
//   assert(o == SimOutcome::kParseError);
//   std::string_view name = to_string(o);   // "parse_error"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gaincell::spice {

// Stored in HDF5 as an enum of this underlying type; values are stable.
enum class SimOutcome : std::uint8_t {
  kOk = 0,
  kParseError = 1,         // netlist not parsed (syntax, bad element)
  kMissingModel = 2,       // unknown model/subcircuit or missing .include/.lib file
  kNoConvergence = 3,      // operating point or Newton iteration failed
  kTimestepTooSmall = 4,   // transient aborted: "Timestep too small"
  kTimeout = 5,            // point exceeded its wall-clock budget; worker killed
  kCrash = 6,              // worker died (signal, exit) during the point
  kControlledExit = 7,     // libngspice asked to be unloaded (e.g. bad .param)
  kMeasureError = 8,       // simulation ran but a measure could not be computed
  kNotRun = 255,           // not simulated (yet)
};

std::string_view to_string(SimOutcome outcome);
// Inverse of to_string; returns false for an unknown name.
bool from_string(std::string_view name, SimOutcome* outcome);
// Every value, in numeric order (for HDF5 enum types and summaries).
const std::vector<SimOutcome>& all_outcomes();

// Classifies ngspice's printed lines (as received by SendChar, each prefixed
// "stdout " or "stderr "). Returns kOk if no failure pattern is found. The
// most specific pattern wins (missing model before generic parse error,
// timestep before generic abort).
SimOutcome classify_log(const std::vector<std::string>& lines);

// The lines worth showing a user for a failed point: error and warning
// lines first, without the channel prefix, at most `max_lines`.
std::string failure_excerpt(const std::vector<std::string>& lines, std::size_t max_lines = 8);

}  // namespace gaincell::spice
