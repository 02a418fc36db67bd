#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An independent numpy implementation of the authors' attention simulator
(../shared/background/reference-simulator.md §3-§5), written from the
document, not from gaincell's C++: dense T x T matrices per head, batched
over batch and heads with matmul, float32 throughout as the reference.

It is the check the C++ evaluator is tested against (compare_numpy.py) and
the baseline of the evaluator benchmark (bench/eval_bench.py).

    cfg = default_config()                   # the reference preset
    res = forward(Q, K, V, cfg, intermediates=True)   # res["output"], res["S"], res["phi"]
    out = decode(Q, K, V, cfg)["output"]     # the same, one token at a time

CLI: attention_numpy.py --input in.h5 --output out.h5 [--config c.json] [--set k=v]...
     [--intermediates] [--mode whole|decode]
"""
import argparse
import json
import math
import time

import numpy as np

F32 = np.float32
AUTHORS_C = [0.17393044, 0.15653739, 0.14088365, 0.12679529, 5.51975209,
             4.96777688, 4.4709992, -1.44776001, -1.30298401, 46.05483778]


def default_config():
    return {
        "levels_q": 16, "levels_kv": 8, "levels_out": 32,
        "clamp_q": [0.0, 1.0], "clamp_kv": [0.0, 0.9], "clamp_out": [-1.0, 1.0],
        "offset_v": 0.45, "vin_v": 0.9, "window": 1024, "tile_keys": 64,
        "decay_per_token": 1.6e-4, "decay_rule": "per_order", "decay_bf16": True,
        "s_sat": 80.0, "stage2_scale": 40.0,
        "scaler_q": {"a": 1.0, "b": 0.0}, "scaler_k": {"a": 1.0, "b": 0.45},
        "scaler_v": {"a": 1.0, "b": 0.45}, "scaler_out": {"a": 1.0, "b": 0.0},
        "cell": "poly", "poly_coefficients": list(AUTHORS_C), "linear_gain": 19.3,
    }


def load_config(path, sets):
    cfg = default_config()
    if path:
        with open(path) as f:
            for key, value in json.load(f).items():
                if key not in cfg:
                    raise KeyError(f"{path}: unknown key {key!r}")
                cfg[key] = value
    for s in sets:
        key, _, text = s.partition("=")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        if "." in key:
            outer, inner = key.split(".", 1)
            if outer not in cfg or not isinstance(cfg[outer], dict):
                raise KeyError(f"--set {s}: unknown key {outer!r}")
            cfg[outer] = dict(cfg[outer], **{inner: value})
        else:
            if key not in cfg:
                raise KeyError(f"--set {s}: unknown key {key!r}")
            cfg[key] = value
    return cfg


def collapsed(cfg):
    """a_i = sum_j c_ij vin^j, i outer, j inner (the authors' loop order)."""
    if cfg["cell"] == "linear":
        return [0.0, float(cfg["linear_gain"]), 0.0, 0.0]
    if cfg["cell"] != "poly":
        raise NotImplementedError(f"cell {cfg['cell']!r}: the numpy reference has only poly and linear")
    c = cfg["poly_coefficients"]
    a, idx = [0.0] * 4, 0
    for i in range(4):
        for j in range(4 - i):
            a[i] += c[idx] * cfg["vin_v"] ** j
            idx += 1
    return a


def ipow(x, n):
    """x**n by repeated multiplication ((x * x) * x ...), as torch computes
    x**2 and x**3 for float tensors (numpy's ** 3 would call powf instead)."""
    if n == 0:
        return np.ones_like(x)
    y = x
    for _ in range(n - 1):
        y = y * x
    return y


def bf16(x):
    """float32 -> bfloat16 (round to nearest, ties to even) -> float32."""
    u = np.ascontiguousarray(x, dtype=F32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(F32)


def quant(x, levels, lo, hi):
    if levels == "off" or levels is None:
        return x
    step = F32((hi - lo) / (levels - 1))
    return (step * np.rint(x / step)).astype(F32)


def per_head(value, heads):
    v = np.asarray(value, dtype=np.float64).reshape(-1)
    if v.size == 1:
        v = np.repeat(v, heads)
    if v.size != heads:
        raise ValueError(f"per-head scaler has {v.size} values for {heads} heads")
    return v.astype(F32).reshape(1, heads, 1, 1)


def prepare(X, scaler, clamp, levels, heads):
    a = np.maximum(per_head(scaler["a"], heads), F32(1e-20))
    b = per_head(scaler["b"], heads)
    y = np.clip(a * X + b, F32(clamp[0]), F32(clamp[1])).astype(F32)
    return quant(y, levels, clamp[0], clamp[1])


def _as4(x):
    x = np.asarray(x, dtype=F32)
    return (x[:, None], True) if x.ndim == 3 else (x, False)


def _setup(Q, K, V, cfg):
    """Both modes: [B, H, T, D] float32 views (three: the input was 3-D), the
    collapsed cell coefficients and the offset, in float32."""
    Q, three = _as4(Q)
    K, _ = _as4(K)
    V, _ = _as4(V)
    return Q, K, V, three, [F32(x) for x in collapsed(cfg)], F32(cfg["offset_v"])


def decay_matrix(T, cfg):
    """Window mask M and decay D[t][s] = float32(exp(-df)) ** float32(t - s) inside it."""
    t = np.arange(T)[:, None]
    s = np.arange(T)[None, :]
    age = t - s
    M = (age >= 0) & (age < cfg["window"])
    base = F32(math.exp(-cfg["decay_per_token"]))
    D = np.where(M, np.power(base, np.maximum(age, 0).astype(F32)), F32(0)).astype(F32)
    return M, D


def forward(Q, K, V, cfg, intermediates=False):
    Q, K, V, three, a, off = _setup(Q, K, V, cfg)
    B, H, T, Dm = Q.shape
    q = prepare(Q, cfg["scaler_q"], cfg["clamp_q"], cfg["levels_q"], H)
    k = prepare(K, cfg["scaler_k"], cfg["clamp_kv"], cfg["levels_kv"], H)
    v = prepare(V, cfg["scaler_v"], cfg["clamp_kv"], cfg["levels_kv"], H)
    M, D = decay_matrix(T, cfg)
    kp, vp = (k - off).astype(F32), (v - off).astype(F32)
    per_order = cfg["decay_rule"] == "per_order"
    if per_order:
        Db = bf16(D) if cfg["decay_bf16"] else D
        S = np.zeros((B, H, T, T), F32)
        for i in range(4):
            if a[i] == 0:
                continue
            d1 = bf16(ipow(Db, i)) if cfg["decay_bf16"] else ipow(D, i)
            S += a[i] * d1 * (q @ np.swapaxes(ipow(kp, i), -1, -2))
    else:
        fk = sum(a[i] * ipow(kp, i) for i in range(4)).astype(F32)
        Dq = bf16(D) if cfg["decay_bf16"] else D
        S = (q @ np.swapaxes(fk, -1, -2)) * Dq
    S = np.where(M, S, F32(0)).astype(F32)
    phi = np.where(M, np.clip(S * F32(1.0 / cfg["s_sat"]), F32(0), F32(1)), F32(0)).astype(F32)
    tile = cfg["tile_keys"]
    n_tiles = math.ceil(T / tile)
    pad = n_tiles * tile - T
    phi_p = np.pad(phi, ((0, 0), (0, 0), (0, 0), (0, pad)))
    D_p = np.pad(D, ((0, 0), (0, pad)))
    vp_p = np.pad(vp, ((0, 0), (0, 0), (0, pad), (0, 0)))
    if not per_order:
        fv_p = np.pad(sum(a[i] * ipow(vp, i) for i in range(4)).astype(F32), ((0, 0), (0, 0), (0, pad), (0, 0)))
    lo, hi = cfg["clamp_out"]
    total = np.zeros((B, H, T, Dm), F32)
    for m in range(n_tiles):
        sl = slice(m * tile, (m + 1) * tile)
        if per_order:
            A = np.zeros((B, H, T, Dm), F32)
            for i in range(4):
                if a[i] == 0:
                    continue
                A += a[i] * ((phi_p[..., sl] * ipow(D_p[:, sl], i)) @ (ipow(vp_p[:, :, sl], i)))
        else:
            A = (phi_p[..., sl] * D_p[:, sl]) @ fv_p[:, :, sl]
        y = np.clip(A * F32(1.0 / cfg["stage2_scale"]), F32(lo), F32(hi)).astype(F32)
        total += quant(y, cfg["levels_out"], lo, hi)
    ao = np.maximum(per_head(cfg["scaler_out"]["a"], H), F32(1e-20))
    out = (ao * total + per_head(cfg["scaler_out"]["b"], H)).astype(F32)
    res = {"output": out[:, 0] if three else out}
    if intermediates:
        res["S"] = S[:, 0] if three else S
        res["phi"] = phi[:, 0] if three else phi
    return res


last_decode_step_times = []


def decode(Q, K, V, cfg):
    """One token at a time: the token's K and V join the stored keys, the
    window's keys age (decay by age), the token's Q reads them. Vectorized over
    batch and heads; a Python loop over tokens."""
    global last_decode_step_times
    Q, K, V, three, a, off = _setup(Q, K, V, cfg)
    B, H, T, Dm = Q.shape
    W, tile = cfg["window"], cfg["tile_keys"]
    base = F32(math.exp(-cfg["decay_per_token"]))
    per_order = cfg["decay_rule"] == "per_order"
    lo, hi = cfg["clamp_out"]
    ao = np.maximum(per_head(cfg["scaler_out"]["a"], H), F32(1e-20))[..., 0]
    bo = per_head(cfg["scaler_out"]["b"], H)[..., 0]
    # Stored columns keep their offset powers (k - 0.45)^i, as a numpy user would cache them.
    orders = [i for i in range(4) if a[i] != 0] if per_order else [None]
    kpow = {i: np.zeros((B, H, T, Dm), F32) for i in orders}
    vpow = {i: np.zeros((B, H, T, Dm), F32) for i in orders}
    out = np.zeros((B, H, T, Dm), F32)
    times = []
    for t in range(T):
        t0 = time.perf_counter()
        q = prepare(Q[:, :, t:t + 1], cfg["scaler_q"], cfg["clamp_q"], cfg["levels_q"], H)
        kp = prepare(K[:, :, t:t + 1], cfg["scaler_k"], cfg["clamp_kv"], cfg["levels_kv"], H)[:, :, 0] - off
        vp = prepare(V[:, :, t:t + 1], cfg["scaler_v"], cfg["clamp_kv"], cfg["levels_kv"], H)[:, :, 0] - off
        for i in orders:
            if i is None:
                kpow[i][:, :, t] = sum(a[j] * ipow(kp, j) for j in range(4))
                vpow[i][:, :, t] = sum(a[j] * ipow(vp, j) for j in range(4))
            else:
                kpow[i][:, :, t] = ipow(kp, i)
                vpow[i][:, :, t] = ipow(vp, i)
        first = max(0, t - W + 1)
        start = (first // tile) * tile  # the window, from the start of its first tile
        age = t - np.arange(start, t + 1)
        valid = age < W
        D = np.where(valid, np.power(base, age.astype(F32)), F32(0)).astype(F32)
        n = age.size
        n_tiles = math.ceil(n / tile)
        pad = n_tiles * tile - n
        if per_order:
            Db = bf16(D) if cfg["decay_bf16"] else D
            S = np.zeros((B, H, 1, n), F32)
            for i in orders:
                d1 = bf16(ipow(Db, i)) if cfg["decay_bf16"] else ipow(D, i)
                S += a[i] * d1 * (q @ np.swapaxes(kpow[i][:, :, start:t + 1], -1, -2))
        else:
            S = (q @ np.swapaxes(kpow[None][:, :, start:t + 1], -1, -2)) * (bf16(D) if cfg["decay_bf16"] else D)
        phi = np.where(valid, np.clip(S * F32(1.0 / cfg["s_sat"]), F32(0), F32(1)), F32(0)).astype(F32)
        phi_p = np.pad(phi, ((0, 0), (0, 0), (0, 0), (0, pad))).reshape(B, H, n_tiles, 1, tile)
        D_p = np.pad(D, (0, pad)).reshape(n_tiles, 1, tile)
        A = np.zeros((B, H, n_tiles, 1, Dm), F32)
        for i in orders:
            vw = np.pad(vpow[i][:, :, start:t + 1], ((0, 0), (0, 0), (0, pad), (0, 0))).reshape(B, H, n_tiles, tile, Dm)
            if i is None:
                A += (phi_p * D_p) @ vw
            else:
                A += a[i] * ((phi_p * ipow(D_p, i)) @ vw)
        y = quant(np.clip(A[:, :, :, 0] * F32(1.0 / cfg["stage2_scale"]), F32(lo), F32(hi)).astype(F32), cfg["levels_out"], lo, hi)
        out[:, :, t] = ao * y.sum(axis=2, dtype=F32) + bo
        times.append(time.perf_counter() - t0)
    last_decode_step_times = times
    return {"output": out[:, 0] if three else out}


def main():
    import h5py
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--config")
    p.add_argument("--set", action="append", default=[])
    p.add_argument("--intermediates", action="store_true")
    p.add_argument("--mode", choices=["whole", "decode"], default="whole")
    args = p.parse_args()
    cfg = load_config(args.config, args.set)
    with h5py.File(args.input) as f:
        Q, K, V = (f[n][:].astype(F32) for n in ("Q", "K", "V"))
    res = forward(Q, K, V, cfg, args.intermediates) if args.mode == "whole" else decode(Q, K, V, cfg)
    with h5py.File(args.output, "w") as f:
        for name, x in res.items():
            f[name] = x


if __name__ == "__main__":
    main()
