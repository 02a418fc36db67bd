#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Speed of `gaincell lm-eval` on the whole held-out split of the shipped tiny language model
(docs/benchmarks.md, "The tiny language model"), against the same model in torch with ideal
softmax attention, in one run.

    /usr/bin/python3 bench/lm_bench.py [--gaincell build/bin/gaincell] [--reps 2]

Rows (each the median wall time of --reps runs, with the tokens per second):
  torch softmax     the softmax model, torch's forward (tools/train_tiny_lm.py), 2 threads (needs python3-torch)
  gaincell softmax  the softmax model, gaincell's forward with ideal attention
  gaincell linear / reference / fitted   the linear model, attention on the evaluator under that preset
The cross-entropy of each row is printed too: torch and gaincell must agree on the softmax model.
Writes bench/results/lm_<UTC date>.json.
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
DATA = os.path.join(ROOT, "data", "tinylm")


def gaincell_row(exe, args, reps):
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "lm.json")
        for _ in range(reps):
            t0 = time.perf_counter()
            p = subprocess.run([exe, "-q", "lm-eval", *args, "-o", out], capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if p.returncode != 0:
                sys.exit(f"lm_bench: gaincell lm-eval {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
        with open(out) as f:
            row = json.load(f)["rows"][-1]
    return statistics.median(times), row["tokens"], row["loss_nats_per_token"]


def torch_row(reps):
    try:
        import h5py
        import numpy as np
        import torch
    except ImportError as e:
        print(f"lm_bench: no torch row ({e})", file=sys.stderr)
        return None
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import train_tiny_lm as t
    torch.set_num_threads(2)
    with h5py.File(os.path.join(DATA, "softmax.h5"), "r") as f:
        meta = json.loads(f.attrs["meta"])
        state = {k: torch.from_numpy(f[k][()]) for k in f.keys()}
    model = t.GPT(meta["hyper"], len(meta["vocab"]), "softmax")
    model.load_state_dict(state, strict=False)
    index = {c: i for i, c in enumerate(meta["vocab"])}
    with open(os.path.join(DATA, "heldout.txt"), encoding="utf-8") as f:
        ids = np.array([index.get(c, 0) for c in f.read()], dtype=np.int64)
    x, y = t.sequences(ids, meta["block"])
    times, loss = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        loss, n = t.evaluate(model, x, y, batch=32)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), n, loss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gaincell", default=os.path.join(ROOT, "build", "bin", "gaincell"))
    ap.add_argument("--reps", type=int, default=2)
    a = ap.parse_args()
    rows = []
    tr = torch_row(a.reps)
    if tr:
        rows.append(("torch softmax (softmax model)", *tr))
    rows.append(("gaincell softmax (softmax model)",
                 *gaincell_row(a.gaincell, ["--model", os.path.join(DATA, "softmax.h5"), "--softmax"], a.reps)))
    for preset in ("linear", "reference", "fitted"):
        rows.append((f"gaincell {preset} (linear model)",
                     *gaincell_row(a.gaincell, ["--model", os.path.join(DATA, "linear.h5"), "--preset", preset], a.reps)))
    print("| configuration | wall time [s] | tokens | tokens/s | cross-entropy [nats/token] |")
    print("|---|---|---|---|---|")
    for name, wall, n, loss in rows:
        print(f"| {name} | {wall:.2f} | {n} | {n / wall:,.0f} | {loss:.4f} |")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    rec = {"command": " ".join(sys.argv), "reps": a.reps, "load_avg": os.getloadavg(),
           "rows": [{"configuration": r[0], "wall_s": r[1], "tokens": r[2], "tokens_per_s": r[2] / r[1],
                     "loss_nats_per_token": r[3]} for r in rows]}
    with open(os.path.join(HERE, "results", f"lm_{stamp}.json"), "w") as f:
        json.dump(rec, f, indent=1)


if __name__ == "__main__":
    main()
