#!/bin/bash
# Engine benchmark: the same sweep timed as
#   (a) a bash loop of `ngspice -b` per rendered point, (b) one `ngspice -b` with a .control/alter
#   loop, (c) `gaincell sweep --jobs 1`, (d) `--jobs 2` (each with circuit reuse and with
#   GAINCELL_CIRCUIT_REUSE=0), (g) a collapsed sweep if gaincell knows "collapse", (e) the sum of
#   ngspice `run` calls in (c); by default on the push-pull multiply surface and the 3T corners x
#   temperature spec, in one run.
# Usage: bench/engine_bench.sh [--reps N] [--warmup N] [--spec SPEC]... [--keep] [--build]
#   --build   rebuild gaincell first (cmake --build $GAINCELL_BUILD -j2)
#   GAINCELL_BUILD=DIR   the build directory (default: build/ of this checkout)
# Results: bench/results/engine_<UTC date>_<spec>.json; a markdown table per spec on stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="${GAINCELL_BUILD:-$root/build}"
args=(--gaincell "$build/bin/gaincell")
for a in "$@"; do
    if [[ "$a" == "--build" ]]; then
        cmake --build "$build" -j2 >&2
    else
        args+=("$a")
    fi
done
[[ -x "$build/bin/gaincell" ]] || { echo "engine_bench: build gaincell first (cmake --build $build -j2)" >&2; exit 2; }
command -v ngspice >/dev/null || { echo "engine_bench: ngspice not on PATH" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "engine_bench: needs GNU time (apt-get install time)" >&2; exit 2; }
# Debian's python3 (has python3-h5py / python3-numpy), not a pyenv shim
exec /usr/bin/python3 "$here/engine_bench.py" "${args[@]+"${args[@]}"}"
