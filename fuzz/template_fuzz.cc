// SPDX-License-Identifier: MIT
// Fuzz target: a netlist template: parsing, the deck checks (files it reads,
// scripts, include roots), defined names, rendering with every parameter set.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "gaincell/netlist/deck_check.h"
#include "gaincell/netlist/template.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  gaincell::fuzz::expect_clean([&] {
    const auto origin = gaincell::fuzz::fixtures() / "fuzz_template.cir";
    const auto tpl = gaincell::netlist::NetlistTemplate::parse(text, origin);
    tpl.check_files(gaincell::netlist::include_roots({gaincell::fuzz::fixtures()}));
    tpl.check_names();
    gaincell::netlist::RenderRequest req;
    for (const auto& p : tpl.params()) req.values[p.name] = p.default_value;
    req.analysis = ".tran 1e-10 1e-08";
    (void)tpl.render(req);
  });
  return 0;
}
