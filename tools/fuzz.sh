#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fuzz gaincell's readers with libFuzzer under ASan + UBSan (docs/fuzzing.md).
#   tools/fuzz.sh [RUNS]    RUNS inputs per target (default 25000: 125,000 in all)
# Builds build-fuzz/ with clang (installed if missing), then runs each target
# on a copy of its committed corpus (fuzz/corpus/TARGET, never modified) with
# a 10 s per-input timeout. Findings are written to build-fuzz/findings/.
# Prints one line per target (inputs, seconds, findings) and a total; exits
# non-zero if any target found anything.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-25000}"
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  apt-get install -y --no-install-recommends clang libclang-rt-dev >/dev/null 2>&1 ||
    apt-get install -y --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
build=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DGAINCELL_FUZZ=ON -DGAINCELL_NATIVE=OFF >/dev/null
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target fuzz_spec fuzz_template fuzz_model fuzz_csv fuzz_results >/dev/null
mkdir -p "$build/findings" "$build/logs"
# Leak reports would be libngspice's and HDF5's (no atexit clean-up, by design); every access is still checked.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
total_runs=0 total_s=0 total_findings=0
printf '%-10s %10s %9s %9s\n' target inputs seconds findings
for t in spec template model csv results; do
  work="$build/corpus-$t"
  rm -rf "$work" && mkdir -p "$work" && cp fuzz/corpus/$t/* "$work/"
  start=$(date +%s.%N)
  rc=0
  "$build/bin/fuzz_$t" -runs="$runs" -timeout=10 -rss_limit_mb=4096 -max_len=65536 -seed=1 \
    -artifact_prefix="$build/findings/$t-" "$work" >"$build/logs/$t.log" 2>&1 || rc=$?
  secs=$(awk "BEGIN { print $(date +%s.%N) - $start }")
  done_runs=$(grep -o 'Done [0-9]* runs' "$build/logs/$t.log" | grep -o '[0-9]*' || echo 0)
  findings=$(find "$build/findings" -name "$t-*" | wc -l)
  [ "$rc" -ne 0 ] && [ "$findings" -eq 0 ] && findings=1  # a crash without an artifact still counts
  printf '%-10s %10s %9.1f %9s\n' "$t" "$done_runs" "$secs" "$findings"
  total_runs=$((total_runs + done_runs)); total_findings=$((total_findings + findings))
  total_s=$(awk "BEGIN { print $total_s + $secs }")
done
printf '%-10s %10s %9.1f %9s\n' total "$total_runs" "$total_s" "$total_findings"
echo "logs: $build/logs/TARGET.log; findings (inputs that crashed, hung or tripped a sanitizer): $build/findings/"
[ "$total_findings" -eq 0 ]
