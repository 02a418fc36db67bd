#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Engine benchmark: one sweep of the default cell's multiply spec, run as
  (a) a shell loop of `ngspice -b` on every rendered point,
  (b) one `ngspice -b` whose .control block loops over the points with `alter`,
  (c) `gaincell sweep --jobs 1`, (d) `gaincell sweep --jobs 2`,
  (e) the time inside ngspice (sum of `run`, and of parse + run) from (c)'s file,
all in the same run, alternated over repetitions; (a) and (b) both with
ngspice's default threads and with num_threads=1. Writes a JSON record and
prints a markdown table.

Usage: bench/engine_bench.py [--reps N] [--build DIR] [--spec SPEC]
"""
import argparse
import datetime
import json
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent


def timed(cmd, cwd, env=None):
    """Wall time (s) and peak RSS (KiB, largest process of the tree) of a command."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    rss = int(out.stderr.strip().splitlines()[-1])
    return wall, rss, out.stdout


def control_loop_netlist(base_text, points):
    """Variant (b): the base netlist plus a .control loop that alters the
    write bit line and the read word lines for every point, as a user of
    ngspice's own scripting would."""
    body = [l for l in base_text.splitlines() if not l.lower().startswith((".meas", ".end"))]
    ctl = [".control", "set noaskquit"]
    for k, (v_store, t_pulse) in enumerate(points):
        amp = 0.9 if t_pulse > 0 else 0.0
        flat = max(t_pulse - 20e-12, 0.0)
        ctl += [
            f"alter @vwbl[pwl] = [ 0 {v_store!r} 6e-09 {v_store!r} 6.02e-09 0 ]",
            f"alter @vwlr[pulse] = [ 0 {amp!r} 8e-09 2e-11 2e-11 {flat!r} 1 ]",
            f"alter @vwlrb[pulse] = [ 0.9 {0.9 - amp!r} 8e-09 2e-11 2e-11 {flat!r} 1 ]",
            "tran 2e-10 3e-08",
            "meas tran q integ i(vsense) from=7e-09 to=3e-08",
            f"echo point {k} q = $&q",
            "destroy all",
        ]
    ctl += ["quit 0", ".endc", ".end"]
    return "\n".join(body + ctl) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--spec", default=str(ROOT / "characterization" / "pushpull_multiply.json"))
    args = ap.parse_args()
    gaincell = str(pathlib.Path(args.build) / "bin" / "gaincell")
    spec = json.load(open(args.spec))
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="gaincell-bench-"))
    nt1 = tmp / "nt1"
    nt1.mkdir()
    (nt1 / ".spiceinit").write_text("set num_threads=1\n")
    deflt = tmp / "default"
    deflt.mkdir()

    # Points in sweep order: v_store x t_pulse.
    v_levels = np.linspace(0, 0.9, 8)
    t_levels = np.linspace(0, 15e-9, 16)
    points = [(float(v), float(t)) for v in v_levels for t in t_levels]
    n = len(points)
    for k in range(n):
        text = subprocess.run([gaincell, "render", args.spec, "--point", str(k)], check=True, capture_output=True,
                              text=True).stdout
        for d in (nt1, deflt):
            (d / f"p{k:03d}.cir").write_text(text)
    base = (deflt / "p000.cir").read_text()
    for d in (nt1, deflt):
        (d / "loop.cir").write_text(control_loop_netlist(base, points))

    loop_a = "for f in p*.cir; do ngspice -b \"$f\" > /dev/null 2>&1 || exit 1; done"
    variants = {
        "a": lambda: timed(["bash", "-c", loop_a], deflt),
        "a_nt1": lambda: timed(["bash", "-c", loop_a], nt1),
        "b": lambda: timed(["ngspice", "-b", "loop.cir"], deflt),
        "b_nt1": lambda: timed(["ngspice", "-b", "loop.cir"], nt1),
        "c": lambda: timed([gaincell, "-q", "sweep", args.spec, "-o", str(tmp / "c.h5"), "--jobs", "1"], tmp),
        "d": lambda: timed([gaincell, "-q", "sweep", args.spec, "-o", str(tmp / "d.h5"), "--jobs", "2"], tmp),
    }
    walls = {k: [] for k in variants}
    rss = {k: 0 for k in variants}
    e_run, e_parse_run, parent_rss, worker_rss, parent_cpu = [], [], [], [], []
    b_output = ""
    for rep in range(args.reps + 1):  # the first repetition warms caches and is not counted
        order = list(variants) if rep % 2 == 0 else list(reversed(list(variants)))
        for name in order:
            wall, peak, out = variants[name]()
            if name == "b":
                b_output = out
            if rep == 0:
                continue
            walls[name].append(wall)
            rss[name] = max(rss[name], peak)
            if name == "c":
                with h5py.File(tmp / "c.h5") as f:
                    run = float(f["timing/run_time_s"][...].sum())
                    parse = float(f["timing/parse_time_s"][...].sum())
                    e_run.append(run)
                    e_parse_run.append(run + parse)
            if name in ("c", "d"):
                with h5py.File(tmp / f"{name}.h5") as f:
                    parent_rss.append(int(f.attrs["parent_peak_rss_kib"]))
                    worker_rss.append(int(f.attrs["worker_peak_rss_kib"]))
                    parent_cpu.append(float(f.attrs["parent_cpu_time_s"]))

    # (b) does the same work: its charges agree with gaincell's.
    q_b = {int(m.group(1)): float(m.group(2)) for m in re.finditer(r"point (\d+) q = ([-+0-9.eE]+)", b_output)}
    with h5py.File(tmp / "c.h5") as f:
        q_c = f["measures/q_line_c"][...].ravel()
    full_scale = float(np.abs(q_c).max())
    agreement = max(abs(q_b[k] - q_c[k]) for k in range(n)) / full_scale

    med = {k: statistics.median(v) for k, v in walls.items()}
    e1, e2 = statistics.median(e_run), statistics.median(e_parse_run)
    record = {
        "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip(),
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
        "cores": os.cpu_count(),
        "ngspice": subprocess.run(["ngspice", "-v"], capture_output=True, text=True).stdout.split("\n")[1].strip(" *"),
        "points": n,
        "reps": args.reps,
        "wall_s": walls,
        "median_wall_s": med,
        "peak_rss_kib": rss,
        "gaincell_parent_rss_kib": max(parent_rss),
        "gaincell_worker_rss_kib": max(worker_rss),
        "gaincell_parent_cpu_s": statistics.median(parent_cpu),
        "e_run_s": e1,
        "e_parse_run_s": e2,
        "b_vs_gaincell_max_charge_difference_fraction_of_full_scale": agreement,
    }
    out = ROOT / "bench" / "results" / f"engine_{record['date'][:10]}.json"
    out.write_text(json.dumps(record, indent=1) + "\n")

    labels = {
        "a": "(a) shell loop of `ngspice -b`, default threads",
        "a_nt1": "(a') same, num_threads=1",
        "b": "(b) one `ngspice -b`, `.control` loop with `alter`, default threads",
        "b_nt1": "(b') same, num_threads=1",
        "c": "(c) `gaincell sweep --jobs 1`",
        "d": "(d) `gaincell sweep --jobs 2`",
    }
    print(f"| variant | wall s (median of {args.reps}) | ms / point | peak RSS | vs (a) | vs (b) |")
    print("|---|---|---|---|---|---|")
    for k in variants:
        print(f"| {labels[k]} | {med[k]:.3f} | {1e3 * med[k] / n:.2f} | {rss[k] / 1024:.1f} MiB | "
              f"{med['a'] / med[k]:.2f}x | {med['b'] / med[k]:.2f}x |")
    print(f"| (e) inside ngspice, sum of `run` (parse + run) | {e1:.3f} ({e2:.3f}) | {1e3 * e1 / n:.2f} "
          f"({1e3 * e2 / n:.2f}) | | | |")
    print()
    print(f"gaincell driver: peak {max(parent_rss) / 1024:.1f} MiB, CPU {statistics.median(parent_cpu):.3f} s; "
          f"largest worker {max(worker_rss) / 1024:.1f} MiB")
    print(f"engine overhead (c) vs sum of run: {100 * (med['c'] - e1) / e1:.1f} %; "
          f"vs parse + run: {100 * (med['c'] - e2) / e2:.1f} %")
    print(f"(b) agrees with gaincell: max charge difference {100 * agreement:.4f} % of full scale")
    print(f"record: {out}")


if __name__ == "__main__":
    main()
