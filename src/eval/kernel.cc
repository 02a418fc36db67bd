// SPDX-License-Identifier: MIT
#include "kernel.h"

#include <algorithm>
#include <cstring>

namespace gaincell::eval::detail {
namespace {

typedef float vec __attribute__((vector_size(kLanes * sizeof(float))));
typedef float vec8 __attribute__((vector_size(8 * sizeof(float))));
typedef float vec4 __attribute__((vector_size(4 * sizeof(float))));

inline vec load(const float* p) {
  vec v;
  std::memcpy(&v, p, sizeof(vec));
  return v;
}

// Sum of the lanes in a fixed order (halves folded onto each other).
inline float reduce(vec v) {
  static_assert(kLanes == 16);
  const vec8 a = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                 __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  const vec4 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
  const float c0 = b[0] + b[2];
  const float c1 = b[1] + b[3];
  return c0 + c1;
}

// pow_mem[p - 1] = base^p for p = 1..np (row of nv vectors each), by repeated
// multiplication as the fixed-size kernels compute them.
inline void powers(float* pow_mem, const float* base, int np, int nv) {
  const int dp = nv * kLanes;
  std::memcpy(pow_mem, base, sizeof(float) * static_cast<std::size_t>(dp));
  for (int p = 1; p < np; ++p) {
    for (int i = 0; i < nv; ++i) {
      const vec r = load(pow_mem + (p - 1) * dp + i * kLanes) * load(pow_mem + i * kLanes);
      std::memcpy(pow_mem + p * dp + i * kLanes, &r, sizeof(vec));
    }
  }
}

// The steps of a query row, inlined into row() (GC_KERNEL_STEP): with fixed
// sizes (NF features = powers 1..NF, NV vectors of the key) the powers and
// accumulators stay in registers; the _any steps read the sizes at run time.
#define GC_KERNEL_STEP [[gnu::always_inline]] inline

// Stage 1 of one key: S += sum_f coef_f dec1_f(age) (q . base^f), the powers
// of the key's base by repeated multiplication, one dot product per power.
template <int NF, int NV>
GC_KERNEL_STEP float stage1_fixed(const Kernel& k, const vec (&qv)[NV], float S, const float* kb, long age) {
  vec pw[NF][NV];
#pragma GCC unroll 8
  for (int i = 0; i < NV; ++i) pw[0][i] = load(kb + i * kLanes);
#pragma GCC unroll 16
  for (int f = 1; f < NF; ++f)
#pragma GCC unroll 8
    for (int i = 0; i < NV; ++i) pw[f][i] = pw[f - 1][i] * pw[0][i];
#pragma GCC unroll 16
  for (int f = 0; f < NF; ++f) {
    vec a = qv[0] * pw[f][0];
#pragma GCC unroll 8
    for (int i = 1; i < NV; ++i) a = a + qv[i] * pw[f][i];
    S = S + k.coef[f] * k.dec1[k.exponent[f] * k.table_len + age] * reduce(a);
  }
  return S;
}

GC_KERNEL_STEP float stage1_any(const Kernel& k, const float* q, float S, const float* kb, long age, float* pow_mem, int nv) {
  const int dp = nv * kLanes;
  powers(pow_mem, kb, k.max_power, nv);
  for (int f = 0; f < k.n_features; ++f) {
    const float* pf = pow_mem + (k.power[f] - 1) * dp;
    vec a = load(q) * load(pf);
    for (int i = 1; i < nv; ++i) a = a + load(q + i * kLanes) * load(pf + i * kLanes);
    S = S + k.coef[f] * k.dec1[k.exponent[f] * k.table_len + age] * reduce(a);
  }
  return S;
}

// Stage 2 of one key: acc_f += phi dec2_f(age) base^f of the value.
template <int NF, int NV>
GC_KERNEL_STEP void stage2_fixed(const Kernel& k, vec (&acc)[NF][NV], float phi, const float* vb, long age) {
  vec pw[NV];
  vec base[NV];
#pragma GCC unroll 8
  for (int i = 0; i < NV; ++i) base[i] = pw[i] = load(vb + i * kLanes);
#pragma GCC unroll 16
  for (int f = 0; f < NF; ++f) {
    if (f > 0) {
#pragma GCC unroll 8
      for (int i = 0; i < NV; ++i) pw[i] = pw[i] * base[i];
    }
    const vec p = vec{} + phi * k.dec2[k.exponent[f] * k.table_len + age];
#pragma GCC unroll 8
    for (int i = 0; i < NV; ++i) acc[f][i] = acc[f][i] + p * pw[i];
  }
}

GC_KERNEL_STEP void stage2_any(const Kernel& k, float* acc_mem, float phi, const float* vb, long age, float* pow_mem, int nv) {
  const int dp = nv * kLanes;
  powers(pow_mem, vb, k.max_power, nv);
  for (int f = 0; f < k.n_features; ++f) {
    const vec p = vec{} + phi * k.dec2[k.exponent[f] * k.table_len + age];
    const float* pf = pow_mem + (k.power[f] - 1) * dp;
    float* a = acc_mem + f * dp;
    for (int i = 0; i < nv; ++i) {
      const vec r = load(a + i * kLanes) + p * load(pf + i * kLanes);
      std::memcpy(a + i * kLanes, &r, sizeof(vec));
    }
  }
}

// The tile's readout: A[d] = const term + sum_f coef_f A_f[d]; clamp, ADC,
// digital sum into out.
GC_KERNEL_STEP void readout(const Kernel& k, const float* acc_mem, float acc0, int nf, int dp, float* out) {
  for (int i = 0; i < k.d; ++i) {
    float A = k.has_const ? k.const_coef * acc0 : 0.0f;
    for (int f = 0; f < nf; ++f) A = A + k.coef[f] * acc_mem[f * dp + i];
    out[i] = out[i] + k.adc(A * k.inv_stage2_scale);
  }
}

// NF = number of features = max power with powers 1..NF, and NV vectors per
// row, when known at compile time (0 = read from the kernel at run time).
// Accumulators and powers live in registers when the sizes are fixed.
template <int NF_, int NV_>
void row(const Kernel& k, const float* q, long t, const KeyStore& keys, float* scratch, float* out, float* S_row,
         float* phi_row) {
  constexpr bool kFixed = NF_ > 0 && NV_ > 0;
  const int nf = NF_ > 0 ? NF_ : k.n_features;
  const int nv = NV_ > 0 ? NV_ : k.dp / kLanes;
  constexpr int kF = NF_ > 0 ? NF_ : 1;
  constexpr int kV = NV_ > 0 ? NV_ : 1;
  const int dp = nv * kLanes;
  float* acc_mem = scratch;                                      // [nf][dp] (run-time sizes)
  float* pow_mem = scratch + static_cast<std::size_t>(nf) * dp;  // [np + 1][dp]
  vec qv[kV];
  float qsum;
  if constexpr (NV_ > 0) {
#pragma GCC unroll 8
    for (int i = 0; i < kV; ++i) qv[i] = load(q + i * kLanes);
  }
  {
    vec s = load(q);
    for (int i = 1; i < nv; ++i) s = s + load(q + i * kLanes);
    qsum = reduce(s);
  }
  for (int i = 0; i < k.d; ++i) out[i] = 0.0f;
  const long first = std::max(0L, t - k.window + 1);
  for (long tile_start = (first / k.tile) * k.tile; tile_start <= t; tile_start += k.tile) {
    const long s_lo = std::max(first, tile_start);
    const long s_hi = std::min(t, tile_start + k.tile - 1);
    const long slot0 = s_lo % keys.capacity;  // a tile's keys sit in consecutive slots
    float acc0 = 0.0f;
    vec acc[kF][kV];
    if constexpr (kFixed) {
#pragma GCC unroll 16
      for (int f = 0; f < kF; ++f)
#pragma GCC unroll 8
        for (int i = 0; i < kV; ++i) acc[f][i] = vec{};
    } else {
      std::memset(acc_mem, 0, sizeof(float) * static_cast<std::size_t>(nf) * static_cast<std::size_t>(dp));
    }
    // Stage 1 for the tile's keys (independent iterations), then phi, then
    // stage 2: separate loops so that one key's chain does not stall the next.
    float S_tile[kMaxTile];
    for (long s = s_lo; s <= s_hi; ++s) {
      const long age = t - s;
      const float* kb = keys.kfeat + (slot0 + (s - s_lo)) * dp;
      const float S0 = k.has_const ? k.const_coef * k.dec1[k.const_exp * k.table_len + age] * qsum : 0.0f;
      if constexpr (kFixed) {
        S_tile[s - s_lo] = stage1_fixed<kF, kV>(k, qv, S0, kb, age);
      } else {
        S_tile[s - s_lo] = stage1_any(k, q, S0, kb, age, pow_mem, nv);
      }
    }
    float phi_tile[kMaxTile];
    for (long s = s_lo; s <= s_hi; ++s) {
      const float S = S_tile[s - s_lo];
      const float phi = k.phi_lo + k.phi_span * clamp_f((S - k.s0) * k.inv_s_sat, 0.0f, 1.0f);
      phi_tile[s - s_lo] = phi;
      if (S_row != nullptr) {
        S_row[s] = S;
        phi_row[s] = phi;
      }
    }
    for (long s = s_lo; s <= s_hi; ++s) {
      const long age = t - s;
      const float phi = phi_tile[s - s_lo];
      // No branch on phi == 0 (half the pairs at random, unpredictable): adding p * v = +-0 is exact.
      if (k.has_const) acc0 = acc0 + phi * k.dec2[k.const_exp * k.table_len + age];
      const float* vb = keys.vfeat + (slot0 + (s - s_lo)) * dp;
      if constexpr (kFixed) {
        stage2_fixed<kF, kV>(k, acc, phi, vb, age);
      } else {
        stage2_any(k, acc_mem, phi, vb, age, pow_mem, nv);
      }
    }
    if constexpr (kFixed) {
      for (int f = 0; f < kF; ++f)
        for (int i = 0; i < kV; ++i) std::memcpy(acc_mem + f * dp + i * kLanes, &acc[f][i], sizeof(vec));
    }
    readout(k, acc_mem, acc0, nf, dp, out);
  }
}

}  // namespace

std::size_t scratch_floats(const Kernel& k) {
  return static_cast<std::size_t>(k.n_features + k.max_power + 1) * static_cast<std::size_t>(k.dp);
}

namespace {
// Powers 1..n in order: the fixed-size kernels assume it.
bool contiguous_powers(const Kernel& k) {
  if (k.max_power != k.n_features) return false;
  for (int f = 0; f < k.n_features; ++f) {
    if (k.power[f] != f + 1) return false;
  }
  return true;
}
}  // namespace

void query_row(const Kernel& k, const float* q, long t, const KeyStore& keys, float* scratch, float* out,
               float* S_row, float* phi_row) {
  if (k.dp == 64 && contiguous_powers(k)) {
    switch (k.n_features) {
      case 1: return row<1, 4>(k, q, t, keys, scratch, out, S_row, phi_row);
      case 3: return row<3, 4>(k, q, t, keys, scratch, out, S_row, phi_row);
      case 7: return row<7, 4>(k, q, t, keys, scratch, out, S_row, phi_row);
      default: break;
    }
  }
  row<0, 0>(k, q, t, keys, scratch, out, S_row, phi_row);
}

}  // namespace gaincell::eval::detail
