// SPDX-License-Identifier: MIT
// File: gaincell/tile/tile.h
//
// An n x m sub-tile of gain cells as SPICE ground truth for the array-level
// evaluator: n stored tokens (one read line each) x m dimensions (one PWM
// read word line each). Cell (j, i) stores K[j][i] as a voltage, written
// through its own write bit line; word line i carries a pulse of width
// Q[i] * t_max; each line j is held at v_ref by an integrator whose charge a
// ramp-compare converter turns into a pulse (the HardSigmoid C2P). Any cell
// subcircuit whose ports use gaincell's role names can be tiled.
//
//   TileSpec t = random_tile("netlists/cells/pushpull.sub", 8, 8, /*seed=*/1);
//   TileResult r = run_tile(t, {});
//   write_tile_results("tile.h5", t, r);
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <filesystem>
#include <string>
#include <vector>

#include "gaincell/spice/outcome.h"
#include "gaincell/sweep/measure.h"

namespace gaincell::tile {

// A cell subcircuit's interface, read from its `.subckt` line. Port names are
// roles: wbl (write bit line), wwl (write word line) and rd (read port) are
// required; wlr (read word line, PWM, active high: 0 -> vin) and/or wlrb (its
// complement, active low: vdd -> vdd - vin), and vdd, as the cell needs.
struct CellInterface {
  std::filesystem::path file;
  std::string subckt;
  std::vector<std::string> ports;
};

// Throws InputError GC-1501 if the file has no .subckt or a port is not a known role.
CellInterface load_cell(const std::filesystem::path& file);

struct TileSpec {
  std::filesystem::path cell;                  // the cell's .sub file
  std::filesystem::path c2p;                   // the converter's .sub file
  std::size_t tokens = 0;                      // n: stored tokens = read lines
  std::size_t dims = 0;                        // m: dimensions = read word lines
  std::vector<double> q;                       // m query values in [0, 1] (fraction of t_max)
  std::vector<double> k_v;                     // n*m stored voltages, row-major [token][dim], V
  double vdd_v = 0.9;
  double vin_v = 0.9;                          // read word line pulse amplitude
  double v_ref_v = 0.45;                       // line virtual ground (VDD/2)
  double v_wwl_v = 1.6;                        // write word line level while writing (boosted)
  double v_wwl_hold_v = 0.0;                   // write word line level otherwise (OSFET cells: negative)
  // Levels of an active-low read word line (`wlrb` port): idle (no read) and
  // active (during the pulse). NaN: vdd and vdd - vin (the push-pull cell's
  // complement). A cell whose read device's source is this line idles best at
  // the line voltage v_ref, so no current flows between reads.
  double wlrb_idle_v = std::numeric_limits<double>::quiet_NaN();
  double wlrb_active_v = std::numeric_limits<double>::quiet_NaN();
  double wlrb_idle() const { return std::isnan(wlrb_idle_v) ? vdd_v : wlrb_idle_v; }
  double wlrb_active() const { return std::isnan(wlrb_active_v) ? vdd_v - vin_v : wlrb_active_v; }
  double t_max_s = 15e-9;                      // pulse width of Q = 1
  double t_read_s = 8e-9;                      // start of the read pulses
  double t_edge_s = 20e-12;                    // edges of every pulse
  double c_int_f = 2e-12;                      // integrator capacitor
  double v_sat_v = 0.5;                        // ramp top: Q_sat = c_int * v_sat
  double c_wire_f = 1e-15;                     // wire capacitance per cell on a line
  // Passive readout (for the evaluator's ODE mode): no integrator; each line
  // is a capacitor c_line_f (plus the wire) precharged to v_ref until 1 ns
  // before the read, then left floating, so its voltage moves with the charge
  // the cells draw. No C2P: pulse_width_s is NaN, v_int_v is the line's swing.
  bool passive_line = false;
  double c_line_f = 10e-12;
  double t_step_s = 0.2e-9;
  std::uint64_t seed = 0;                      // for the record, if drawn at random
  double q_sat_c() const { return c_int_f * v_sat_v; }
  double t_compare_s() const { return t_read_s + t_max_s + 2e-9; }
  double t_stop_s() const { return t_compare_s() + t_max_s + 2e-9; }
};

// A tile with Q quantized to 16 levels in [0, 1] and K to 8 levels in
// [0, 0.9] V (the paper's 4-bit queries and 3-bit DACs), drawn from `seed`.
TileSpec random_tile(const std::filesystem::path& cell, std::size_t tokens, std::size_t dims, std::uint64_t seed);

// Checks sizes and ranges; throws InputError GC-1502 naming what is wrong.
void validate(const TileSpec& spec);

// The netlist; runs as is with `ngspice -b` (prints per-line .meas values).
std::string render_tile(const TileSpec& spec);
// Per line j: q_line_<j>_c (charge drawn from the line during the read),
// v_int_<j>_v (integrator swing at the comparison), pw_<j>_s (C2P pulse width).
std::vector<sweep::ResolvedMeasure> tile_measures(const TileSpec& spec);

struct TileResult {
  spice::SimOutcome outcome = spice::SimOutcome::kNotRun;
  std::string message;
  std::vector<double> q_line_c;       // per line, C
  std::vector<double> v_int_v;        // per line, V
  std::vector<double> pulse_width_s;  // per line, s
  double parse_time_s = 0, run_time_s = 0, wall_time_s = 0;
  std::string ngspice_version;
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
// Reads Q [m] and K [n, m] (datasets "Q" and "K") from an HDF5 file into a spec.
TileSpec read_tile_inputs(const std::filesystem::path& path, const std::filesystem::path& cell);

}  // namespace gaincell::tile
