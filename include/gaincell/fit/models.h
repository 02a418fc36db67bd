// SPDX-License-Identifier: MIT
// File: gaincell/fit/models.h
//
// Fitted models of characterization data: one output column as a function of
// one or more named input columns. Four kinds exist:
//  * PaperPolyModel  the paper's eq. (4): y = x_pw * sum_ij C_ij (v - offset)^i vin^j;
//  * PolyModel       a total-degree-n polynomial (n <= 5) in any inputs;
//  * ExpDecayModel   V(t) = V_inf + (V0 - V_inf) exp(-t / tau);
//  * HardSigmoidModel  y = y_low + (y_sat - y_low) clamp((x - x0) / (x_sat - x0), 0, 1).
// Every fit drops the points whose inputs or output are NaN or inf (counted in
// FitQuality::points_excluded), refuses all-non-finite data (GC-1604) and
// fewer usable points than parameters (GC-1605), and fills a FitQuality.
// Each model carries a ModelInfo: input ranges seen in the data, output name
// and unit, quality, provenance and the out-of-range policy used by evaluate.
// Units are whatever the columns say; names should carry them (`t_s`).
//
//   FitData data{{{"t_s", "s", t}}, {"v_sn_v", "V", v}};
//   ExpDecayModel m = ExpDecayModel::fit(data, {});
//   double tau_s = m.tau_s();
//   double v_at_1ms = m.evaluate(std::vector<double>{1e-3});
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/fit/fit_quality.h"

namespace gaincell::fit {

// A data column: name (with unit suffix, by convention), unit, values.
struct Column {
  std::string name;
  std::string unit;
  std::vector<double> values;
};

// Inputs and output, all columns of equal length; point p is row p.
struct FitData {
  std::vector<Column> inputs;
  Column output;
};

// A model variable and its valid range: the min/max of the finite data it
// was fitted on (for the output: of the observed values).
struct Variable {
  std::string name;
  std::string unit;
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
};

// What evaluate does with an input outside [min, max] of its Variable:
// kClamp clamps it and reports a warning through the WarningSink (if any);
// kError throws InputError GC-1609.
enum class OutOfRange { kClamp, kError };

using WarningSink = std::function<void(const std::string& message)>;

struct ModelInfo {
  std::vector<Variable> inputs;
  Variable output;
  FitQuality quality;
  OutOfRange out_of_range = OutOfRange::kClamp;
  nlohmann::json provenance = nlohmann::json::object();  // free-form; the caller fills it
};

// Rank information of a linear fit. `identified` rows are an orthonormal
// basis of the combinations of coefficients that the data determine.
struct RankInfo {
  int rank = 0;
  int unknowns = 0;
  std::vector<double> singular_values;          // column-scaled design matrix, descending
  std::vector<std::vector<double>> identified;  // rank rows of `unknowns` entries
};

struct FitOptions {
  int cv_folds = 5;             // k of the k-fold CV; 0 or 1 = none; must be >= 0
  double rank_rtol = 1e-10;     // see LeastSquaresOptions
  bool allow_rank_deficient = false;
};

// ---------------------------------------------------------------------------
// y = x_pw * sum_{i=0..3} sum_{j=0..3-i} C_ij (v - offset_v)^i vin^j.
// Inputs: [x_pw, v] or [x_pw, v, vin]; with two inputs every point is at
// vin = vin_v. Coefficients in the authors' list order (i outer, j inner):
// C00 C01 C02 C03 C10 C11 C12 C20 C21 C30. At a single vin only the four
// combinations a_i = sum_j C_ij vin^j are determined (rank 4 of 10); the fit
// then returns the minimum-norm C, which is what numpy.linalg.lstsq returns
// (and how the authors' coefficients were made), and collapsed() gives a_i.
// With >= 4 distinct vin values all 10 are determined.
class PaperPolyModel {
 public:
  static constexpr int kCoefficients = 10;
  struct Options {
    double offset_v = 0.45;
    double vin_v = 0.9;  // vin of every point when no vin column is given
    FitOptions fit{5, 1e-10, /*allow_rank_deficient=*/true};
  };

  PaperPolyModel() = default;
  PaperPolyModel(ModelInfo info, const std::array<double, kCoefficients>& c, double offset_v,
                 double vin_v, RankInfo rank);

  // Throws GC-1603/1604/1605/1610, and GC-1602 for a rank deficiency when
  // options.fit.allow_rank_deficient is false.
  static PaperPolyModel fit(const FitData& data, const Options& options);

  // inputs: values in the order of info().inputs. Throws GC-1610 on a wrong
  // count, GC-1609 out of range under OutOfRange::kError. x_pw is exempt from
  // the range policy: y is proportional to it by construction.
  double evaluate(std::span<const double> inputs, const WarningSink& warn = {}) const;

  // a_i = sum_j C_ij vin^j, i = 0..3 (polynomial in v - offset, per unit x_pw).
  std::array<double, 4> collapsed(double vin_v) const;
  std::array<double, 4> collapsed() const { return collapsed(vin_v_); }

  static int index(int i, int j);              // position of C_ij in the list
  static std::string coefficient_name(int k);  // "C_i_j" of list position k
  const std::array<double, kCoefficients>& coefficients() const { return c_; }
  double offset_v() const { return offset_v_; }
  double vin_v() const { return vin_v_; }
  const RankInfo& rank_info() const { return rank_; }
  // A sentence on the minimum-norm choice when rank < 10, "" otherwise.
  std::string note() const;
  const ModelInfo& info() const { return info_; }
  ModelInfo& info() { return info_; }

 private:
  ModelInfo info_;
  std::array<double, kCoefficients> c_{};
  double offset_v_ = 0.45;
  double vin_v_ = 0.9;
  RankInfo rank_;
};

// ---------------------------------------------------------------------------
// Total-degree polynomial: y = sum_k c_k prod_d u_d^e_kd, with each input
// scaled to u = (x - center) / half_range in [-1, 1] over the data (a constant
// input gets half_range 1). Monomials in graded lexicographic order: by total
// degree ascending, then by the exponent of the first input descending, then
// of the second, ...; for inputs (x, y), degree 2: 1, x, y, x^2, x*y, y^2.
// Coefficients refer to the scaled inputs.
class PolyModel {
 public:
  static constexpr int kMaxDegree = 5;
  struct Options {
    int degree = 3;  // 0..5
    FitOptions fit;
  };

  PolyModel() = default;
  PolyModel(ModelInfo info, int degree, std::vector<double> centers, std::vector<double> half_ranges,
            std::vector<double> c, RankInfo rank);

  // Throws GC-1602/1603/1604/1605/1610.
  static PolyModel fit(const FitData& data, const Options& options);
  double evaluate(std::span<const double> inputs, const WarningSink& warn = {}) const;

  // Exponent tuples of the monomials, in the order above.
  static std::vector<std::vector<int>> monomials(std::size_t n_inputs, int degree);
  // "1", "x", "x^2*y" with the input names.
  std::string coefficient_name(std::size_t k) const;
  int degree() const { return degree_; }
  const std::vector<double>& coefficients() const { return c_; }
  const std::vector<double>& centers() const { return centers_; }
  const std::vector<double>& half_ranges() const { return half_ranges_; }
  const RankInfo& rank_info() const { return rank_; }
  const ModelInfo& info() const { return info_; }
  ModelInfo& info() { return info_; }

 private:
  ModelInfo info_;
  int degree_ = 0;
  std::vector<double> centers_, half_ranges_, c_;
  RankInfo rank_;
};

// ---------------------------------------------------------------------------
// V(t) = V_inf + (V0 - V_inf) exp(-t / tau); one input (time), one output.
// Fitted by variable projection: for fixed tau the model is linear in
// (V_inf, V0 - V_inf), so the residual norm is minimized over log(tau) alone,
// first on a log grid spanning [min time step / 10, 100 * time span], then by
// golden-section search between the grid neighbours of the best node.
// Decision: data that does not decay is REFUSED (GC-1606), not reported as
// tau = inf: flat data (peak-to-peak <= 1e-12 of max |V|), and data whose
// best tau lies at an edge of the search bracket (decay not resolved by the
// sampled times). Fit a degree-0/1 PolyModel to such data instead.
class ExpDecayModel {
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
  const ModelInfo& info() const { return info_; }
  ModelInfo& info() { return info_; }

 private:
  ModelInfo info_;
  double tau_s_ = 0.0, v_inf_v_ = 0.0, v0_v_ = 0.0;
};

// ---------------------------------------------------------------------------
// y = y_low + (y_sat - y_low) * clamp((x - x0) / (x_sat - x0), 0, 1); one
// input. The paper's HardSigmoid is y_low = 0 (Options::has_floor = false);
// with has_floor (default) a constant offset of the output, e.g. a fixed
// delay added to every pulse width, is fitted as y_low. Slope =
// (y_sat - y_low) / (x_sat - x0). Fitted exactly over all splits of the
// sorted points into below / on / above the ramp (segmented regression; for
// each split the model is linear), keeping the best split whose breakpoints
// fall between its neighbouring points. Needs >= 2 points on the ramp, >= 1
// above and (with has_floor) >= 1 below, else GC-1607.
class HardSigmoidModel {
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
  const ModelInfo& info() const { return info_; }
  ModelInfo& info() { return info_; }

 private:
  ModelInfo info_;
  double x0_ = 0.0, x_sat_ = 1.0, y_low_ = 0.0, y_sat_ = 0.0;
};

// ---------------------------------------------------------------------------
// An N-D lookup table on the data's own regular grid (every combination of
// the inputs' distinct values present exactly once, none NaN), interpolated
// linearly or with cubic Hermite splines (Catmull-Rom slopes, one-sided at
// the ends), dimension by dimension. At its nodes a table is exact, so its
// honest error is the hold-out one: cv_rms_residual is the RMS error at the
// nodes left out when every other node of each axis (ends kept) is removed
// and the rest interpolated (cv_folds = 2).
class LutModel {
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

  const std::vector<std::vector<double>>& grids() const { return grids_; }
  const std::vector<double>& values() const { return values_; }  // row-major, last input fastest
  Interpolation interpolation() const { return interpolation_; }
  const ModelInfo& info() const { return info_; }
  ModelInfo& info() { return info_; }

 private:
  double interpolate(std::span<const double> x) const;
  ModelInfo info_;
  std::vector<std::vector<double>> grids_;
  std::vector<double> values_;
  Interpolation interpolation_ = Interpolation::kLinear;
};

}  // namespace gaincell::fit
