// SPDX-License-Identifier: MIT
// File: gaincell/eval/cell_model.h
//
// The cell as the evaluator sees it: f(w) = sum_i a_i (w - offset)^i in the
// reference's normalized units (S is in units of q_unit, S / s_sat is the
// C2P pulse as a fraction of t_max), plus how those units map to physics.
//
//  * poly:   a_i = sum_j C_ij vin^j (the authors' coefficients), units as the
//            reference (µA x pulse fraction).
//  * linear: a = (0, gain).
//  * fitted: the read current I(w) of a fitted model at the line held at
//            offset_v (the integrator's virtual ground), projected by least
//            squares on a polynomial in (w - offset) of projection_degree
//            over the K/V clamp range (error reported), then
//              a_i [ref] = a_i [A/V^i] * t_max / q_unit,
//              q_unit = (Q_sat - Q_0) / s_sat  (from the C2P HardSigmoid fit),
//            so that S / s_sat = charge / Q_sat exactly (docs/evaluator.md).
//  * ode:    as fitted for the mapping; the kernel is an ODE per line (ode.h).
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "gaincell/eval/config.h"
#include "gaincell/fit/model_file.h"

namespace gaincell::eval {

struct CellMapping {
  std::vector<double> a;            // coefficients of (w - offset)^i, reference units
  double offset_v = 0.45;
  // Physical scale (fitted/ode; for poly/linear the reference's own reading:
  // q_unit = 1 µA x t_max with t_max = 15 ns, i.e. 15 fC, documented only).
  bool physical = false;
  double t_max_s = 15e-9;           // C2P full-scale pulse width
  double q_unit_c = 0.0;            // charge per unit of S
  double q_sat_c = 0.0;             // C2P saturation charge (Q_sat)
  double q0_c = 0.0;                // C2P charge offset (x0 of the HardSigmoid)
  double phi_lo = 0.0;              // C2P pulse at Q <= Q0, fraction of t_max
  double q2_full_scale_c = 0.0;     // stage-2 ADC full scale = stage2_scale * q_unit
  // Projection of a fitted model onto the polynomial (fitted/ode).
  double projection_max_error_a = 0.0;   // A
  double projection_rms_error_a = 0.0;   // A
  double current_full_scale_a = 0.0;     // max |I| over the range, A
  std::string cell_model_kind;            // "lut", "poly", ...
  std::string note;                       // one sentence for reports

  // The C2P pulse of a stage-1 charge q_c [C], a fraction of t_max: the
  // HardSigmoid fit, phi_lo at Q <= Q0 rising to 1 at Q_sat (physical modes).
  double phi_of_charge(double q_c) const {
    return phi_lo + (1.0 - phi_lo) * std::clamp((q_c - q0_c) / (q_sat_c - q0_c), 0.0, 1.0);
  }
};

// Builds the mapping for the configured cell. Loads model files (IoError,
// InputError GC-1706 when a model has the wrong kind or inputs).
CellMapping make_cell_mapping(const EvalConfig& config);

// The read-current model of fitted/ode mode: I(v_store[, v_line]) in A.
struct ReadCurrentModel {
  fit::Model model;
  bool two_inputs = false;  // inputs (v_store, v_line)
  double evaluate(double v_store_v, double v_line_v) const;
};
ReadCurrentModel load_read_current_model(const std::filesystem::path& file);

// Checks that the configured model files (cell_model, c2p_model) were fitted
// to data of this card's circuits: their provenance lists the files the
// sweep's netlist read, which must include the card's cell subcircuit (resp.
// converter), by SHA-256. Throws InputError GC-1716 on a mismatch, GC-1703
// when a model is not configured; returns a note for each model whose
// provenance cannot tell (fitted from a CSV or an older file).
std::vector<std::string> check_models_for_card(const EvalConfig& config, const cell::CellCard& card);

}  // namespace gaincell::eval
