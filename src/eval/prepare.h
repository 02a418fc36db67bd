// SPDX-License-Identifier: MIT
// Internal: the per-value steps of the forward pass that every evaluator
// mode shares (the kernel modes and the ODE mode): the per-head input scaler,
// the clamp and the DAC, and the output scaler. float32 as the reference.
#pragma once

#include <algorithm>
#include <cstddef>

#include "gaincell/eval/config.h"
#include "gaincell/eval/numerics.h"

namespace gaincell::eval::detail {

enum class Input { kQ, kK, kV };

// a x + b (a >= 1e-20, per head), clamped, quantized (levels > 0).
inline float prepare_input(const EvalConfig& c, Input which, float x, std::size_t head) {
  const Scaler& s = which == Input::kQ ? c.scaler_q : (which == Input::kK ? c.scaler_k : c.scaler_v);
  const auto& range = which == Input::kQ ? c.clamp_q : c.clamp_kv;
  const int levels = which == Input::kQ ? c.levels_q : c.levels_kv;
  const float a = static_cast<float>(std::max(s.a_of(head), 1e-20));
  const float b = static_cast<float>(s.b_of(head));
  float y = clamp_f(a * x + b, static_cast<float>(range[0]), static_cast<float>(range[1]));
  if (levels > 0) y = quantize(y, levels, range[0], range[1]);
  return y;
}

// The output scaler on the digital sum of the sub-arrays.
inline float scale_output(const EvalConfig& c, float sum, std::size_t head) {
  const float a = static_cast<float>(std::max(c.scaler_out.a_of(head), 1e-20));
  return a * sum + static_cast<float>(c.scaler_out.b_of(head));
}

}  // namespace gaincell::eval::detail
