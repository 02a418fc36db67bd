// SPDX-License-Identifier: MIT
// File: gaincell/spice/fault_injection.h
//
// Test-only: make chosen points fail on purpose, to test that a sweep
// survives them. The worker reads GAINCELL_TEST_FAULTS (never set in normal
// use), e.g. "rate=0.1,seed=7": about 10 % of the points, chosen by a hash of
// the seed and the point's id, fail in one of four ways (segfault, hang past
// the timeout, exit, an ngspice error). Tests compute the same choice with
// fault_for() and check that exactly those points failed, each with its
// status, and that every other point equals a clean run.
//
//   const auto plan = gaincell::spice::parse_fault_plan("rate=0.1,seed=7");
//   if (gaincell::spice::fault_for(*plan, 42) == InjectedFault::kHang) ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "gaincell/spice/outcome.h"

namespace gaincell::spice {

enum class InjectedFault { kNone, kSegfault, kHang, kExit, kNgspiceError };

struct FaultPlan {
  double rate = 0.0;       // fraction of points that fail
  std::uint64_t seed = 0;
  unsigned kinds = 0xF;    // bit k: fault kind k + 1 (segfault, hang, exit, ngspice error) may be chosen
};

inline constexpr const char* kFaultEnv = "GAINCELL_TEST_FAULTS";

// "rate=R,seed=S[,kinds=segfault+hang+exit+ngspice]" (any order); nullopt
// for an empty or malformed text.
std::optional<FaultPlan> parse_fault_plan(const std::string& text);
// The plan in GAINCELL_TEST_FAULTS, if set.
std::optional<FaultPlan> fault_plan_from_env();
// What happens to the point with this job id.
InjectedFault fault_for(const FaultPlan& plan, std::size_t job_id);
// The status a sweep must record for it.
SimOutcome expected_outcome(InjectedFault fault);
std::string to_string(InjectedFault fault);

}  // namespace gaincell::spice
