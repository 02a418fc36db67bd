// SPDX-License-Identifier: MIT
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>

#include "commands.h"
#include "gaincell/cell/card.h"
#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/hash.h"
#include "gaincell/netlist/si_value.h"
#include "gaincell/tile/tile.h"

namespace gaincell::cli {

namespace fs = std::filesystem;

Action add_tile(CLI::App& app, const GlobalOptions& global) {
  struct Flags {
    std::string card, cell;
    std::size_t tokens = 8;
    std::size_t dims = 8;
    std::string inputs;
    std::uint64_t seed = 1;
    std::string output;
    std::string netlist;
    double timeout_s = 3600;
    bool render_only = false;
    std::optional<double> v_wwl, v_wwl_hold, v_ref, wlr_idle, wlr_active, wlrb_idle, wlrb_active;
    bool passive = false, held = false;
    std::optional<double> c_line_f;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("tile", "Simulate an n x m sub-tile of a cell with C2P readout (SPICE ground truth)");
  cmd->add_option("--card", f->card, "Cell card (docs/cells.md): the cell, its drive levels, sign scheme and converter "
                                     "(default: netlists/cells/pushpull.cell.json)");
  cmd->add_option("--cell", f->cell, "A cell subcircuit file instead: its card beside it (X.cell.json) if there is one, "
                                     "else ports named by role and the default cell's levels");
  cmd->add_option("--tokens", f->tokens, "Stored tokens n = read lines (1..64)")->capture_default_str()->check(within(1, 64));
  cmd->add_option("--dims", f->dims, "Dimensions m = PWM read word lines (1..64)")->capture_default_str()->check(within(1, 64));
  cmd->add_option("--inputs", f->inputs, "HDF5 file with datasets Q [m] (0..1) and K [n, m] (V); else random");
  cmd->add_option("--seed", f->seed, "Seed of the random quantized Q and K (when no --inputs)")->capture_default_str();
  cmd->add_option("-o,--output", f->output, "Results file (HDF5)");
  cmd->add_option("--netlist", f->netlist, "Also write the tile's netlist here (runs with ngspice -b)");
  cmd->add_option("--timeout", f->timeout_s, "Simulation budget in seconds")
      ->capture_default_str()
      ->check(within(1e-3, limits::kMaxTimeout_s, "limits::kMaxTimeout_s, docs/cli.md#limits"));
  cmd->add_flag("--render-only", f->render_only, "Write the netlist (--netlist) without simulating");
  cmd->add_option("--v-ref", f->v_ref, "Override: read line level (integrator virtual ground, or precharge), V")->check(within(-100, 100, "a level in V"));
  cmd->add_option("--wwl-high", f->v_wwl, "Override: write word line level while writing, V")->check(within(-100, 100, "a level in V"));
  cmd->add_option("--wwl-hold", f->v_wwl_hold, "Override: write word line level otherwise, V")->check(within(-100, 100, "a level in V"));
  cmd->add_option("--wlr-idle", f->wlr_idle, "Override: idle level of an active-high read word line, V")->check(within(-100, 100, "a level in V"));
  cmd->add_option("--wlr-active", f->wlr_active, "Override: active level of an active-high read word line, V")->check(within(-100, 100, "a level in V"));
  cmd->add_option("--wlrb-idle", f->wlrb_idle, "Override: idle level of an active-low read word line, V")->check(within(-100, 100, "a level in V"));
  cmd->add_option("--wlrb-active", f->wlrb_active, "Override: active level of an active-low read word line, V")->check(within(-100, 100, "a level in V"));
  cmd->add_flag("--passive-line", f->passive,
                "Lines float on a capacitor (precharged to v_ref) instead of the converter; no C2P (the ODE mode's reference; "
                "the default for a precharged card)");
  cmd->add_flag("--held-line", f->held, "Lines held at v_ref by the converter (the default for a held card; fitted mode's reference)");
  cmd->add_option("--c-line", f->c_line_f, "Line capacitance with --passive-line, F (default: the card's, else 10p)")
      ->check(within(1e-18, 1, "a capacitance in F"));
  return [f, &global]() {
    if (!f->card.empty() && !f->cell.empty()) {
      throw InputError("GC-1502", "error GC-1502: tile: give --card or --cell, not both");
    }
    tile::TileSpec spec;
    std::string source;
    if (!f->cell.empty()) {
      const fs::path sub = find_data_file(f->cell);
      fs::path beside = sub;
      beside.replace_extension(".cell.json");
      if (cell::is_card_file(beside)) {
        spec = tile::tile_from_card(cell::load_card(beside));
        source = "card " + beside.string();
      } else {
        std::fprintf(stderr, "tile: no card beside %s (looked for %s): its ports are taken as roles, the drive levels "
                             "and converter are the default cell's (docs/cells.md)\n", sub.c_str(), beside.c_str());
        spec = tile::tile_from_subckt(sub);
        source = sub.string() + " (no card beside it: ports by role name, the default cell's drive levels and converter)";
      }
    } else {
      const fs::path card = f->card.empty() ? cell::default_card_path() : find_data_file(f->card);
      spec = tile::tile_from_card(cell::load_card(card));
      source = "card " + card.string();
    }
    if (f->v_ref) spec.v_ref_v = *f->v_ref;
    if (f->v_wwl) spec.v_wwl_v = *f->v_wwl;
    if (f->v_wwl_hold) spec.v_wwl_hold_v = *f->v_wwl_hold;
    if (f->wlr_idle) spec.wlr_idle_v = *f->wlr_idle;
    if (f->wlr_active) spec.wlr_active_v = *f->wlr_active;
    if (f->wlrb_idle) spec.wlrb_idle_v = *f->wlrb_idle;
    if (f->wlrb_active) spec.wlrb_active_v = *f->wlrb_active;
    if (f->passive && f->held) throw InputError("GC-1502", "error GC-1502: tile: --passive-line or --held-line, not both");
    if (f->passive) spec.passive_line = true;
    if (f->held) spec.passive_line = false;
    if (f->c_line_f) spec.c_line_f = *f->c_line_f;
    if (f->inputs.empty()) {
      tile::set_random_inputs(spec, f->tokens, f->dims, f->seed);
    } else {
      tile::read_tile_inputs(spec, f->inputs);
    }
    if (!f->netlist.empty()) {
      write_text_file(f->netlist, tile::render_tile(spec));
    }
    if (f->render_only) return 0;
    if (f->output.empty()) throw InputError("GC-1502", "error GC-1502: tile: --output is required unless --render-only");
    if (!global.quiet) {
      std::fprintf(stderr, "tile %zux%zu of %s from %s: simulating (one transient)...\n", spec.tokens, spec.dims,
                   spec.cell_name.c_str(), source.c_str());
    }
    const tile::TileResult r = tile::run_tile(spec, {f->timeout_s, {}});
    tile::write_tile_results(f->output, spec, r);
    std::printf("tile %zux%zu of %s: %s in %s (ngspice parse %s, run %s)\nresults: %s\n", spec.tokens, spec.dims,
                spec.cell_name.c_str(), std::string(spice::to_string(r.outcome)).c_str(),
                netlist::format_human(r.wall_time_s, "s", 3, true).c_str(),
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
                  spec.passive_line ? "- (passive line: no converter)"
                                    : netlist::format_human(r.pulse_width_s[j], "s", 4, true).c_str());
    }
    if (spec.tokens > 8) std::printf("  ... (%zu lines in the file)\n", spec.tokens);
    return 0;
  };
}

}  // namespace gaincell::cli
