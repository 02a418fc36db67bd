#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One entry point for a fresh Debian 12 machine (run as root, or with sudo):
#   tools/dev.sh run        install packages, build, run the main job (gaincell flow) on the default cell
#   tools/dev.sh test       install packages, build, run the whole test suite
#   tools/dev.sh asan-test  the same test suite built with ASan + UBSan (build-asan/)
#   tools/dev.sh build      install packages and build only
# Environment: BUILD_DIR (default build), JOBS (parallel build jobs, default nproc),
# CTEST_JOBS (tests at a time, default 2), CTEST_REGEX (only the tests whose name matches).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
case "$mode" in
  run|test|asan-test|build) ;;
  *) echo "usage: tools/dev.sh run|test|asan-test|build" >&2; exit 2 ;;
esac

tools/install-deps.sh

jobs="${JOBS:-$(nproc)}"
build_dir="${BUILD_DIR:-build}"
# Line tables only (-g1): stack traces and profiles keep file:line, and every
# file compiles about 30 % faster than with full debug info (-g); reconfigure
# with -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g -DNDEBUG" for a debugger's view
# of variables.
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
if [ "$mode" = asan-test ]; then
  build_dir="${BUILD_DIR:-build-asan}"
  cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DGAINCELL_SANITIZE=ON)
fi

echo "== configure and build ($build_dir)"
cmake -S . -B "$build_dir" "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs"

case "$mode" in
  run)
    mkdir -p out
    echo "== main job: gaincell flow on the default push-pull cell (docs/flow.md)"
    "$build_dir/bin/gaincell" flow -o out/flow
    echo "== open out/flow/report.html in a browser; every file behind it is in out/flow (flow.json lists them)"
    ;;
  test|asan-test)
    echo "== tests"
    # libngspice leaks by design and the workers exit with _exit, so leak
    # checking would only report ngspice; ASan still checks every access.
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    # Tests run two at a time (CTEST_JOBS), as beside other work: each touches only its own files and processes.
    select=()
    if [ -n "${CTEST_REGEX:-}" ]; then select=(-R "$CTEST_REGEX"); fi
    ctest --test-dir "$build_dir" --output-on-failure -j "${CTEST_JOBS:-2}" "${select[@]}"
    ;;
esac
