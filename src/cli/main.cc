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
#include "gaincell/core/si_value.h"

namespace {

using gaincell::ExitCode;
using Actions = std::vector<std::pair<std::string, gaincell::cli::Action>>;

// The subcommands, in one table.
Actions add_subcommands(CLI::App& app, const gaincell::cli::GlobalOptions& global) {
  using namespace gaincell::cli;
  return {
      {"sweep", add_sweep(app, global)},
      {"render", add_render(app, global)},
      {"info", add_info(app, global)},
      {"tile", add_tile(app, global)},
      {"fit", add_fit(app, global)},
      {"model", add_model(app, global)},
      {"export", add_export(app, global)},
      {"eval", add_eval(app, global)},
      {"calibrate", add_calibrate(app, global)},
      {"lm-eval", add_lm_eval(app, global)},
      {"spice-check", add_spice_check(app, global)},
      {"energy", add_energy(app, global)},
      {"plan", add_plan(app, global)},
      {"merge", add_merge(app, global)},
      {"status", add_status(app, global)},
      {"slurm", add_slurm(app, global)},
      {"flow", add_flow(app, global)},
      {"report", add_report(app, global)},
      {"cell", add_cell(app, global)},
  };
}

// A number option's text, SPICE suffixes allowed ("500f"), as CLI11 reads it.
CLI::Validator spice_number() {
  return CLI::Validator(
      [](std::string& text) {
        std::string why;
        const auto v = gaincell::try_parse_si(text, &why);
        if (!v) return "expected a number (SPICE suffixes allowed: 500f, 1.5n, 10meg); " + why;
        text = gaincell::format_exact(*v);
        return std::string();
      },
      "", "SPICE suffixes");
}

// Every subcommand: -q may come after it too, and every number option takes
// SPICE suffixes as specs do (--c-line 500f).
void accept_everywhere(CLI::App& app) {
  std::vector<CLI::App*> todo = app.get_subcommands([](CLI::App*) { return true; });
  while (!todo.empty()) {
    CLI::App* sub = todo.back();
    todo.pop_back();
    sub->fallthrough();
    for (CLI::App* inner : sub->get_subcommands([](CLI::App*) { return true; })) todo.push_back(inner);
    for (CLI::Option* opt : sub->get_options()) {
      if (opt->get_type_name().rfind("FLOAT", 0) == 0) opt->transform(spice_number());  // "FLOAT" or "FLOAT:[lo, hi]"
    }
  }
}

// Prints an error's message on stderr; returns its exit code.
int fail(ExitCode code, const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  return static_cast<int>(code);
}

// Runs the chosen subcommand; an error becomes its message on stderr and its exit code.
int run(const CLI::App& app, const Actions& actions) {
  try {
    for (const auto& [name, action] : actions) {
      if (app.got_subcommand(name)) return action();
    }
  } catch (const gaincell::InputError& e) {
    return fail(ExitCode::kInput, e.what());
  } catch (const gaincell::IoError& e) {
    return fail(ExitCode::kIo, std::string("error: ") + e.what());
  } catch (const std::bad_alloc&) {
    return fail(ExitCode::kIo, "error: out of memory: the input asks for more than this machine has (the documented limits, "
                               "docs/cli.md#limits, keep sizes far below this; please report the command line)");
  } catch (const std::exception& e) {
    return fail(ExitCode::kInternal, std::string("internal error: ") + e.what());
  }
  return static_cast<int>(ExitCode::kUsage);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gaincell: characterize gain-cell attention circuits with ngspice (see docs/cli.md)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gaincell " + gaincell::build_info().version + " (" +
                                        gaincell::build_info().git_sha + ")");
  gaincell::cli::GlobalOptions global;
  app.add_flag("-q,--quiet", global.quiet, "Only print results and errors");
  const Actions actions = add_subcommands(app, global);
  accept_everywhere(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
  }
  return run(app, actions);
}
