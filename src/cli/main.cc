// SPDX-License-Identifier: MIT
// gaincell: characterize gain-cell attention circuits with in-process ngspice.
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "commands.h"
#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/netlist/si_value.h"

int main(int argc, char** argv) {
  using gaincell::ExitCode;
  CLI::App app{"gaincell: characterize gain-cell attention circuits with ngspice (see docs/cli.md)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gaincell " + gaincell::build_info().version + " (" +
                                        gaincell::build_info().git_sha + ")");
  gaincell::cli::GlobalOptions global;
  app.add_flag("-q,--quiet", global.quiet, "Only print results and errors");

  // The subcommands, in one table.
  const std::vector<std::pair<std::string, gaincell::cli::Action>> actions = {
      {"sweep", gaincell::cli::add_sweep(app, global)},
      {"render", gaincell::cli::add_render(app, global)},
      {"info", gaincell::cli::add_info(app, global)},
      {"tile", gaincell::cli::add_tile(app, global)},
      {"fit", gaincell::cli::add_fit(app, global)},
      {"model", gaincell::cli::add_model(app, global)},
      {"export", gaincell::cli::add_export(app, global)},
      {"eval", gaincell::cli::add_eval(app, global)},
      {"spice-check", gaincell::cli::add_spice_check(app, global)},
      {"energy", gaincell::cli::add_energy(app, global)},
      {"plan", gaincell::cli::add_plan(app, global)},
      {"merge", gaincell::cli::add_merge(app, global)},
      {"status", gaincell::cli::add_status(app, global)},
      {"slurm", gaincell::cli::add_slurm(app, global)},
      {"flow", gaincell::cli::add_flow(app, global)},
      {"report", gaincell::cli::add_report(app, global)},
      {"cell", gaincell::cli::add_cell(app, global)},
  };
  // Every subcommand: -q may come after it too, and every number option takes
  // SPICE suffixes as specs do (--c-line 500f).
  std::vector<CLI::App*> todo = app.get_subcommands([](CLI::App*) { return true; });
  while (!todo.empty()) {
    CLI::App* sub = todo.back();
    todo.pop_back();
    sub->fallthrough();
    for (CLI::App* inner : sub->get_subcommands([](CLI::App*) { return true; })) todo.push_back(inner);
    for (CLI::Option* opt : sub->get_options()) {
      if (opt->get_type_name().rfind("FLOAT", 0) != 0) continue;  // "FLOAT" or "FLOAT:[lo, hi]"
      opt->transform(CLI::Validator(
          [](std::string& text) {
            std::string why;
            const auto v = gaincell::netlist::try_parse_si(text, &why);
            if (!v) return "expected a number (SPICE suffixes allowed: 500f, 1.5n, 10meg); " + why;
            text = gaincell::netlist::format_exact(*v);
            return std::string();
          },
          "", "SPICE suffixes"));
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
  }
  try {
    for (const auto& [name, action] : actions) {
      if (app.got_subcommand(name)) return action();
    }
  } catch (const gaincell::InputError& e) {
    // Messages built with a location already name their id; others get it here.
    const std::string message = e.what();
    if (message.find(e.id()) == std::string::npos) {
      std::fprintf(stderr, "error %s: %s\n", e.id().c_str(), message.c_str());
    } else {
      std::fprintf(stderr, "%s\n", message.c_str());
    }
    return static_cast<int>(ExitCode::kInput);
  } catch (const gaincell::IoError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return static_cast<int>(ExitCode::kIo);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory: the input asks for more than this machine has (the documented limits, "
                         "docs/cli.md#limits, keep sizes far below this; please report the command line)\n");
    return static_cast<int>(ExitCode::kIo);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return static_cast<int>(ExitCode::kInternal);
  }
  return static_cast<int>(ExitCode::kUsage);
}
