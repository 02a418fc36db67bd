#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The driver SIGKILLed at seeded random moments, each time followed by --resume: every
finished file equals an uninterrupted run bit for bit (ctest kill_resume; docs/benchmarks.md).

Each trial starts a fresh sweep of tests/data/rc_sweep_6k.json (6,000 points, 2 workers),
SIGKILLs the driver after a seeded random delay (start-up, the first point alone, the pool
running, flushes, publishing: wherever it lands), then resumes, and if the resume is killed
too (one trial in three, again at a random moment) resumes again, until the file is complete.
The file is then compared with a reference run: status, messages and every measured value,
bit for bit (NaN where NaN). Kills that land after the run already finished do not count.

Usage: kill_resume.py GAINCELL SOURCE_DIR [KILLS] [SEED]   (default 24 kills, seed 20261128)
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

GAINCELL, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
KILLS = int(sys.argv[3]) if len(sys.argv) > 3 else 24
SEED = int(sys.argv[4]) if len(sys.argv) > 4 else 20261128
SPEC = os.path.join(SRC, "tests", "data", "rc_sweep_6k.json")


def sweep(out, resume, cwd):
    args = [GAINCELL, "-q", "sweep", SPEC, "-o", out, "-j", "2"] + (["--resume"] if resume else [])
    return subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def killed_after(p, delay):
    """SIGKILL p after `delay` s; True if it was still running (a real kill)."""
    try:
        p.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return True


def data(path):
    with h5py.File(path, "r") as f:
        d = {"status": f["status"][...], "message": f["message"][...]}
        for name in f["measures"]:
            d["measures/" + name] = f["measures"][name][...]
        return d


def same(a, b):
    bad = []
    for k in a:
        x, y = a[k], b[k]
        if x.shape != y.shape:
            bad.append(f"{k}: shape {x.shape} vs {y.shape}")
        elif x.dtype.kind == "f":
            if not np.array_equal(x, y, equal_nan=True) or not np.array_equal(x.view(np.uint64), y.view(np.uint64)):
                bad.append(f"{k}: {int(np.sum(~((x == y) | (np.isnan(x) & np.isnan(y)))))} values differ")
        elif not np.array_equal(x, y):
            bad.append(f"{k}: differs")
    return bad


def main():
    rng = random.Random(SEED)
    work = tempfile.mkdtemp(prefix="gaincell-kill-")
    t0 = time.monotonic()
    ref = os.path.join(work, "ref.h5")
    p = sweep(ref, False, work)
    p.wait()
    ref_s = time.monotonic() - t0
    assert p.returncode == 0, p.stderr.read().decode()
    reference = data(ref)
    print(f"reference: 6000 points in {ref_s:.2f} s")
    kills = trials = failures = 0
    phases = {"before the first point": 0, "with points journaled": 0}
    while kills < KILLS:
        trials += 1
        out = os.path.join(work, f"t{trials}.h5")
        resume = False
        chain = 0
        while True:
            delay = rng.uniform(0.0, 1.2 * ref_s) if chain == 0 else rng.uniform(0.0, 0.6 * ref_s)
            p = sweep(out, resume, work)
            kill_this = chain == 0 or (chain == 1 and rng.random() < 1 / 3)
            if kill_this and killed_after(p, delay):
                kills += 1
                journal = out + ".journal"
                journaled = os.path.exists(journal) and os.path.getsize(journal) > 400
                phases["with points journaled" if journaled else "before the first point"] += 1
                if os.path.exists(out):
                    # The kill landed after the sweep renamed its complete file into place (the
                    # commit point) and before it exited: allowed, as long as that file equals
                    # the uninterrupted run, which the checks after --resume below establish.
                    print(f"trial {trials}: killed after publishing {out}; checked below like every finished file")
                resume, chain = True, chain + 1
                continue
            p.wait()
            if p.returncode != 0:
                print(f"trial {trials}: exit {p.returncode}: {p.stderr.read().decode()}")
                failures += 1
            break
        if os.path.exists(out):
            bad = same(reference, data(out))
            if bad:
                print(f"trial {trials}: differs from the uninterrupted run: {bad}")
                failures += 1
            leftovers = [f for f in (out + ".journal", out + ".partial", out + ".lock") if os.path.exists(f)]
            if leftovers:
                print(f"trial {trials}: left {leftovers}")
                failures += 1
        else:
            print(f"trial {trials}: no finished file")
            failures += 1
        for f in os.listdir(work):
            if f.startswith(f"t{trials}.h5"):
                os.remove(os.path.join(work, f))
    total = time.monotonic() - t0
    print(f"{kills} SIGKILLs in {trials} trials (seed {SEED}; {phases['before the first point']} before any point "
          f"was journaled, {phases['with points journaled']} after), each followed by --resume: "
          f"{trials - failures} of {trials} finished files equal the uninterrupted run bit for bit; {total:.1f} s")
    if failures:
        print(f"{failures} failure(s); kept {work}")
        sys.exit(1)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
