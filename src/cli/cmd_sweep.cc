// SPDX-License-Identifier: MIT
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "gaincell/core/error.h"
#include "gaincell/core/limits.h"
#include "gaincell/sweep/spec.h"
#include "gaincell/sweep/sweep.h"

namespace gaincell::cli {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

extern "C" void on_stop_signal(int sig) {
  g_signal = sig;
  g_stop = true;
}

// SIGINT (Ctrl-C) and SIGTERM (scancel, kill) stop the sweep and keep its results.
void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll() returns at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

Action add_sweep(CLI::App& app, const GlobalOptions& global) {
  struct Flags {
    std::string spec;
    sweep::SweepOptions options;
    std::string output;
    std::string shard;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("sweep", "Run a sweep spec's transient simulations into an HDF5 file");
  cmd->add_option("spec", flags->spec, "Sweep spec (JSON), e.g. characterization/pushpull_multiply.json")
      ->required();
  cmd->add_option("-o,--output", flags->output, "Results file (HDF5); written as OUT.partial until complete")
      ->required();
  cmd->add_option("-j,--jobs", flags->options.jobs, "Worker processes (0 = one per core)")
      ->capture_default_str()
      ->check(within(0, limits::kMaxJobs, "at most limits::kMaxJobs workers, docs/cli.md#limits"));
  cmd->add_option("--timeout", flags->options.timeout_s, "Per-point timeout in seconds (0 = the spec's timeout_s)")
      ->check(within(0, limits::kMaxTimeout_s, "limits::kMaxTimeout_s, docs/cli.md#limits"));
  cmd->add_option("--recycle", flags->options.recycle_after,
                  "Replace each worker after this many points, to bound ngspice's memory (0 = never)")
      ->capture_default_str()
      ->check(within(0, static_cast<double>(limits::kMaxRecycle), "limits::kMaxRecycle, docs/cli.md#limits"));
  cmd->add_option("--shard", flags->shard,
                  "Run only shard i of N (i/N, 0-based; points k with k % N == i), e.g. ${SLURM_ARRAY_TASK_ID}/8");
  cmd->add_option("--verify", flags->options.verify,
                  "A collapsed sweep: simulate K random points exactly and store the largest difference (exit 4 above "
                  "the spec's threshold)");
  cmd->add_option("--verify-seed", flags->options.verify_seed, "Seed of the points --verify draws")->capture_default_str();
  cmd->add_flag("--overwrite", flags->options.overwrite, "Replace an existing results file (refused otherwise)");
  cmd->add_flag("--resume", flags->options.resume,
                "Continue an interrupted or killed run from OUT.journal (only the missing points run)");
  return [flags, &global]() {
    const sweep::SweepSpec spec = sweep::load_spec(flags->spec);
    if (!flags->shard.empty()) {
      const auto [i, n] = sweep::parse_shard(flags->shard);
      flags->options.shard_index = i;
      flags->options.shard_count = n;
    }
    flags->options.output = flags->output;
    flags->options.stop = &g_stop;
    install_stop_handlers();
    auto reporter = make_terminal_reporter(global.quiet);
    const sweep::SweepSummary summary = sweep::run_sweep(spec, flags->options, *reporter);
    std::printf("%s", summary.full().c_str());
    if (summary.interrupted) return 128 + g_signal.load();
    return summary.failed() > 0 || summary.collapse.exceeded ? static_cast<int>(ExitCode::kPointsFailed) : 0;
  };
}

}  // namespace gaincell::cli
