#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Real netlists in, no wasted sweeps (ctest netlists_in), driven through the CLI as a user.

Every example of docs/templates.md and docs/spec-format.md is copied from the page and run:
a designer's netlist with several parameters per .param line, unit comments, an include beside
it and a differential measure goes from template to sweep unchanged, and its values equal
ngspice -b on the rendered netlist. Then each way a user goes wrong, with the exact message:
an undefined placeholder, a missing include, a value outside a declared range, a vector the
circuit lacks (found by the first point, nothing else runs), a point-independent failure, an
existing results file; measures that fail alone; the CLI's number suffixes, -q after the
subcommand, the LUT's export on its own grid, the paper polynomial's input order.

Usage: netlists_in_test.py GAINCELL SOURCE_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from itest import FAILURES, SRC, check, run


def files_of(page_name, work):
    with open(os.path.join(SRC, "docs", page_name), encoding="utf-8") as f:
        page = f.read()
    found = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", page, re.S)
    for name, text in found:
        path = os.path.join(work, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return page, [n for n, _ in found]


def variant(work, name, src_file, old, new, copies=()):
    """A directory `name` holding src_file with old replaced by new, and copies of the others."""
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(work, src_file)) as f:
        text = f.read()
    check(old in text, f"variant {name}: '{old}' not in {src_file}")
    with open(os.path.join(d, src_file), "w") as f:
        f.write(text.replace(old, new))
    for c in copies:
        shutil.copy(os.path.join(work, c), d)
    return d


def rawfile(path):
    """The vectors of an ngspice binary rawfile (real data)."""
    with open(path, "rb") as f:
        data = f.read()
    head, _, body = data.partition(b"Binary:\n")
    lines = head.decode().splitlines()
    nvars = int(next(l for l in lines if l.startswith("No. Variables")).split(":")[1])
    npts = int(next(l for l in lines if l.startswith("No. Points")).split(":")[1])
    start = lines.index("Variables:") + 1
    names = [lines[start + k].split()[1] for k in range(nvars)]
    arr = np.frombuffer(body[: 8 * nvars * npts], dtype="<f8").reshape(npts, nvars)
    return {n: arr[:, k] for k, n in enumerate(names)}


def templates_page(work):
    page, names = files_of("templates.md", work)
    check(names == ["divider.cir", "divider_models.inc", "divider.json"], f"templates.md files: {names}")
    # The rendered point, as the page shows it.
    p = run(["render", "divider.json", "--point", "1"], work)
    shown = re.search(r"\$ gaincell render divider.json --point 1 \| head -4\n(.*?)\n\$ gaincell sweep", page, re.S).group(1)
    check(p.stdout.splitlines()[:4] == shown.splitlines()[:4], f"render differs from the page:\n{p.stdout}")
    # The sweep, and its ranges as the page shows them.
    p = run(["sweep", "divider.json", "-o", "divider.h5"], work)
    for line in ("v_r2_v: 450 mV .. 450 mV", "v_out_max_v: 155.6 mV .. 350.2 mV", "i_v1_a: -45 uA .. -45 uA"):
        check(line in p.stdout and line in page, f"sweep line '{line}' not in the output or the page:\n{p.stdout}")
    # The values equal ngspice -b on the rendered netlist: v(vdd,rb) = v(vdd) - v(rb) at the end.
    with open(os.path.join(work, "p1.cir"), "w") as f:
        f.write(run(["render", "divider.json", "--point", "1"], work).stdout)
    subprocess.run(["ngspice", "-b", "-r", "p1.raw", "p1.cir"], cwd=work, capture_output=True, check=True)
    raw = rawfile(os.path.join(work, "p1.raw"))
    with h5py.File(os.path.join(work, "divider.h5"), "r") as f:
        got = f["measures/v_r2_v"][1]
        i_v1 = f["measures/i_v1_a"][1]
        vmax = f["measures/v_out_max_v"][1]
    check(got == raw["v(vdd)"][-1] - raw["v(rb)"][-1], f"v(vdd,rb) {got} vs ngspice {raw['v(vdd)'][-1] - raw['v(rb)'][-1]}")
    check(i_v1 == raw["i(v1)"][-1], f"i(v1) {i_v1} vs ngspice {raw['i(v1)'][-1]}")
    check(vmax == raw["v(out)"].max(), f"max v(out) {vmax} vs ngspice {raw['v(out)'].max()}")
    # Never overwritten without asking.
    p = run(["sweep", "divider.json", "-o", "divider.h5"], work, 3)
    msg = re.search(r"(error GC-1810: .*)", page).group(1)
    check(p.stderr.strip() == msg, f"GC-1810: {p.stderr}")
    run(["sweep", "divider.json", "-o", "divider.h5", "--overwrite"], work)
    # The refusals the page quotes, each from the file the page names.
    cases = [
        ("neg", "divider.json", '"3n"', '"-3n"', ["divider.cir", "divider_models.inc"], "GC-1110"),
        ("cbx", "divider.cir", "{2*cx}", "{2*cbx}", ["divider.json", "divider_models.inc"], "GC-1107"),
        ("inc", "divider.cir", "divider_models.inc", "divider_model.inc", ["divider.json", "divider_models.inc"], "GC-1108"),
        ("vec", "divider.json", "v(vdd,rb)", "v(vdd,rbx)", ["divider.cir", "divider_models.inc"], "GC-1213"),
    ]
    for name, f, old, new, copies, gid in cases:
        d = variant(work, name, f, old, new, copies)
        p = run(["sweep", "divider.json", "-o", "out.h5"], d, 3)
        first = p.stderr.strip().splitlines()[0]
        quoted = re.search(r"`([^`]*error " + gid + r"[^`]*)`", page).group(1)
        want = quoted.replace(".../", d + "/")
        check(first.startswith(want) if "..." not in quoted else first == want,
              f"{gid}: the page says `{quoted}`; the run says: {p.stderr}")
        check(not os.path.exists(os.path.join(d, "out.h5")) and not os.path.exists(os.path.join(d, "out.h5.partial")),
              f"{gid}: a refused sweep left a results file")
    # A derived value shares a line with numbers and still cannot be set.
    d = variant(work, "derived", "divider.json", '"params": {"tp": "3n"}', '"params": {"tp": "3n", "cl": "2p"}',
                ["divider.cir", "divider_models.inc"])
    p = run(["sweep", "divider.json", "-o", "out.h5"], d, 3)
    check(p.stderr.startswith("divider.json:5:32: error GC-1104: /params/cl: parameter 'cl' is derived (an expression) in "),
          f"GC-1104: {p.stderr}")
    hint = re.search(r"hint `(closest: [^`]*)`", page).group(1)
    p = run(["sweep", "divider.json", "-o", "out.h5"], os.path.join(work, "vec"), 3)
    check(("hint: " + hint) in p.stderr, f"GC-1213 hint: {p.stderr}")
    p = run(["render", "divider.json", "--point", "0"], os.path.join(work, "cbx"), 3)
    check("hint: did you mean 'cl'?" in p.stderr, f"GC-1107 on render: {p.stderr}")


def spec_page(work):
    page, names = files_of("spec-format.md", work)
    check(names == ["characterization/axes_example.json", "characterization/multiply_example.json"], f"spec-format.md files: {names}")
    os.symlink(os.path.join(SRC, "netlists"), os.path.join(work, "netlists"))
    p = run(["plan", "characterization/axes_example.json", "--probe", "1", "--jobs", "1"], work)
    check("1728 points" in p.stdout, f"axes example: {p.stdout}")
    p = run(["sweep", "characterization/multiply_example.json", "-o", "mult.h5"], work)
    check("128 of 128 points ok" in p.stdout, f"multiply example: {p.stdout}")
    with h5py.File(os.path.join(work, "mult.h5"), "r") as f:
        v = f["measures/v_sn_rbl_v"][:]
    check(np.isfinite(v).all() and v.min() < -0.4 and v.max() > 0.4, f"v(x1.sn,rbl): {v.min()} .. {v.max()}")


def failures(work):
    d = os.path.join(work, "fail")
    os.makedirs(d)
    # A measure that fails on one point only: the point keeps its other measures.
    with open(os.path.join(d, "rc.cir"), "w") as f:
        f.write("rc\n.param r=1k $ [ohm] > 0 resistance\n.param t_probe=5n $ [s] probe time\n"
                "V1 in 0 PULSE(0 1 1n 10p 10p 100n 200n)\nR1 in out {r}\nC1 out 0 1p\nI1 0 out 1n\n.end\n")
    spec = {"format": "gaincell-spec/1", "name": "rc", "template": "rc.cir",
            "axes": [{"param": "t_probe", "values": ["5n", "50n"]}],
            "analysis": {"tran": {"step": "10p", "stop": "10n"}},
            "measures": [{"name": "v_late_v", "kind": "value_at", "of": "v(out)", "at": "t_probe", "unit": "V"},
                         {"name": "i_i1_a", "kind": "value_at", "of": "i(i1)", "at": "end", "unit": "A"},
                         {"name": "v_max_v", "kind": "max", "of": "v(in,out)", "unit": "V"}]}
    with open(os.path.join(d, "rc.json"), "w") as f:
        json.dump(spec, f)
    p = run(["sweep", "rc.json", "-o", "rc.h5"], d, 4)
    check("1 x measure_error from point 1: measure 'v_late_v': time 5e-08 s is outside the simulated span [0, 1e-08] s" in p.stdout,
          f"grouped failures: {p.stdout}")
    with h5py.File(os.path.join(d, "rc.h5"), "r") as f:
        late, i1, vmax = f["measures/v_late_v"][:], f["measures/i_i1_a"][:], f["measures/v_max_v"][:]
        status = [f["status"][k] for k in range(2)]
    check(np.isnan(late[1]) and np.isfinite(late[0]), f"v_late_v: {late}")
    check(np.allclose(i1, 1e-9) and np.isfinite(vmax).all(), f"the other measures of the failed point: {i1}, {vmax}")
    p = run(["info", "rc.h5"], d)
    check("failed points, by message:" in p.stdout and "1 x measure_error from point 1" in p.stdout, f"info: {p.stdout}")
    # A failure no point escapes stops the sweep after the first point: parse error, missing model.
    with open(os.path.join(d, "bad.cir"), "w") as f:
        f.write("bad\n.param r=1k $ [ohm]\nV1 in 0 1\nR1 in out {r}\nM1 out in 0 0 nosuchmodel W=1u L=1u\n.end\n")
    spec2 = dict(spec, template="bad.cir", axes=[{"param": "r", "values": [1000, 2000, 3000]}],
                 measures=[{"name": "v_v", "kind": "value_at", "of": "v(out)", "unit": "V"}])
    with open(os.path.join(d, "bad.json"), "w") as f:
        json.dump(spec2, f)
    p = run(["sweep", "bad.json", "-o", "bad.h5"], d, 3)
    check(p.stderr.startswith("error GC-1214: bad.json: point 0 (r=1000 ohm) failed as missing_model, a reason no other "
                              "point can escape; nothing was stored. ngspice said:") and "nosuchmodel" in p.stderr,
          f"GC-1214: {p.stderr}")
    check(not os.path.exists(os.path.join(d, "bad.h5.partial")), "GC-1214 left a results file")
    # A parameter range declared in the template: a negative resistance is refused.
    spec3 = dict(spec, axes=[{"param": "r", "values": [1000, -5]}])
    with open(os.path.join(d, "neg.json"), "w") as f:
        json.dump(spec3, f)
    p = run(["sweep", "neg.json", "-o", "neg.h5"], d, 3)
    check("error GC-1110: /axes/0/values/1: parameter 'r' = -5 ohm is outside its declared range > 0 (rc.cir:2)" in p.stderr,
          f"GC-1110 on an axis: {p.stderr}")


def cli(work):
    d = os.path.join(work, "cli")
    os.makedirs(d)
    # SPICE suffixes in options, -q after the subcommand.
    p = run(["tile", "--passive-line", "--c-line", "500f", "--tokens", "2", "--dims", "2", "-o", "t.h5", "-q"], d)
    with h5py.File(os.path.join(d, "t.h5"), "r") as f:
        check(abs(f.attrs["c_line_f"] - 500e-15) < 1e-27, "--c-line 500f")
    check("simulating" not in p.stderr, f"-q after the subcommand: {p.stderr}")
    p = run(["tile", "--c-line", "5x0f", "-o", "t2.h5"], d, 2)
    check("--c-line: expected a number (SPICE suffixes allowed" in p.stderr, p.stderr)
    # A LUT prints its shape, not its values; its exports keep its measured grid.
    run(["sweep", os.path.join(SRC, "characterization", "pushpull_read_current.json"), "-o", "rc.h5"], d)
    p = run(["fit", "rc.h5", "-m", "i_read_a", "--model", "lut", "-i", "v_store,v_line", "-o", "lut.json"], d)
    check("table: 19 v_store (0 V .. 900 mV) x 5 v_line (350 mV .. 550 mV) = 95 values" in p.stdout and
          "-8.534695861827095e-06" not in p.stdout, f"fit --model lut printed: {p.stdout[:500]}")
    run(["export", "lut.json", "--format", "csv", "-o", "csv"], d)
    with open(os.path.join(d, "csv", "lut.csv")) as f:
        rows = [l.split(",") for l in f.read().splitlines()[1:]]
    with h5py.File(os.path.join(d, "rc.h5"), "r") as f:
        i = f["measures/i_read_a"][:]
        vs, vl = f["axes/v_store"][:], f["axes/v_line"][:]
    check(len(rows) == 95, f"csv rows {len(rows)}")
    exact = all(float(r[2]) == i[list(vs).index(float(r[0])), list(vl).index(float(r[1]))] for r in rows)
    check(exact, "the csv export of a lut is its measured points, exactly")
    p = run(["export", "--help"], d)
    check("csv, xspice, verilog-a: grid points per input" in p.stdout, f"export --help: {p.stdout}")
    # The paper polynomial refuses swapped inputs.
    run(["sweep", os.path.join(SRC, "characterization", "pushpull_multiply.json"), "-o", "m.h5"], d)
    p = run(["fit", "m.h5", "-m", "q_line_c", "--model", "paper-poly", "-i", "v_sn_read_v,t_pulse", "-o", "pp.json"], d, 3)
    check(p.stderr.strip() == "error GC-1610: fit paper_poly: the inputs are, in order, the pulse width (s, or 1 for a fraction "
                              "of t_max), the stored voltage (V) and optionally vin (V); given: v_sn_read_v [V], t_pulse [s] "
                              "(swapped? -i t_pulse,v_sn_read_v)", f"paper-poly order: {p.stderr}")


def main():
    work = tempfile.mkdtemp(prefix="gaincell-netlists-in-")
    try:
        templates_page(work)
        spec_page(work)
        failures(work)
        cli(work)
    finally:
        if not FAILURES:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work} for inspection")
    if FAILURES:
        print(f"netlists_in: {len(FAILURES)} failure(s)")
        sys.exit(1)
    print("netlists_in: passed")


main()
