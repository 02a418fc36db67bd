// SPDX-License-Identifier: MIT
// File: gaincell/fit/models.h
//
// Fitted models of characterization data: one output column as a function of
// one or more named input columns. Five kinds exist, one header each:
//  * PaperPolyModel    the paper's eq. (4): y = x_pw * sum_ij C_ij (v - offset)^i vin^j;
//  * PolyModel         a total-degree-n polynomial (n <= 5) in any inputs;
//  * ExpDecayModel     V(t) = V_inf + (V0 - V_inf) exp(-t / tau);
//  * HardSigmoidModel  y = y_low + (y_sat - y_low) clamp((x - x0) / (x_sat - x0), 0, 1);
//  * LutModel          a table on the data's regular grid, linear or cubic between nodes.
// Every fit but the table's drops the points whose inputs or output are NaN
// or inf (counted in FitQuality::points_excluded), refuses all-non-finite
// data (GC-1604) and fewer usable points than parameters (GC-1605), and
// fills a FitQuality; a table refuses NaN points (GC-1614). Each model
// carries a ModelInfo (model_info.h): input ranges seen in the data, output
// name and unit, quality, provenance and the out-of-range policy used by
// evaluate. Units are whatever the columns say; names should carry them (`t_s`).
//
//   FitData data{{{"t_s", "s", t}}, {"v_sn_v", "V", v}};
//   ExpDecayModel m = ExpDecayModel::fit(data, {});
//   double tau_s = m.tau_s();
//   double v_at_1ms = m.evaluate(std::vector<double>{1e-3});
#pragma once

#include "gaincell/fit/model_exp_decay.h"
#include "gaincell/fit/model_hard_sigmoid.h"
#include "gaincell/fit/model_info.h"
#include "gaincell/fit/model_lut.h"
#include "gaincell/fit/model_paper_poly.h"
#include "gaincell/fit/model_poly.h"
