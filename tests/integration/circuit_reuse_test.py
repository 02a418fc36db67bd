#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Circuit reuse changes nothing but the time (ctest circuit_reuse), through the CLI.

Every shipped spec in characterization/ is swept twice with 2 workers: with circuit reuse (the
default) and with GAINCELL_CIRCUIT_REUSE=0 (a fresh parse of every point). Every stored dataset
but /timing (measures, traces, status, messages, coordinates, Monte Carlo draws) must be equal
bit for bit, and the files must say how the points were run: `points_reused` is 0 without reuse,
and above 0 with it wherever consecutive points differ only in a .param value. A template whose
subcircuit defines a .param of the same name as a swept one is never reused (alterparam would
change both), and a spec whose points change a .lib corner or the temperature falls back to a
full parse at each change and still matches.

Usage: circuit_reuse_test.py GAINCELL SOURCE_DIR
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from itest import FAILURES, GAINCELL, SRC, check


def sweep(spec, out, reuse):
    env = dict(os.environ)
    env.pop("GAINCELL_CIRCUIT_REUSE", None)
    if not reuse:
        env["GAINCELL_CIRCUIT_REUSE"] = "0"
    p = subprocess.run([GAINCELL, "-q", "sweep", spec, "-o", out, "--jobs", "2"], capture_output=True, text=True,
                       env=env)
    check(p.returncode in (0, 4), f"sweep {spec} reuse={reuse}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p.returncode


def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and not name.startswith("timing"):
                data = obj[()]
                if isinstance(data, np.ndarray) and data.dtype != object:
                    out[name] = (data.dtype.str, data.shape, data.tobytes())
                else:  # strings (corner labels, messages): their values, not their pointers
                    out[name] = repr(data.tolist() if isinstance(data, np.ndarray) else data)
        f.visititems(visit)
        attrs = {k: f.attrs[k] for k in ("points_reused", "points_ok", "point_count")}
    return out, attrs


def reused(attrs):
    v = attrs["points_reused"]
    return int(v.decode() if isinstance(v, bytes) else v)


def compare(label, spec, work):
    on, off = os.path.join(work, label + "_on.h5"), os.path.join(work, label + "_off.h5")
    rc_on, rc_off = sweep(spec, on, True), sweep(spec, off, False)
    check(rc_on == rc_off, f"{label}: exit {rc_on} with reuse, {rc_off} without")
    if not (os.path.exists(on) and os.path.exists(off)):
        check(False, f"{label}: a results file is missing")
        return None, None
    d_on, a_on = datasets(on)
    d_off, a_off = datasets(off)
    check(sorted(d_on) == sorted(d_off), f"{label}: different datasets {sorted(d_on)} vs {sorted(d_off)}")
    for name in d_off:
        check(d_on.get(name) == d_off[name], f"{label}: /{name} differs between reuse on and off")
    check(reused(a_off) == 0, f"{label}: points_reused {reused(a_off)} with GAINCELL_CIRCUIT_REUSE=0")
    print(f"{label}: {len(d_off)} datasets equal bit for bit; points_reused {reused(a_on)} of "
          f"{a_on['point_count']} (off: {reused(a_off)})", flush=True)
    return reused(a_on), a_on


def main():
    work = tempfile.mkdtemp(prefix="gaincell-reuse-")
    try:
        for spec in sorted(glob.glob(os.path.join(SRC, "characterization", "*.json"))):
            label = os.path.splitext(os.path.basename(spec))[0]
            with open(spec) as f:
                axes = json.load(f)["axes"]
            n, a = compare(label, spec, work)
            if n is None:
                continue
            # Consecutive points differ only in a .param value along the last axis when it is a
            # param or Monte Carlo axis: each worker then reuses most of its points.
            last = axes[-1]
            if "param" in last or "monte_carlo" in last:
                count = int(a["point_count"])
                check(n >= count // 4, f"{label}: only {n} of {count} points reused")

        # A subcircuit's own .param of the swept name: ngspice turns it into the subcircuit's
        # params: default, which alterparam leaves alone, so reuse is allowed and exact.
        d = os.path.join(work, "shadow")
        os.makedirs(d)
        with open(os.path.join(d, "shadow.cir"), "w") as f:
            f.write(SHADOW_CIR)
        with open(os.path.join(d, "shadow.json"), "w") as f:
            json.dump(SHADOW_SPEC, f)
        n, _ = compare("shadow", os.path.join(d, "shadow.json"), work)
        check(n is not None and n > 0, f"shadow: {n} points reused")
        # A swept name that a file the template includes defines again at top level: alterparam
        # would change both lines, a fresh parse keeps the later one. Never reused.
        with open(os.path.join(d, "twice.cir"), "w") as f:
            f.write(SHADOW_CIR.replace(".tran", ".include twice.inc\n.tran"))
        with open(os.path.join(d, "twice.inc"), "w") as f:
            f.write("* defines r_load again\n.param r_load=3k\n")
        with open(os.path.join(d, "twice.json"), "w") as f:
            json.dump(dict(SHADOW_SPEC, name="twice", template="twice.cir"), f)
        n, _ = compare("twice", os.path.join(d, "twice.json"), work)
        check(n == 0, f"twice: {n} points reused although an include defines r_load again")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    print("circuit reuse: all checks passed")
    return 0


SHADOW_CIR = """shadowed parameter: the subcircuit has its own r_load
* gaincell template: shadow
.param r_load=1k $ [Ohm] top-level load
.param v_in=1 $ [V] input step
.subckt div a b
.param r_load=2k
R1 a b {r_load}
R2 b 0 {r_load}
.ends div
V1 in 0 PULSE(0 {v_in} 1n 1n 1n 5n 20n)
X1 in mid div
RL mid out {r_load}
C1 out 0 1p
.tran 0.1n 20n
.end
"""

SHADOW_SPEC = {
    "format": "gaincell-spec/1",
    "name": "shadow",
    "template": "shadow.cir",
    "axes": [{"param": "r_load", "values": ["1k", "2k", "5k", "10k"]}],
    "analysis": {"tran": {"step": "0.1n", "stop": "20n"}},
    "measures": [{"name": "v_out_v", "kind": "value_at", "of": "v(out)", "at": "10n", "unit": "V"}],
}

if __name__ == "__main__":
    sys.exit(main())
