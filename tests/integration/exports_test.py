#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Verilog-A exports that an open compiler accepts (ctest exports), driven through the CLI as a user.

Every closed-form model kind (paper-poly, poly, exp-decay, hardsigmoid) is exported with
`gaincell export --format verilog-a`: the shipped fits in fits/, and models fitted here from CSV
data under file names that are no Verilog-A identifiers (dots, spaces, a leading digit, a
keyword). Each .va is parsed by Debian's admsXml (package adms) as docs/fitting.md says:
`admsXml FILE.va` in a scratch directory, which must exit 0 and print only [info...] lines.
The lut kind keeps $table_model, with its note; admsXml rejects that, as it rejects a dotted
module name and an undeclared variable (the check can fail).

Usage: exports_test.py GAINCELL SOURCE_DIR
"""
import glob
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

from itest import FAILURES, SRC, check, run

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def adms(va, work):
    """admsXml on one file, in a scratch directory (it writes .adms.implicit.xml, .interface.xml
    and .<file>.adms into its working directory). Returns (exit code, output lines)."""
    scratch = tempfile.mkdtemp(dir=work, prefix="adms-")
    p = subprocess.run(["admsXml", va], cwd=scratch, capture_output=True, text=True)
    return p.returncode, [l for l in (p.stdout + p.stderr).splitlines() if l.strip()]


def write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(repr(float(v)) for v in r) + "\n")


def fitted_models(work):
    """Models fitted here from formula data, one per closed-form kind, under awkward names."""
    out = []
    # paper-poly with vin as a third input (4 vin values: all 10 coefficients determined).
    rows = []
    for t in (5e-9, 10e-9, 15e-9):
        for k in range(10):
            v = 0.1 * k
            for vin in (0.6, 0.7, 0.8, 0.9):
                q = t * 1e-4 * (0.2 + 3 * (v - 0.45) + vin + 5 * (v - 0.45) ** 3 - 0.5 * vin * vin)
                rows.append((t, v, vin, q))
    write_csv(os.path.join(work, "pp.csv"), ["t_pulse[s]", "v_store[V]", "vin[V]", "q[C]"], rows)
    out.append(("paper_poly", "2t cell.paper-poly.json",
                ["pp.csv", "-m", "q", "--model", "paper-poly", "-i", "t_pulse,v_store,vin"]))
    # poly in three inputs, a current.
    rows = [(a / 4, b * 1e-9, (c - 2) / 10, 1e-6 * (1 + a / 4 - b + 0.1 * a * c))
            for a in range(5) for b in range(1, 5) for c in range(5)]
    write_csv(os.path.join(work, "poly.csv"), ["a[V]", "b[s]", "c-in[V]", "i[A]"], rows)
    out.append(("poly", "read.current.poly.json", ["poly.csv", "-m", "i", "--model", "poly", "--degree", "3",
                                                   "-i", "a,b,c-in"]))
    # exp-decay.
    rows = [(t * 1e-3, 0.3 + 0.6 * math.exp(-t * 1e-3 / 2e-3)) for t in range(0, 11)]
    write_csv(os.path.join(work, "ret.csv"), ["time[s]", "v[V]"], rows)
    out.append(("exp_decay", "1.retention.json", ["ret.csv", "-m", "v", "--model", "exp-decay", "-i", "time"]))
    # hardsigmoid, under a keyword's name.
    rows = [(q * 1e-13, 1e-9 + 14e-9 * min(max((q * 1e-13 - 1e-13) / 8e-13, 0), 1)) for q in range(-5, 15)]
    write_csv(os.path.join(work, "c2p.csv"), ["q_in[C]", "pw[s]"], rows)
    out.append(("hard_sigmoid", "module.json", ["c2p.csv", "-m", "pw", "--model", "hardsigmoid", "-i", "q_in"]))
    for kind, name, args in out:
        run(["fit"] + args + ["-o", name], work)
    return [(kind, os.path.join(work, name)) for kind, name, _ in out]


def main():
    work = tempfile.mkdtemp(prefix="gaincell-exports-")
    try:
        models = []
        for path in sorted(glob.glob(os.path.join(SRC, "fits", "*.json"))):
            with open(path) as f:
                models.append((json.load(f)["kind"], path))
        models += fitted_models(work)
        # The check can fail: admsXml rejects what the old export wrote (a dotted module name) and a
        # module that uses a variable it never declares.
        module = ('`include "disciplines.vams"\n\nmodule {name}(v_store, out);\n  inout v_store, out;\n'
                  '  electrical v_store, out;\n  real gc_y;\n  analog begin\n    gc_y = {expr};\n'
                  '    I(out) <+ gc_y;\n  end\nendmodule\n')
        for label, name, expr, expected in (("dotted name", "read_current.lut", "V(v_store)", "syntax error"),
                                            ("undeclared", "m", "gc_x0 * V(v_store)", "never declared"),
                                            ("control", "read_current_lut", "1e-6 * V(v_store)", None)):
            va = os.path.join(work, label.replace(" ", "_") + ".va")
            with open(va, "w") as f:
                f.write(module.format(name=name, expr=expr))
            code, lines = adms(va, work)
            if expected is None:
                check(code == 0 and all(l.startswith("[info...]") for l in lines), f"{label}: {code} {lines}")
            else:
                check(code != 0 and any(expected in l for l in lines), f"{label}: admsXml accepted it: {code} {lines}")
        parsed = {}
        for kind, path in models:
            stem = os.path.splitext(os.path.basename(path))[0]
            out = os.path.join(work, "va", stem)
            p = run(["export", path, "--format", "verilog-a", "-o", out], work)
            written = [l[len("wrote "):] for l in p.stdout.splitlines() if l.startswith("wrote ")]
            vas = [w for w in written if w.endswith(".va")]
            if not check(len(vas) == 1, f"{stem}: expected one .va, wrote {written}"):
                continue
            with open(vas[0]) as f:
                text = f.read()
            m = re.search(r"^module (\S+)\(", text, re.M)
            if not check(m is not None, f"{stem}: no module line in {vas[0]}"):
                continue
            check(IDENTIFIER.match(m.group(1)) is not None, f"{stem}: module name {m.group(1)} is no identifier")
            check(f"derived from the export stem '{stem}'" in text, f"{stem}: the header does not say where "
                  f"{m.group(1)} comes from")
            code, lines = adms(vas[0], work)
            if kind == "lut":
                check(len(written) == 2 and "$table_model" in text, f"{stem}: a lut keeps $table_model: {written}")
                check("for Spectre/HSPICE-class simulators" in text, f"{stem}: the $table_model note is missing")
                check(code != 0 and any("$table_model" in l and "undefined" in l for l in lines),
                      f"{stem}: admsXml was expected to reject $table_model: exit {code}, {lines}")
                continue
            check("$table_model" not in text, f"{stem}: a {kind} model is written as a table")
            clean = code == 0 and all(l.startswith("[info...]") for l in lines)
            check(clean, f"{stem} ({kind}): admsXml {vas[0]}: exit {code}\n" + "\n".join(lines))
            if clean:
                parsed.setdefault(kind, []).append(m.group(1))
        for kind in ("paper_poly", "poly", "exp_decay", "hard_sigmoid"):
            check(len(parsed.get(kind, [])) >= 2, f"{kind}: {parsed.get(kind)} parsed, expected a shipped and a "
                  "fitted model")
        print("admsXml parsed cleanly:", json.dumps(parsed, sort_keys=True))
        for expected in ("m_2t_cell_paper_poly", "read_current_poly", "m_1_retention", "module_"):
            check(any(expected in v for v in parsed.values()), f"module {expected} not among {parsed}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        sys.exit(1)
    print("exports: ok")


if __name__ == "__main__":
    main()
