# SPDX-License-Identifier: MIT
"""What the integration scripts share (imported from beside them).

Each script is run as `SCRIPT GAINCELL SOURCE_DIR` by ctest. A check that fails is recorded in
FAILURES and printed, and the script goes on, so one run shows every failure; the script exits 1
at its end if FAILURES is not empty. `run` drives the gaincell CLI as a user does.

  from itest import GAINCELL, SRC, FAILURES, check, fail, run
  p = run(["sweep", "spec.json", "-o", "out.h5"], work, expect=0, contains=["128 of 128 points ok"])
"""
import os
import subprocess
import sys

GAINCELL, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
FAILURES = []


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg, flush=True)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def run(args, cwd, expect=0, contains=(), env=None, timeout=None):
    """gaincell ARGS in CWD; checks its exit code (None: any) and that its output holds each of
    CONTAINS. ENV is added to this environment. None if it ran past TIMEOUT seconds."""
    e = dict(os.environ)
    e.update(env or {})
    command = f"gaincell {' '.join(args)[:200]}"
    try:
        p = subprocess.run([GAINCELL] + args, cwd=cwd, capture_output=True, text=True, env=e, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"{command}: still running after {timeout} s")
        return None
    out = p.stdout + p.stderr
    check(expect is None or p.returncode == expect, f"{command}: exit {p.returncode}, expected {expect}\n{out[-2000:]}")
    for c in contains:
        check(c in out, f"{command}: output lacks {c!r}\n{out[-2000:]}")
    return p
