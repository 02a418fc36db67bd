// SPDX-License-Identifier: MIT
// File: gaincell/fit/model_exp_decay.h
//
// Retention: a stored voltage decaying exponentially toward an asymptote.
//
//   FitData data{{{"t_s", "s", t}}, {"v_sn_v", "V", v}};
//   ExpDecayModel m = ExpDecayModel::fit(data, {});
//   double tau_s = m.tau_s();
//   double v_at_1ms = m.evaluate(std::vector<double>{1e-3});
#pragma once

#include <limits>
#include <span>

#include "gaincell/fit/model_info.h"

namespace gaincell::fit {

// V(t) = V_inf + (V0 - V_inf) exp(-t / tau); one input (time), one output.
// Fitted by variable projection: for fixed tau the model is linear in
// (V_inf, V0 - V_inf), so the residual norm is minimized over log(tau) alone,
// first on a log grid spanning [min time step / 10, 100 * time span], then by
// golden-section search between the grid neighbours of the best node.
// Decision: data that does not decay is REFUSED (GC-1606), not reported as
// tau = inf: flat data (peak-to-peak <= 1e-12 of max |V|), and data whose
// best tau lies at an edge of the search bracket (decay not resolved by the
// sampled times). Fit a degree-0/1 PolyModel to such data instead.
class ExpDecayModel : public ModelWithInfo {
 public:
  struct Options {
    int grid_points = 64;  // log-spaced tau nodes of the coarse scan, >= 8
    FitOptions fit;
    // The asymptote V_inf, if known (NaN: fitted). Fixed, the decay's slope
    // alone sets tau, so time constants far beyond the data's span resolve.
    double v_inf_v = std::numeric_limits<double>::quiet_NaN();
  };

  ExpDecayModel() = default;
  ExpDecayModel(ModelInfo info, double tau_s, double v_inf_v, double v0_v);

  // Throws GC-1603/1604/1605/1606/1610.
  static ExpDecayModel fit(const FitData& data, const Options& options);
  double evaluate(std::span<const double> inputs, const WarningSink& warn = {}) const;

  double tau_s() const { return tau_s_; }
  double v_inf_v() const { return v_inf_v_; }
  double v0_v() const { return v0_v_; }

 private:
  double tau_s_ = 0.0, v_inf_v_ = 0.0, v0_v_ = 0.0;
};

}  // namespace gaincell::fit
