#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Your own cell, end to end (ctest flow_cells).

1. The cell of docs/cells.md, "Your own cell in 15 minutes": its subcircuit and card are
   copied from the page into an empty directory outside the source tree, and every command
   of that section runs there; the numbers the page quotes are the numbers produced.
2. `gaincell flow CARD` on every shipped card.
For every flow: exit 0, the SPICE check passes its thresholds in both modes, and every file
in OUT derives from that cell, walked through the SHA-256 hashes recorded in flow.json (the
card's own files, then each stage's outputs feeding the next), the results files and models
included.
3. What must be refused or fail loudly: a spec about another cell (GC-1903), a spec lacking the
   flow's names (GC-1904), a card that cannot give a role (GC-2010: the flow fails that stage
   and skips its dependents), a SPICE check that misses its thresholds (exit 4, red report).
4. The language model (docs/calibration.md, "Results"): each flow's eval/lm.json has the eight
   rows with the cell's adaptation converged, and the perplexities and cell shapes the page
   quotes for the shipped cells are those of these flows (tools/lm_cell_shape.py).

Usage: flow_cells_test.py GAINCELL SOURCE_DIR
"""
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py

from itest import FAILURES, SRC, check, fail, run


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_flow(out, card, name):
    """Every stage ran, the SPICE check passed, and every file in OUT derives from the card."""
    with open(os.path.join(out, "flow.json")) as f:
        fl = json.load(f)
    c = fl["cell"]
    check(c["name"] == name, f"{name}: flow.json names cell {c['name']}")
    check(c["card"] == os.path.abspath(card), f"{name}: flow.json card {c['card']} is not {card}")
    check(c["card_sha256"] == sha(card), f"{name}: card hash")
    cell_files = {x["path"]: x["sha256"] for x in c["files"]}
    check(c["subckt_file"] in cell_files and c["converter_file"] in cell_files, f"{name}: the cell's files are listed")
    produced = {}
    for st in fl["stages"]:
        check(st["status"] == "ran", f"{name}: stage {st['name']} {st['status']}: {st.get('reason', '')}")
        for inp, h in st.get("inputs_sha256", {}).items():
            if inp.startswith(out + os.sep):
                rel = os.path.relpath(inp, out)
                check(produced.get(rel) == h, f"{name}: stage {st['name']} reads {rel}, not as an earlier stage wrote it")
            elif inp in cell_files:
                check(cell_files[inp] == h, f"{name}: stage {st['name']} reads {inp} with another hash than the card's")
            elif inp == fl["sample"]:
                pass  # the Q/K/V sample: cell-independent input of the evaluator
            elif os.path.dirname(inp) == os.path.join(SRC, "data", "tinylm"):
                pass  # the shipped language model and its texts: cell-independent
            else:
                fail(f"{name}: stage {st['name']} reads {inp}, which is neither the card's nor an earlier stage's")
        for rel, h in st.get("outputs_sha256", {}).items():
            produced[rel] = h
    for path in glob.glob(os.path.join(out, "**", "*"), recursive=True):
        rel = os.path.relpath(path, out)
        if os.path.isdir(path) or rel.startswith("logs" + os.sep) or rel == "flow.json":
            continue
        check(rel in produced, f"{name}: {rel} is in OUT but no stage recorded it")
        if rel in produced:
            check(produced[rel] == sha(path), f"{name}: {rel} changed after its stage")
    # The sweeps simulated the card's circuits; the models came from those sweeps.
    for role in ("multiply", "read_current", "retention", "energy", "c2p"):
        want = cell_files[c["converter_file"] if role == "c2p" else c["subckt_file"]]
        with h5py.File(os.path.join(out, "sweeps", role + ".h5"), "r") as f:
            inc = f.attrs["include_sha256"]
            inc = inc.decode() if isinstance(inc, bytes) else inc
        check(want in inc, f"{name}: sweeps/{role}.h5 did not read the card's {'converter' if role == 'c2p' else 'cell'}")
    for model, data in (("multiply.paper_poly", "multiply"), ("read_current.lut", "read_current"),
                        ("retention.exp_decay", "retention"), ("c2p.hardsigmoid", "c2p")):
        with open(os.path.join(out, "fits", model + ".json")) as f:
            prov = json.load(f)["provenance"]
        check(prov["source_sha256"] == sha(os.path.join(out, "sweeps", data + ".h5")), f"{name}: {model} source")
    with open(os.path.join(out, "eval", "spice_check.json")) as f:
        chk = json.load(f)
    check(chk["passed"] is True, f"{name}: SPICE check did not pass: {[t['failures'] for t in chk['tiles']]}")
    check(chk["cell"]["card"] == os.path.abspath(card), f"{name}: SPICE check of another card")
    check(chk["thresholds"] == {"max_charge_error_pct_fs": 0.5, "min_within_1lsb_share": 0.99}, f"{name}: thresholds")
    check(len(chk["tiles"]) == 2 and all("q_ode_c" in t for t in chk["tiles"]), f"{name}: both seeds, both modes")
    with h5py.File(os.path.join(out, "eval", "fitted.h5"), "r") as f:
        cfg = json.loads(f.attrs["config"])
    check(cfg["cell_model"] == os.path.join(out, "fits", "read_current.lut.json"), f"{name}: evaluator's cell model")
    # The flow's closed-form Verilog-A modules parse in Debian's admsXml, as they are (docs/fitting.md).
    closed = [m for m in ("multiply.paper_poly", "retention.exp_decay", "c2p.hardsigmoid")
              if os.path.exists(os.path.join(out, "exports", "verilog-a", m + ".va"))]
    check(len(closed) == 3, f"{name}: closed-form Verilog-A exports: {closed}")
    for m in closed:
        va = os.path.join(out, "exports", "verilog-a", m + ".va")
        with tempfile.TemporaryDirectory() as scratch:
            p = subprocess.run(["admsXml", va], cwd=scratch, capture_output=True, text=True)
        bad = [ln for ln in (p.stdout + p.stderr).splitlines() if ln.strip() and not ln.startswith("[info")]
        check(p.returncode == 0 and not bad, f"{name}: admsXml {m}.va: exit {p.returncode}: {bad[:3]}")
    with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
        page = f.read()
    check(f"cell {name}" in page and 'class="failbox"' not in page, f"{name}: report")
    print(f"{name}: {len(fl['stages'])} stages, {len(produced)} files, all derived from {card}", flush=True)
    return fl, chk


def lm_rows(out, name):
    """The flow's language-model rows: eight, the cell's adaptation converged."""
    with open(os.path.join(out, "eval", "lm.json")) as f:
        rows = json.load(f)["rows"]
    got = [(r["model"], r["attention"], r["scalers"]) for r in rows]
    want = [("softmax", "softmax", "-"), ("linear", "linear", "trained")] + \
        [("linear", a, s) for a in ("reference cubic", name) for s in ("trained", "initial", "adapted")]
    check(got == want, f"{name}: eval/lm.json rows {got}")
    check(rows[-1].get("converged") is True and rows[4].get("converged") is True, f"{name}: adaptation not converged")
    return rows


def quoted_lm(out, name, rows):
    """docs/calibration.md quotes this flow's perplexities and its cell's shape."""
    with open(os.path.join(SRC, "docs", "calibration.md"), encoding="utf-8") as f:
        page = f.read()
    t, i, a = rows[5], rows[6], rows[7]
    row = f"| {name} | {t['perplexity']:.3f} | {i['perplexity']:.3f} | {a['perplexity']:.3f} ({a['iterations']}) |"
    check(row in page, f"docs/calibration.md lacks the row {row}")
    labels = ["softmax model, ideal softmax", "linear model, `linear` preset, trained scalers",
              "linear model, authors' cubic, trained scalers",
              "linear model, authors' cubic, a = 1, b = 0 (the start of the adaptation)",
              f"linear model, authors' cubic, adapted (converged after {rows[4]['iterations']} iterations)"]
    for label, r in zip(labels, rows[:5]):
        line = f"| {label} | {r['perplexity']:.3f} | {r['loss_nats_per_token']:.4f} |"
        check(line in page, f"docs/calibration.md lacks the row {line}")
    p = subprocess.run(["/usr/bin/python3", os.path.join(SRC, "tools", "lm_cell_shape.py"), out],
                       capture_output=True, text=True)
    check(p.returncode == 0 and p.stdout.strip() in page,
          f"docs/calibration.md lacks the cell shape row {p.stdout.strip()!r} ({p.stderr})")


def quoted_check(name, chk):
    """The SPICE-check errors docs/cells.md quotes for this cell are those of the run."""
    with open(os.path.join(SRC, "docs", "cells.md"), encoding="utf-8") as f:
        page = f.read()
    row = re.search(r"^\| " + re.escape(name) + r"(?: \(above\))? \| ([\d.]+) / ([\d.]+), ([\d.]+) / ([\d.]+) \| 100 % \|", page, re.M)
    if not check(row is not None, f"docs/cells.md has no SPICE-check row for {name}"):
        return
    got = [round(t["charge_error_pct_fs"][m], 3) for m in ("fitted", "ode") for t in chk["tiles"]]
    check(got == [float(row.group(i)) for i in (1, 2, 3, 4)], f"docs/cells.md quotes {row.group(0)} for {name}; the run: {got}")
    check(all(t["within_1lsb_share"][m] == 1.0 for m in ("fitted", "ode") for t in chk["tiles"]), f"{name}: 100 % within 1 LSB")


def docs_cell(work):
    """The cell of docs/cells.md, from the page alone."""
    with open(os.path.join(SRC, "docs", "cells.md"), encoding="utf-8") as f:
        page = f.read()
    files = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", page, re.S)
    check(sorted(n for n, _ in files) == ["my3t.cell.json", "my3t.sp"], f"docs/cells.md files: {[n for n, _ in files]}")
    for n, text in files:
        with open(os.path.join(work, n), "w") as f:
            f.write(text)
    p = run(["cell", "my3t.cell.json"], work)
    for line in ("port rwl        role wlr", "port rbl        role rd", "port vss        fixed at 0 V",
                 "read: precharged line at 900 mV, c_line 5 pF", "sign: differential around 450 mV"):
        check(line in p.stdout, f"gaincell cell: no line '{line}' in\n{p.stdout}")
    run(["cell", "my3t.cell.json", "-o", "derived"], work)
    check(os.path.exists(os.path.join(work, "derived", "retention.json")), "gaincell cell -o: no retention.json")
    # Its line is precharged: the language model runs in ODE mode (about 1.6 s per block), on 1 block here.
    p = run(["flow", "my3t.cell.json", "-o", "out/my3t", "--lm-ode-sequences", "1"], work)
    check("flow: done in" in p.stdout, p.stdout)
    out = os.path.join(work, "out", "my3t")
    fl, chk = check_flow(out, os.path.join(work, "my3t.cell.json"), "my3t")
    quoted_check("my3t", chk)
    lm_rows(out, "my3t")
    # The numbers the page quotes.
    quoted = re.search(r"stage-1\s+charge error ([\d.]+) % / ([\d.]+) % of the 1 pC full scale in fitted mode.*?"
                       r"and ([\d.]+) % / ([\d.]+) % in ODE mode", page, re.S)
    got = [t["charge_error_pct_fs"][m] for m in ("fitted", "ode") for t in chk["tiles"]]
    want = [float(quoted.group(i)) for i in (1, 2, 3, 4)]
    check([round(g, 3) for g in got] == want, f"docs quote errors {want}, the run gives {got}")
    with h5py.File(os.path.join(out, "eval", "reference.h5"), "r") as a, h5py.File(os.path.join(out, "eval", "fitted.h5"), "r") as b:
        import numpy as np
        r = np.corrcoef(a["output"][:].ravel(), b["output"][:].ravel())[0, 1]
    check(f"r = {r:.3f}" in page, f"docs quote another r than {r:.3f}")
    with open(os.path.join(out, "fits", "retention.exp_decay.json")) as f:
        tau = {c["name"]: c["value"] for c in json.load(f)["coefficients"]}["tau_s"]
    check(f"τ = {tau * 1e3:.2f} ms" in page, f"docs quote another tau than {tau * 1e3:.2f} ms")
    with open(os.path.join(out, "eval", "energy.json")) as f:
        e = json.load(f)["per_token_per_head"]
    check(f"{e['total_j'] * 1e9:.2f} nJ" in page and f"{e['components_j']['qk_array'] * 1e9:.2f} nJ in each array" in page,
          f"docs quote another energy than {e['total_j'] * 1e9:.2f} nJ")
    # A tile of it, from the card, and from the subcircuit with the card beside it.
    p = run(["tile", "--card", "my3t.cell.json", "--tokens", "8", "--dims", "8", "--seed", "1", "-o", "tile.h5"], work)
    line0 = re.search(r"line 0: charge (\S+ \S+),", p.stdout)
    check(line0 is not None and f"line 0: charge {line0.group(1)}" in page, f"docs quote another tile: {p.stdout}")
    p = run(["tile", "--cell", "my3t.sp", "--tokens", "2", "--dims", "2", "-o", "tile2.h5"], work)
    check("tile 2x2 of my3t" in p.stdout, p.stdout)
    return out


def refusals(work, out):
    # A hand-written spec must be about the card's cell.
    p = run(["flow", "my3t.cell.json", os.path.join(SRC, "characterization", "pushpull_multiply.json"), "-o", "out/x"], work, 3)
    check("GC-1903" in p.stderr and "my3t" in p.stderr, f"another cell's spec: {p.stderr}")
    # Specs without a card are about the default cell: this cell's spec is refused, not mixed.
    p = run(["flow", os.path.join(out, "derived", "multiply.json"), "-o", "out/y"], work, 3)
    check("GC-1903" in p.stderr and "pushpull" in p.stderr, f"spec without its card: {p.stderr}")
    # A spec of this cell that lacks the names the fits read.
    with open(os.path.join(out, "derived", "read_current.json")) as f:
        spec = json.load(f)
    spec["template"] = os.path.join(out, "derived", spec["template"])
    spec["axes"][1]["param"] = "c_line"
    spec["params"].pop("c_line")
    spec["params"]["v_line"] = 0.9
    spec["axes"][1]["values"] = [1e-6]
    with open(os.path.join(work, "rc.json"), "w") as f:
        json.dump(spec, f)
    p = run(["flow", "my3t.cell.json", "rc.json", "-o", "out/z"], work, 3)
    check("GC-1904" in p.stderr and "axis v_line" in p.stderr, f"spec lacking v_line: {p.stderr}")
    # A card that cannot give a role: the stage fails with the reason, its dependents are skipped.
    with open(os.path.join(work, "my3t.cell.json")) as f:
        card = json.load(f)
    del card["subckt"]["storage_node"]
    card["name"] = "my3t_nosn"
    with open(os.path.join(work, "nosn.cell.json"), "w") as f:
        json.dump(card, f)
    p = run(["flow", "nosn.cell.json", "-o", "out/nosn", "--no-lm"], work, 4)
    check("sweep retention" in p.stdout and "GC-2010" in p.stdout and "skipped: needs sweeps/retention.h5" in p.stdout,
          f"no storage node: {p.stdout}")
    with open(os.path.join(work, "out", "nosn", "report.html"), encoding="utf-8") as f:
        nosn_page = f.read()
    check('class="failbox"' in nosn_page, "no storage node: the report does not show the failed stage")
    check("Not run: the flow was run with <code>--no-lm</code>" in nosn_page, "--no-lm: the report does not say so")
    check(not os.path.exists(os.path.join(work, "out", "nosn", "eval", "lm.json")), "--no-lm: eval/lm.json written")
    # A cell whose read stack sources charge into the line never fires the converter:
    # a check that compares nothing fails, it does not pass.
    with open(os.path.join(work, "pmos.spi"), "w") as f:
        f.write(".subckt pread rbl vddc wwl wbl rwlb nwell gnd params: cst=3f\n"
                "Mwr wbl wwl sn gnd nch_hvt w=120n l=45n\nCs sn gnd {cst}\n"
                "Mrd xm sn vddc nwell pch w=150n l=60n\nMsel rbl rwlb xm nwell pch w=150n l=45n\n.ends pread\n")
    pm = json.loads(json.dumps(card))
    pm["name"] = "pread"
    pm["subckt"] = {"file": "pmos.spi", "name": "pread", "storage_node": "sn",
                    "ports": {"rd": "rbl", "vdd": "vddc", "wwl": "wwl", "wbl": "wbl", "wlrb": "rwlb"},
                    "fixed_ports": {"nwell": 0.9, "gnd": 0}}
    pm["read"] = {"scheme": "held", "line_v": 0.45}
    pm["sign"] = {"scheme": "reference_column", "offset_v": 0.45}
    with open(os.path.join(work, "pread.cell.json"), "w") as f:
        json.dump(pm, f)
    p = run(["flow", "pread.cell.json", "-o", "out/pread", "--no-lm"], work, 4)
    check("FAIL nothing to compare: the converter never fired" in p.stdout, f"a sourcing cell's check: {p.stdout}")
    # A model the netlist names but no file defines: the sweeps fail, and the console says why.
    with open(os.path.join(work, "my3t.sp")) as f:
        typo = f.read().replace("nch_hvt", "nch_hvtt")
    with open(os.path.join(work, "typo.sp"), "w") as f:
        f.write(typo)
    ty = json.loads(json.dumps(card))
    ty["name"] = "typo"
    ty["subckt"]["file"] = "typo.sp"
    ty["subckt"]["storage_node"] = "SN"
    with open(os.path.join(work, "typo.cell.json"), "w") as f:
        json.dump(ty, f)
    p = run(["flow", "typo.cell.json", "-o", "out/typo"], work, 4)
    check("sweep multiply.json" in p.stdout and "FAILED" in p.stdout and "nch_hvtt" in p.stdout,
          f"a missing model: {p.stdout}")
    # A SPICE check that misses its thresholds fails the stage, loudly.
    p = run(["flow", "my3t.cell.json", "-o", "out/my3t", "--reuse", "--max-charge-error", "0.001",
             "--lm-ode-sequences", "1"], work, 4)
    check("FAIL fitted: stage-1 charge error" in p.stdout and "1 stage(s) failed" in p.stdout, p.stdout)
    with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
        page = f.read()
    check("SPICE check FAILED" in page and 'class="failbox"' in page, "a failed check is not red in the report")
    p = run(["spice-check", "--card", "my3t.cell.json", "--set", "cell_model=" + os.path.join(out, "fits", "read_current.lut.json"),
             "--set", "c2p_model=" + os.path.join(out, "fits", "c2p.hardsigmoid.json"), "--no-ode",
             "--min-within-1lsb", "100", "--max-charge-error", "0.01"], work, 4)
    check("spice-check: FAILED" in p.stdout, p.stdout)
    # Another cell's models with this card: refused (compared by the hashes of what their sweep read).
    p = run(["spice-check", "--card", "my3t.cell.json", "--set", "cell_model=" + os.path.join(work, "shipped", "pushpull", "fits", "read_current.lut.json"),
             "--set", "c2p_model=" + os.path.join(out, "fits", "c2p.hardsigmoid.json")], work, 3)
    check("GC-1716" in p.stderr, f"another cell's model: {p.stderr}")


def main():
    work = tempfile.mkdtemp(prefix="gaincell-flow-cells-")
    try:
        out = docs_cell(work)
        for name in ("pushpull", "gc3t", "osfet2t"):
            card = os.path.join(SRC, "netlists", "cells", name + ".cell.json")
            p = run(["flow", card, "-o", os.path.join("shipped", name)], work)
            check("flow: done in" in p.stdout, p.stdout)
            fl, chk = check_flow(os.path.join(work, "shipped", name), card, name)
            quoted_check(name, chk)
            quoted_lm(os.path.join(work, "shipped", name), name, lm_rows(os.path.join(work, "shipped", name), name))
        # The default cell's energy and attention figures quoted in docs/evaluator.md.
        with open(os.path.join(SRC, "docs", "evaluator.md"), encoding="utf-8") as f:
            page = f.read()
        with open(os.path.join(work, "shipped", "pushpull", "eval", "energy.json")) as f:
            e = json.load(f)["per_token_per_head"]
        check(f"**total** | **{e['total_j'] * 1e9:.2f} nJ**" in page and
              f"| qk_array | {e['components_j']['qk_array'] * 1e9:.2f} nJ |" in page,
              f"docs/evaluator.md quotes another energy than {e['total_j'] * 1e9:.2f} nJ")
        refusals(work, out)
    finally:
        if not FAILURES:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work} for inspection")
    if FAILURES:
        print(f"flow_cells: {len(FAILURES)} failure(s)")
        sys.exit(1)
    print("flow_cells: passed")


main()
