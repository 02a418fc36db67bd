// SPDX-License-Identifier: MIT
// Fuzz target: a fitted-model file (gaincell-model/1): reading, describing,
// evaluating at its inputs' bounds and middle, writing back.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "gaincell/core/json_reader.h"
#include "gaincell/fit/model_file.h"
#include "gaincell/fit/models.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  gaincell::fuzz::expect_clean([&] {
    const auto j = gaincell::parse_json_text(text, "fuzz_model.json", "GC-1608");
    const gaincell::fit::Model model = gaincell::fit::model_from_json(j);
    (void)gaincell::fit::to_json(model).dump();
    const auto& info = gaincell::fit::info_of(model);
    for (const double where : {0.0, 0.5, 1.0}) {
      std::vector<double> x;
      for (const auto& v : info.inputs) {
        const double lo = std::isfinite(v.min) ? v.min : 0.0, hi = std::isfinite(v.max) ? v.max : 1.0;
        x.push_back(lo + where * (hi - lo));
      }
      (void)gaincell::fit::evaluate(model, x, [](const std::string&) {});
    }
  });
  return 0;
}
