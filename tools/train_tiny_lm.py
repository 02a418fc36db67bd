#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Train the tiny language model shipped in data/tinylm/ (docs/calibration.md, issue 18).

The authors' recipe (../shared/background/paper-facts.md §5), scaled down to a character-level
GPT on the fortune files of Debian's `fortunes` package (BSD licence):

1. a software baseline: the same architecture with ideal softmax attention, trained from
   scratch (the authors start from public GPT-2);
2. the linear gain-cell model, initialised from the baseline and fine-tuned with
   LinearDRAMAttention as gaincell's `linear` evaluator preset computes it: per-head trainable
   scalers (q: a = 1, b = 0; k, v: a = 1, b = 0.45; output: a = 1, b = 0), clamps, 16/8/32-level
   quantization with straight-through gradients, the linear cell (19.3 per volt), global decay
   1.6e-4 per token with the bf16 stage-1 decay, HardSigmoid C2P (S / 80), stage 2 in 64-key
   tiles with a 32-level ADC each (A / 40), the digital sum and the output scaler.

Deterministic: fixed seeds, 2 threads, data in a fixed order. Writes, in --out (data/tinylm):
  softmax.h5, linear.h5     weights (float32 datasets, torch's names) and the JSON attribute "meta"
  heldout.txt               the held-out split (UTF-8), so evaluation needs no package
  calib.txt                 the calibration batch: 16 blocks of the training split (as the authors
                            calibrate on one training batch)
  train_log.json            loss curves, wall times, hyper-parameters

  /usr/bin/python3 tools/train_tiny_lm.py --out data/tinylm        # about 25 min on 2 cores

Needs python3-torch, python3-h5py and fortunes (apt-get install python3-torch python3-h5py fortunes).
"""
import argparse
import glob
import hashlib
import json
import math
import os
import time

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FORTUNE_DIR = "/usr/share/games/fortunes"
EXCLUDED = ("art.u8", "ascii-art.u8")  # pictures, not text
UNK = "\x00"

HYPER = {
    "seed": 1337,
    "threads": 2,
    "block": 128,        # tokens per sequence = the sliding window (W = block, as the authors)
    "n_layer": 4,
    "n_head": 4,
    "n_embd": 96,        # head dim 24
    "batch": 16,
    "heldout_fraction": 0.04,
    "min_char_count": 20,  # rarer characters map to UNK
    "softmax": {"iters": 1000, "lr": 2e-3, "min_lr": 2e-4, "warmup": 100},
    "linear": {"iters": 500, "lr": 1e-3, "min_lr": 1e-4, "warmup": 50},
    "weight_decay": 0.1,
    "betas": [0.9, 0.95],
    "grad_clip": 1.0,
    "eval_slice_sequences": 16,
}

# LinearDRAMAttention, as gaincell's `linear` preset (docs/evaluator.md).
GC = {"levels_q": 16, "levels_kv": 8, "levels_out": 32, "clamp_q": [0.0, 1.0], "clamp_kv": [0.0, 0.9],
      "clamp_out": [-1.0, 1.0], "offset_v": 0.45, "linear_gain": 19.3, "decay_per_token": 1.6e-4,
      "s_sat": 80.0, "stage2_scale": 40.0, "tile_keys": 64}


def corpus():
    """The fortune entries of every text file, in file order, and a SHA-256 of the files."""
    files = sorted(f for f in glob.glob(os.path.join(FORTUNE_DIR, "*.u8")) if os.path.basename(f) not in EXCLUDED)
    if not files:
        raise SystemExit(f"no fortune files in {FORTUNE_DIR}: apt-get install fortunes")
    h = hashlib.sha256()
    entries = []
    for f in files:
        data = open(f, "rb").read()
        h.update(os.path.basename(f).encode() + b"\0" + data)
        for e in data.decode("utf-8").split("\n%\n"):
            e = e.strip("\n")
            if e and e != "%":
                entries.append(e)
    return entries, [os.path.basename(f) for f in files], h.hexdigest()


def split(entries, hp):
    rng = np.random.RandomState(hp["seed"])
    order = rng.permutation(len(entries))
    n_held = int(round(hp["heldout_fraction"] * len(entries)))
    held = [entries[i] for i in sorted(order[:n_held])]
    train = [entries[i] for i in order[n_held:]]
    sep = "\n%\n"
    return sep.join(train) + sep, sep.join(held) + sep


def quant_ste(x, n, lo, hi):
    step = torch.tensor((hi - lo) / (n - 1), dtype=torch.float32)
    q = step * torch.round(x / step)  # round half to even, grid anchored at 0
    return x + (q - x).detach()


def bf16(x):
    return x.to(torch.bfloat16).to(torch.float32)


class GainCellLinearAttention(nn.Module):
    """The linear gain-cell attention core on Q, K, V [B, H, T, D]."""

    def __init__(self, n_head, block):
        super().__init__()
        H = n_head
        self.q_a = nn.Parameter(torch.ones(H))
        self.q_b = nn.Parameter(torch.zeros(H))
        self.k_a = nn.Parameter(torch.ones(H))
        self.k_b = nn.Parameter(torch.full((H,), 0.45))
        self.v_a = nn.Parameter(torch.ones(H))
        self.v_b = nn.Parameter(torch.full((H,), 0.45))
        self.o_a = nn.Parameter(torch.ones(H))
        self.o_b = nn.Parameter(torch.zeros(H))
        age = torch.arange(block)[:, None] - torch.arange(block)[None, :]
        mask = (age >= 0) & (age < block)
        base = torch.tensor(math.exp(-GC["decay_per_token"]), dtype=torch.float32)
        D = torch.where(mask, base ** age.clamp(min=0).to(torch.float32), torch.zeros(()))
        self.register_buffer("mask", mask.to(torch.float32), persistent=False)
        self.register_buffer("d1", bf16(D) * mask, persistent=False)
        self.register_buffer("d2", D * mask, persistent=False)

    @staticmethod
    def _scale(x, a, b):
        return a.clamp(min=1e-20).view(1, -1, 1, 1) * x + b.view(1, -1, 1, 1)

    def forward(self, Q, K, V):
        T = Q.shape[2]
        g, off = GC["linear_gain"], GC["offset_v"]
        q = quant_ste(self._scale(Q, self.q_a, self.q_b).clamp(*GC["clamp_q"]), GC["levels_q"], *GC["clamp_q"])
        k = quant_ste(self._scale(K, self.k_a, self.k_b).clamp(*GC["clamp_kv"]), GC["levels_kv"], *GC["clamp_kv"])
        v = quant_ste(self._scale(V, self.v_a, self.v_b).clamp(*GC["clamp_kv"]), GC["levels_kv"], *GC["clamp_kv"])
        S = (q @ (g * (k - off)).transpose(-1, -2)) * self.d1[:T, :T]
        phi = (S * (1.0 / GC["s_sat"])).clamp(0.0, 1.0) * self.mask[:T, :T]
        w = phi * self.d2[:T, :T]
        tile = GC["tile_keys"]
        nt = (T + tile - 1) // tile
        pad = nt * tile - T
        bv = g * (v - off)
        if pad:
            w = F.pad(w, (0, pad))
            bv = F.pad(bv, (0, 0, 0, pad))
        B, H = Q.shape[0], Q.shape[1]
        A = torch.einsum("bhtms,bhmsd->bhtmd", w.view(B, H, T, nt, tile), bv.view(B, H, nt, tile, -1))
        y = quant_ste((A * (1.0 / GC["stage2_scale"])).clamp(*GC["clamp_out"]), GC["levels_out"], *GC["clamp_out"])
        return self._scale(y.sum(dim=3), self.o_a, self.o_b)


class Block(nn.Module):
    def __init__(self, hp, attention):
        super().__init__()
        C = hp["n_embd"]
        self.n_head = hp["n_head"]
        self.ln_1 = nn.LayerNorm(C)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C)
        self.c_fc = nn.Linear(C, 4 * C)
        self.mlp_proj = nn.Linear(4 * C, C)
        self.attention = attention
        self.gc = GainCellLinearAttention(self.n_head, hp["block"]) if attention == "linear" else None
        T = hp["block"]
        self.register_buffer("causal", torch.tril(torch.ones(T, T, dtype=torch.bool)), persistent=False)

    def attn(self, x):
        B, T, C = x.shape
        H = self.n_head
        Q, K, V = self.c_attn(x).split(C, dim=2)
        Q, K, V = (t.view(B, T, H, C // H).transpose(1, 2) for t in (Q, K, V))
        if self.gc is not None:
            y = self.gc(Q, K, V)
        else:
            att = (Q @ K.transpose(-1, -2)) * (1.0 / math.sqrt(C // H))
            att = att.masked_fill(~self.causal[:T, :T], float("-inf")).softmax(dim=-1)
            y = att @ V
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, hp, vocab, attention):
        super().__init__()
        C = hp["n_embd"]
        self.wte = nn.Embedding(vocab, C)
        self.wpe = nn.Embedding(hp["block"], C)
        self.blocks = nn.ModuleList(Block(hp, attention) for _ in range(hp["n_layer"]))
        self.ln_f = nn.LayerNorm(C)
        self.apply(self._init)
        for n, p in self.named_parameters():
            if n.endswith("c_proj.weight") or n.endswith("mlp_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * hp["n_layer"]))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, idx, targets=None):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.blocks:
            x = b(x)
        logits = self.ln_f(x) @ self.wte.weight.T  # tied head
        if targets is None:
            return logits
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def sequences(ids, block):
    """Non-overlapping evaluation blocks: inputs ids[i*block : (i+1)*block], targets shifted by one."""
    n = (len(ids) - 1) // block
    x = np.stack([ids[i * block:(i + 1) * block] for i in range(n)])
    y = np.stack([ids[i * block + 1:(i + 1) * block + 1] for i in range(n)])
    return torch.from_numpy(x), torch.from_numpy(y)


@torch.no_grad()
def evaluate(model, x, y, batch=64):
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(x), batch):
        xb, yb = x[i:i + batch], y[i:i + batch]
        total += model(xb, yb).item() * yb.numel()
        count += yb.numel()
    model.train()
    return total / count, count


def train(model, train_ids, val, hp, phase, log):
    cfg = hp[phase]
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (decay if p.dim() >= 2 and ".gc." not in n else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg["lr"], betas=tuple(hp["betas"]))
    gen = torch.Generator().manual_seed(hp["seed"] + (1 if phase == "linear" else 0))
    data = torch.from_numpy(train_ids)
    B, T = hp["batch"], hp["block"]
    t0 = time.time()
    curve = []
    for it in range(cfg["iters"] + 1):
        if it % 200 == 0 or it == cfg["iters"]:
            vl, _ = evaluate(model, val[0][:64], val[1][:64])
            curve.append({"iter": it, "val_loss_nats": vl, "wall_s": round(time.time() - t0, 1)})
            print(f"{phase}: iter {it:5d}  val loss {vl:.4f} nats/token  ({time.time() - t0:.0f} s)", flush=True)
        if it == cfg["iters"]:
            break
        if it < cfg["warmup"]:
            lr = cfg["lr"] * (it + 1) / cfg["warmup"]
        else:
            r = (it - cfg["warmup"]) / max(1, cfg["iters"] - cfg["warmup"])
            lr = cfg["min_lr"] + 0.5 * (1 + math.cos(math.pi * r)) * (cfg["lr"] - cfg["min_lr"])
        for g in opt.param_groups:
            g["lr"] = lr
        ix = torch.randint(len(data) - T - 1, (B,), generator=gen)
        xb = torch.stack([data[i:i + T] for i in ix])
        yb = torch.stack([data[i + 1:i + T + 1] for i in ix])
        loss = model(xb, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), hp["grad_clip"])
        opt.step()
    log[phase] = {"curve": curve, "wall_s": round(time.time() - t0, 1), **cfg}


def save(model, path, meta):
    """A gaincell-tinylm/1 file: one float32 dataset per weight (torch's names), JSON meta."""
    with h5py.File(path + ".partial", "w") as f:
        f.attrs["format"] = "gaincell-tinylm"
        f.attrs["meta"] = json.dumps(meta, indent=1)
        for n, p in model.state_dict().items():
            f.create_dataset(n, data=p.detach().numpy().astype(np.float32))
    os.replace(path + ".partial", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="data/tinylm", help="output directory (default data/tinylm)")
    ap.add_argument("--quick", action="store_true", help="20 iterations per phase (a smoke run, not for shipping)")
    args = ap.parse_args()
    hp = json.loads(json.dumps(HYPER))
    if args.quick:
        hp["softmax"]["iters"] = hp["linear"]["iters"] = 20
    torch.manual_seed(hp["seed"])
    torch.set_num_threads(hp["threads"])
    torch.use_deterministic_algorithms(True)

    entries, files, corpus_sha = corpus()
    train_text, held_text = split(entries, hp)
    counts = {}
    for ch in train_text:
        counts[ch] = counts.get(ch, 0) + 1
    chars = [UNK] + sorted(c for c, n in counts.items() if n >= hp["min_char_count"] and c != UNK)
    index = {c: i for i, c in enumerate(chars)}
    encode = lambda s: np.array([index.get(c, 0) for c in s], dtype=np.int64)  # noqa: E731
    train_ids, held_ids = encode(train_text), encode(held_text)
    val = sequences(held_ids, hp["block"])
    print(f"corpus: {len(files)} files, {len(entries)} fortunes; train {len(train_ids)} tokens, "
          f"held-out {len(held_ids)} tokens ({len(val[0])} sequences of {hp['block']}); vocab {len(chars)}", flush=True)

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write(held_text)
    # The calibration batch: 16 blocks (+1 token) from a fixed place of the training split.
    n_cal = hp["eval_slice_sequences"] * hp["block"] + 1
    start = int(np.random.RandomState(hp["seed"] + 2).randint(0, len(train_text) - n_cal))
    with open(os.path.join(args.out, "calib.txt"), "w", encoding="utf-8") as f:
        f.write(train_text[start:start + n_cal])
    log = {"hyper": hp, "gaincell_linear": GC, "corpus": {"files": files, "sha256": corpus_sha,
           "fortunes": len(entries), "train_tokens": int(len(train_ids)), "heldout_tokens": int(len(held_ids))}}

    n_slice = hp["eval_slice_sequences"]
    softmax = GPT(hp, len(chars), "softmax")
    print(f"parameters: {sum(p.numel() for p in softmax.parameters())}", flush=True)
    train(softmax, train_ids, val, hp, "softmax", log)
    linear = GPT(hp, len(chars), "linear")
    missing = linear.load_state_dict(softmax.state_dict(), strict=False)
    assert not missing.unexpected_keys and all(".gc." in k for k in missing.missing_keys), missing
    train(linear, train_ids, val, hp, "linear", log)

    for name, model in (("softmax", softmax), ("linear", linear)):
        full, n_tok = evaluate(model, *val)
        sl, n_sl = evaluate(model, val[0][:n_slice], val[1][:n_slice])
        meta = {"format": "gaincell-tinylm", "version": 1, "attention": name,
                "vocab": "".join(chars), "unk": 0, "block": hp["block"], "n_layer": hp["n_layer"],
                "n_head": hp["n_head"], "n_embd": hp["n_embd"], "gelu": "tanh", "layernorm_eps": 1e-5,
                "heldout_sha256": hashlib.sha256(held_text.encode("utf-8")).hexdigest(),
                "recorded": {"heldout_loss_nats": full, "heldout_tokens": n_tok,
                             "slice_sequences": n_slice, "slice_loss_nats": sl, "slice_tokens": n_sl,
                             "by": f"torch {torch.__version__}"},
                "gaincell_preset": "linear" if name == "linear" else None,
                "trained_by": "tools/train_tiny_lm.py", "hyper": hp}
        log[name]["heldout_loss_nats"] = full
        log[name]["heldout_perplexity"] = math.exp(full)
        save(model, os.path.join(args.out, f"{name}.h5"), meta)
        print(f"{name}: held-out loss {full:.4f} nats/token, perplexity {math.exp(full):.3f} over {n_tok} tokens; "
              f"slice {sl:.5f}", flush=True)
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump(log, f, indent=1)


if __name__ == "__main__":
    main()
