// SPDX-License-Identifier: MIT
#include "gaincell/fit/fit_model.h"

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"

namespace gaincell::fit {
namespace {

PaperPolyModel fit_paper_poly(const FitData& data, const FitModelOptions& options) {
  PaperPolyModel::Options o{.offset_v = options.offset_v, .vin_v = options.vin_v, .fit = options.fit};
  o.fit.allow_rank_deficient = true;  // one vin: 4 of 10 combinations, reported
  return PaperPolyModel::fit(data, o);
}

LutModel::Interpolation interpolation_of(const std::string& name) {
  if (name == "cubic") return LutModel::Interpolation::kCubic;
  if (name == "linear") return LutModel::Interpolation::kLinear;
  throw InputError("GC-1611", "--interpolation " + name + ": expected linear or cubic");
}

}  // namespace

Model fit_model(const std::string& kind, const FitData& data, const FitModelOptions& options) {
  Model model;
  if (kind == "paper-poly") {
    model = fit_paper_poly(data, options);
  } else if (kind == "poly") {
    model = PolyModel::fit(data, {.degree = options.degree, .fit = options.fit});
  } else if (kind == "exp-decay") {
    model = ExpDecayModel::fit(data, {.fit = options.fit, .v_inf_v = options.v_inf_v});
  } else if (kind == "hardsigmoid") {
    model = HardSigmoidModel::fit(data, {.fit = options.fit});
  } else if (kind == "lut") {
    model = LutModel::fit(data, {.interpolation = interpolation_of(options.interpolation)});
  } else {
    throw InputError("GC-1611",
                     "--model " + kind + ": expected paper-poly, poly, exp-decay, hardsigmoid or lut");
  }
  info_of(model).out_of_range = options.out_of_range;
  return model;
}

void record_provenance(Model& model, const std::string& source_file, const DataReport& report) {
  nlohmann::json& p = info_of(model).provenance;
  p["source_file"] = source_file;
  p["source_sha256"] = report.source_sha256;
  p["points_failed_in_source"] = report.points_failed;
  p["points_filtered"] = report.points_filtered;
  for (const auto& [k, v] : report.provenance) p[k] = v;
  p["fitted_by"] = "gaincell " + build_info().version + " (" + build_info().git_sha + ")";
}

}  // namespace gaincell::fit
