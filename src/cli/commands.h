// SPDX-License-Identifier: MIT
// The subcommands of the gaincell executable: each maps CLI11 flags onto a
// library call. Listed in one table in main.cc (no static registration).
#pragma once

#include <functional>
#include <memory>

#include <CLI/CLI.hpp>

#include "gaincell/core/reporter.h"

namespace gaincell::cli {

struct GlobalOptions {
  bool quiet = false;
};

// Each returns the action to run after parsing; the action returns an exit code.
using Action = std::function<int()>;
Action add_sweep(CLI::App& app, const GlobalOptions& global);
Action add_render(CLI::App& app, const GlobalOptions& global);
Action add_info(CLI::App& app, const GlobalOptions& global);
Action add_tile(CLI::App& app, const GlobalOptions& global);
Action add_fit(CLI::App& app, const GlobalOptions& global);
Action add_model(CLI::App& app, const GlobalOptions& global);
Action add_export(CLI::App& app, const GlobalOptions& global);
Action add_eval(CLI::App& app, const GlobalOptions& global);
Action add_calibrate(CLI::App& app, const GlobalOptions& global);
Action add_lm_eval(CLI::App& app, const GlobalOptions& global);
Action add_spice_check(CLI::App& app, const GlobalOptions& global);
Action add_energy(CLI::App& app, const GlobalOptions& global);
Action add_plan(CLI::App& app, const GlobalOptions& global);
Action add_merge(CLI::App& app, const GlobalOptions& global);
Action add_status(CLI::App& app, const GlobalOptions& global);
Action add_slurm(CLI::App& app, const GlobalOptions& global);
Action add_flow(CLI::App& app, const GlobalOptions& global);
Action add_report(CLI::App& app, const GlobalOptions& global);
Action add_cell(CLI::App& app, const GlobalOptions& global);

// A number option's allowed range, inclusive (SPICE suffixes accepted; NaN
// and infinities refused). `limit` names a documented limit in the message
// ("limits::kMaxJobs, docs/cli.md#limits").
CLI::Validator within(double lo, double hi, const std::string& limit = "");

// Progress bar on a terminal, periodic plain lines otherwise; on stderr.
std::unique_ptr<Reporter> make_terminal_reporter(bool quiet);

}  // namespace gaincell::cli
