// SPDX-License-Identifier: MIT
// Fuzz target: a sweep spec (JSON) next to the fixtures' template, then its
// plan, the first point's netlist and job.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "gaincell/sweep/plan.h"
#include "gaincell/sweep/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  gaincell::fuzz::expect_clean([&] {
    const auto spec = gaincell::sweep::parse_spec(text, gaincell::fuzz::fixtures() / "fuzz_spec.json");
    const gaincell::sweep::SweepPlan plan(spec);
    if (plan.size() > 0) {
      (void)plan.render(0);
      (void)plan.job(plan.size() - 1, 1.0);
    }
  });
  return 0;
}
