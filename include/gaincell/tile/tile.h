// SPDX-License-Identifier: MIT
// File: gaincell/tile/tile.h
//
// An n x m sub-tile of gain cells as SPICE ground truth for the array-level
// evaluator: n stored tokens (one read line each) x m dimensions (one PWM
// read word line each). Cell (j, i) stores K[j][i] as a voltage, written
// through its own write bit line; word line i carries a pulse of width
// Q[i] * t_max; each line j is held at v_ref by the card's converter, whose
// integrator charge a ramp-compare turns into a pulse (the HardSigmoid C2P),
// or (passive lines) floats on a capacitor after a precharge to v_ref.
// Unsigned cells form signed values as their card says: a reference line of
// cells storing offset_v, or a differential pair of lines per token; the
// tile subtracts in the circuit (a current mirror into the integrator) and
// its charges are the differences, exactly as the evaluator models them.
//
//   TileSpec t = tile_from_card(cell::load_card("netlists/cells/gc3t.cell.json"));
//   set_random_inputs(t, 8, 8, /*seed=*/1);
//   TileResult r = run_tile(t, {});
//   write_tile_results("tile.h5", t, r);
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gaincell/cell/card.h"
#include "gaincell/spice/outcome.h"
#include "gaincell/measure/measure.h"

namespace gaincell::tile {

struct TileSpec {
  std::string cell_name;                       // the card's name (or the subcircuit's)
  std::filesystem::path card;                  // the card, if the tile came from one
  cell::SubcktBinding cell;                    // the cell subcircuit, ports by role
  cell::SubcktBinding converter;               // the C2P: roles line ramp out vref rst [vdd]
  std::vector<std::filesystem::path> includes; // model files, before the subcircuits
  std::filesystem::path lib_file;              // corner library ("" = none)
  std::vector<std::string> ngspice_init;       // the card's extra .spiceinit lines (docs/pdk.md)
  std::string lib_section;
  std::string pulse_node = "diff";             // converter node whose time above threshold is the pulse ("" = out)
  double pulse_threshold_v = 0.0;
  cell::SignScheme sign = cell::SignScheme::kSigned;
  double offset_v = 0.45;                      // reference column value / differential midpoint, V
  std::size_t tokens = 0;                      // n: stored tokens = read lines
  std::size_t dims = 0;                        // m: dimensions = read word lines
  std::vector<double> q{};                     // m query values in [0, 1] (fraction of t_max)
  std::vector<double> k_v{};                   // n*m stored voltages, row-major [token][dim], V
  double store_lo_v = 0.0, store_hi_v = 0.9;   // the write DAC's range
  double vdd_v = 0.9;
  double v_ref_v = 0.45;                       // line level: integrator virtual ground, or precharge
  double v_wwl_v = 1.6;                        // write word line while writing
  double v_wwl_hold_v = 0.0;                   // write word line otherwise
  double wlr_idle_v = 0.0, wlr_active_v = 0.9;    // active-high read word line
  double wlrb_idle_v = 0.9, wlrb_active_v = 0.0;  // active-low read word line
  double t_max_s = 15e-9;                      // pulse width of Q = 1
  double t_read_s = 8e-9;                      // start of the read pulses
  double t_edge_s = 20e-12;                    // edges of every pulse
  double t_write_on_s = 1e-9, t_write_off_s = 5e-9;
  double v_sat_v = 0.5;                        // ramp top
  double q_sat_nominal_c = 1e-12;              // the converter's design saturation charge (records)
  double c_wire_f = 1e-15;                     // wire capacitance per cell on a line
  // Passive readout: no converter; each line is a capacitor c_line_f (plus
  // the wire) precharged to v_ref until 1 ns before the read, then floating.
  bool passive_line = false;
  double c_line_f = 10e-12;
  double t_step_s = 0.2e-9;
  std::uint64_t seed = 0;                      // for the record, if drawn at random
  double t_compare_s() const { return t_read_s + t_max_s + 2e-9; }
  double t_stop_s() const { return t_compare_s() + t_max_s + 2e-9; }
  // The value a converter parameter is given ("" if not set).
  std::string converter_param(const std::string& name) const;
  void set_converter_param(const std::string& name, double value);
};

// A tile of the card's cell with the card's drive levels, timing, sign scheme
// and converter (inputs still empty); a precharged card's lines are passive
// (precharged to its line level, floating on its c_line).
TileSpec tile_from_card(const cell::CellCard& card);
// A tile of a bare subcircuit whose ports are named by role (wbl wwl rd wlr
// wlrb vdd), with the default cell's drive levels and gaincell's converter.
// Throws InputError GC-1501 if a port is not a role.
TileSpec tile_from_subckt(const std::filesystem::path& file);

// Where a tile comes from, as `gaincell tile --card/--cell` takes it.
struct TileSource {
  TileSpec spec;
  std::string source;   // "card PATH", or the subcircuit file and how its ports were read
  std::string warning;  // "" or a note for the user: no card beside a subcircuit file
};
// The tile of a card file ("" = the default cell's card).
TileSource tile_from_card_file(const std::filesystem::path& card);
// The tile of a subcircuit file: from its card beside it (X.cell.json) if
// there is one, else tile_from_subckt (ports by role name, the default
// cell's levels and converter) with a warning saying so.
TileSource tile_from_cell_file(const std::filesystem::path& file);

// Overrides of a tile's levels and read lines (`gaincell tile --v-ref ...`).
struct TileOverrides {
  std::optional<double> v_ref_v, v_wwl_v, v_wwl_hold_v, wlr_idle_v, wlr_active_v, wlrb_idle_v, wlrb_active_v;
  bool passive_line = false;  // lines float on c_line after a precharge
  bool held_line = false;     // lines held by the converter
  std::optional<double> c_line_f;
};
// Applies the overrides that are set. Throws InputError GC-1502 if both
// passive and held lines are asked for.
void apply_overrides(TileSpec& spec, const TileOverrides& overrides);

// Draws Q (16 levels in [0, 1]) and K (8 levels over the store range) from `seed`.
void set_random_inputs(TileSpec& spec, std::size_t tokens, std::size_t dims, std::uint64_t seed);
// Reads Q [m] and K [n, m] (datasets "Q" and "K") from an HDF5 file.
void read_tile_inputs(TileSpec& spec, const std::filesystem::path& path);

// Checks sizes and ranges; throws InputError GC-1502 naming what is wrong.
void validate(const TileSpec& spec);

// The netlist; runs as is with `ngspice -b`.
std::string render_tile(const TileSpec& spec);
// The raw measures the netlist's vectors give (per line and per companion line).
std::vector<measure::ResolvedMeasure> tile_measures(const TileSpec& spec);

struct TileResult {
  spice::SimOutcome outcome = spice::SimOutcome::kNotRun;
  std::string message;
  std::vector<double> q_line_c{};       // per line, C: net charge (minus the reference/complement line's)
  std::vector<double> v_int_v{};        // per line, V: integrator swing (held) or line swing (passive)
  std::vector<double> pulse_width_s{};  // per line, s (NaN for passive lines)
  double parse_time_s = 0, run_time_s = 0, wall_time_s = 0;
  std::string ngspice_version{};
};

struct TileRunOptions {
  double timeout_s = 3600.0;
  std::filesystem::path worker;  // override (tests)
};

// Simulates the tile in a gaincell worker (in-process libngspice). A failed
// simulation is reported in the result, not thrown.
TileResult run_tile(const TileSpec& spec, const TileRunOptions& options);

// Writes inputs, per-line results and provenance to HDF5 (docs/tiles.md).
void write_tile_results(const std::filesystem::path& path, const TileSpec& spec, const TileResult& result);
// What a tile run gave, readably: the outcome and times, where the results
// are, then (if it ran) the first 8 lines' charge, swing and pulse width.
std::string summary(const TileSpec& spec, const TileResult& result, const std::filesystem::path& results_file);

}  // namespace gaincell::tile
