#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Remakes the golden tests' model files (tests/golden/README.md): five CSV data sets from
exact formulas, one model of each kind fitted to them with `gaincell fit`, and the machine's
part of each file's provenance (the build that fitted it) replaced by a fixed text. The model
files are then inputs of the golden test, fixed: they change only when this script is rerun.

Usage: make_models.py GAINCELL   (writes into the directory of this script)
"""
import json
import math
import os
import subprocess
import sys

GAINCELL = os.path.abspath(sys.argv[1])
HERE = os.path.dirname(os.path.abspath(__file__))


def write_csv(name, header, rows):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(repr(x) for x in r) + "\n")


def data():
    ts = [0.0, 5e-9, 10e-9, 15e-9]
    vs = [0.0, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9]
    vl = [0.35, 0.45, 0.55]
    # q = t (8e-6 (v - 0.45) - 4e-6 (v - 0.45)^3): the paper's form at one vin.
    write_csv("multiply.csv", ["t_pulse[s]", "v_store[V]", "q_line_c[C]"],
              [(t, v, t * (8e-6 * (v - 0.45) - 4e-6 * (v - 0.45) ** 3)) for t in ts for v in vs])
    write_csv("read_current.csv", ["v_store[V]", "v_line[V]", "i_read_a[A]"],
              [(v, l, 1e-6 * (v - 0.45) + 2e-6 * (v - 0.45) * (l - 0.45) + 0.5e-6 * (v - 0.45) ** 2) for v in vs for l in vl])
    # V(t) = 0.3 + 0.6 exp(-t / 5 ms), 11 log-spaced times from 10 us.
    write_csv("retention.csv", ["time[s]", "v_sn_trace_v[V]"],
              [(t, 0.3 + 0.6 * math.exp(-t / 5e-3)) for t in [1e-5 * 10 ** (k * 0.3) for k in range(11)]])
    # A HardSigmoid of 1 pC and 15 ns.
    write_csv("c2p.csv", ["q_in[C]", "pw_s[s]"],
              [(q, min(max(q / 1e-12, 0.0), 1.0) * 15e-9) for q in [-0.5e-12 + k * 0.25e-12 for k in range(9)]])
    write_csv("lut.csv", ["v_store[V]", "v_line[V]", "i_read_a[A]"],
              [(v, l, 1e-6 * (v - 0.45) + 2e-6 * (v - 0.45) * (l - 0.45)) for v in [0.0, 0.3, 0.6, 0.9] for l in vl])


FITS = {
    "paper_poly": ["multiply.csv", "-m", "q_line_c", "--model", "paper-poly", "-i", "t_pulse,v_store", "--offset", "0.45",
                   "--vin", "0.9"],
    "poly": ["read_current.csv", "-m", "i_read_a", "--model", "poly", "--degree", "2", "-i", "v_store,v_line"],
    "exp_decay": ["retention.csv", "-m", "v_sn_trace_v", "--model", "exp-decay", "-i", "time"],
    "hardsigmoid": ["c2p.csv", "-m", "pw_s", "--model", "hardsigmoid", "-i", "q_in"],
    "lut": ["lut.csv", "-m", "i_read_a", "--model", "lut", "-i", "v_store,v_line"],
}


def main():
    data()
    for name, args in FITS.items():
        path = os.path.join(HERE, name + ".json")
        subprocess.run([GAINCELL, "-q", "fit"] + args + ["-o", path], cwd=HERE, check=True,
                       stdout=subprocess.DEVNULL)
        with open(path) as f:
            model = json.load(f)
        p = model["provenance"]
        model["provenance"] = {"fitted_by": "gaincell fit on " + p["source_file"] + " (tests/golden/README.md)",
                               "points_failed_in_source": 0, "points_filtered": 0, "source_file": p["source_file"],
                               "source_sha256": p["source_sha256"]}
        with open(path, "w") as f:
            f.write(json.dumps(model, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
