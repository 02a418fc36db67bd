// SPDX-License-Identifier: MIT
// Internal: the ODE mode of the evaluator. Every read line is a node of
// capacitance c_line_f, precharged to offset_v, discharged by the cells on it
// while their pulses last: C dV/dt = -sum_on I(w_eff, V), integrated with
// Boost.Odeint (controlled Dormand-Prince 5) segment by segment between pulse
// ends. The charge C (V0 - V_end) then goes through the C2P fit (stage 1) or
// the stage-2 ADC, as in the fitted mode (docs/evaluator.md, "ODE mode").
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <vector>

#include "gaincell/eval/cell_model.h"
#include "gaincell/eval/config.h"
#include "gaincell/eval/evaluator.h"

namespace gaincell::eval::detail {

// The read current I(w, V) tabulated on a regular grid of about 2 mV in both
// inputs and interpolated bilinearly: the ODE's right-hand side evaluates it
// millions of times, and the fitted model's own N-D interpolation is ~100x
// slower. Outside the grid, inputs are clamped to it (as the model clamps to
// its fitted range) and counted.
class CurrentTable {
 public:
  CurrentTable(const ReadCurrentModel& model, double w_lo_v, double w_hi_v);
  double operator()(double w_v, double v_v) const {
    double x = (w_v - w_lo_) * inv_dw_, y = (v_v - v_lo_) * inv_dv_;
    if (!(x >= 0.0 && x <= x_max_ && y >= 0.0 && y <= y_max_)) {
      clamped_.fetch_add(1, std::memory_order_relaxed);
      x = std::clamp(x, 0.0, x_max_);
      y = std::clamp(y, 0.0, y_max_);
    }
    const std::size_t i = std::min(static_cast<std::size_t>(x), nw_ - 2), j = std::min(static_cast<std::size_t>(y), nv_ - 2);
    const double fx = x - static_cast<double>(i), fy = y - static_cast<double>(j);
    const double* a = &table_[i * nv_ + j];
    const double* b = a + nv_;
    return (1.0 - fx) * ((1.0 - fy) * a[0] + fy * a[1]) + fx * ((1.0 - fy) * b[0] + fy * b[1]);
  }
  double v_lo() const { return v_lo_; }
  double v_hi() const { return v_lo_ + y_max_ / inv_dv_; }
  // How many evaluations fell outside the table (clamped).
  std::size_t clamped() const { return clamped_.load(); }

 private:
  double w_lo_ = 0, inv_dw_ = 1, x_max_ = 1, v_lo_ = 0, inv_dv_ = 1, y_max_ = 1;
  std::size_t nw_ = 2, nv_ = 2;
  std::vector<double> table_;
  mutable std::atomic<std::size_t> clamped_{0};
};

// One line: cells with stored voltages w[j] (after decay), pulse widths
// width_s[j], current scale (global decay), line capacitance. Returns the
// charge drawn from the line, C.
double line_charge_c(const CurrentTable& model, const std::vector<double>& w_v, const std::vector<double>& width_s,
                     double scale, double c_line_f, double v0_v);

// The signed charge of a line as the array forms it (config.sign_scheme):
// the line's charge minus its companion line's; lines start at line_v.
double signed_line_charge_c(const EvalConfig& config, const CurrentTable& model, const std::vector<double>& w_v,
                            const std::vector<double>& width_s, double scale);

void ode_forward(const EvalConfig& config, const CellMapping& cell, const CurrentTable& model, std::size_t B,
                 std::size_t H, std::size_t T, std::size_t D, const std::vector<float>& q, const std::vector<float>& k,
                 const std::vector<float>& v, std::vector<float>& out, std::vector<float>* S, std::vector<float>* phi,
                 unsigned threads, const EvalProgress& progress);

}  // namespace gaincell::eval::detail
