// SPDX-License-Identifier: MIT
// File: gaincell/fit/fit_model.h
//
// Fitting a model of a kind named at run time, as `gaincell fit --model`
// names it, with one set of options for every kind; and the provenance a
// fitted model records of its data. The CLI is a shell over these.
//
//   DataReport report;
//   FitData data = load_fit_data("runs/mult.h5", {.inputs = {"v"}, .output = "q_c", .where = {}}, &report);
//   FitModelOptions o;
//   o.degree = 2;
//   Model m = fit_model("poly", data, o);
//   record_provenance(m, "runs/mult.h5", report);
//   save_model_file("fits/mult.poly.json", m);
#pragma once

#include <limits>
#include <string>

#include "gaincell/fit/data_source.h"
#include "gaincell/fit/model_file.h"

namespace gaincell::fit {

struct FitModelOptions {
  int degree = 3;                                           // poly: total degree, 0..5
  double offset_v = 0.45;                                   // paper-poly: stored-voltage offset, V
  double vin_v = 0.9;                                       // paper-poly: vin of data without a vin column, V
  double v_inf_v = std::numeric_limits<double>::quiet_NaN();  // exp-decay: fixed asymptote, V (NaN: fitted)
  std::string interpolation = "linear";                     // lut: "linear" or "cubic"
  FitOptions fit;  // cv_folds and rank options; paper-poly always accepts a rank deficiency (one vin)
  OutOfRange out_of_range = OutOfRange::kClamp;             // the fitted model's policy
};

// Fits `data` with the model kind `kind`: paper-poly, poly, exp-decay,
// hardsigmoid or lut. Throws InputError GC-1611 for another kind or (lut) an
// interpolation other than linear or cubic, and what the kind's fit throws.
Model fit_model(const std::string& kind, const FitData& data, const FitModelOptions& options);

// Records in the model's provenance where its data came from: source_file,
// source_sha256, points_failed_in_source, points_filtered, the report's own
// provenance (spec hash, ngspice version...) and fitted_by (gaincell's
// version and git sha).
void record_provenance(Model& model, const std::string& source_file, const DataReport& report);

}  // namespace gaincell::fit
