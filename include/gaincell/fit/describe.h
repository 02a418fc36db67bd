// SPDX-License-Identifier: MIT
// File: gaincell/fit/describe.h
//
// A model as a person reads it: what `gaincell fit` and `gaincell model
// show` print. Values carry SI prefixes and units (1.5 ns, 200 mV).
//
//   std::string text = describe(load_model_file("fits/c2p.hardsigmoid.json"));
//   // model: hard_sigmoid (gaincell-model/1)
//   // output: t_out_s [s], observed ...
#pragma once

#include <string>

#include "gaincell/fit/model_file.h"

namespace gaincell::fit {

// Lines "key: value": kind and format, output and inputs with their ranges,
// the out-of-range policy, coefficients (a table's shape instead of its
// values), parameters, rank, note, fit quality and provenance. Never throws
// for a model that to_json accepts.
std::string describe(const Model& model);

}  // namespace gaincell::fit
