// SPDX-License-Identifier: MIT
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include "commands.h"
#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/netlist/si_value.h"
#include "gaincell/tile/tile.h"

namespace gaincell::cli {

Action add_tile(CLI::App& app, const GlobalOptions& global) {
  struct Flags {
    std::string cell = "netlists/cells/pushpull.sub";
    std::size_t tokens = 8;
    std::size_t dims = 8;
    std::string inputs;
    std::uint64_t seed = 1;
    std::string output;
    std::string netlist;
    double timeout_s = 3600;
    bool render_only = false;
    double v_wwl = 1.6, v_wwl_hold = 0.0, v_ref = 0.45;
    double wlrb_idle = std::nan(""), wlrb_active = std::nan("");
    bool passive = false;
    double c_line_f = 10e-12;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("tile", "Simulate an n x m sub-tile of a cell with C2P readout (SPICE ground truth)");
  cmd->add_option("--cell", f->cell, "Cell subcircuit file (ports named by role)")->capture_default_str();
  cmd->add_option("--tokens", f->tokens, "Stored tokens n = read lines (1..64)")->capture_default_str();
  cmd->add_option("--dims", f->dims, "Dimensions m = PWM read word lines (1..64)")->capture_default_str();
  cmd->add_option("--inputs", f->inputs, "HDF5 file with datasets Q [m] (0..1) and K [n, m] (V); else random");
  cmd->add_option("--seed", f->seed, "Seed of the random quantized Q and K (when no --inputs)")->capture_default_str();
  cmd->add_option("-o,--output", f->output, "Results file (HDF5)");
  cmd->add_option("--netlist", f->netlist, "Also write the tile's netlist here (runs with ngspice -b)");
  cmd->add_option("--timeout", f->timeout_s, "Simulation budget in seconds")->capture_default_str();
  cmd->add_flag("--render-only", f->render_only, "Write the netlist (--netlist) without simulating");
  cmd->add_option("--v-ref", f->v_ref, "Read line (integrator virtual ground) voltage, V")->capture_default_str();
  cmd->add_option("--wwl-high", f->v_wwl, "Write word line level while writing, V")->capture_default_str();
  cmd->add_option("--wwl-hold", f->v_wwl_hold, "Write word line level otherwise, V (OSFET cells: -0.5)")
      ->capture_default_str();
  cmd->add_option("--wlrb-idle", f->wlrb_idle, "Idle level of an active-low read word line, V (default vdd)");
  cmd->add_option("--wlrb-active", f->wlrb_active, "Active level of an active-low read word line, V (default vdd - vin)");
  cmd->add_flag("--passive-line", f->passive,
                "Lines float on a capacitor (precharged to v_ref) instead of an integrator; no C2P (the ODE mode's reference)");
  cmd->add_option("--c-line", f->c_line_f, "Line capacitance with --passive-line, F")->capture_default_str();
  return [f, &global]() {
    const std::string cell = find_data_file(f->cell).string();
    tile::TileSpec spec = f->inputs.empty() ? tile::random_tile(cell, f->tokens, f->dims, f->seed)
                                            : tile::read_tile_inputs(f->inputs, cell);
    spec.v_ref_v = f->v_ref;
    spec.v_wwl_v = f->v_wwl;
    spec.v_wwl_hold_v = f->v_wwl_hold;
    spec.wlrb_idle_v = f->wlrb_idle;
    spec.wlrb_active_v = f->wlrb_active;
    spec.passive_line = f->passive;
    spec.c_line_f = f->c_line_f;
    if (!f->netlist.empty()) {
      std::ofstream out(f->netlist);
      out << tile::render_tile(spec);
      if (!out) throw IoError("cannot write " + f->netlist);
    }
    if (f->render_only) return 0;
    if (f->output.empty()) throw InputError("GC-1502", "error GC-1502: tile: --output is required unless --render-only");
    if (!global.quiet) {
      std::fprintf(stderr, "tile %zux%zu of %s: simulating (one transient)...\n", spec.tokens, spec.dims, f->cell.c_str());
    }
    const tile::TileResult r = tile::run_tile(spec, {f->timeout_s, {}});
    tile::write_tile_results(f->output, spec, r);
    std::printf("tile %zux%zu: %s in %s (ngspice parse %s, run %s)\nresults: %s\n", spec.tokens, spec.dims,
                std::string(spice::to_string(r.outcome)).c_str(), netlist::format_human(r.wall_time_s, "s", 3, true).c_str(),
                netlist::format_human(r.parse_time_s, "s", 3, true).c_str(),
                netlist::format_human(r.run_time_s, "s", 3, true).c_str(), f->output.c_str());
    if (r.outcome != spice::SimOutcome::kOk) {
      std::printf("%s\n", r.message.c_str());
      return static_cast<int>(ExitCode::kPointsFailed);
    }
    for (std::size_t j = 0; j < spec.tokens && j < 8; ++j) {
      std::printf("  line %zu: charge %s, swing %s, pulse %s\n", j,
                  netlist::format_human(r.q_line_c[j], "C", 4, true).c_str(),
                  netlist::format_human(r.v_int_v[j], "V", 4, true).c_str(),
                  netlist::format_human(r.pulse_width_s[j], "s", 4, true).c_str());
    }
    if (spec.tokens > 8) std::printf("  ... (%zu lines in the file)\n", spec.tokens);
    return 0;
  };
}

}  // namespace gaincell::cli
