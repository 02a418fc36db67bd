#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes data/qkv_sample.h5: the shipped Q/K/V sample the flow evaluates.

No trained model is shipped, so the sample is synthetic but shaped like the
inputs of the reference's attention after its scalers: batch 1, 2 heads,
128 tokens, dimension 64; Q mostly in the pulse range [0, 1] with some
values past both ends, K and V centred on 0 (the scalers add the 0.45 V
offset) with a spread that reaches past the [0, 0.9] V clamp, and a few
correlated directions so that attention scores are not pure noise.
Deterministic (seed 20261123); rerun to regenerate bit for bit.

Usage: tools/make_qkv_sample.py [OUT.h5]"""
import sys

import h5py
import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else "data/qkv_sample.h5"
rng = np.random.default_rng(20261123)
B, H, T, D = 1, 2, 128, 64
basis = rng.standard_normal((H, 4, D))
def draw(scale, shift):
    latent = rng.standard_normal((B, H, T, 4))
    x = np.einsum("bhtk,hkd->bhtd", latent, basis) * 0.5 + rng.standard_normal((B, H, T, D))
    return (shift + scale * x / x.std()).astype(np.float32)
Q = draw(0.3, 0.5)
K = draw(0.25, 0.0)
V = draw(0.25, 0.0)
with h5py.File(out, "w") as f:
    for name, x in (("Q", Q), ("K", K), ("V", V)):
        ds = f.create_dataset(name, data=x)
        ds.attrs["description"] = "synthetic sample (tools/make_qkv_sample.py, seed 20261123), [batch, head, token, dim]"
    f.attrs["generator"] = "tools/make_qkv_sample.py"
print(f"wrote {out}: Q, K, V {Q.shape}; Q in [{Q.min():.2f}, {Q.max():.2f}], K in [{K.min():.2f}, {K.max():.2f}]")
