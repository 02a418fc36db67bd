// SPDX-License-Identifier: MIT
// File: gaincell/eval/numerics.h
//
// The float32 arithmetic of the authors' attention simulator, reproduced bit
// for bit (../shared/background/reference-simulator.md §3, §9):
//  * quantize: step = float32((hi - lo) / (n - 1)); value = step *
//    rint(x / step) in float32, round half to even, the grid anchored at 0
//    (torch.round on float32). 32 output levels on [-1, 1] give 33 values.
//  * bf16: float32 -> bfloat16 -> float32, round to nearest even (torch's
//    .to(torch.bfloat16)).
//  * decay: D(age) = powf(float32(exp(-decay_per_token)), float32(age)).
//  * the stage-2 readout: clamp, then the output ADC (OutputAdc).
//
//   float k = quantize(0.45f, 8, 0.0, 0.9);   // 0.385714...
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace gaincell::eval {

// Round a float32 to the nearest bfloat16 (ties to even) and back.
inline float bf16_round(float x) {
  if (std::isnan(x)) return x;
  std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  const std::uint32_t lsb = (bits >> 16) & 1U;
  bits += 0x7FFFU + lsb;
  bits &= 0xFFFF0000U;
  return std::bit_cast<float>(bits);
}

// The quantizer's step in float32: (hi - lo) / (levels - 1), computed in
// double (Python floats) and rounded to float32 as torch does for a scalar.
inline float quant_step(int levels, double lo, double hi) {
  return static_cast<float>((hi - lo) / static_cast<double>(levels - 1));
}

// step * round_half_even(x / step) in float32; levels <= 0 means off.
inline float quantize_with_step(float x, float step) { return step * std::nearbyint(x / step); }

inline float quantize(float x, int levels, double lo, double hi) {
  if (levels <= 0) return x;
  return quantize_with_step(x, quant_step(levels, lo, hi));
}

// The reference's clamp (torch.clamp on float32; NaN stays NaN). Branch-free
// (minss/maxss): the evaluator's kernel hits the clamp at random, where a
// branch would mispredict.
inline float clamp_f(float x, float lo, float hi) { return std::min(std::max(x, lo), hi); }

// The stage-2 readout of one sub-array: its scaled charge clamped to the
// output range [lo, hi], then the ADC of that range (step 0: no ADC, the
// clamp stays). Every evaluator mode and the SPICE check read out through it.
struct OutputAdc {
  float lo = -1.0f;
  float hi = 1.0f;
  float step = 0.0f;
  float operator()(float x) const {
    const float y = clamp_f(x, lo, hi);
    return step != 0.0f ? quantize_with_step(y, step) : y;
  }
};

// The ADC of `levels` levels on [lo, hi] (levels <= 0: off).
inline OutputAdc output_adc(int levels, double lo, double hi) {
  return {static_cast<float>(lo), static_cast<float>(hi), levels > 0 ? quant_step(levels, lo, hi) : 0.0f};
}

// D(age) for one age in tokens, float32 as the reference computes it.
inline float decay_at(double decay_per_token, long age) {
  const float base = static_cast<float>(std::exp(-decay_per_token));
  return std::pow(base, static_cast<float>(age));
}

}  // namespace gaincell::eval
