// SPDX-License-Identifier: MIT
#include "ode.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <thread>

#include <boost/numeric/odeint.hpp>

#include "gaincell/eval/numerics.h"
#include "prepare.h"

namespace gaincell::eval::detail {

CurrentTable::CurrentTable(const ReadCurrentModel& model, double w_lo_v, double w_hi_v) {
  const auto& info = fit::info_of(model.model);
  double v_lo = 0.0, v_hi = 1.0;
  if (model.two_inputs && info.inputs.size() == 2) {
    v_lo = info.inputs[1].min;
    v_hi = info.inputs[1].max;
  }
  if (!(v_hi > v_lo)) v_hi = v_lo + 1e-3;
  constexpr double kStep = 2e-3;  // V: bilinear error ~ (2 mV)^2 / 8 * I'', 1e-5 of full scale
  nw_ = static_cast<std::size_t>(std::ceil((w_hi_v - w_lo_v) / kStep)) + 1;
  nv_ = static_cast<std::size_t>(std::ceil((v_hi - v_lo) / kStep)) + 1;
  nw_ = std::max<std::size_t>(nw_, 2);
  nv_ = std::max<std::size_t>(nv_, 2);
  w_lo_ = w_lo_v;
  v_lo_ = v_lo;
  inv_dw_ = static_cast<double>(nw_ - 1) / (w_hi_v - w_lo_v);
  inv_dv_ = static_cast<double>(nv_ - 1) / (v_hi - v_lo);
  x_max_ = static_cast<double>(nw_ - 1);
  y_max_ = static_cast<double>(nv_ - 1);
  table_.resize(nw_ * nv_);
  for (std::size_t i = 0; i < nw_; ++i) {
    const double w = w_lo_v + (w_hi_v - w_lo_v) * static_cast<double>(i) / static_cast<double>(nw_ - 1);
    for (std::size_t j = 0; j < nv_; ++j) {
      const double v = v_lo + (v_hi - v_lo) * static_cast<double>(j) / static_cast<double>(nv_ - 1);
      table_[i * nv_ + j] = model.evaluate(w, v);
    }
  }
}

double line_charge_c(const CurrentTable& model, const std::vector<double>& w_v, const std::vector<double>& width_s,
                     double scale, double c_line_f, double v0_v) {
  namespace odeint = boost::numeric::odeint;
  // Group equal stored voltages (quantized K/V take few values); the
  // current of a group is count x I(w, V).
  struct Cell {
    double end_s;
    double w_v;
  };
  std::vector<Cell> cells;
  for (std::size_t j = 0; j < w_v.size(); ++j) {
    if (width_s[j] > 0) cells.push_back({width_s[j], w_v[j]});
  }
  if (cells.empty()) return 0.0;
  std::sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) { return a.end_s < b.end_s; });
  double V = v0_v;
  double t = 0.0;
  std::size_t first_on = 0;
  auto stepper = odeint::make_controlled<odeint::runge_kutta_dopri5<double>>(1e-9, 1e-9);
  while (first_on < cells.size()) {
    const double t_end = cells[first_on].end_s;
    if (t_end > t) {
      std::map<double, int> groups;
      for (std::size_t j = first_on; j < cells.size(); ++j) ++groups[cells[j].w_v];
      auto rhs = [&](const double& x, double& dxdt, double) {
        double i_total = 0.0;
        for (const auto& [w, n] : groups) i_total += n * model(w, x);
        dxdt = -scale * i_total / c_line_f;
      };
      const double dt0 = (t_end - t) / 8.0;
      odeint::integrate_adaptive(stepper, rhs, V, t, t_end, dt0);
      t = t_end;
    }
    while (first_on < cells.size() && cells[first_on].end_s <= t) ++first_on;
  }
  return c_line_f * (v0_v - V);
}

double signed_line_charge_c(const EvalConfig& c, const CurrentTable& model, const std::vector<double>& w_v,
                            const std::vector<double>& width_s, double scale) {
  const double v0 = c.line_level_v();
  const double q = line_charge_c(model, w_v, width_s, scale, c.c_line_f, v0);
  if (c.sign_scheme == cell::SignScheme::kSigned) return q;
  // The companion line floats too: cells storing offset_v (reference column) or
  // the complements 2 offset_v - w (differential), read by the same pulses.
  std::vector<double> companion(w_v.size(), c.offset_v);
  if (c.sign_scheme == cell::SignScheme::kDifferential) {
    for (std::size_t j = 0; j < w_v.size(); ++j) companion[j] = 2.0 * c.offset_v - w_v[j];
  }
  return q - line_charge_c(model, companion, width_s, scale, c.c_line_f, v0);
}

namespace {

// One pass of the ODE mode: its arrays, and the per-thread scratch of one line.
struct OdePass {
  const EvalConfig& c;
  const CellMapping& cell;
  const CurrentTable& model;
  std::size_t H, T, D;
  const std::vector<float>& q;
  const std::vector<float>& k;
  const std::vector<float>& v;
  std::vector<float>& out;
  std::vector<float>* S;
  std::vector<float>* phi;
};

struct OdeLine {
  std::vector<double> w, width;  // the line's cells: stored voltages, pulse widths
  std::vector<double> phis;      // stage-1 pulses of the query row, per key
};

// A stored value after `age` tokens: its offset relaxes (per-order rule), or
// stays (global rule: the decay scales the current instead).
double stored_v(const EvalConfig& c, double x, double decay) {
  return c.decay_rule == DecayRule::kPerOrder ? c.offset_v + (x - c.offset_v) * decay : x;
}

// Stage 1 of query t of head bh: one line per key s in the window; fills line.phis.
void stage1(const OdePass& p, std::size_t bh, std::size_t t, long first, OdeLine& line) {
  const EvalConfig& c = p.c;
  const bool per_order = c.decay_rule == DecayRule::kPerOrder;
  const std::size_t head = bh % p.H, base = bh * p.T * p.D;
  line.phis.assign(p.T, 0.0);
  for (long s = first; s <= static_cast<long>(t); ++s) {
    const double D_age = decay_at(c.decay_per_token, static_cast<long>(t) - s);
    line.w.clear();
    line.width.clear();
    for (std::size_t d = 0; d < p.D; ++d) {
      line.w.push_back(stored_v(c, prepare_input(c, Input::kK, p.k[base + static_cast<std::size_t>(s) * p.D + d], head), D_age));
      line.width.push_back(prepare_input(c, Input::kQ, p.q[base + t * p.D + d], head) * p.cell.t_max_s);
    }
    const double Q = signed_line_charge_c(c, p.model, line.w, line.width, per_order ? 1.0 : D_age);
    const double phi = p.cell.phi_of_charge(Q);
    line.phis[static_cast<std::size_t>(s)] = phi;
    const std::size_t at = (bh * p.T + t) * p.T + static_cast<std::size_t>(s);
    if (p.S != nullptr) (*p.S)[at] = static_cast<float>(Q / p.cell.q_unit_c);
    if (p.phi != nullptr) (*p.phi)[at] = static_cast<float>(phi);
  }
}

// Stage 2 of query t of head bh: per output dimension and key tile, one line
// of the tile's cells read with the stage-1 pulses, through the output ADC.
void stage2(const OdePass& p, std::size_t bh, std::size_t t, long first, OdeLine& line) {
  const EvalConfig& c = p.c;
  const bool per_order = c.decay_rule == DecayRule::kPerOrder;
  const long tile = c.tile_keys;
  const std::size_t head = bh % p.H, base = bh * p.T * p.D;
  const OutputAdc adc = output_adc(c.levels_out, c.clamp_out[0], c.clamp_out[1]);
  for (std::size_t d = 0; d < p.D; ++d) {
    float sum = 0.0f;
    for (long t0 = (first / tile) * tile; t0 <= static_cast<long>(t); t0 += tile) {
      line.w.clear();
      line.width.clear();
      for (long s = std::max(first, t0); s <= std::min<long>(static_cast<long>(t), t0 + tile - 1); ++s) {
        const double D_age = decay_at(c.decay_per_token, static_cast<long>(t) - s);
        line.w.push_back(stored_v(c, prepare_input(c, Input::kV, p.v[base + static_cast<std::size_t>(s) * p.D + d], head), D_age));
        // Global decay scales each cell's current; fold it into its pulse width (charge is linear in both).
        line.width.push_back(line.phis[static_cast<std::size_t>(s)] * p.cell.t_max_s * (per_order ? 1.0 : D_age));
      }
      const double Q2 = signed_line_charge_c(c, p.model, line.w, line.width, 1.0);
      sum += adc(static_cast<float>(Q2 / p.cell.q2_full_scale_c));
    }
    p.out[base + t * p.D + d] = scale_output(c, sum, head);
  }
}

}  // namespace

void ode_forward(const EvalConfig& c, const CellMapping& cell, const CurrentTable& model, std::size_t B,
                 std::size_t H, std::size_t T, std::size_t D, const std::vector<float>& q, const std::vector<float>& k,
                 const std::vector<float>& v, std::vector<float>& out, std::vector<float>* S, std::vector<float>* phi,
                 unsigned threads, const EvalProgress& progress) {
  const OdePass pass{c, cell, model, H, T, D, q, k, v, out, S, phi};
  const std::size_t items = B * H * T;
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex progress_mu;
  auto work = [&] {
    OdeLine line;
    for (std::size_t item = next++; item < items; item = next++) {
      const std::size_t bh = item / T, t = item % T;
      const long first = std::max(0L, static_cast<long>(t) - c.window + 1);
      stage1(pass, bh, t, first, line);
      stage2(pass, bh, t, first, line);
      if (progress) {
        const std::size_t n = ++done;
        std::lock_guard lock(progress_mu);
        if (n % 16 == 0 || n == items) progress(n, items);
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

}  // namespace gaincell::eval::detail
