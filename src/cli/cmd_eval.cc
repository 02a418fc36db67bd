// SPDX-License-Identifier: MIT
// gaincell eval, spice-check and energy: flags onto eval::resolve_config, the
// Evaluator, check::run_spice_check and eval::estimate_energy.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include "commands.h"
#include "config_flags.h"
#include "gaincell/cell/card.h"
#include "gaincell/check/spice_check.h"
#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/paper.h"
#include "gaincell/eval/energy.h"
#include "gaincell/eval/evaluator.h"
#include "gaincell/eval/io.h"
#include "gaincell/core/si_value.h"

namespace gaincell::cli {

namespace {

struct EvalFlags {
  ConfigFlags config;
  std::string input, output;
  bool intermediates = false, show_config = false;
  std::string mode = "whole";
  int threads = -1;
};

int show_config(const eval::Evaluator& ev) {
  nlohmann::json j{{"config", eval::to_json(ev.config())}, {"cell", eval::cell_json(ev.cell())}};
  std::printf("%s\n", j.dump(2).c_str());
  return 0;
}

void check_eval_flags(const EvalFlags& f) {
  if (f.input.empty() || f.output.empty()) {
    throw InputError("GC-1712", "eval: --input and --output are required (or --show-config)");
  }
  if (f.intermediates && f.mode == "decode") {
    throw InputError("GC-1712", "eval: --intermediates needs --mode whole (decode never forms S)");
  }
}

void print_eval_start(const EvalFlags& f, const eval::Evaluator& ev, const eval::Tensor& q) {
  std::string shape;
  for (auto s : q.shape) shape += (shape.empty() ? "" : " x ") + std::to_string(s);
  const eval::EvalConfig& config = ev.config();
  std::fprintf(stderr, "eval: Q/K/V %s, preset %s, cell %s, mode %s, %u threads\n", shape.c_str(), config.preset.c_str(),
               eval::to_string(config.cell).c_str(), f.mode.c_str(), eval::thread_count(config));
  if (ev.cell().physical) std::fprintf(stderr, "eval: %s\n", ev.cell().note.c_str());
}

// A percentage on stderr, at most every 500 ms, and at the end.
eval::EvalProgress progress_printer(bool quiet) {
  if (quiet) return {};
  auto last = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  return [last](std::size_t done, std::size_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - *last < std::chrono::milliseconds(500)) return;
    *last = now;
    std::fprintf(stderr, "\reval: %5.1f %% (%zu/%zu)%s", 100.0 * static_cast<double>(done) / static_cast<double>(total),
                 done, total, done == total ? "\n" : "");
  };
}

int run_eval(const EvalFlags& f, const GlobalOptions& global) {
  eval::EvalConfig config = resolve(f.config, load_card_option(f.config.card), global.quiet);
  if (f.threads >= 0) config.threads = f.threads;
  const eval::Evaluator ev(config);
  if (f.show_config) return show_config(ev);
  check_eval_flags(f);
  const eval::Tensor q = eval::read_tensor(f.input, "Q");
  const eval::Tensor k = eval::read_tensor(f.input, "K");
  const eval::Tensor v = eval::read_tensor(f.input, "V");
  if (!global.quiet) print_eval_start(f, ev, q);
  const auto t0 = std::chrono::steady_clock::now();
  const eval::EvalProgress progress = progress_printer(global.quiet);
  const eval::EvalResult r = f.mode == "whole" ? ev.forward(q, k, v, f.intermediates, progress)
                                               : ev.forward_decode(q, k, v, progress);
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& w : r.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  const std::size_t tokens = q.shape[q.shape.size() - 2] * q.shape[0];
  const nlohmann::json meta{{"input", f.input},
                            {"input_sha256", sha256_file(f.input)},
                            {"mode", f.mode},
                            {"wall_time_s", wall_s},
                            {"warnings", r.warnings},
                            {"threads", eval::thread_count(config)}};
  eval::write_eval_results(f.output, r, ev, meta);
  std::printf("eval: %zu tokens in %s (%s per token, all heads); output: %s\n", tokens,
              gaincell::format_human(wall_s, "s", 3, true).c_str(),
              gaincell::format_human(wall_s / static_cast<double>(tokens), "s", 3, true).c_str(), f.output.c_str());
  return 0;
}

struct SpiceCheckFlags {
  ConfigFlags config{.preset = "fitted"};
  std::size_t keys = 8, dims = 8;
  std::vector<std::uint64_t> seeds{1};
  std::string output, cell;
  bool no_ode = false;
  double max_error_pct = 0.5, min_within_pct = 99.0;
};

check::SpiceCheckOptions spice_check_options(const SpiceCheckFlags& f, bool quiet) {
  if (!f.config.card.empty() && !f.cell.empty()) {
    throw InputError("GC-1712", "spice-check: give --card or --cell, not both");
  }
  if (!(f.max_error_pct > 0) || !(f.min_within_pct >= 0 && f.min_within_pct <= 100)) {
    throw InputError("GC-1712", "spice-check: --max-charge-error must be > 0 % and --min-within-1lsb in 0..100 %");
  }
  const std::optional<cell::CellCard> card = load_card_option(f.config.card);
  check::SpiceCheckOptions o;
  o.keys = f.keys;
  o.dims = f.dims;
  o.ode = !f.no_ode;
  o.thresholds.max_charge_error_pct_fs = f.max_error_pct;
  o.thresholds.min_within_1lsb = f.min_within_pct / 100.0;
  o.config = resolve(f.config, card, quiet);
  o.tile = check::check_tile(card ? &*card : nullptr, f.cell);
  return o;
}

int run_spice_check(const SpiceCheckFlags& f, const GlobalOptions& global) {
  check::SpiceCheckOptions o = spice_check_options(f, global.quiet);
  std::vector<check::SpiceCheckResult> results;
  for (auto seed : f.seeds) {
    o.seed = seed;
    if (!global.quiet) std::fprintf(stderr, "spice-check %zux%zu of %s, seed %llu: simulating %d tiles...\n", o.keys, o.dims,
                                    o.tile->cell_name.c_str(), static_cast<unsigned long long>(seed), o.ode ? 4 : 2);
    results.push_back(check::run_spice_check(o));
    std::printf("%s", check::brief(results.back(), o.tile->cell_name).c_str());
  }
  if (!f.output.empty()) {
    write_text_file(f.output, check::spice_check_json(results, *o.tile, o.config).dump(1) + "\n");
  }
  const bool passed = std::all_of(results.begin(), results.end(), [](const auto& r) { return r.passed; });
  std::printf("spice-check: %s (thresholds: stage-1 charge error <= %g %% of full scale, >= %g %% of 5-bit outputs within 1 LSB)\n",
              passed ? "passed" : "FAILED", f.max_error_pct, f.min_within_pct);
  return passed ? 0 : static_cast<int>(ExitCode::kPointsFailed);
}

void print_energy(const eval::EnergyEstimate& e) {
  const eval::EnergyOptions& o = e.options;
  const nlohmann::json j = eval::energy_json(e);
  auto h = [](double x, const char* unit) { return gaincell::format_human(x, unit, 3, true); };
  std::printf("energy per token per head (W = %ld keys, D = %ld):\n", o.window, o.dims);
  for (const auto& [name, value] : e.components_j) {
    std::printf("  %-10s %12s  (%4.1f %%)\n", name.c_str(), h(value, "J").c_str(), 100.0 * value / e.total_j);
  }
  std::printf("  %-10s %12s   paper: %s\n", "total", h(e.total_j, "J").c_str(), h(paper::kTotalEnergyPerHeadJ, "J").c_str());
  std::printf("latency per token: %s (heads in parallel)   paper: %s\n", h(e.latency_s, "s").c_str(), h(paper::kLatencyPerTokenS, "s").c_str());
  for (const auto& g : j["gpu"]) {
    std::printf("vs %-11s: %8.1fx faster, %10.0fx less energy per token (%d heads); paper: %.1fx, %.0fx\n",
                g["name"].get<std::string>().c_str(), g["speedup"].get<double>(), g["energy_ratio"].get<double>(),
                o.heads, g["paper_speedup"].get<double>(), g["paper_energy_ratio"].get<double>());
  }
  for (const auto& note : e.notes) std::printf("note: %s\n", note.c_str());
}

struct EnergyFlags {
  eval::EnergyOptions options;
  std::string card, output;
};

int run_energy(EnergyFlags& f) {
  if (const auto card = load_card_option(f.card)) eval::apply_card(f.options, *card);
  const eval::EnergyEstimate e = eval::estimate_energy(f.options);
  print_energy(e);
  if (!f.output.empty()) write_text_file(f.output, eval::energy_json(e).dump(1) + "\n");
  return 0;
}

}  // namespace

Action add_eval(CLI::App& app, const GlobalOptions& global) {
  auto f = std::make_shared<EvalFlags>();
  CLI::App* cmd = app.add_subcommand("eval", "Array-level attention evaluator: the authors' forward pass with a cell model");
  cmd->add_option("-i,--input", f->input, "HDF5 file with datasets Q, K, V [batch, head, token, dim] or [batch, token, dim]");
  cmd->add_option("-o,--output", f->output, "Output HDF5 file (dataset output, and S, phi with --intermediates)");
  cmd->add_option("--preset", f->config.preset, "reference | reference_2024 | linear | fitted | ode")->capture_default_str();
  add_config_options(cmd, f->config,
                     "Cell card: its line level, sign scheme, store range and levels over the preset "
                     "(give its fitted models with --config or --set)",
                     "JSON configuration applied over the preset (docs/evaluator.md)",
                     "key=value override, repeatable (window=256, scaler_k.b=0.4, levels_out=off)");
  cmd->add_flag("--intermediates", f->intermediates, "Also write S and phi [batch, (head,) query, key] (T x T each)");
  cmd->add_option("--mode", f->mode, "whole (all queries at once) | decode (token by token, as the hardware runs)")
      ->check(CLI::IsMember({"whole", "decode"}))
      ->capture_default_str();
  cmd->add_option("--threads", f->threads, "Worker threads (default: the configuration's, 0 = one per core)")
      ->check(within(0, limits::kMaxJobs, "limits::kMaxJobs, docs/cli.md#limits"));
  cmd->add_flag("--show-config", f->show_config, "Print the resolved configuration and the cell mapping, then exit");
  return [f, &global]() { return run_eval(*f, global); };
}

Action add_spice_check(CLI::App& app, const GlobalOptions& global) {
  auto f = std::make_shared<SpiceCheckFlags>();
  CLI::App* cmd = app.add_subcommand("spice-check", "Check the evaluator (fitted and ODE modes) against SPICE on a sub-tile");
  cmd->add_option("--keys", f->keys, "Keys n (stage-1 lines), 1..64")->capture_default_str()->check(within(1, 64));
  cmd->add_option("--dims", f->dims, "Dimensions m (stage-1 word lines, stage-2 lines), 1..64")
      ->capture_default_str()
      ->check(within(1, 64));
  cmd->add_option("--seed", f->seeds, "Seeds of the random quantized Q, K, V (repeatable: one check each)");
  add_config_options(cmd, f->config,
                     "Cell card (default: the default cell's); give its fitted models with --config or --set",
                     "Evaluator configuration over the fitted preset (and the card)",
                     "key=value override (c_line_f=10e-12, cell_model=...)");
  cmd->add_option("--cell", f->cell, "A bare cell subcircuit (ports named by role) with the default cell's levels and models");
  cmd->add_flag("--no-ode", f->no_ode, "Skip the ODE mode and its passive-line SPICE runs");
  cmd->add_option("--max-charge-error", f->max_error_pct, "Pass threshold: stage-1 charge error, % of full scale")
      ->capture_default_str();
  cmd->add_option("--min-within-1lsb", f->min_within_pct, "Pass threshold: % of 5-bit outputs within 1 LSB of SPICE")
      ->capture_default_str();
  cmd->add_option("-o,--output", f->output, "Write the gaincell-spice-check/1 JSON here");
  return [f, &global]() { return run_spice_check(*f, global); };
}

Action add_energy(CLI::App& app, const GlobalOptions&) {
  auto f = std::make_shared<EnergyFlags>();
  eval::EnergyOptions& o = f->options;
  CLI::App* cmd = app.add_subcommand("energy", "Energy and latency per token per head from characterized energies");
  cmd->add_option("--cell-data", o.cell_energy_data, "Results of a cell's energy sweep (a card's energy.json, or characterization/pushpull_energy.json)")->required();
  cmd->add_option("--c2p-data", o.c2p_energy_data, "Results of a converter's transfer sweep (a card's c2p.json, or characterization/c2p_transfer.json)")->required();
  cmd->add_option("--window", o.window, "Keys per query W")->capture_default_str()->check(within(1, 1e7));
  cmd->add_option("--dims", o.dims, "Head dimension D")->capture_default_str()->check(within(1, 65536));
  cmd->add_option("--tile", o.tile, "Keys per stage-2 sub-array")->capture_default_str()->check(within(1, 65536));
  cmd->add_option("--heads", o.heads, "Heads per token (for the per-token totals)")->capture_default_str()->check(within(1, 65536));
  cmd->add_option("--mean-q", o.mean_q, "Mean query pulse, fraction of t_max")->capture_default_str()->check(within(0, 1));
  cmd->add_option("--mean-phi", o.mean_phi, "Mean stage-2 pulse, fraction of t_max")->capture_default_str()->check(within(0, 1));
  cmd->add_option("--t-max", o.t_max_s, "Full-scale pulse width, s")->capture_default_str()->check(within(1e-15, 1));
  cmd->add_option("--t-write", o.t_write_s, "Write time of a token's K and V, s")->capture_default_str()->check(within(0, 1));
  cmd->add_option("--adc-energy", o.adc_energy_j, "Stage-2 ADC energy per conversion, J (default: the C2P's)")->check(within(0, 1));
  cmd->add_option("--digital-energy", o.digital_energy_j, "Digital overhead per token per head, J (default: the paper's 4 nJ)")
      ->capture_default_str()->check(within(0, 1));
  cmd->add_option("--card", f->card, "Cell card: its sign scheme (cells per value) and t_max");
  cmd->add_option("-o,--output", f->output, "Write the gaincell-energy/1 JSON here");
  return [f]() { return run_energy(*f); };
}

}  // namespace gaincell::cli
