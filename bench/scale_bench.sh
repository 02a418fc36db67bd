#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Scale benchmark (docs/benchmarks.md, "Scale"): driver memory against sweep size
# (10,000 vs 100,000 points of a cheap RC netlist, 2 workers) and worker memory growth
# per 1,000 points without recycling (2,000 vs 10,000 points, 1 worker) and with
# --recycle 1000. Memory figures are the results file's own parent_peak_rss_kib and
# worker_peak_rss_kib (getrusage maxrss of the driver and of the largest worker).
#   bench/scale_bench.sh [BUILD_DIR]      (about 1-2 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
gaincell="$build/bin/gaincell"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp tests/data/rc_sweep.cir "$tmp/"
spec() {  # name r_count c_count
  cat > "$tmp/$1.json" <<JSON
{"format": "gaincell-spec/1", "name": "$1", "template": "rc_sweep.cir",
 "axes": [{"param": "r_load", "linspace": {"start": 500, "stop": 5000, "count": $2}},
          {"param": "c_load", "linspace": {"start": "0.2p", "stop": "2p", "count": $3}}],
 "analysis": {"tran": {"step": "0.05n", "stop": "2n"}},
 "measures": [{"name": "v_out_v", "kind": "value_at", "of": "v(out)", "at": "end", "unit": "V"},
              {"name": "q_in_c", "kind": "integral", "of": "i(v1)", "from": "start", "to": "end", "unit": "C", "scale": -1}],
 "timeout_s": 10}
JSON
}
run() {  # label spec args...
  local label="$1" s="$2"; shift 2
  local t0 t1
  t0=$(date +%s.%N)
  "$gaincell" -q sweep "$tmp/$s.json" -o "$tmp/$label.h5" "$@" >/dev/null
  t1=$(date +%s.%N)
  /usr/bin/python3 - "$tmp/$label.h5" "$label" "$t0" "$t1" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1])
a = f.attrs
print(f'{sys.argv[2]:>22}: {int(a["point_count"]):>7} points, {int(a["points_ok"]):>7} ok, '
      f'{float(sys.argv[4]) - float(sys.argv[3]):7.1f} s, driver peak {int(a["parent_peak_rss_kib"]) / 1024:6.1f} MiB, '
      f'worker peak {int(a["worker_peak_rss_kib"]) / 1024:6.1f} MiB')
PY
}
spec p10k 100 100
spec p100k 1000 100
spec p2k 20 100
echo "driver memory vs sweep size (2 workers):"
run driver_10k p10k --jobs 2
run driver_100k p100k --jobs 2
echo "worker memory without recycling (1 worker, --recycle 0), and with --recycle 1000:"
run worker_2k_norecycle p2k --jobs 1 --recycle 0
run worker_10k_norecycle p10k --jobs 1 --recycle 0
run worker_10k_recycle1000 p10k --jobs 1 --recycle 1000
