#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Circuit reuse changes nothing but the time (ctest circuit_reuse), through the CLI.

Every shipped spec in characterization/ is swept twice with 2 workers: with circuit reuse (the
default: `alter` of the sources where that is exact, else alterparam + reset) and with
GAINCELL_CIRCUIT_REUSE=0 (a fresh parse of every point); the default surface and a template of
numparam's quirks once more with GAINCELL_CIRCUIT_REUSE=reset (alterparam + reset only). Every stored dataset
but /timing (measures, traces, status, messages, coordinates, Monte Carlo draws) must be equal
bit for bit, and the files must say how the points were run: `points_reused` is 0 without reuse,
and above 0 with it wherever consecutive points differ only in a .param value; `points_altered`
counts those reached by `alter`. A template whose
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
    """reuse: True (the default: alter where exact, else alterparam + reset), "reset" or False."""
    env = dict(os.environ)
    env.pop("GAINCELL_CIRCUIT_REUSE", None)
    if reuse is not True:
        env["GAINCELL_CIRCUIT_REUSE"] = "reset" if reuse == "reset" else "0"
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
        attrs = {k: f.attrs[k] for k in ("points_reused", "points_altered", "points_ok", "point_count")}
    return out, attrs


def reused(attrs, key="points_reused"):
    v = attrs[key]
    return int(v.decode() if isinstance(v, bytes) else v)


def compare(label, spec, work, mode=True):
    """Sweeps with reuse `mode` and without; returns (points reused, attributes) of the first."""
    tag = f"{label}_{'default' if mode is True else mode}"
    on, off = os.path.join(work, tag + "_on.h5"), os.path.join(work, tag + "_off.h5")
    rc_on, rc_off = sweep(spec, on, mode), sweep(spec, off, False)
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
    check(reused(a_off, "points_altered") == 0, f"{label}: points altered with GAINCELL_CIRCUIT_REUSE=0")
    check(reused(a_on, "points_altered") <= reused(a_on), f"{label}: more points altered than reused")
    if mode == "reset":
        check(reused(a_on, "points_altered") == 0, f"{label}: points altered with GAINCELL_CIRCUIT_REUSE=reset")
    print(f"{label} (reuse {mode}): {len(d_off)} datasets equal bit for bit; points_reused {reused(a_on)}, "
          f"points_altered {reused(a_on, 'points_altered')} of {a_on['point_count']} (off: {reused(a_off)})",
          flush=True)
    return reused(a_on), a_on


def write_case(d, name, template_text, spec):
    """Writes NAME.cir and NAME.json into d (made if need be); returns the spec's path."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".cir"), "w") as f:
        f.write(template_text)
    path = os.path.join(d, name + ".json")
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


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
            # The multiply surfaces sweep values that feed only the write and read sources: those
            # points are reached by `alter`, without rebuilding the circuit.
            if label.endswith("_multiply"):
                check(reused(a, "points_altered") >= int(a["point_count"]) // 2,
                      f"{label}: only {reused(a, 'points_altered')} points altered")
        n, a = compare("pushpull_multiply", os.path.join(SRC, "characterization", "pushpull_multiply.json"), work,
                       "reset")
        check(n is not None and n > 0, "pushpull_multiply: no point reused with GAINCELL_CIRCUIT_REUSE=reset")

        # Expressions numparam reads its own way (a leading minus is 0 - x, a minus after an
        # operator negates only a number, min/max, suffixes, ternaries), sources in three forms,
        # and a swept r_load that feeds a resistor: those points are rebuilt (alterparam + reset)
        # and the alters after them must start from the rebuilt circuit.
        d = os.path.join(work, "quirks")
        quirks = write_case(d, "quirks", QUIRKS_CIR, QUIRKS_SPEC)
        for mode in (True, "reset"):
            n, a = compare("quirks", quirks, work, mode)
            check(n is not None and n > 0, f"quirks: {n} points reused")
            if mode is True and a is not None:
                m = reused(a, "points_altered")
                check(0 < m < n, f"quirks: {m} points altered of {n} reused (want some, not all)")

        # Found by a stranger's review: a ternary bare in a then-branch (numparam reads
        # "c1 ? c2 ? y : z : w" as "c1 ? y : w") and two sources of one name in the branches of
        # an .if. Neither may be altered; both must equal a fresh parse.
        for name, text, axes in (("nested", NESTED_CIR, [{"param": "a", "values": [0.3, 0.2, -0.1, 0.4]}]),
                                 ("ifelse", IFELSE_CIR, [{"param": "b", "values": [0.3, 0.7, 0.9]}])):
            spec = write_case(d, name, text, dict(
                QUIRKS_SPEC, name=name, template=name + ".cir", axes=axes,
                measures=[{"name": "v_out_v", "kind": "value_at", "of": "v(out)", "at": "0.5n", "unit": "V"}],
                analysis={"tran": {"step": "0.1n", "stop": "1n"}}))
            n, a = compare(name, spec, work)
            if a is not None:
                check(reused(a, "points_altered") == 0, f"{name}: {reused(a, 'points_altered')} points altered")

        # A subcircuit's own .param of the swept name: ngspice turns it into the subcircuit's
        # params: default, which alterparam leaves alone, so reuse is allowed and exact.
        d = os.path.join(work, "shadow")
        n, _ = compare("shadow", write_case(d, "shadow", SHADOW_CIR, SHADOW_SPEC), work)
        check(n is not None and n > 0, f"shadow: {n} points reused")
        # A swept name that a file the template includes defines again at top level: alterparam
        # would change both lines, a fresh parse keeps the later one. Never reused.
        with open(os.path.join(d, "twice.inc"), "w") as f:
            f.write("* defines r_load again\n.param r_load=3k\n")
        twice = write_case(d, "twice", SHADOW_CIR.replace(".tran", ".include twice.inc\n.tran"),
                           dict(SHADOW_SPEC, name="twice", template="twice.cir"))
        n, _ = compare("twice", twice, work)
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

QUIRKS_CIR = """sources whose values numparam computes in its own ways
* gaincell template: quirks
.param a=0.3 $ [V] swept: feeds only sources
.param b=2n $ [s] swept: feeds only sources
.param r_load=1k $ [Ohm] swept: feeds a resistor
.param neg={-a*2+1}
.param tern={a>0.25 ? a : -0.5}
.param mm={min(b,3n)+max(a*1n,0.3n)}
.param sfx={b*1meg+a/3-2*-1}
.param nested={(a>=0.3 && b<=2n) || a==0.2 ? abs(-a) : a*-2}
.param chain={a<0.25 ? 1 : a<0.35 ? 2 : (a!=0.4 ? 4 : 3)}
V1 in 0 PULSE(0 {neg} {b} 0.1n, 0.1n {mm} 20n)
V2 ref 0 dc {tern+chain/10}
V3 drv 0 PWL(0 0 {b} {sfx} 10n {nested})
R1 in mid 1k
R2 ref mid 2k
R3 drv mid {r_load}
C1 mid 0 1p
.tran 0.1n 20n
.end
"""

NESTED_CIR = """nested ternary
.param a=0.3 $ [V] swept
.param d={a>0 ? a>0.25 ? 1 : 2 : 3}
.param e={a<0 ? 1 : a<0.25 ? (a<0.1 ? 5 : 6) : 3}
V1 out 0 {d}
V2 x 0 {e}
R1 out 0 1k
R2 x 0 1k
.tran 0.1n 1n
.end
"""

IFELSE_CIR = """if branches
.param a=0.3 $ [V] level of the selected driver
.param b=0.3 $ [V] level of the driver the .if leaves out
.param k=2 $ [1] selects the driver
.if (k > 1)
V1 out 0 {a}
.else
V1 out 0 {b}
.endif
R1 out 0 1k
.tran 0.1n 1n
.end
"""

QUIRKS_SPEC = {
    "format": "gaincell-spec/1",
    "name": "quirks",
    "template": "quirks.cir",
    "axes": [{"param": "r_load", "values": ["1k", "3k"]},
             {"param": "a", "values": [0.2, 0.3, 0.4]},
             {"param": "b", "values": ["1n", "2n", "2.5n"]}],
    "analysis": {"tran": {"step": "0.1n", "stop": "20n"}},
    "measures": [{"name": "v_mid_v", "kind": "value_at", "of": "v(mid)", "at": "15n", "unit": "V"},
                 {"name": "q_r3_c", "kind": "integral", "of": "i(r3)", "from": "start", "to": "end", "unit": "C"}],
}

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
