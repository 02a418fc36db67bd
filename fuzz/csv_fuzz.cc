// SPDX-License-Identifier: MIT
// Fuzz target: a CSV data file for `gaincell fit`, read for one and for two
// inputs (the file is written to a private scratch directory).
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_support.h"
#include "gaincell/fit/data_source.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = gaincell::fuzz::scratch() / "input.csv";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  const std::pair<std::vector<std::string>, std::string> requests[] = {{{"x"}, "y"}, {{"v_store", "t_pulse"}, "q"}};
  for (const auto& request : requests) {
    gaincell::fuzz::expect_clean([&] {
      gaincell::fit::FitRequest req;
      req.inputs = request.first;
      req.output = request.second;
      gaincell::fit::DataReport report;
      (void)gaincell::fit::load_csv_data(path, req, &report);
    });
  }
  return 0;
}
