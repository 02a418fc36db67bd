#!/bin/bash
# Engine benchmark: the same sweep of the default spec timed as
#   (a) a bash loop of `ngspice -b` per rendered point, (b) one `ngspice -b` with a .control/alter
#   loop, (c) `gaincell sweep --jobs 1`, (d) `--jobs 2`, (e) the sum of ngspice `run` calls in (c).
# Usage: bench/engine_bench.sh [--reps N] [--warmup N] [--spec SPEC] [--keep] [--build]
#   --build   rebuild gaincell first (cmake --build build -j2)
# Results: bench/results/engine_<UTC date>.json; a markdown table is printed on stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
args=()
for a in "$@"; do
    if [[ "$a" == "--build" ]]; then
        cmake --build "$root/build" -j2 >&2
    else
        args+=("$a")
    fi
done
[[ -x "$root/build/bin/gaincell" ]] || { echo "engine_bench: build gaincell first (cmake --build $root/build -j2)" >&2; exit 2; }
command -v ngspice >/dev/null || { echo "engine_bench: ngspice not on PATH" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "engine_bench: needs GNU time (apt-get install time)" >&2; exit 2; }
# Debian's python3 (has python3-h5py / python3-numpy), not a pyenv shim
exec /usr/bin/python3 "$here/engine_bench.py" "${args[@]+"${args[@]}"}"
