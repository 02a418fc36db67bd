// SPDX-License-Identifier: MIT
// File: gaincell/fit/model_hard_sigmoid.h
//
// The charge-to-pulse converter's transfer: a ramp between a floor and a
// saturation level (the paper's HardSigmoid, optionally with a floor).
//
//   FitData data{{{"q_c", "C", q}}, {"t_out_s", "s", t}};
//   HardSigmoidModel m = HardSigmoidModel::fit(data, {});
//   double t_max_s = m.y_sat(), q_sat_c = m.x_sat();
#pragma once

#include <span>

#include "gaincell/fit/model_info.h"

namespace gaincell::fit {

// y = y_low + (y_sat - y_low) * clamp((x - x0) / (x_sat - x0), 0, 1); one
// input. The paper's HardSigmoid is y_low = 0 (Options::has_floor = false);
// with has_floor (default) a constant offset of the output, e.g. a fixed
// delay added to every pulse width, is fitted as y_low. Slope =
// (y_sat - y_low) / (x_sat - x0). Fitted exactly over all splits of the
// sorted points into below / on / above the ramp (segmented regression; for
// each split the model is linear), keeping the best split whose breakpoints
// fall between its neighbouring points. Needs >= 2 points on the ramp, >= 1
// above and (with has_floor) >= 1 below, else GC-1607.
class HardSigmoidModel : public ModelWithInfo {
 public:
  struct Options {
    bool has_floor = true;
    FitOptions fit;
  };

  HardSigmoidModel() = default;
  HardSigmoidModel(ModelInfo info, double x0, double x_sat, double y_low, double y_sat);

  // Throws GC-1603/1604/1605/1607/1610.
  static HardSigmoidModel fit(const FitData& data, const Options& options);
  double evaluate(std::span<const double> inputs, const WarningSink& warn = {}) const;

  double x0() const { return x0_; }        // input unit
  double x_sat() const { return x_sat_; }  // input unit
  double y_low() const { return y_low_; }  // output unit
  double y_sat() const { return y_sat_; }  // output unit
  double slope() const { return (y_sat_ - y_low_) / (x_sat_ - x0_); }

 private:
  double x0_ = 0.0, x_sat_ = 1.0, y_low_ = 0.0, y_sat_ = 0.0;
};

}  // namespace gaincell::fit
