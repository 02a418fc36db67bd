// SPDX-License-Identifier: MIT
// File: gaincell/check/spice_check.h
//
// The evaluator checked against SPICE on one sub-tile of a cell
// (docs/evaluator.md, "checked against SPICE"): random quantized Q, K and V
// for n keys x m dimensions, one query, the same circuit on both sides.
//  * Fitted mode against the tile with held lines: the card's converter holds
//    every line at line_v (its integrator) and gives phi; stage 2 reads V with
//    phi; its charges go through the 5-bit ADC (32 levels on [-1, 1], full
//    scale stage2_scale * q_unit) on both sides.
//  * ODE mode against the tile with passive lines: each line floats on c_line
//    after a precharge to line_v; phi from the C2P fit of the stage-1 charge.
//  * Unsigned cells form signed values the same way on both sides (a
//    reference line, or a differential pair of lines).
// Decay is off (the tile writes all cells at once). A check passes when the
// stage-1 charge error and the share of 5-bit outputs within 1 LSB meet the
// thresholds in every mode run, and there was something to compare: the
// converter fired on some stage-1 line.
// Its own module beside eval/ (which never simulates): it runs the evaluator
// and ngspice (through tile/) on the same inputs and compares them.
//
//   SpiceCheckOptions o;
//   o.tile = check_tile(&card);
//   o.config = eval::resolve_config("fitted", "", {"cell_model=...", "c2p_model=..."}, &card);
//   SpiceCheckResult r = run_spice_check(o);
//   if (!r.passed) std::puts(brief(r, o.tile->cell_name).c_str());
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/cell/card.h"
#include "gaincell/eval/config.h"
#include "gaincell/tile/tile.h"

namespace gaincell::check {

struct SpiceCheckThresholds {
  double max_charge_error_pct_fs = 0.5;  // stage-1 charge error, % of the C2P full scale
  double min_within_1lsb = 0.99;         // share of 5-bit outputs within 1 LSB of SPICE
};

struct SpiceCheckOptions {
  std::size_t keys = 8;   // n
  std::size_t dims = 8;   // m
  std::uint64_t seed = 1;
  bool ode = true;
  eval::EvalConfig config = eval::preset("fitted");  // cell_model, c2p_model, levels, scales, line_v, sign_scheme
  std::optional<tile::TileSpec> tile;    // the cell, converter and drive levels (default: the default cell's card)
  SpiceCheckThresholds thresholds;
  double timeout_s = 3600.0;
  std::filesystem::path worker;          // tests
};

struct SpiceCheckResult {
  std::size_t keys = 0, dims = 0;
  std::uint64_t seed = 0;
  std::vector<double> q{}, k_v{}, v_v{};                  // [m], [n*m], [n*m]
  std::vector<double> q_spice_c{}, q_fitted_c{};          // stage 1, per key
  std::vector<double> q_spice_passive_c{}, q_ode_c{};     // stage 1, passive line / ode
  std::vector<double> q2_spice_c{}, q2_fitted_c{};        // stage 2, per dimension
  std::vector<double> q2_spice_passive_c{};
  std::vector<double> out_spice{}, out_fitted{}, out_spice_passive{}, out_ode{};  // 5-bit outputs
  double full_scale_c = 0, full_scale2_c = 0, lsb = 0;
  double charge_error_pct_fs_fitted = 0, charge_error_pct_fs_ode = 0;    // stage 1, max
  double charge2_error_pct_fs_fitted = 0;                                // stage 2, max
  double within_1lsb_fitted = 0, within_1lsb_ode = 0;                    // share of outputs
  double exact_fitted = 0, exact_ode = 0;                                // share equal
  double spice_wall_s = 0;
  SpiceCheckThresholds thresholds;
  bool passed = false;
  std::vector<std::string> failures{};  // one sentence per missed threshold (and "note: " lines on why)
};

// The tile a check runs: the card's if one is given, else a bare subcircuit's
// (ports named by role; find_data_file resolves it) if one is given, else the
// default cell's card's.
tile::TileSpec check_tile(const cell::CellCard* card, const std::filesystem::path& subckt = {});

// Throws InputError GC-1713 for sizes out of 1..64; Error when a tile fails to simulate.
SpiceCheckResult run_spice_check(const SpiceCheckOptions& options);

// One line on a check of `cell_name` (charge errors, outputs within 1 LSB,
// SPICE time, PASS or FAIL; the ODE figures when it ran), then a line for
// each failure and note.
std::string brief(const SpiceCheckResult& result, const std::string& cell_name);

// The gaincell-spice-check/1 document for a set of checks of one cell.
nlohmann::json spice_check_json(const std::vector<SpiceCheckResult>& results, const tile::TileSpec& tile,
                                const eval::EvalConfig& config);

}  // namespace gaincell::check
