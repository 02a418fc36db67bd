#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Evaluator benchmark: gaincell's C++ evaluator (through its Python module, same
process, same arrays) against a numpy implementation of the same equations
(tests/python/attention_numpy.py) on the BLAS numpy is linked to, in one run.

Shape: batch 1, 12 heads, T = W = 1024, D = 64, reference preset.
  whole:  one forward pass over the whole sequence (median of --repeat after a warm-up)
  decode: per-token time of a step at a full window: the first T - N tokens are written,
          the last N are timed (gaincell: DecodeSession.step; numpy: its token loop, whose
          total time over T tokens is also reported)
Prints one JSON object; bench/eval_bench.sh records it.

Usage: eval_bench.py BUILD_DIR [--repeat 5] [--tokens 1024] [--decode-timed 128]"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("build")
parser.add_argument("--repeat", type=int, default=5)
parser.add_argument("--tokens", type=int, default=1024)
parser.add_argument("--heads", type=int, default=12)
parser.add_argument("--decode-timed", type=int, default=128)
args = parser.parse_args()

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(args.build, "python"))
sys.path.insert(0, os.path.join(here, "..", "tests", "python"))
import gaincell  # noqa: E402
import attention_numpy as ref  # noqa: E402


def blas_name():
    np.ones((64, 64), np.float32) @ np.ones((64, 64), np.float32)
    with open("/proc/self/maps") as f:
        maps = f.read()
    for name in ("openblas", "mkl", "blis", "libblas"):
        if name in maps:
            return name
    return "unknown"


def median_time(fn, repeat):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


B, H, T, D = 1, args.heads, args.tokens, 64
rng = np.random.default_rng(2024)
# Past every clamp: Q in [-0.2, 1.2]; K, V around the 0.45 V offset the scalers add.
Q = rng.uniform(-0.2, 1.2, (B, H, T, D)).astype(np.float32)
K = rng.uniform(-0.6, 0.6, (B, H, T, D)).astype(np.float32)
V = rng.uniform(-0.6, 0.6, (B, H, T, D)).astype(np.float32)

cfg = ref.default_config()
ev = gaincell.Evaluator("reference")
assert ev.config["window"] == cfg["window"] == 1024

# sgemm reference figure of this BLAS (2 cores).
n = 2048
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
sgemm_s, _ = median_time(lambda: a @ b, 5)
sgemm_gflops = 2 * n**3 / sgemm_s / 1e9

# Whole sequence.
cpp_whole_s, cpp_whole_all = median_time(lambda: ev.forward(Q, K, V), args.repeat)
np_whole_s, np_whole_all = median_time(lambda: ref.forward(Q, K, V, cfg), max(1, args.repeat // 2))
out_cpp = ev.forward(Q, K, V)
res = ref.forward(Q, K, V, cfg)
out_np = res["output"] if isinstance(res, dict) else res
step = np.float32(2.0 / 31.0)
diff_lsb = np.abs(out_cpp.astype(np.float64) - out_np.astype(np.float64)) / step
agree = {
    "outputs": int(out_cpp.size),
    "equal": int(np.count_nonzero(diff_lsb < 1e-3)),
    "within_1_lsb": int(np.count_nonzero(diff_lsb <= 1.001)),
    "max_lsb": float(diff_lsb.max()),
}

# Useful arithmetic of the reference equations: per (query, key) pair in the window,
# 3 non-constant orders x (a D-long dot product in stage 1 + a D-long axpy in stage 2).
pairs = sum(min(t + 1, cfg["window"]) for t in range(T))
flops = B * H * pairs * 3 * 2 * (2 * D)

# Decode: full-window steps.
N = min(args.decode_timed, T)
session = ev.decode(B, H, D)
q_t = [np.ascontiguousarray(Q[:, :, t]) for t in range(T)]
k_t = [np.ascontiguousarray(K[:, :, t]) for t in range(T)]
v_t = [np.ascontiguousarray(V[:, :, t]) for t in range(T)]
for t in range(T - N):
    session.step(q_t[t], k_t[t], v_t[t])
t0 = time.perf_counter()
dec = [session.step(q_t[t], k_t[t], v_t[t]) for t in range(T - N, T)]
cpp_decode_s = (time.perf_counter() - t0) / N
assert np.array_equal(np.stack(dec, axis=2), out_cpp[:, :, T - N:]), "decode differs from whole"

t0 = time.perf_counter()
res_dec = ref.decode(Q, K, V, cfg)
np_decode_total_s = time.perf_counter() - t0
out_np_dec = res_dec["output"] if isinstance(res_dec, dict) else res_dec
np_decode_timed = getattr(ref, "last_decode_step_times", None)
if np_decode_timed:
    np_decode_s = float(np.mean(np_decode_timed[T - N:]))
else:
    np_decode_s = np_decode_total_s / T  # mean over all tokens (growing window): favours numpy

result = {
    "shape": {"batch": B, "heads": H, "tokens": T, "window": cfg["window"], "dim": D},
    "numpy": np.__version__,
    "blas": blas_name(),
    "threads_cpp": os.cpu_count(),
    "sgemm_gflops": round(sgemm_gflops, 1),
    "whole": {
        "cpp_s": cpp_whole_s, "numpy_s": np_whole_s, "ratio": np_whole_s / cpp_whole_s,
        "cpp_tokens_per_s": B * T / cpp_whole_s, "numpy_tokens_per_s": B * T / np_whole_s,
        "cpp_gflops": flops / cpp_whole_s / 1e9, "numpy_gflops": flops / np_whole_s / 1e9,
        "cpp_runs_s": cpp_whole_all, "numpy_runs_s": np_whole_all,
    },
    "decode": {
        "cpp_s_per_token": cpp_decode_s, "numpy_s_per_token": np_decode_s,
        "numpy_total_s": np_decode_total_s, "numpy_per_token_basis": "steps at full window" if np_decode_timed else "mean over the sequence",
        "ratio": np_decode_s / cpp_decode_s,
        "cpp_tokens_per_s": 1.0 / cpp_decode_s, "numpy_tokens_per_s": 1.0 / np_decode_s,
        "cpp_gflops": B * H * cfg["window"] * 3 * 2 * 2 * D / cpp_decode_s / 1e9,
    },
    "useful_gflop_whole": flops / 1e9,
    "agreement_cpp_vs_numpy": agree,
    "numpy_decode_equals_numpy_whole": bool(np.array_equal(out_np_dec, out_np)),
}
print(json.dumps(result, indent=1))
