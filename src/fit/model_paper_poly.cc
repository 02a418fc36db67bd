// SPDX-License-Identifier: MIT
#include "gaincell/fit/model_paper_poly.h"

#include <cmath>
#include <utility>

#include "gaincell/core/error.h"
#include "gaincell/fit/least_squares.h"
#include "model_support.h"

namespace gaincell::fit {
namespace {

using detail::Clean;

struct PaperCore {
  LinearFit fit;
};

double paper_value(const PaperPolyModel::Coefficients& c, double offset_v, double x_pw, double v, double vin) {
  double sum = 0.0, dv_i = 1.0;
  int k = 0;
  for (int i = 0; i <= 3; ++i) {
    double vin_j = 1.0;
    for (int j = 0; j <= 3 - i; ++j) {
      sum += c[static_cast<std::size_t>(k++)] * dv_i * vin_j;
      vin_j *= vin;
    }
    dv_i *= v - offset_v;
  }
  return x_pw * sum;
}

// The inputs' order carries their meaning: a swapped pair still fits, badly,
// and says nothing. Refuses units that do not read pulse width, voltage[, vin].
void check_input_order(const FitData& data) {
  if (data.inputs.size() < 2) return;
  const auto& pw = data.inputs[0];
  const auto& v = data.inputs[1];
  if ((pw.unit == "s" || pw.unit == "1" || pw.unit.empty()) && v.unit == "V" &&
      (data.inputs.size() != 3 || data.inputs[2].unit == "V")) {
    return;
  }
  std::string given;
  for (const auto& x : data.inputs) given += (given.empty() ? "" : ", ") + x.name + " [" + x.unit + "]";
  throw InputError("GC-1610", "fit paper_poly: the inputs are, in order, the pulse width (s, or 1 for a fraction of t_max), "
                              "the stored voltage (V) and optionally vin (V); given: " + given +
                                  (v.unit == "s" && pw.unit == "V" ? " (swapped? -i " + v.name + "," + pw.name + ")" : ""));
}

// Row p: x_pw (v - offset)^i vin^j in list order.
PaperCore solve_paper(const Clean& c, const PaperPolyModel::Options& options) {
  Eigen::MatrixXd a(static_cast<Eigen::Index>(c.size()), PaperPolyModel::kCoefficients);
  Eigen::VectorXd b(static_cast<Eigen::Index>(c.size()));
  for (std::size_t p = 0; p < c.size(); ++p) {
    const double vin = c.x.size() == 3 ? c.x[2][p] : options.vin_v;
    const double dv = c.x[1][p] - options.offset_v;
    const auto r = static_cast<Eigen::Index>(p);
    for (int i = 0; i <= 3; ++i) {
      for (int j = 0; j <= 3 - i; ++j) {
        a(r, PaperPolyModel::index(i, j)) = c.x[0][p] * std::pow(dv, i) * std::pow(vin, j);
      }
    }
    b(r) = c.y[p];
  }
  return PaperCore{solve_least_squares(a, b, detail::ls_options(options.fit))};
}

PaperPolyModel::Coefficients coefficients_of(const PaperCore& f) {
  PaperPolyModel::Coefficients c{};
  for (std::size_t k = 0; k < c.size(); ++k) c[k] = f.fit.x(static_cast<Eigen::Index>(k));
  return c;
}

}  // namespace

PaperPolyModel::PaperPolyModel(ModelInfo info, const Coefficients& c, double offset_v, double vin_v, RankInfo rank)
    : ModelWithInfo(std::move(info)), c_(c), offset_v_(offset_v), vin_v_(vin_v), rank_(std::move(rank)) {}

int PaperPolyModel::index(int i, int j) {
  GC_CHECK(i >= 0 && j >= 0 && i + j <= 3) << "C_" << i << "_" << j;
  int k = 0;
  for (int ii = 0; ii < i; ++ii) k += 4 - ii;
  return k + j;
}

std::string PaperPolyModel::coefficient_name(int k) {
  for (int i = 0; i <= 3; ++i) {
    for (int j = 0; j <= 3 - i; ++j) {
      if (index(i, j) == k) return "C_" + std::to_string(i) + "_" + std::to_string(j);
    }
  }
  GC_CHECK(false) << "coefficient " << k;
  return "";
}

PaperPolyModel PaperPolyModel::fit(const FitData& data, const Options& options) {
  detail::check_fit_options(options.fit);
  check_input_order(data);
  const Clean clean = detail::clean_data(data, "paper_poly", 2, 3, kCoefficients);
  const auto core = [&](const Clean& c) { return solve_paper(c, options); };
  const auto predict = [&](const PaperCore& f, const std::vector<double>& x) {
    return paper_value(coefficients_of(f), options.offset_v, x[0], x[1], x.size() == 3 ? x[2] : options.vin_v);
  };
  const PaperCore fitted = core(clean);
  return PaperPolyModel(detail::fitted_info(data, clean, options.fit, core, predict, fitted), coefficients_of(fitted),
                        options.offset_v, options.vin_v, detail::rank_info_of(fitted.fit));
}

double PaperPolyModel::evaluate(std::span<const double> inputs, const WarningSink& warn) const {
  // y is proportional to x_pw by construction, so x_pw is not range-checked:
  // a fit at x_pw = 1 alone must still scale to shorter pulses.
  const std::vector<double> x = detail::checked_inputs(info_, "paper_poly", inputs, warn, 1);
  return paper_value(c_, offset_v_, x[0], x[1], x.size() == 3 ? x[2] : vin_v_);
}

std::array<double, 4> PaperPolyModel::collapse(const Coefficients& c, double vin_v) {
  std::array<double, 4> a{};
  for (int i = 0; i <= 3; ++i) {
    double vin_j = 1.0;
    for (int j = 0; j <= 3 - i; ++j) {
      a[static_cast<std::size_t>(i)] += c[static_cast<std::size_t>(index(i, j))] * vin_j;
      vin_j *= vin_v;
    }
  }
  return a;
}

std::string PaperPolyModel::note() const {
  if (rank_.rank >= rank_.unknowns) return "";
  return "rank " + std::to_string(rank_.rank) + " of " + std::to_string(rank_.unknowns) +
         ": the data determine only the identified combinations (at a single vin: a_i = sum_j C_ij vin^j); "
         "the coefficients are the minimum-norm solution, as numpy.linalg.lstsq returns";
}

}  // namespace gaincell::fit
