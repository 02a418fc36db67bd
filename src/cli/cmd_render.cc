// SPDX-License-Identifier: MIT
#include <cstdio>
#include <fstream>
#include <memory>

#include "commands.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/limits.h"
#include "gaincell/sweep/plan.h"
#include "gaincell/sweep/spec.h"

namespace gaincell::cli {

Action add_render(CLI::App& app, const GlobalOptions&) {
  struct Flags {
    std::string spec;
    std::size_t point = 0;
    std::string output;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "render", "Write the exact netlist of one sweep point (runs as is with ngspice -b)");
  cmd->add_option("spec", flags->spec, "Sweep spec (JSON)")->required();
  cmd->add_option("-p,--point", flags->point, "Point index (row-major over the axes, last axis fastest)")
      ->required()
      ->check(within(0, static_cast<double>(limits::kMaxPoints)));
  cmd->add_option("-o,--output", flags->output, "Write to this file instead of standard output");
  return [flags]() {
    const sweep::SweepSpec spec = sweep::load_spec(flags->spec);
    const sweep::SweepPlan plan(spec);
    const std::string text = plan.render(flags->point);
    if (flags->output.empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
    } else {
      write_text_file(flags->output, text);
    }
    return 0;
  };
}

}  // namespace gaincell::cli
