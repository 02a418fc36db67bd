#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The C++ evaluator against the independent numpy implementation of the same
equations (attention_numpy.py), on random inputs that hit every clamp, with T
not a multiple of 64, for every reference semantics (HEAD per-order + bf16,
2024 global, linear), quantizers on and off, per-head scalers, and a window
shorter than T. Runs the gaincell CLI on HDF5 files (and the Python module).

Tolerances: S and phi agree to float32 rounding (the two sum in different
orders); outputs are on the 33-level ADC grid and may differ by one level where
an ADC input sits within rounding of a decision threshold: at most 1 LSB, and
in at most 0.1 % of the outputs.

Usage: compare_numpy.py BUILD_DIR   (ctest `eval_numpy`)"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

build = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import attention_numpy as ref  # noqa: E402

gaincell_exe = os.path.join(build, "bin", "gaincell")
rng = np.random.default_rng(99)
B, H, T, D = 2, 3, 150, 64
Q = rng.uniform(-0.3, 1.3, (B, H, T, D)).astype(np.float32)
K = rng.uniform(-0.7, 0.7, (B, H, T, D)).astype(np.float32)
V = rng.uniform(-0.7, 0.7, (B, H, T, D)).astype(np.float32)
# Exact clamp edges and quantizer ties in every tensor.
for X, vals in ((Q, [0.0, 1.0, 0.5, -1.0, 2.0]), (K, [-0.45, 0.45, 0.0, -2.0]), (V, [-0.45, 0.45, 0.0, 3.0])):
    X[0, 0, :len(vals), 0] = vals

cases = [
    ("reference", ["decay_per_token=2e-3"]),
    ("reference", ["window=100", "decay_per_token=2e-3"]),
    ("reference", ["levels_q=off", "levels_kv=off", "levels_out=off", "decay_per_token=1e-3"]),
    ("reference", ["decay_bf16=false", "decay_per_token=2e-3", "tile_keys=32"]),
    ("reference_2024", ["decay_per_token=2e-3"]),
    ("linear", ["window=64", "decay_per_token=2e-3"]),
    ("reference", ["scaler_q.a=[1.0, 0.8, 1.2]", "scaler_k.b=[0.45, 0.4, 0.5]", "scaler_out.a=0.5",
                   "scaler_out.b=[0.1, 0.0, -0.1]", "decay_per_token=2e-3"]),
]

failures = []
with tempfile.TemporaryDirectory() as tmp:
    inp = os.path.join(tmp, "qkv.h5")
    with h5py.File(inp, "w") as f:
        f["Q"], f["K"], f["V"] = Q, K, V
    for preset, sets in cases:
        name = preset + " " + " ".join(sets)
        out = os.path.join(tmp, "out.h5")
        cmd = [gaincell_exe, "-q", "eval", "-i", inp, "-o", out, "--preset", preset, "--intermediates"]
        for s in sets:
            cmd += ["--set", s]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with h5py.File(out) as f:
            cpp = {k: f[k][:] for k in ("output", "S", "phi")}
            config = json.loads(f.attrs["config"])
        cfg = ref.load_config(None, [])
        # The numpy side gets the same settings from the resolved C++ configuration.
        for key in cfg:
            if key in config:
                cfg[key] = config[key]
        res = ref.forward(Q, K, V, cfg, intermediates=True)
        s_scale = max(1.0, float(np.abs(res["S"]).max()))
        s_err = float(np.abs(cpp["S"].astype(np.float64) - res["S"]).max()) / s_scale
        phi_err = float(np.abs(cpp["phi"].astype(np.float64) - res["phi"]).max())
        lsb = 2.0 / 31.0 if config["levels_out"] != "off" else None
        d = np.abs(cpp["output"].astype(np.float64) - res["output"].astype(np.float64))
        a_out = abs(float(config["scaler_out"]["a"] if not isinstance(config["scaler_out"]["a"], list)
                          else max(config["scaler_out"]["a"])))
        if lsb is not None:
            lsbs = d / (lsb * a_out)
            mismatched = int(np.count_nonzero(lsbs > 1e-3))
            worst = float(lsbs.max())
            ok = worst <= 1.0 + 1e-3 and mismatched <= 0.001 * d.size
        else:
            mismatched, worst = int(np.count_nonzero(d > 1e-4)), float(d.max())
            ok = worst < 1e-3
        ok = ok and s_err < 1e-5 and phi_err < 1e-5
        print(f"{'ok  ' if ok else 'FAIL'} {name}: S rel err {s_err:.2e}, phi err {phi_err:.2e}, "
              f"outputs differing {mismatched}/{d.size}, worst {worst:.3g} {'LSB' if lsb else ''}")
        if not ok:
            failures.append(name)

    # The module gives the CLI's numbers.
    sys.path.insert(0, os.path.join(build, "python"))
    try:
        import gaincell
    except ImportError:
        gaincell = None
    if gaincell is not None:
        ev = gaincell.Evaluator("reference", settings={"decay_per_token": 2e-3})
        res = ref.forward(Q, K, V, dict(ref.default_config(), decay_per_token=2e-3))
        d = np.abs(ev.forward(Q, K, V) - res["output"]) / (2.0 / 31.0)
        print(f"module: outputs differing from numpy {int(np.count_nonzero(d > 1e-3))}/{d.size}, worst {d.max():.3g} LSB")
        if d.max() > 1.001:
            failures.append("module")

if failures:
    print("FAILED:", failures)
    sys.exit(1)
print("eval vs numpy: all cases agree")
