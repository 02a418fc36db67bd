// SPDX-License-Identifier: MIT
#include "gaincell/spice/outcome.h"

#include <algorithm>
#include <array>

#include "gaincell/core/strings.h"

namespace gaincell::spice {
namespace {

struct OutcomeName {
  SimOutcome outcome;
  std::string_view name;
};

constexpr std::array<OutcomeName, 10> kNames = {{
    {SimOutcome::kOk, "ok"},
    {SimOutcome::kParseError, "parse_error"},
    {SimOutcome::kMissingModel, "missing_model"},
    {SimOutcome::kNoConvergence, "no_convergence"},
    {SimOutcome::kTimestepTooSmall, "timestep_too_small"},
    {SimOutcome::kTimeout, "timeout"},
    {SimOutcome::kCrash, "crash"},
    {SimOutcome::kControlledExit, "controlled_exit"},
    {SimOutcome::kMeasureError, "measure_error"},
    {SimOutcome::kNotRun, "not_run"},
}};

// Patterns seen from ngspice 39.3 (ngspice-baseline.md §5 and our tests),
// matched case-insensitively, most specific first.
struct Pattern {
  std::string_view text;
  SimOutcome outcome;
};
constexpr std::array<Pattern, 17> kPatterns = {{
    {"cannot recover and awaits to be detached", SimOutcome::kControlledExit},
    {"could not find include file", SimOutcome::kMissingModel},
    {"can't find model", SimOutcome::kMissingModel},
    {"could not find a valid modelname", SimOutcome::kMissingModel},
    {"unknown subckt", SimOutcome::kMissingModel},
    {"could not find library file", SimOutcome::kMissingModel},
    {"cannot open file", SimOutcome::kMissingModel},  // XSPICE table files (39.3 prints only this)
    // A failed operating point also prints "Transient op failed, timestep
    // too small": the operating-point patterns must win.
    {"gmin stepping failed", SimOutcome::kNoConvergence},
    {"source stepping failed", SimOutcome::kNoConvergence},
    {"transient op failed", SimOutcome::kNoConvergence},
    {"singular matrix", SimOutcome::kNoConvergence},
    {"too many iterations without convergence", SimOutcome::kNoConvergence},
    {"timestep too small", SimOutcome::kTimestepTooSmall},
    {"circuit not parsed", SimOutcome::kParseError},
    {"expression err", SimOutcome::kParseError},
    {"there aren't any circuits loaded", SimOutcome::kParseError},
    {"simulation(s) aborted", SimOutcome::kNoConvergence},
}};

std::string_view strip_channel(std::string_view line) {
  for (std::string_view prefix : {"stdout ", "stderr "}) {
    if (line.substr(0, prefix.size()) == prefix) return line.substr(prefix.size());
  }
  return line;
}

}  // namespace

std::string_view to_string(SimOutcome outcome) {
  for (const auto& n : kNames) {
    if (n.outcome == outcome) return n.name;
  }
  return "unknown";
}

bool from_string(std::string_view name, SimOutcome* outcome) {
  for (const auto& n : kNames) {
    if (n.name == name) {
      *outcome = n.outcome;
      return true;
    }
  }
  return false;
}

const std::vector<SimOutcome>& all_outcomes() {
  static const std::vector<SimOutcome> all = [] {
    std::vector<SimOutcome> v;
    for (const auto& n : kNames) v.push_back(n.outcome);
    return v;
  }();
  return all;
}

SimOutcome classify_log(const std::vector<std::string>& lines) {
  std::vector<std::string> lowered;
  lowered.reserve(lines.size());
  for (const auto& l : lines) lowered.push_back(lower(l));
  for (const auto& pattern : kPatterns) {
    for (const auto& l : lowered) {
      if (l.find(pattern.text) != std::string::npos) return pattern.outcome;
    }
  }
  return SimOutcome::kOk;
}

std::string failure_excerpt(const std::vector<std::string>& lines, std::size_t max_lines) {
  // ngspice's "Error" lines say what went wrong; other notable lines
  // (warnings, "failed", "aborted") follow them; each group keeps its order.
  auto has = [](const std::string& low, std::initializer_list<const char*> words) {
    for (const char* w : words) {
      if (low.find(w) != std::string::npos) return true;
    }
    return false;
  };
  std::vector<std::string_view> errors, notes;
  int context = 0;  // ngspice prints the offending line and the reason after "Error on line"
  for (const auto& l : lines) {
    const std::string low = lower(l);
    if (has(low, {"error", "too small", "can't", "could not", "cannot", "message:", "unknown", "undefined"})) {
      errors.push_back(strip_channel(l));
      if (low.find("error on line") != std::string::npos) context = 2;
    } else if (context > 0) {
      errors.push_back(strip_channel(l));
      --context;
    } else if (has(low, {"warning", "failed", "aborted"})) {
      notes.push_back(strip_channel(l));
    }
  }
  std::vector<std::string_view> picked;
  for (auto* group : {&errors, &notes}) {
    for (auto line : *group) {
      if (picked.size() < max_lines && std::find(picked.begin(), picked.end(), line) == picked.end()) {
        picked.push_back(line);
      }
    }
  }
  // Nothing recognisable: show the last lines, which is where ngspice stops.
  if (picked.empty()) {
    const std::size_t start = lines.size() > max_lines ? lines.size() - max_lines : 0;
    for (std::size_t i = start; i < lines.size(); ++i) picked.push_back(strip_channel(lines[i]));
  }
  std::string out;
  for (const auto& p : picked) {
    if (!out.empty()) out += "\n";
    out += std::string(p);
  }
  return out;
}

}  // namespace gaincell::spice
