#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates the shipped fitted models in fits/ from fresh sweeps of the
# shipped specs. Usage: tools/regen_fits.sh [OUT_DIR]   (default: fits/)
# Environment: GAINCELL (default build/bin/gaincell).
# The [fits] test runs this into a temporary directory and checks that the
# coefficients equal the shipped ones.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:-$root/fits}")"
gaincell="${GAINCELL:-$root/build/bin/gaincell}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
cd "$work"  # relative file names keep the models' provenance free of temporary paths

for spec in pushpull_multiply pushpull_read_current pushpull_retention c2p_transfer \
            gc3t_multiply gc3t_retention osfet2t_multiply; do
  "$gaincell" -q sweep "$root/characterization/$spec.json" -o "$spec.h5" > /dev/null
done

# The default cell's multiply surface in the paper's form (eq. 4), against the measured stored voltage.
"$gaincell" -q fit pushpull_multiply.h5 -m q_line_c --model paper-poly -i t_pulse,v_sn_read_v \
  -o "$out/pushpull.paper_poly.json"
# Its read current as a function of stored and line voltage (for line-voltage-aware evaluation).
"$gaincell" -q fit pushpull_read_current.h5 -m i_read_a --model poly --degree 4 -i v_store,v_line \
  -o "$out/pushpull.read_current.poly.json"
# The same as a table (exact at the characterized points, cubic in between).
"$gaincell" -q fit pushpull_read_current.h5 -m i_read_a --model lut --interpolation cubic -i v_store,v_line \
  -o "$out/pushpull.read_current.lut.json"
# Retention of a stored 0.9 V.
"$gaincell" -q fit pushpull_retention.h5 -m v_sn_trace_v --model exp-decay -i v_sn_trace_v_time_s \
  --where v_store=0.9 -o "$out/pushpull.retention.exp_decay.json"
# The charge-to-pulse converter's transfer.
"$gaincell" -q fit c2p_transfer.h5 -m pw_s --model hardsigmoid -i q_in -o "$out/c2p.hardsigmoid.json"
# The unsigned cells' multiply surfaces as tables (the 3T cell's depends on the line voltage too).
"$gaincell" -q fit gc3t_multiply.h5 -m q_line_c --model lut -i v_line,v_store,t_pulse -o "$out/gc3t.multiply.lut.json"
"$gaincell" -q fit osfet2t_multiply.h5 -m q_line_c --model lut -i v_store,t_pulse -o "$out/osfet2t.multiply.lut.json"
# 3T retention of a stored 0.9 V at the tt corner (corner index 0). The OSFET cell's decay over
# 1000 s is too small to resolve a time constant (~2e6 s): exp-decay refuses it (GC-1606).
"$gaincell" -q fit gc3t_retention.h5 -m v_sn_trace_v --model exp-decay -i v_sn_trace_v_time_s \
  --where v_store=0.9 --where corner=0 -o "$out/gc3t.retention.exp_decay.json"
echo "regen_fits: wrote $(ls "$out"/*.json | wc -l) models to $out"
