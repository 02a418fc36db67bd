#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Golden files (ctest golden): what users receive from gaincell's writers and netlist
renderers, checked byte for byte (tests/golden/README.md).

Each case runs gaincell commands as a user would, writing into a fresh temporary directory,
normalizes what varies by machine (the source tree's path, the temporary directory, the
gaincell version and git sha) and compares every file written, and the standard output where
a case keeps it, with tests/golden/<case>/. A difference fails the test with a unified diff.
With GAINCELL_UPDATE_GOLDEN=1 the normalized outputs replace the golden files instead (review
the diff with git before committing it).

Usage: golden_test.py GAINCELL SOURCE_DIR
"""
import difflib
import os
import shutil
import subprocess
import sys
import tempfile

GAINCELL, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
GOLDEN = os.path.join(SRC, "tests", "golden")
MODELS = os.path.join(GOLDEN, "models")
UPDATE = os.environ.get("GAINCELL_UPDATE_GOLDEN") == "1"


def export(model, fmt, *extra):
    return ["-q", "export", os.path.join(MODELS, model + ".json"), "--format", fmt, "-o", "{out}"] + list(extra)


def card(name):
    return os.path.join(SRC, "netlists", "cells", name + ".cell.json")


def spec(name):
    return os.path.join(SRC, "characterization", name + ".json")


# case -> commands; "{out}" is the case's output directory. A command whose name is given
# as (file, args) keeps its standard output as that file.
CASES = {
    # XSPICE: an ngspice table and its wrapper subcircuit.
    "export_xspice": [export("lut", "xspice")],
    # Verilog-A: the closed-form module of each kind, and a lut's $table_model and its table.
    "export_verilog_a": [export(m, "verilog-a") for m in ("paper_poly", "poly", "exp_decay", "hardsigmoid", "lut")],
    # CSV: a lut on its own grid, a polynomial on a 3 x 3 grid.
    "export_csv": [export("lut", "csv"), export("poly", "csv", "--grid", "3")],
    # The authors' reference-simulator layout of a paper-poly model.
    "export_reference": [export("paper_poly", "reference", "--t-max", "15n", "--q-sat", "1p")],
    # Rendered netlists: point 0 of shipped specs (one with a corner library), as ngspice -b runs them.
    "render": [["render", spec("pushpull_multiply"), "--point", "0", "-o", "{out}/pushpull_multiply.p0.cir"],
               ["render", spec("gc3t_corners"), "--point", "0", "-o", "{out}/gc3t_corners.p0.cir"]],
    # Tile decks: held lines with a reference column (gc3t), a signed cell (pushpull), passive lines (osfet2t).
    "tile": [["tile", "--card", card(c), "--tokens", "2", "--dims", "3", "--seed", "1", "--render-only", "--netlist",
              "{out}/" + c + "_2x3.cir"] for c in ("gc3t", "pushpull", "osfet2t")],
    # What a card derives: its testbench templates and sweep specs, and the summary `gaincell cell` prints.
    "cell": [("stdout.txt", ["cell", card("pushpull"), "-o", "{out}"])],
}


def version_and_sha():
    out = subprocess.run([GAINCELL, "--version"], capture_output=True, text=True, check=True).stdout.split()
    return out[1], out[2].strip("()")  # "gaincell 0.1.0 (2400d99f9a8e)"


def normalizer(out_dir):
    version, sha = version_and_sha()
    pairs = [(os.path.realpath(out_dir), "<OUT>"), (out_dir, "<OUT>"), (os.path.realpath(SRC), "<SOURCE>"), (SRC, "<SOURCE>"),
             ("gaincell " + version + " (" + sha + ")", "gaincell <VERSION>"), ("gaincell " + version, "gaincell <VERSION>")]
    if sha:
        pairs.append((sha, "<GIT_SHA>"))

    def normalize(text):
        for old, new in pairs:
            text = text.replace(old, new)
        return text
    return normalize


def run_case(name, commands, work):
    """The case's normalized outputs: {relative path: text}."""
    out = os.path.join(work, name)
    os.makedirs(out)
    produced = {}
    for command in commands:
        keep, args = command if isinstance(command, tuple) else (None, command)
        args = [a.replace("{out}", out) for a in args]
        p = subprocess.run([GAINCELL] + args, cwd=work, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"golden {name}: gaincell {' '.join(args)} failed (exit {p.returncode}):\n{p.stdout}{p.stderr}")
        if keep:
            produced[keep] = p.stdout
    for root, _, files in os.walk(out):
        for f in files:
            path = os.path.join(root, f)
            with open(path, encoding="utf-8") as fh:
                produced[os.path.relpath(path, out)] = fh.read()
    normalize = normalizer(out)
    return {rel: normalize(text) for rel, text in produced.items()}


def golden_files(name):
    case_dir = os.path.join(GOLDEN, name)
    found = {}
    for root, _, files in os.walk(case_dir):
        for f in files:
            path = os.path.join(root, f)
            with open(path, encoding="utf-8") as fh:
                found[os.path.relpath(path, case_dir)] = fh.read()
    return found


def compare(name, produced):
    """Differences as printable text ("" if none)."""
    expected = golden_files(name)
    report = []
    for rel in sorted(set(expected) | set(produced)):
        want, got = expected.get(rel), produced.get(rel)
        if want == got:
            continue
        if want is None:
            report.append(f"golden {name}/{rel}: written now, but has no golden file")
        elif got is None:
            report.append(f"golden {name}/{rel}: no longer written")
        else:
            report.append("".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                                       f"tests/golden/{name}/{rel}", f"now/{name}/{rel}")))
    return "\n".join(report)


def update(name, produced):
    case_dir = os.path.join(GOLDEN, name)
    shutil.rmtree(case_dir, ignore_errors=True)
    for rel, text in produced.items():
        path = os.path.join(case_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)


def main():
    work = tempfile.mkdtemp(prefix="gaincell-golden-")
    failed = []
    try:
        for name, commands in CASES.items():
            produced = run_case(name, commands, work)
            if UPDATE:
                update(name, produced)
                print(f"golden {name}: {len(produced)} file(s) written to tests/golden/{name}/")
                continue
            diff = compare(name, produced)
            print(f"golden {name}: {len(produced)} file(s) {'differ' if diff else 'match'}")
            if diff:
                print(diff)
                failed.append(name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        print(f"FAILED: {', '.join(failed)} differ from tests/golden (if the change is meant, rerun with "
              "GAINCELL_UPDATE_GOLDEN=1 and review the diff: tests/golden/README.md)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
