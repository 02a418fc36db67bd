#!/usr/bin/python3
"""Circuit reuse candidates (issue 17): how a worker could avoid parsing every point again, each
timed on libngspice directly and checked bit for bit against a fresh parse of the point.

  fresh       destroy all, remcirc, setseed, ngSpice_Circ(rendered point K)     (gaincell before)
  alterparam  ngSpice_Circ once; then per point: destroy all, setseed,
              `alterparam NAME=VALUE` for each .param line that changed, `reset`
  alter17     ngSpice_Circ once; then per point: destroy all, `alter` of every V source whose
              value depends on a swept parameter (values evaluated here, written with repr())
  alter       the same, values written as numparam writes them (16 digits) in a bracketed
              vector, which `alter` reads with INPevaluate like a fresh parse (gaincell's worker)

Each candidate runs in its own process (libngspice is process-global), in rotating order within
each repetition; its per-point "load" time (everything before `run`) and `run` time are taken
with perf_counter around the libngspice calls, and every saved vector of every point is hashed.

Usage: bench/reuse_candidates.py [--gaincell build/bin/gaincell] [--spec SPEC] [--reps 3]
Writes bench/results/reuse_candidates_<UTC time>.json and prints a summary.
"""
import argparse
import ctypes as C
import datetime
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from engine_bench import eval_params, parse_params, source_alter  # noqa: E402

MODES = ("fresh", "alterparam", "alter17", "alter")


class VecInfo(C.Structure):
    _fields_ = [("v_name", C.c_char_p), ("v_type", C.c_int), ("v_flags", C.c_short),
                ("v_realdata", C.POINTER(C.c_double)), ("v_compdata", C.c_void_p), ("v_length", C.c_int)]


def child(mode, pts_dir, n):
    """One candidate over all points in this process; prints JSON."""
    lib = C.CDLL("libngspice.so.0")
    log = []
    send_char = C.CFUNCTYPE(C.c_int, C.c_char_p, C.c_int, C.c_void_p)(
        lambda s, i, p: log.append(s.decode(errors="replace")) or 0)
    send_stat = C.CFUNCTYPE(C.c_int, C.c_char_p, C.c_int, C.c_void_p)(lambda s, i, p: 0)
    cexit = C.CFUNCTYPE(C.c_int, C.c_int, C.c_bool, C.c_bool, C.c_int, C.c_void_p)(lambda *a: 0)
    lib.ngGet_Vec_Info.restype = C.POINTER(VecInfo)
    lib.ngSpice_AllVecs.restype = C.POINTER(C.c_char_p)
    lib.ngSpice_CurPlot.restype = C.c_char_p
    lib.ngSpice_Init(send_char, send_stat, cexit, None, None, None, None)

    def cmd(s):
        lib.ngSpice_Command(s.encode())

    def circ(text):
        lines = text.splitlines()
        arr = (C.c_char_p * (len(lines) + 1))(*[l.encode() for l in lines], None)
        lib.ngSpice_Circ(arr)

    def digest():
        h = hashlib.sha256()
        names = lib.ngSpice_AllVecs(lib.ngSpice_CurPlot())
        k = 0
        out = []
        while names[k]:
            out.append(names[k].decode())
            k += 1
        for name in sorted(out):
            v = lib.ngGet_Vec_Info(name.encode()).contents
            h.update(name.encode())
            h.update(C.string_at(v.v_realdata, 8 * v.v_length) if v.v_realdata else b"")
        return h.hexdigest()

    circ("* dummy\n.end")
    texts = [open(os.path.join(pts_dir, f"point_{k:04d}.cir")).read() for k in range(n)]
    lines = [t.splitlines() for t in texts]
    # alter: every V source line whose alter command varies over the points
    srcs = [l for l in lines[0] if l[:1].lower() == "v" and "{" in l]
    envs = [eval_params(parse_params(t)) for t in lines]
    alters = [[source_alter(s, env, numparam=mode == "alter") for s in srcs] for env in envs]
    varying = [i for i in range(len(srcs)) if len({a[i] for a in alters}) > 1]
    load, run, digests = [], [], []
    for k in range(n):
        cmd("destroy all")
        t0 = time.perf_counter()
        if mode == "fresh" or k == 0:
            cmd("remcirc")
            cmd(f"setseed {k + 1}")
            circ(texts[k])
        elif mode == "alterparam":
            cmd(f"setseed {k + 1}")
            for a, b in zip(lines[k - 1], lines[k]):
                if a != b and b.lower().startswith(".param"):
                    name, value = b[6:].split("$", 1)[0].strip().split("=", 1)
                    cmd(f"alterparam {name.strip().lower()}={value.strip()}")
            cmd("reset")
        else:
            for i in varying:
                cmd(alters[k][i])
        t1 = time.perf_counter()
        cmd("run")
        t2 = time.perf_counter()
        load.append(t1 - t0)
        run.append(t2 - t1)
        digests.append(digest())
    errors = [l for l in log if l.startswith("stderr")]
    print(json.dumps({"mode": mode, "load_s": load, "run_s": run, "digests": digests, "stderr": errors[:20]}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--gaincell", default=os.path.join(ROOT, "build", "bin", "gaincell"))
    ap.add_argument("--spec", default=os.path.join(ROOT, "characterization", "pushpull_multiply.json"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    tmp = tempfile.mkdtemp(prefix="gaincell-reuse-candidates-")
    with open(os.path.join(tmp, ".spiceinit"), "w") as f:
        f.write("set num_threads=1\n")  # as gaincell's workers
    spec = os.path.abspath(args.spec)
    n = 0
    while subprocess.run([args.gaincell, "render", spec, "--point", str(n), "-o",
                          os.path.join(tmp, f"point_{n:04d}.cir")], capture_output=True).returncode == 0:
        n += 1
    env = dict(os.environ, OMP_NUM_THREADS="1")
    load_start = os.getloadavg()
    runs = {m: [] for m in MODES}
    for rep in range(args.reps):
        for m in MODES[rep % len(MODES):] + MODES[:rep % len(MODES)]:
            p = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", m, tmp, str(n)], cwd=tmp,
                               env=env, capture_output=True, text=True, check=True)
            runs[m].append(json.loads(p.stdout.strip().splitlines()[-1]))
    fresh = runs["fresh"][0]["digests"]
    summary = {}
    for m in MODES:
        per_point_load = [statistics.median(r["load_s"][k] for r in runs[m]) for k in range(1, n)]
        per_point_run = [statistics.median(r["run_s"][k] for r in runs[m]) for k in range(1, n)]
        summary[m] = {
            "load_ms_median": 1e3 * statistics.median(per_point_load),
            "run_ms_median": 1e3 * statistics.median(per_point_run),
            "points_bit_identical_to_fresh": min(sum(a == b for a, b in zip(r["digests"], fresh)) for r in runs[m]),
            "stderr_lines": runs[m][0]["stderr"]}
    now = datetime.datetime.now(datetime.timezone.utc)
    result = {"benchmark": "reuse_candidates", "date_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "spec": spec,
              "points": n, "reps": args.reps, "nproc": os.cpu_count(),
              "load_average_1_5_15": {"start": [round(x, 2) for x in load_start],
                                      "end": [round(x, 2) for x in os.getloadavg()]},
              "summary": summary, "note": "load = all libngspice calls before `run` (points 1..n-1; point 0 "
                                          "is a full parse in every mode); bit-identical = every saved vector "
                                          "of the point hashes equal to the fresh parse's",
              "command": "bench/reuse_candidates.py " + " ".join(sys.argv[1:])}
    os.makedirs(args.results_dir, exist_ok=True)
    out = os.path.join(args.results_dir, f"reuse_candidates_{now.strftime('%Y%m%dT%H%M%SZ')}.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"{n} points, median of {args.reps} runs per point, load average {result['load_average_1_5_15']}")
    for m, s in summary.items():
        print(f"{m:11s} load {s['load_ms_median']:.3f} ms/point, run {s['run_ms_median']:.3f} ms/point, "
              f"bit-identical to fresh {s['points_bit_identical_to_fresh']}/{n}")
    print(f"record: {out}")


if __name__ == "__main__":
    main()
