#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The Python package on numpy arrays: the evaluator (shapes, modes, errors, and
the same numbers as the gaincell CLI on the same HDF5 input), every shipped
model file evaluated exactly as the CLI exports it, and a results file read
with its units, shapes and status.

Usage: test_module.py BUILD_DIR [PYTHON_DIR]   (run by ctest as `python_module`;
PYTHON_DIR, default BUILD_DIR/python, is where the package is imported from:
the consumer test passes an installed prefix's directory)"""
import json
import os
import subprocess
import sys
import tempfile
import warnings

import h5py
import numpy as np

build = sys.argv[1]
python_dir = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(build, "python"))
sys.path.insert(0, python_dir)
import gaincell  # noqa: E402

assert os.path.dirname(os.path.dirname(os.path.abspath(gaincell.__file__))) == python_dir, gaincell.__file__
source = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
cli = os.path.join(build, "bin", "gaincell")

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
    # A scalers file of gaincell calibrate is a configuration (docs/calibration.md).
    scalers = os.path.join(tmp, "scalers.json")
    subprocess.run([cli, "-q", "calibrate", "-i", inp, "-o", scalers], check=True, stdout=subprocess.DEVNULL)
    with open(scalers) as f:
        written = json.load(f)
    config = gaincell.Evaluator("reference", config=scalers).config
    for name in ("scaler_q", "scaler_k", "scaler_v", "scaler_out"):
        assert config[name] == {"a": written[name]["a"], "b": written[name]["b"]}, (name, config[name])
    assert written["scaler_out"]["a"] != [1.0] * len(written["scaler_out"]["a"])

# The fitted preset works out of the box with the shipped fits.
fitted = gaincell.Evaluator("fitted")
assert fitted.cell["physical"] and fitted.cell["q_sat_c"] > 0
assert np.isfinite(fitted.forward(Q[:1, :1, :40], K[:1, :1, :40], V[:1, :1, :40])).all()

# Every shipped model file: gaincell.Model gives exactly the values `gaincell export --format csv`
# writes for the same grid (the CLI evaluates with the library and prints every digit).
fits = sorted(f for f in os.listdir(os.path.join(source, "fits")) if f.endswith(".json"))
assert len(fits) >= 6, fits
kinds = set()
with tempfile.TemporaryDirectory() as tmp:
    for name in fits:
        path = os.path.join(source, "fits", name)
        m = gaincell.Model(path)
        kinds.add(m.kind)
        stem = name[:-5].replace(".", "_")
        subprocess.run([cli, "-q", "export", path, "--format", "csv", "--grid", "5", "-o", tmp, "--stem", stem],
                       check=True, stdout=subprocess.DEVNULL)
        table = np.loadtxt(os.path.join(tmp, stem + ".csv"), delimiter=",", skiprows=1, ndmin=2)
        n = len(m.inputs)
        assert table.shape[1] == n + 1, (name, table.shape)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the grid lies in the valid range: nothing is clamped
            got = m(*[table[:, d] for d in range(n)])
            assert np.array_equal(m(table[:, :n]) if n > 1 else got, got)
        assert np.array_equal(got, table[:, n]), (name, np.max(np.abs(got - table[:, n])))
        assert m.output["unit"] == m.document["output"]["unit"]
assert kinds >= {"paper_poly", "poly", "exp_decay", "hard_sigmoid", "lut"}, kinds

# Inputs broadcast like numpy; out-of-range inputs are clamped with a warning.
m = gaincell.Model(os.path.join(source, "fits", "pushpull.paper_poly.json"))
t = np.linspace(0, 15e-9, 4)[None, :]
v = np.linspace(0.0, 0.85, 3)[:, None]
grid = m(t, v)
assert grid.shape == (3, 4) and grid.dtype == np.float64
assert grid[1, 2] == m(t[0, 2], v[1, 0])
assert np.all(grid[:, 0] == 0.0)  # no pulse, no charge (the paper's eq. (4) is proportional to the width)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    vmax = m.inputs[1]["max"]
    assert m(10e-9, vmax + 0.5) == m(10e-9, vmax)
assert len(caught) == 1 and "clamped" in str(caught[0].message), caught
for bad_call in [lambda: m(1e-9), lambda: m(np.zeros((3, 3)))]:
    try:
        bad_call()
        raise AssertionError("wrong number of inputs accepted")
    except (TypeError, ValueError) as e:
        assert "t_pulse" in str(e), str(e)
with tempfile.TemporaryDirectory() as tmp:
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write('{"format": "gaincell-model/1", "kind": "cubic"}\n')
    try:
        gaincell.Model(bad)
        raise AssertionError("bad model file accepted")
    except ValueError as e:
        assert "GC-1608" in str(e) and "bad.json" in str(e), str(e)

# A results file: a real sweep, read into arrays shaped by the axes, with units and status.
with tempfile.TemporaryDirectory() as tmp:
    spec = os.path.join(source, "tests", "data", "rc_sweep.json")
    out = os.path.join(tmp, "rc.h5")
    subprocess.run([cli, "-q", "sweep", spec, "-o", out, "-j", "2"], check=True, stdout=subprocess.DEVNULL)
    r = gaincell.load_results(out)
    assert list(r.axes) == ["r_load", "c_load"] and r.shape == (30, 20)
    assert (r.units["v_out_v"], r.units["q_in_c"], r.units["c_load"]) == ("V", "C", "F"), r.units
    assert np.allclose(r.axes["c_load"], np.linspace(0.2e-12, 2e-12, 20), rtol=1e-12)
    assert r.measures["q_in_c"].shape == (30, 20) and r.status.shape == (30, 20)
    assert r.ok.all() and gaincell.STATUS_NAMES[int(r.status[0, 0])] == "ok"
    assert r.attributes["gaincell_format"].startswith("gaincell-sweep/") and r.attributes["complete"] == "yes"
    # The same numbers through h5py, found by name wherever the layout keeps the measure.
    with h5py.File(out, "r") as f:
        found = []
        f.visititems(lambda k, o: found.append(k) if k.split("/")[-1] == "q_in_c" and isinstance(o, h5py.Dataset)
                     else None)
        assert found, "q_in_c not in the file"
        assert np.array_equal(f[found[0]][:], r.measures["q_in_c"])
    # q = C * V on a charged capacitor: the physics, not only the plumbing.
    c = r.axes["c_load"][None, :]
    assert np.allclose(r.measures["q_in_c"], c * r.measures["v_out_v"], rtol=0.05), "charge is not C*V"
    try:
        gaincell.load_results(spec)
        raise AssertionError("a JSON file read as results")
    except OSError as e:
        assert "rc_sweep.json" in str(e), str(e)

    # docs/python.md "Models and results", run as it is written (in a directory holding its files).
    with open(os.path.join(source, "docs", "python.md")) as f:
        doc = f.read()
    example = doc.split("## Models and results", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    os.symlink(os.path.join(source, "fits"), os.path.join(tmp, "fits"))
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        scope = {}
        exec(compile(example, "docs/python.md", "exec"), scope)
    finally:
        os.chdir(cwd)
    assert scope["q"].shape == (8, 16) and np.array_equal(scope["same"], scope["q"])
    assert scope["m"].inputs[0]["name"] == "t_pulse" and scope["r"].units["q_in_c"] == "C"
print("python package: all checks passed")
