#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Self-check of the numpy reference implementation (attention_numpy.py): the
scalar facts of reference-simulator.md, masks, padding, decode = whole.
Usage: test_attention_numpy.py   (ctest `eval_numpy`, before compare_numpy.py)"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attention_numpy as ref  # noqa: E402

cfg = ref.default_config()
a = ref.collapsed(cfg)
assert np.allclose(a, [0.52136362, 13.61226063, -2.62044562, 46.05483778], atol=1e-7), a
f = lambda w: sum(a[i] * (w - 0.45) ** i for i in range(4))  # noqa: E731
assert abs(f(0.0) + 10.3315) < 5e-5 and abs(f(0.45) - 0.5214) < 5e-5 and abs(f(0.9) - 10.3130) < 5e-5
F = np.float32
grid = ref.quant(np.array([j * 0.9 / 7 for j in range(8)], F), 8, 0.0, 0.9)
assert np.allclose(grid, [j * 0.9 / 7 for j in range(8)], atol=1e-7)
assert abs(ref.quant(F(0.45), 8, 0.0, 0.9) - 0.385714) < 1e-6
assert abs(ref.quant(F(1.0), 32, -1.0, 1.0) - 32 / 31) < 1e-6
assert np.unique(ref.quant(np.linspace(-1, 1, 200001).astype(F), 32, -1.0, 1.0)).size == 33
assert ref.quant(F(0.5), 2, 0.0, 1.0) == 0 and ref.quant(F(2.5), 2, 0.0, 1.0) == 2  # ties to even
assert ref.bf16(np.array([1 + 2 ** -8], F))[0] == 1.0
assert ref.bf16(np.array([1 + 3 * 2 ** -8], F))[0] == F(1 + 2 ** -6)

rng = np.random.default_rng(4)
B, H, T, D = 1, 2, 150, 64
Q = rng.uniform(-0.2, 1.2, (B, H, T, D)).astype(F)
K = rng.uniform(-0.6, 0.6, (B, H, T, D)).astype(F)
V = rng.uniform(-0.6, 0.6, (B, H, T, D)).astype(F)
for W in (100, 1024):
    for rule, bf in (("per_order", True), ("global", False)):
        c = dict(cfg, window=W, decay_rule=rule, decay_bf16=bf, decay_per_token=2e-3)
        res = ref.forward(Q, K, V, c, intermediates=True)
        t, s = np.indices((T, T))
        outside = (s > t) | (t - s >= W)
        assert not res["S"][..., outside].any() and not res["phi"][..., outside].any()
        dec = ref.decode(Q, K, V, c)["output"]
        # Different summation order (einsum per tile vs matmul): at most 1 LSB, rarely.
        d = np.abs(dec - res["output"]) / (2 / 31)
        assert d.max() <= 1.001 and np.count_nonzero(d > 1e-3) <= 0.001 * d.size, (W, rule, d.max())
# Padding: T = 150 gives a last tile of 22 keys; padding it with 0.45 V keys (whose offset is 0)
# must not change anything, since phi = 0 there.
res = ref.forward(Q, K, V, cfg)
Qp = np.concatenate([Q, np.zeros((B, H, 42, D), F)], axis=2)
Kp = np.concatenate([K, np.zeros((B, H, 42, D), F)], axis=2)
Vp = np.concatenate([V, np.zeros((B, H, 42, D), F)], axis=2)
assert np.array_equal(ref.forward(Qp, Kp, Vp, cfg)["output"][:, :, :T], res["output"])
# The linear cell: S = 19.3 q . (k - 0.45) without quantization and decay.
c = dict(cfg, cell="linear", decay_rule="global", levels_q="off", levels_kv="off", decay_per_token=0.0)
res = ref.forward(Q, K, V, c, intermediates=True)
q = np.clip(Q, 0, 1)
k = np.clip(K + 0.45, 0, 0.9) - 0.45
S = 19.3 * q.astype(np.float64) @ np.swapaxes(k, -1, -2).astype(np.float64)
assert np.abs(np.tril(S) - res["S"]).max() < 1e-4
print("attention_numpy: self-check passed")
