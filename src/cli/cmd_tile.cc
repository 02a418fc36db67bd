// SPDX-License-Identifier: MIT
// gaincell tile: a sub-tile of a cell with C2P readout (tile/tile.h).
#include <cstdio>
#include <memory>
#include <optional>

#include "commands.h"
#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/limits.h"
#include "gaincell/tile/tile.h"

namespace gaincell::cli {
namespace {

struct TileFlags {
  std::string card, cell;
  std::size_t tokens = 8;
  std::size_t dims = 8;
  std::string inputs;
  std::uint64_t seed = 1;
  std::string output;
  std::string netlist;
  double timeout_s = 3600;
  bool render_only = false;
  tile::TileOverrides overrides;
};

void add_override_options(CLI::App* cmd, tile::TileOverrides& o) {
  const CLI::Validator level = within(-100, 100, "a level in V");
  cmd->add_option("--v-ref", o.v_ref_v, "Override: read line level (integrator virtual ground, or precharge), V")->check(level);
  cmd->add_option("--wwl-high", o.v_wwl_v, "Override: write word line level while writing, V")->check(level);
  cmd->add_option("--wwl-hold", o.v_wwl_hold_v, "Override: write word line level otherwise, V")->check(level);
  cmd->add_option("--wlr-idle", o.wlr_idle_v, "Override: idle level of an active-high read word line, V")->check(level);
  cmd->add_option("--wlr-active", o.wlr_active_v, "Override: active level of an active-high read word line, V")->check(level);
  cmd->add_option("--wlrb-idle", o.wlrb_idle_v, "Override: idle level of an active-low read word line, V")->check(level);
  cmd->add_option("--wlrb-active", o.wlrb_active_v, "Override: active level of an active-low read word line, V")->check(level);
  cmd->add_flag("--passive-line", o.passive_line,
                "Lines float on a capacitor (precharged to v_ref) instead of the converter; no C2P (the ODE mode's reference; "
                "the default for a precharged card)");
  cmd->add_flag("--held-line", o.held_line, "Lines held at v_ref by the converter (the default for a held card; fitted mode's reference)");
  cmd->add_option("--c-line", o.c_line_f, "Line capacitance with --passive-line, F (default: the card's, else 10p)")
      ->check(within(1e-18, 1, "a capacitance in F"));
}

void add_tile_options(CLI::App* cmd, TileFlags& f) {
  cmd->add_option("--card", f.card, "Cell card (docs/cells.md): the cell, its drive levels, sign scheme and converter "
                                    "(default: netlists/cells/pushpull.cell.json)");
  cmd->add_option("--cell", f.cell, "A cell subcircuit file instead: its card beside it (X.cell.json) if there is one, "
                                    "else ports named by role and the default cell's levels");
  cmd->add_option("--tokens", f.tokens, "Stored tokens n = read lines (1..64)")->capture_default_str()->check(within(1, 64));
  cmd->add_option("--dims", f.dims, "Dimensions m = PWM read word lines (1..64)")->capture_default_str()->check(within(1, 64));
  cmd->add_option("--inputs", f.inputs, "HDF5 file with datasets Q [m] (0..1) and K [n, m] (V); else random");
  cmd->add_option("--seed", f.seed, "Seed of the random quantized Q and K (when no --inputs)")->capture_default_str();
  cmd->add_option("-o,--output", f.output, "Results file (HDF5)");
  cmd->add_option("--netlist", f.netlist, "Also write the tile's netlist here (runs with ngspice -b)");
  cmd->add_option("--timeout", f.timeout_s, "Simulation budget in seconds")
      ->capture_default_str()
      ->check(within(1e-3, limits::kMaxTimeout_s, "limits::kMaxTimeout_s, docs/cli.md#limits"));
  cmd->add_flag("--render-only", f.render_only, "Write the netlist (--netlist) without simulating");
  add_override_options(cmd, f.overrides);
}

// The tile the flags describe: its cell, levels and inputs.
tile::TileSource tile_of(const TileFlags& f) {
  if (!f.card.empty() && !f.cell.empty()) {
    throw InputError("GC-1502", "tile: give --card or --cell, not both");
  }
  tile::TileSource t = f.cell.empty() ? tile::tile_from_card_file(f.card.empty() ? "" : find_data_file(f.card))
                                      : tile::tile_from_cell_file(find_data_file(f.cell));
  if (!t.warning.empty()) std::fprintf(stderr, "%s\n", t.warning.c_str());
  tile::apply_overrides(t.spec, f.overrides);
  if (f.inputs.empty()) {
    tile::set_random_inputs(t.spec, f.tokens, f.dims, f.seed);
  } else {
    tile::read_tile_inputs(t.spec, f.inputs);
  }
  return t;
}

int run_tile(const TileFlags& f, const GlobalOptions& global) {
  const tile::TileSource t = tile_of(f);
  if (!f.netlist.empty()) write_text_file(f.netlist, tile::render_tile(t.spec));
  if (f.render_only) return 0;
  if (f.output.empty()) throw InputError("GC-1502", "tile: --output is required unless --render-only");
  if (!global.quiet) {
    std::fprintf(stderr, "tile %zux%zu of %s from %s: simulating (one transient)...\n", t.spec.tokens, t.spec.dims,
                 t.spec.cell_name.c_str(), t.source.c_str());
  }
  const tile::TileResult r = tile::run_tile(t.spec, {f.timeout_s, {}});
  tile::write_tile_results(f.output, t.spec, r);
  std::fputs(tile::summary(t.spec, r, f.output).c_str(), stdout);
  return r.outcome == spice::SimOutcome::kOk ? 0 : static_cast<int>(ExitCode::kPointsFailed);
}

}  // namespace

Action add_tile(CLI::App& app, const GlobalOptions& global) {
  CLI::App* cmd = app.add_subcommand("tile", "Simulate an n x m sub-tile of a cell with C2P readout (SPICE ground truth)");
  auto f = std::make_shared<TileFlags>();
  add_tile_options(cmd, *f);
  return [f, &global]() { return run_tile(*f, global); };
}

}  // namespace gaincell::cli
