#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A 4-shard job array of a real sweep and its dependent merge job, through
# `gaincell slurm --submit`, on a real one-node Slurm started for the test
# (tools/slurm-local.sh); the merged file must equal a local run. ctest `slurm`.
# Exit 77 (skipped) only when Slurm cannot be installed (not root, not installed).
# Usage: slurm_test.sh GAINCELL SOURCE_DIR
set -euo pipefail
gaincell="$1"
src="$2"
spec="$src/tests/data/rc_sweep.json"

export SLURM_LOCAL_DIR
SLURM_LOCAL_DIR="$(mktemp -d /tmp/gaincell-slurm.XXXXXX)"
# Ports of our own, so that another local cluster (or a system Slurm) is left alone.
export SLURM_LOCAL_CTLD_PORT=$(( 20000 + ($$ % 10000) * 2 ))
export SLURM_LOCAL_SLURMD_PORT=$(( SLURM_LOCAL_CTLD_PORT + 1 ))
work="$(mktemp -d /tmp/gaincell-slurm-work.XXXXXX)"
cleanup() {
  "$src/tools/slurm-local.sh" stop || true
  rm -rf "$SLURM_LOCAL_DIR" "$work"
}
trap cleanup EXIT

t0=$(date +%s.%N)
if ! "$src/tools/slurm-local.sh" start; then
  if [ "$(id -u)" -ne 0 ] && ! command -v slurmctld >/dev/null; then
    echo "SKIP: Slurm is not installed and this user cannot install it"
    exit 77
  fi
  echo "FAIL: the local Slurm did not start; logs:"; tail -20 "$SLURM_LOCAL_DIR"/log/* || true
  exit 1
fi
# shellcheck disable=SC1091
. "$SLURM_LOCAL_DIR/env.sh"
t1=$(date +%s.%N)

"$gaincell" -q sweep "$spec" -o "$work/local.h5" >/dev/null
"$gaincell" slurm "$spec" --shards 4 -o "$work/job" --time 00:05:00 --cpus-per-task 1 --submit
for _ in $(seq 1 600); do
  [ -f "$work/job/merged.h5" ] && break
  sleep 0.2
done
t2=$(date +%s.%N)
if [ ! -f "$work/job/merged.h5" ]; then
  echo "FAIL: no merged file after 120 s"; squeue || true
  tail -n 20 "$work"/job/logs/* "$SLURM_LOCAL_DIR"/log/slurmctld.log || true
  exit 1
fi
# The jobs really ran: every shard wrote its file and its log.
for i in 0 1 2 3; do
  [ -f "$work/job/shard-$i.h5" ] || { echo "FAIL: shard $i wrote no file"; exit 1; }
  [ -f "$work/job/logs/shard-$i.out" ] || { echo "FAIL: shard $i has no log"; exit 1; }
done
grep -q '"merge_job_id"' "$work/job/slurm.json"
"$gaincell" status "$work/job" | tee "$work/status.txt"
grep -q "4 of 4 shards done" "$work/status.txt"
/usr/bin/python3 - "$work/local.h5" "$work/job/merged.h5" <<'PY'
import sys
import h5py
import numpy as np
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
assert np.array_equal(a["status"][:], b["status"][:]), "status differs"
for m in a["measures"]:
    x, y = a["measures/" + m][:], b["measures/" + m][:]
    assert x.shape == y.shape and np.array_equal(x, y, equal_nan=True), m
assert b.attrs["complete"] == "yes" and "merged_from" in b.attrs
print("merged file equals the local run:", len(a["measures"]), "measures,", a["status"].size, "points")
PY
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "slurm test: cluster up in %.1f s, array + merge in %.1f s\n", b - a, c - b }'
