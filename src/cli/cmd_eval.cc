// SPDX-License-Identifier: MIT
#include <chrono>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/eval/evaluator.h"
#include "gaincell/eval/io.h"
#include "gaincell/eval/spice_check.h"
#include "gaincell/eval/energy.h"
#include <fstream>
#include "gaincell/netlist/si_value.h"

namespace gaincell::cli {

namespace {

eval::EvalConfig build_config(const std::string& preset, const std::string& config_file,
                              const std::vector<std::string>& sets) {
  eval::EvalConfig c = eval::preset(preset);
  if (!config_file.empty()) eval::apply_config_file(c, config_file);
  for (const auto& s : sets) eval::apply_setting(c, s);
  eval::validate(c);
  return c;
}

}  // namespace

Action add_eval(CLI::App& app, const GlobalOptions& global) {
  struct Flags {
    std::string input, output, preset = "reference", config;
    std::vector<std::string> sets;
    bool intermediates = false, show_config = false;
    std::string mode = "whole";
    int threads = -1;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("eval", "Array-level attention evaluator: the authors' forward pass with a cell model");
  cmd->add_option("-i,--input", f->input, "HDF5 file with datasets Q, K, V [batch, head, token, dim] or [batch, token, dim]");
  cmd->add_option("-o,--output", f->output, "Output HDF5 file (dataset output, and S, phi with --intermediates)");
  cmd->add_option("--preset", f->preset, "reference | reference_2024 | linear | fitted | ode")->capture_default_str();
  cmd->add_option("-c,--config", f->config, "JSON configuration applied over the preset (docs/evaluator.md)");
  cmd->add_option("--set", f->sets, "key=value override, repeatable (window=256, scaler_k.b=0.4, levels_out=off)");
  cmd->add_flag("--intermediates", f->intermediates, "Also write S and phi [batch, (head,) query, key] (T x T each)");
  cmd->add_option("--mode", f->mode, "whole (all queries at once) | decode (token by token, as the hardware runs)")
      ->check(CLI::IsMember({"whole", "decode"}))
      ->capture_default_str();
  cmd->add_option("--threads", f->threads, "Worker threads (default: the configuration's, 0 = one per core)");
  cmd->add_flag("--show-config", f->show_config, "Print the resolved configuration and the cell mapping, then exit");
  return [f, &global]() {
    eval::EvalConfig config = build_config(f->preset, f->config, f->sets);
    if (f->threads >= 0) config.threads = f->threads;
    eval::Evaluator ev(config);
    if (f->show_config) {
      nlohmann::json j{{"config", eval::to_json(ev.config())}, {"cell", eval::cell_json(ev.cell())}};
      std::printf("%s\n", j.dump(2).c_str());
      return 0;
    }
    if (f->input.empty() || f->output.empty()) {
      throw InputError("GC-1712", "error GC-1712: eval: --input and --output are required (or --show-config)");
    }
    if (f->intermediates && f->mode == "decode") {
      throw InputError("GC-1712", "error GC-1712: eval: --intermediates needs --mode whole (decode never forms S)");
    }
    const eval::Tensor q = eval::read_tensor(f->input, "Q");
    const eval::Tensor k = eval::read_tensor(f->input, "K");
    const eval::Tensor v = eval::read_tensor(f->input, "V");
    if (!global.quiet) {
      std::string shape;
      for (auto s : q.shape) shape += (shape.empty() ? "" : " x ") + std::to_string(s);
      std::fprintf(stderr, "eval: Q/K/V %s, preset %s, cell %s, mode %s, %u threads\n", shape.c_str(),
                   config.preset.c_str(), eval::to_string(config.cell).c_str(), f->mode.c_str(), eval::thread_count(config));
      if (ev.cell().physical) std::fprintf(stderr, "eval: %s\n", ev.cell().note.c_str());
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto last = t0;
    eval::EvalProgress progress = [&, quiet = global.quiet](std::size_t done, std::size_t total) {
      if (quiet) return;
      const auto now = std::chrono::steady_clock::now();
      if (done < total && now - last < std::chrono::milliseconds(500)) return;
      last = now;
      std::fprintf(stderr, "\reval: %5.1f %% (%zu/%zu)%s", 100.0 * static_cast<double>(done) / static_cast<double>(total),
                   done, total, done == total ? "\n" : "");
    };
    const eval::EvalResult r = f->mode == "whole" ? ev.forward(q, k, v, f->intermediates, progress)
                                                  : ev.forward_decode(q, k, v, progress);
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::size_t tokens = q.shape[q.shape.size() - 2] * q.shape[0];
    nlohmann::json meta{{"input", f->input},
                        {"input_sha256", sha256_file(f->input)},
                        {"mode", f->mode},
                        {"wall_time_s", wall_s},
                        {"threads", eval::thread_count(config)}};
    eval::write_eval_results(f->output, r, ev, meta);
    std::printf("eval: %zu tokens in %s (%s per token, all heads); output: %s\n", tokens,
                netlist::format_human(wall_s, "s", 3, true).c_str(),
                netlist::format_human(wall_s / static_cast<double>(tokens), "s", 3, true).c_str(), f->output.c_str());
    return 0;
  };
}

Action add_spice_check(CLI::App& app, const GlobalOptions& global) {
  struct Flags {
    std::size_t keys = 8, dims = 8;
    std::vector<std::uint64_t> seeds{1};
    std::string output, config, cell;
    std::vector<std::string> sets;
    bool no_ode = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("spice-check", "Check the evaluator (fitted and ODE modes) against SPICE on a sub-tile");
  cmd->add_option("--keys", f->keys, "Keys n (stage-1 lines), 1..64")->capture_default_str();
  cmd->add_option("--dims", f->dims, "Dimensions m (stage-1 word lines, stage-2 lines), 1..64")->capture_default_str();
  cmd->add_option("--seed", f->seeds, "Seeds of the random quantized Q, K, V (repeatable: one check each)");
  cmd->add_option("--cell", f->cell, "Cell subcircuit (default netlists/cells/pushpull.sub)");
  cmd->add_option("-c,--config", f->config, "Evaluator configuration over the fitted preset");
  cmd->add_option("--set", f->sets, "key=value override (c_line_f=10e-12, cell_model=...)");
  cmd->add_flag("--no-ode", f->no_ode, "Skip the ODE mode and its passive-line SPICE runs");
  cmd->add_option("-o,--output", f->output, "Write the gaincell-spice-check/1 JSON here");
  return [f, &global]() {
    eval::SpiceCheckOptions o;
    o.keys = f->keys;
    o.dims = f->dims;
    o.ode = !f->no_ode;
    if (!f->config.empty()) eval::apply_config_file(o.config, f->config);
    for (const auto& s : f->sets) eval::apply_setting(o.config, s);
    eval::validate(o.config);
    if (!f->cell.empty()) o.cell = find_data_file(f->cell);
    std::vector<eval::SpiceCheckResult> results;
    for (auto seed : f->seeds) {
      o.seed = seed;
      if (!global.quiet) std::fprintf(stderr, "spice-check %zux%zu seed %llu: simulating %d tiles...\n", o.keys, o.dims,
                                      static_cast<unsigned long long>(seed), o.ode ? 4 : 2);
      const eval::SpiceCheckResult r = eval::run_spice_check(o);
      std::printf("%zux%zu seed %llu: stage-1 charge error max %.3f %% of %s (fitted)", r.keys, r.dims,
                  static_cast<unsigned long long>(seed), r.charge_error_pct_fs_fitted,
                  netlist::format_human(r.full_scale_c, "C", 3, true).c_str());
      if (o.ode) std::printf(", %.3f %% (ode vs passive line)", r.charge_error_pct_fs_ode);
      std::printf("; stage-2 %.3f %% of %s; 5-bit outputs within 1 LSB: %.1f %% fitted", r.charge2_error_pct_fs_fitted,
                  netlist::format_human(r.full_scale2_c, "C", 3, true).c_str(), 100.0 * r.within_1lsb_fitted);
      if (o.ode) std::printf(", %.1f %% ode", 100.0 * r.within_1lsb_ode);
      std::printf(" (exact %.1f %%); SPICE %s\n", 100.0 * r.exact_fitted, netlist::format_human(r.spice_wall_s, "s", 3, true).c_str());
      results.push_back(r);
    }
    if (!f->output.empty()) {
      std::ofstream out(f->output);
      out << eval::spice_check_json(results, o.cell.empty() ? "netlists/cells/pushpull.sub" : o.cell.string()).dump(1) << "\n";
      if (!out) throw IoError("cannot write " + f->output);
    }
    return 0;
  };
}

Action add_energy(CLI::App& app, const GlobalOptions&) {
  auto o = std::make_shared<eval::EnergyOptions>();
  auto output = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("energy", "Energy and latency per token per head from characterized energies");
  cmd->add_option("--cell-data", o->cell_energy_data, "Results of characterization/pushpull_energy.json (HDF5)")->required();
  cmd->add_option("--c2p-data", o->c2p_energy_data, "Results of characterization/c2p_transfer.json (HDF5)")->required();
  cmd->add_option("--window", o->window, "Keys per query W")->capture_default_str();
  cmd->add_option("--dims", o->dims, "Head dimension D")->capture_default_str();
  cmd->add_option("--tile", o->tile, "Keys per stage-2 sub-array")->capture_default_str();
  cmd->add_option("--heads", o->heads, "Heads per token (for the per-token totals)")->capture_default_str();
  cmd->add_option("--mean-q", o->mean_q, "Mean query pulse, fraction of t_max")->capture_default_str();
  cmd->add_option("--mean-phi", o->mean_phi, "Mean stage-2 pulse, fraction of t_max")->capture_default_str();
  cmd->add_option("--t-max", o->t_max_s, "Full-scale pulse width, s")->capture_default_str();
  cmd->add_option("--t-write", o->t_write_s, "Write time of a token's K and V, s")->capture_default_str();
  cmd->add_option("--adc-energy", o->adc_energy_j, "Stage-2 ADC energy per conversion, J (default: the C2P's)");
  cmd->add_option("--digital-energy", o->digital_energy_j, "Digital overhead per token per head, J (default: the paper's 4 nJ)")
      ->capture_default_str();
  cmd->add_option("-o,--output", *output, "Write the gaincell-energy/1 JSON here");
  return [o, output]() {
    const eval::EnergyEstimate e = eval::estimate_energy(*o);
    const nlohmann::json j = eval::energy_json(e);
    auto h = [](double x, const char* unit) { return netlist::format_human(x, unit, 3, true); };
    std::printf("energy per token per head (W = %ld keys, D = %ld):\n", o->window, o->dims);
    for (const auto& [name, value] : e.components_j) {
      std::printf("  %-10s %12s  (%4.1f %%)\n", name.c_str(), h(value, "J").c_str(), 100.0 * value / e.total_j);
    }
    std::printf("  %-10s %12s   paper: %s\n", "total", h(e.total_j, "J").c_str(), h(6.15e-9, "J").c_str());
    std::printf("latency per token: %s (heads in parallel)   paper: %s\n", h(e.latency_s, "s").c_str(), h(65e-9, "s").c_str());
    for (const auto& g : j["gpu"]) {
      std::printf("vs %-11s: %8.1fx faster, %10.0fx less energy per token (%d heads); paper: %.1fx, %.0fx\n",
                  g["name"].get<std::string>().c_str(), g["speedup"].get<double>(), g["energy_ratio"].get<double>(),
                  o->heads, g["paper_speedup"].get<double>(), g["paper_energy_ratio"].get<double>());
    }
    if (!output->empty()) {
      std::ofstream out(*output);
      out << j.dump(1) << "\n";
      if (!out) throw IoError("cannot write " + *output);
    }
    return 0;
  };
}

}  // namespace gaincell::cli
