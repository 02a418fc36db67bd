// SPDX-License-Identifier: MIT
// Internal: the ODE mode of the evaluator. Every read line is a node of
// capacitance c_line_f, precharged to offset_v, discharged by the cells on it
// while their pulses last: C dV/dt = -sum_on I(w_eff, V), integrated with
// Boost.Odeint (controlled Dormand-Prince 5) segment by segment between pulse
// ends. The charge C (V0 - V_end) then goes through the C2P fit (stage 1) or
// the stage-2 ADC, as in the fitted mode (docs/evaluator.md, "ODE mode").
#pragma once

#include <cstddef>
#include <vector>

#include "gaincell/eval/cell_model.h"
#include "gaincell/eval/config.h"
#include "gaincell/eval/evaluator.h"

namespace gaincell::eval::detail {

// One line: cells with stored voltages w[j] (after decay), pulse widths
// width_s[j], current scale (global decay), line capacitance. Returns the
// charge drawn from the line, C.
double line_charge_c(const ReadCurrentModel& model, const std::vector<double>& w_v, const std::vector<double>& width_s,
                     double scale, double c_line_f, double v0_v);

void ode_forward(const EvalConfig& config, const CellMapping& cell, const ReadCurrentModel& model, std::size_t B,
                 std::size_t H, std::size_t T, std::size_t D, const std::vector<float>& q, const std::vector<float>& k,
                 const std::vector<float>& v, std::vector<float>& out, std::vector<float>* S, std::vector<float>* phi,
                 unsigned threads, const EvalProgress& progress);

}  // namespace gaincell::eval::detail
