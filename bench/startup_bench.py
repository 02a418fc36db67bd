#!/usr/bin/python3
"""How long a gaincell command takes to start, for two builds side by side.

Times, alternated in each repetition: `/bin/true` (the cost of any process), `gaincell --version`
(process start: dynamic loading, static initialisers, the command line) and a one-point sweep of
the default multiply spec (`--jobs 1`: start, worker spawn and ngSpice_Init, one full parse and
transient, the results file) for each binary given, and counts the shared libraries each one loads
(`ldd`). Median of the repetitions.

Usage: bench/startup_bench.py LABEL=GAINCELL [LABEL=GAINCELL ...] [--reps 40]
e.g.   bench/startup_bench.py static=build/bin/gaincell shared=/tmp/b-shared/bin/gaincell
Writes bench/results/startup_<UTC date-time>.json and prints a markdown table.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def timed(cmd, cwd):
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"startup_bench: {' '.join(cmd)} exited {p.returncode}: {p.stderr}")
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("builds", nargs="+", help="LABEL=path/to/gaincell")
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    builds = dict(b.split("=", 1) for b in args.builds)
    work = tempfile.mkdtemp(prefix="gaincell-startup-bench-")
    with open(os.path.join(ROOT, "characterization", "pushpull_multiply.json")) as f:
        spec = json.load(f)
    spec["template"] = os.path.join(ROOT, "netlists", "pushpull_cell.cir")
    spec["axes"] = [{"param": "v_store", "values": [0.45]}, {"param": "t_pulse", "values": ["10n"]}]
    with open(os.path.join(work, "one.json"), "w") as f:
        json.dump(spec, f)
    variants = {"true": ["/bin/true"]}
    for label, exe in builds.items():
        exe = os.path.abspath(exe)
        variants[f"{label} --version"] = [exe, "--version"]
        variants[f"{label} one-point sweep"] = [exe, "-q", "sweep", "one.json", "-o", "one.h5", "--overwrite",
                                                "--jobs", "1"]
    times = {k: [] for k in variants}
    load_start = os.getloadavg()
    keys = list(variants)
    for rep in range(args.reps + 1):  # the first is a warm-up
        for k in keys[rep % len(keys):] + keys[:rep % len(keys)]:
            t = timed(variants[k], work)
            if rep > 0:
                times[k].append(t)
    libs = {}
    for label, exe in builds.items():
        out = subprocess.run(["ldd", os.path.abspath(exe)], capture_output=True, text=True).stdout
        libs[label] = len([l for l in out.splitlines() if "=>" in l or l.strip().startswith("/")])
    now = datetime.datetime.now(datetime.timezone.utc)
    result = {"benchmark": "startup", "date_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "reps": args.reps,
              "builds": builds, "shared_libraries": libs,
              "load_average_1_5_15": {"start": [round(x, 2) for x in load_start],
                                      "end": [round(x, 2) for x in os.getloadavg()]},
              "median_ms": {k: 1e3 * statistics.median(v) for k, v in times.items()},
              "times_s": times, "command": "bench/startup_bench.py " + " ".join(sys.argv[1:])}
    os.makedirs(args.results_dir, exist_ok=True)
    out = os.path.join(args.results_dir, f"startup_{now.strftime('%Y%m%dT%H%M%SZ')}.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"median of {args.reps} runs after a warm-up, alternated; load average {result['load_average_1_5_15']}")
    print("| variant | median ms |")
    print("|---|---|")
    for k, v in result["median_ms"].items():
        print(f"| {k} | {v:.2f} |")
    print("shared libraries loaded:", libs)
    print(f"record: {out}")


if __name__ == "__main__":
    main()
