// SPDX-License-Identifier: MIT
#include "gaincell/spice/fault_injection.h"

#include <cstdlib>
#include <sstream>

#include "gaincell/core/hash.h"

namespace gaincell::spice {
std::optional<FaultPlan> parse_fault_plan(const std::string& text) {
  FaultPlan plan;
  bool have_rate = false;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) return std::nullopt;
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    char* end = nullptr;
    if (key == "rate") {
      plan.rate = std::strtod(value.c_str(), &end);
      have_rate = end != value.c_str() && *end == '\0' && plan.rate >= 0 && plan.rate <= 1;
      if (!have_rate) return std::nullopt;
    } else if (key == "kinds") {
      plan.kinds = 0;
      std::istringstream kinds(value);
      std::string kind;
      while (std::getline(kinds, kind, '+')) {
        if (kind == "segfault") plan.kinds |= 1U;
        else if (kind == "hang") plan.kinds |= 2U;
        else if (kind == "exit") plan.kinds |= 4U;
        else if (kind == "ngspice") plan.kinds |= 8U;
        else return std::nullopt;
      }
      if (plan.kinds == 0) return std::nullopt;
    } else if (key == "seed") {
      plan.seed = std::strtoull(value.c_str(), &end, 10);
      if (end == value.c_str() || *end != '\0') return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  if (!have_rate) return std::nullopt;
  return plan;
}

std::optional<FaultPlan> fault_plan_from_env() {
  const char* text = std::getenv(kFaultEnv);
  if (text == nullptr || *text == '\0') return std::nullopt;
  return parse_fault_plan(text);
}

InjectedFault fault_for(const FaultPlan& plan, std::size_t job_id) {
  const std::uint64_t h = splitmix64(plan.seed ^ splitmix64(static_cast<std::uint64_t>(job_id)));
  const double u = static_cast<double>(h >> 11) * 0x1.0p-53;
  if (!(u < plan.rate)) return InjectedFault::kNone;
  // The n-th allowed kind, n chosen by the hash.
  static constexpr InjectedFault kKinds[] = {InjectedFault::kSegfault, InjectedFault::kHang, InjectedFault::kExit,
                                             InjectedFault::kNgspiceError};
  unsigned allowed = 0;
  for (unsigned k = 0; k < 4; ++k) allowed += (plan.kinds >> k) & 1U;
  if (allowed == 0) return InjectedFault::kNone;
  std::uint64_t n = splitmix64(h) % allowed;
  for (unsigned k = 0; k < 4; ++k) {
    if (((plan.kinds >> k) & 1U) == 0) continue;
    if (n-- == 0) return kKinds[k];
  }
  return InjectedFault::kNone;
}

SimOutcome expected_outcome(InjectedFault fault) {
  switch (fault) {
    case InjectedFault::kNone: return SimOutcome::kOk;
    case InjectedFault::kSegfault: return SimOutcome::kCrash;
    case InjectedFault::kHang: return SimOutcome::kTimeout;
    case InjectedFault::kExit: return SimOutcome::kCrash;
    case InjectedFault::kNgspiceError: return SimOutcome::kMissingModel;  // "unknown subckt"
  }
  return SimOutcome::kOk;
}

std::string to_string(InjectedFault fault) {
  switch (fault) {
    case InjectedFault::kNone: return "none";
    case InjectedFault::kSegfault: return "segfault";
    case InjectedFault::kHang: return "hang";
    case InjectedFault::kExit: return "exit";
    case InjectedFault::kNgspiceError: return "ngspice error";
  }
  return "?";
}

}  // namespace gaincell::spice
