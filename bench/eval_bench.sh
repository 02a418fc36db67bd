#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Evaluator benchmark (docs/benchmarks.md, "Evaluator"): gaincell vs numpy on OpenBLAS in
# one run; writes bench/results/eval-<date>.json.
#   bench/eval_bench.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
if ! dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q "install ok installed"; then
  echo "eval_bench: numpy must run on OpenBLAS, as users have it: apt-get install libopenblas0-pthread" >&2
  exit 2
fi
mkdir -p bench/results
out="bench/results/eval-$(date -u +%Y%m%dT%H%M%SZ).json"
/usr/bin/python3 bench/eval_bench.py "$build" "${@:2}" | tee "$out"
echo "eval_bench: wrote $out" >&2
