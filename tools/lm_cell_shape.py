#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The shape of a flow's cell as the language model sees it (docs/calibration.md, "Results"):
the signed cell value f(w) in the evaluator's reference units at the eight stored levels
0 .. 0.9 V, the slope and R² of the best linear fit, and f(0.9 V) / -f(0). One markdown row per
flow directory, from its eval/fitted.h5 (the `cell` attribute: the fitted read current projected
on a polynomial in w - 0.45 V).

    /usr/bin/python3 tools/lm_cell_shape.py out/flow [OUT...]
"""
import json
import os
import sys

import h5py
import numpy as np

LEVELS_V = np.arange(8) * 0.9 / 7  # the 8-level K/V DAC over clamp_kv = [0, 0.9] V


def shape_row(name, coefficients, offset_v=0.45):
    y = LEVELS_V - offset_v
    f = sum(a * y ** i for i, a in enumerate(coefficients))
    A = np.vstack([np.ones_like(y), y]).T
    coef = np.linalg.lstsq(A, f, rcond=None)[0]
    r2 = 1 - ((f - A @ coef) ** 2).sum() / ((f - f.mean()) ** 2).sum()
    ratio = f[-1] / -f[0]
    values = ", ".join(f"{v:.2f}" for v in f)
    return f"| {name} | {values} | {coef[1]:.1f} | {r2:.3f} | {ratio:.2f} |" if abs(ratio) < 10 else \
        f"| {name} | {values} | {coef[1]:.1f} | {r2:.3f} | {ratio:.0f} |"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for out in sys.argv[1:]:
        with open(os.path.join(out, "flow.json")) as f:
            name = json.load(f)["cell"]["name"]
        with h5py.File(os.path.join(out, "eval", "fitted.h5"), "r") as f:
            cell = json.loads(f.attrs["cell"])
        print(shape_row(name, cell["coefficients_ref"], cell.get("offset_v", 0.45)))


if __name__ == "__main__":
    main()
