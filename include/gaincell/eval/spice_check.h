// SPDX-License-Identifier: MIT
// File: gaincell/eval/spice_check.h
//
// The evaluator checked against SPICE on one sub-tile (docs/evaluator.md,
// "checked against SPICE"): random quantized Q (16 levels), K and V (8
// levels) for n keys x m dimensions; one query.
//  * SPICE, integrator readout: stage 1 (n lines of m cells, the C2P gives
//    phi), then stage 2 (m lines of n cells storing V, read with phi) -> charges
//    -> 5-bit ADC (32 levels on [-1, 1], full scale stage2_scale * q_unit).
//  * SPICE, passive readout (lines float on c_line): the same two stages, phi
//    from the C2P fit applied to the stage-1 charge: the reference for ODE mode.
//  * The evaluator in fitted mode (vs integrator) and ODE mode (vs passive),
//    decay off (the tile writes all cells at once).
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/eval/config.h"

namespace gaincell::eval {

struct SpiceCheckOptions {
  std::size_t keys = 8;   // n
  std::size_t dims = 8;   // m
  std::uint64_t seed = 1;
  bool ode = true;
  EvalConfig config = preset("fitted");  // cell_model, c2p_model, levels, scales
  std::filesystem::path cell;            // default netlists/cells/pushpull.sub
  double timeout_s = 3600.0;
  std::filesystem::path worker;          // tests
};

struct SpiceCheckResult {
  std::size_t keys = 0, dims = 0;
  std::uint64_t seed = 0;
  std::vector<double> q, k_v, v_v;                    // [m], [n*m], [n*m]
  std::vector<double> q_spice_c, q_fitted_c;          // stage 1, per key
  std::vector<double> q_spice_passive_c, q_ode_c;     // stage 1, passive line / ode
  std::vector<double> q2_spice_c, q2_fitted_c;        // stage 2, per dimension
  std::vector<double> q2_spice_passive_c;
  std::vector<double> out_spice, out_fitted, out_spice_passive, out_ode;  // 5-bit outputs
  double full_scale_c = 0, full_scale2_c = 0, lsb = 0;
  double charge_error_pct_fs_fitted = 0, charge_error_pct_fs_ode = 0;    // stage 1, max
  double charge2_error_pct_fs_fitted = 0, charge2_error_pct_fs_ode = 0;  // stage 2, max
  double within_1lsb_fitted = 0, within_1lsb_ode = 0;                    // share of outputs
  double exact_fitted = 0, exact_ode = 0;                                // share equal
  double spice_wall_s = 0;
};

SpiceCheckResult run_spice_check(const SpiceCheckOptions& options);

// The gaincell-spice-check/1 document for a set of checks.
nlohmann::json spice_check_json(const std::vector<SpiceCheckResult>& results, const std::string& cell);

}  // namespace gaincell::eval
