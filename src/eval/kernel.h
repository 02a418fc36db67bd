// SPDX-License-Identifier: MIT
// Internal: the evaluator's per-query kernel. One function computes one
// query row of one head (both stages, every key tile in the window); the
// whole-sequence and the decode modes call exactly this function, so their
// outputs are identical bit for bit. Compiled with the host's vector ISA
// (GAINCELL_NATIVE) and without floating-point contraction: every sum has a
// fixed order that does not depend on the mode or the thread.
#pragma once

#include <cstddef>

#include "gaincell/eval/numerics.h"

namespace gaincell::eval::detail {

inline constexpr int kLanes = 16;  // floats per vector; D is padded to a multiple
inline constexpr int kMaxFeatures = 10;
inline constexpr int kMaxTile = 4096;  // keys per stage-2 sub-array (tile_keys)

struct Kernel {
  int dp = 0;             // padded dimension (multiple of kLanes)
  int d = 0;              // real dimension
  // S = const_coef * dec1[const_exp][age] * sum_d q[d]
  //   + sum_f coef[f] * dec1[exponent[f]][age] * (q . feature_f(k_s))
  bool has_const = false;
  float const_coef = 0.0f;
  int const_exp = 0;
  // Feature f of a stored value is base^power[f] (base = w - offset, or F(w)
  // for the global rule), computed on the fly by repeated multiplication
  // (as torch computes x**2 and x**3): the keys store only their base.
  int n_features = 0;               // <= kMaxFeatures
  int max_power = 0;                // <= kMaxFeatures
  const int* power = nullptr;       // [n_features], >= 1
  const float* coef = nullptr;      // [n_features]
  const int* exponent = nullptr;    // [n_features] decay exponent of each feature's term
  const float* dec1 = nullptr;      // [n_exponents][table_len] stage-1 decay by age
  const float* dec2 = nullptr;      // [n_exponents][table_len] stage-2 decay by age
  long window = 0;       // W: keys t-W+1 .. t
  long table_len = 0;    // ages covered by dec1/dec2 (>= min(W, tokens))
  long tile = 0;
  // The reference applies its two scales as scaler gains a = 1/80 and 1/40
  // (float32 multiplications), so do we.
  float inv_s_sat = 1.0f / 80.0f, s0 = 0.0f, phi_lo = 0.0f, phi_span = 1.0f;
  float inv_stage2_scale = 1.0f / 40.0f;
  OutputAdc adc;  // stage-2 clamp and ADC of each sub-array
};

// Keys of one head: bases [slot][dp] for K and V; slot = s % capacity.
struct KeyStore {
  const float* kfeat = nullptr;
  const float* vfeat = nullptr;
  long capacity = 0;
};

// Scratch of one thread (floats).
std::size_t scratch_floats(const Kernel& k);

// Query t (absolute token index) with processed query q[dp] (zero padded):
// writes the quantized, summed stage-2 outputs (before the output scaler) to
// out[d]. With S_row / phi_row (indexed by absolute key s) it also writes S and
// phi for the keys in the window (the caller zero-fills the rest).
void query_row(const Kernel& k, const float* q, long t, const KeyStore& keys, float* scratch, float* out,
               float* S_row, float* phi_row);

}  // namespace gaincell::eval::detail
