#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The Python module (pybind11) on numpy arrays: shapes, modes, errors, and the
same numbers as the gaincell CLI on the same HDF5 input.

Usage: test_module.py BUILD_DIR   (run by ctest as `python_module`)"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

build = sys.argv[1]
sys.path.insert(0, os.path.join(build, "python"))
import gaincell  # noqa: E402

rng = np.random.default_rng(11)
B, H, T, D = 2, 3, 90, 64
Q = rng.uniform(-0.2, 1.2, (B, H, T, D)).astype(np.float32)
K = rng.uniform(-0.6, 0.6, (B, H, T, D)).astype(np.float32)
V = rng.uniform(-0.6, 0.6, (B, H, T, D)).astype(np.float32)

assert "reference" in gaincell.presets()
ev = gaincell.Evaluator("reference", settings={"window": 70, "decay_per_token": 1e-3})
assert ev.config["window"] == 70 and ev.config["decay_rule"] == "per_order"
assert abs(ev.cell["coefficients_ref"][3] - 46.05483778) < 1e-6

out = ev.forward(Q, K, V)
assert out.shape == Q.shape and out.dtype == np.float32
out2, S, phi = ev.forward(Q, K, V, intermediates=True)
assert np.array_equal(out, out2)
assert S.shape == (B, H, T, T) and phi.shape == (B, H, T, T)
t, s = np.indices((T, T))
outside = (s > t) | (t - s >= 70)
assert not S[..., outside].any() and not phi[..., outside].any()
assert phi.min() >= 0 and phi.max() <= 1

# Decode: whole-sequence and token-by-token give identical outputs.
assert np.array_equal(ev.forward_decode(Q, K, V), out)
session = ev.decode(B, H, D)
steps = [session.step(np.ascontiguousarray(Q[:, :, i]), np.ascontiguousarray(K[:, :, i]),
                      np.ascontiguousarray(V[:, :, i])) for i in range(T)]
assert session.tokens == T
assert np.array_equal(np.stack(steps, axis=2), out)

# float64 input is converted; 3-D input keeps its shape.
assert np.array_equal(ev.forward(Q.astype(np.float64), K, V), out)
assert ev.forward(Q[:, 0], K[:, 0], V[:, 0]).shape == (B, T, D)

# Errors are Python exceptions with gaincell's message.
for bad, expect in [({"windw": 3}, "GC-1702"), ({"levels_q": 1}, "GC-1703")]:
    try:
        gaincell.Evaluator("reference", settings=bad)
        raise AssertionError("accepted %r" % bad)
    except ValueError as e:
        assert expect in str(e), str(e)
try:
    ev.forward(Q, K[:, :, :10], V)
    raise AssertionError("shape mismatch accepted")
except ValueError as e:
    assert "GC-1707" in str(e)

# Same numbers as the CLI on the same file.
with tempfile.TemporaryDirectory() as tmp:
    inp, res = os.path.join(tmp, "in.h5"), os.path.join(tmp, "out.h5")
    with h5py.File(inp, "w") as f:
        f["Q"], f["K"], f["V"] = Q, K, V
    subprocess.run([os.path.join(build, "bin", "gaincell"), "-q", "eval", "-i", inp, "-o", res,
                    "--set", "window=70", "--set", "decay_per_token=1e-3"], check=True, stdout=subprocess.DEVNULL)
    with h5py.File(res) as f:
        assert np.array_equal(f["output"][:], out)
        assert json.loads(f.attrs["config"])["window"] == 70

# The fitted preset works out of the box with the shipped fits.
fitted = gaincell.Evaluator("fitted")
assert fitted.cell["physical"] and fitted.cell["q_sat_c"] > 0
assert np.isfinite(fitted.forward(Q[:1, :1, :40], K[:1, :1, :40], V[:1, :1, :40])).all()
print("python module: all checks passed")
