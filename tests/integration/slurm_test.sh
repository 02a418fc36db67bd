#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `gaincell slurm --submit` on a real one-node Slurm started for the test
# (tools/slurm-local.sh); every merged file must equal a local run, bit for bit.
#   A. a 4-shard job array of a real sweep and its dependent merge job;
#   B. --requeue: SIGUSR1 to a running shard's batch script (as Slurm sends it
#      before the time limit); the task requeues itself and resumes from its
#      journal. With --max-array-size 2 (3 shards: two array jobs, the signalled
#      shard is task 0 of the second) and --max-running 2 (ArrayTaskThrottle);
#   C. a shard cancelled while it runs, then --resubmit-failed: one array of
#      just that shard, and a new merge that replaces the old one (held here so
#      that it is still queued); refused while the array's tasks are queued.
# Only jobs this test submitted are signalled or cancelled, by their ids.
# Exit 77 (skipped) only when Slurm cannot be installed (not root, not installed).
# Usage: slurm_test.sh GAINCELL SOURCE_DIR
set -euo pipefail
gaincell="$1"
src="$2"
spec="$src/tests/data/rc_sweep.json"
spec6k="$src/tests/data/rc_sweep_6k.json"   # 6,000 points: shards run long enough to be signalled

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

fail() {
  echo "FAIL: $*"
  squeue || true
  tail -n 30 "$work"/*/logs/*.out "$SLURM_LOCAL_DIR"/log/slurmctld.log 2>/dev/null || true
  exit 1
}
# wait_for FILE SECONDS: until FILE exists (a guard against a hang, not a timing check).
wait_for() {
  local k
  for k in $(seq 1 $(( $2 * 10 ))); do
    [ -e "$1" ] && return 0
    sleep 0.1
  done
  fail "no $1 after $2 s"
}
# wait_journal FILE: until the shard has journaled its first points (a journal
# record is about 140 bytes), so that the signal finds it early in its run.
wait_journal() {
  local k
  for k in $(seq 1 1200); do
    [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt 2000 ] && return 0
    sleep 0.05
  done
  fail "$1 did not grow"
}
# manifest DIR EXPR: a value of DIR/slurm.json (python expression on m).
manifest() {
  /usr/bin/python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1/slurm.json" "$2"
}
same_as_local() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
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
}

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
"$gaincell" -q sweep "$spec6k" -o "$work/local6k.h5" >/dev/null

# --- A. 4 shards, one array, merge -------------------------------------------
"$gaincell" slurm "$spec" --shards 4 -o "$work/a" --time 00:05:00 --cpus-per-task 1 --submit | tee "$work/a.txt"
grep -q "4 shards in 1 array job, MaxArraySize 1001)" "$work/a.txt" || fail "MaxArraySize not read from scontrol"
wait_for "$work/a/merged.h5" 120
t2=$(date +%s.%N)
# The jobs really ran: every shard wrote its file and its log.
for i in 0 1 2 3; do
  [ -f "$work/a/shard-$i.h5" ] || fail "shard $i wrote no file"
  grep -q "shard $i exit 0" "$work/a/logs/shard-$i.out" || fail "shard $i has no log"
done
a1=$(manifest "$work/a" 'm["arrays"][0]["job_id"]')
[ -f "$work/a/logs/slurm-${a1}_0.out" ] || fail "no Slurm log logs/slurm-${a1}_0.out"
grep -q '"merge_job_id"' "$work/a/slurm.json"
"$gaincell" status "$work/a" | tee "$work/status.txt"
grep -q "4 of 4 shards done" "$work/status.txt"
same_as_local "$work/local.h5" "$work/a/merged.h5"

# --- B. requeue on SIGUSR1; two arrays (MaxArraySize 2); throttle 2 ----------
"$gaincell" slurm "$spec6k" --shards 3 -o "$work/b" --time 00:10:00 --cpus-per-task 1 \
    --requeue --signal-lead 60 --max-array-size 2 --max-running 2 --submit | tee "$work/b.txt"
# Shard 2 is task 0 of the second array: signal its batch script early in its run
# (before the checks below, which take a moment).
b2=$(manifest "$work/b" 'm["arrays"][1]["job_id"]')
wait_journal "$work/b/shard-2.h5.journal"
scancel --signal=USR1 --batch "${b2}_0"
echo "sent SIGUSR1 to ${b2}_0 (shard 2)"
grep -q -- "--array=0-1%2" "$work/b.txt" || fail "no array 0-1%2"
[ "$(manifest "$work/b" 'len(m["arrays"])')" = 2 ] || fail "not two array jobs"
b1=$(manifest "$work/b" 'm["arrays"][0]["job_id"]')
[ "$(manifest "$work/b" 'm["arrays"][1]["offset"]')" = 2 ] || fail "the second array's offset is not 2"
scontrol show job "$b1" | grep -q "ArrayTaskThrottle=2" || fail "no ArrayTaskThrottle=2 in scontrol show job $b1"
scontrol show job "$b2" | grep -q "ArrayTaskThrottle=2" || fail "no ArrayTaskThrottle=2 in scontrol show job $b2"
grep -q "^#SBATCH --signal=B:USR1@60$" "$work/b/shards.sbatch"
grep -q "^#SBATCH --requeue$" "$work/b/shards.sbatch"

# --- C. cancel a running shard, then --resubmit-failed -----------------------
"$gaincell" slurm "$spec6k" --shards 2 -o "$work/c" --time 00:10:00 --cpus-per-task 1 --dependency afterany \
    --max-running 3 --submit
c1=$(manifest "$work/c" 'm["arrays"][0]["job_id"]')
cm=$(manifest "$work/c" 'm["merge_job_id"]')
scontrol hold "$cm"
wait_journal "$work/c/shard-1.h5.journal"
scancel "${c1}_1"
echo "cancelled ${c1}_1 (shard 1)"
# Shard 0 still runs: no resubmission yet.
if "$gaincell" slurm --resubmit-failed "$work/c" > "$work/c-early.txt" 2>&1; then fail "resubmitted while its jobs run"; fi
grep -q "GC-1815" "$work/c-early.txt" || fail "no GC-1815: $(cat "$work/c-early.txt")"
for _ in $(seq 1 600); do
  [ -z "$(squeue -h -j "$c1" 2>/dev/null)" ] && break
  sleep 0.2
done
[ -z "$(squeue -h -j "$c1" 2>/dev/null)" ] || fail "array $c1 still queued"
[ -n "$(squeue -h -j "$cm" 2>/dev/null)" ] || fail "the held merge $cm left the queue"
"$gaincell" status "$work/c" | tee "$work/c-status.txt"
grep -q "shard   1  running or interrupted" "$work/c-status.txt" || fail "shard 1 not left interrupted"
grep -q "CANCELLED" "$work/c/logs/slurm-${c1}_1.out" || fail "no cancel notice in logs/slurm-${c1}_1.out"
"$gaincell" slurm --resubmit-failed "$work/c" | tee "$work/c-resubmit.txt"
grep -q "resubmitted 1 of 2 shards (1): array [0-9]* (--array=1%3)" "$work/c-resubmit.txt" || fail "not resubmitted as --array=1%3"
grep -q "cancelled the earlier merge job $cm" "$work/c-resubmit.txt" || fail "the earlier merge was not replaced"
[ "$(manifest "$work/c" 'm["resubmissions"][0]["arrays"][0]["shards"]')" = "[1]" ] || fail "manifest"
wait_for "$work/c/merged.h5" 120
grep -q "from the journal" "$work/c/logs/shard-1.out" || fail "shard 1 did not resume from its journal"
[ "$(grep -c "shards.sbatch: shard 0/2, Slurm task" "$work/c/logs/shard-0.out")" = 1 ] || fail "shard 0 ran twice"
same_as_local "$work/local6k.h5" "$work/c/merged.h5"
"$gaincell" slurm --resubmit-failed "$work/c" | grep -q "nothing to resubmit"

# --- B, continued: the requeued shard 2 resumed and the merge ran ------------
wait_for "$work/b/merged.h5" 180
log2="$work/b/logs/shard-2.out"
grep -q "shard 2/3, Slurm task ${b2}_0, start 1" "$log2" || fail "shard 2: no first start"
grep -q "interrupted:" "$log2" || fail "shard 2 finished before SIGUSR1 reached it (a very slow machine?)"
grep -q "requeueing ${b2}_0 (restart 1 of 5)" "$log2" || fail "shard 2: not requeued"
grep -q "shard 2/3, Slurm task ${b2}_0, start 2" "$log2" || fail "shard 2: no second start"
grep -q "from the journal" "$log2" || fail "shard 2 did not resume from its journal"
grep -q "shard 2 exit 0" "$log2" || fail "shard 2 did not finish"
for i in 0 1; do
  [ "$(grep -c "start 2" "$work/b/logs/shard-$i.out")" = 0 ] || fail "shard $i was restarted"
done
same_as_local "$work/local6k.h5" "$work/b/merged.h5"
t3=$(date +%s.%N)

awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
  printf "slurm test: cluster up in %.1f s, A (array + merge) in %.1f s, B + C (requeue, resubmit) in %.1f s\n", b - a, c - b, d - c }'
