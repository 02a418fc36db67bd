// SPDX-License-Identifier: MIT
// File: gaincell/fit/model_lut.h
//
// A lookup table on the data's own regular grid, for surfaces no formula
// fits: exact at the measured points, interpolated between them.
//
//   FitData data{{{"v_store_v", "V", v}, {"v_line_v", "V", l}}, {"i_a", "A", i}};
//   LutModel m = LutModel::fit(data, {LutModel::Interpolation::kCubic});
//   double i_a = m.evaluate(std::vector<double>{0.3, 0.1});
#pragma once

#include <span>
#include <vector>

#include "gaincell/fit/model_info.h"

namespace gaincell::fit {

// An N-D lookup table on the data's own regular grid (every combination of
// the inputs' distinct values present exactly once, none NaN), interpolated
// linearly or with cubic Hermite splines (Catmull-Rom slopes, one-sided at
// the ends), dimension by dimension. At its nodes a table is exact, so its
// honest error is the hold-out one: cv_rms_residual is the RMS error at the
// nodes left out when every other node of each axis (ends kept) is removed
// and the rest interpolated (cv_folds = 2).
class LutModel : public ModelWithInfo {
 public:
  enum class Interpolation { kLinear, kCubic };
  struct Options {
    Interpolation interpolation = Interpolation::kLinear;
  };

  LutModel() = default;
  LutModel(ModelInfo info, std::vector<std::vector<double>> grids, std::vector<double> values,
           Interpolation interpolation);

  // Throws GC-1610 for a wrong shape, GC-1614 if the data is not a complete
  // grid or holds NaN (failed points leave holes a table cannot bridge).
  static LutModel fit(const FitData& data, const Options& options);
  double evaluate(std::span<const double> inputs, const WarningSink& warn = {}) const;

  // "linear" or "cubic", as the model file spells it.
  static const char* interpolation_name(Interpolation interpolation);
  const std::vector<std::vector<double>>& grids() const { return grids_; }
  const std::vector<double>& values() const { return values_; }  // row-major, last input fastest
  Interpolation interpolation() const { return interpolation_; }

 private:
  double interpolate(std::span<const double> x) const;
  std::vector<std::vector<double>> grids_;
  std::vector<double> values_;
  Interpolation interpolation_ = Interpolation::kLinear;
};

}  // namespace gaincell::fit
