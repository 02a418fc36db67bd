#!/usr/bin/python3
"""Engine benchmark: one sweep of a spec (default: the push-pull multiply surface, 128 points)
timed five ways on the same machine, in one run.

  (a)  bash loop, one `ngspice -b point_K.cir` per rendered point (as a user would run them)
  (b)  one `ngspice -b` whose .control block loops over the points with `alter`
  (c)  `gaincell sweep --jobs 1`
  (d)  `gaincell sweep --jobs 2`
  (e)  pure simulation time: the sum of the `run` calls inside gaincell's workers, read from (c)

(a) and (b) run twice: with ngspice's default thread count (OpenMP, 2 threads on this class of
machine, as a user's `ngspice -b` runs) and with `set num_threads=1` (a .spiceinit in the working
directory, which shadows ~/.spiceinit).  gaincell's workers always run with num_threads=1.

Run through bench/engine_bench.sh; `engine_bench.py --help` lists the options.
Uses only the standard library plus h5py/numpy (Debian python3-h5py, python3-numpy).
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# ----------------------------------------------------------------------------------------------
# SPICE numbers and .param expressions (enough for gaincell's rendered netlists)
# ----------------------------------------------------------------------------------------------
_SUFFIX = {"t": 1e12, "g": 1e9, "meg": 1e6, "k": 1e3, "mil": 25.4e-6, "m": 1e-3, "u": 1e-6,
           "n": 1e-9, "p": 1e-12, "f": 1e-15, "a": 1e-18}
_NUM_RE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(meg|mil|[tgkmunpfa])?[a-z]*$",
                     re.I)
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def spice_number(text):
    m = _NUM_RE.match(text.strip())
    if not m:
        raise ValueError(f"not a SPICE number: {text!r}")
    value = float(m.group(1))
    if m.group(2):
        value *= _SUFFIX[m.group(2).lower()]
    return value


def eval_expr(expr, env):
    """Evaluate a numparam brace expression (arithmetic, max/min/abs, one level of c ? a : b)."""
    expr = expr.strip()
    m = re.match(r"^(.*?)\?(.*):(.*)$", expr)
    if m:
        return eval_expr(m.group(2), env) if eval_expr(m.group(1), env) else \
            eval_expr(m.group(3), env)

    def num(mm):
        return repr(spice_number(mm.group(0)))

    # numbers with SPICE suffixes -> plain floats (identifiers are left alone)
    py = re.sub(r"(?<![A-Za-z_0-9.])(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?:meg|mil|[tgkmunpfa])?"
                r"(?![A-Za-z_0-9])", num, expr, flags=re.I)
    safe = {"max": max, "min": min, "abs": abs, "sqrt": lambda x: x ** 0.5}
    return float(eval(py, {"__builtins__": {}}, {**safe, **env}))  # noqa: S307 (own netlists)


def parse_params(lines):
    """Ordered (name, raw value text) of the top-level .param lines."""
    out = []
    for line in lines:
        if not line.lower().startswith(".param"):
            continue
        body = line[6:].split("$", 1)[0].strip()
        name, raw = body.split("=", 1)
        out.append((name.strip(), raw.strip()))
    return out


def eval_params(params):
    env = {}
    for name, raw in params:
        env[name] = eval_expr(raw[1:-1], env) if raw.startswith("{") else spice_number(raw)
    return env


def idents(text):
    return set(_IDENT_RE.findall(text))


# ----------------------------------------------------------------------------------------------
# variant (b): one netlist, .control loop with alter
# ----------------------------------------------------------------------------------------------
def fmt(x):
    return repr(float(x))


def source_alter(line, env):
    """`alter` command that sets the independent V source on `line` to its value under env."""
    toks = line.split(None, 3)
    name, rest = toks[0].lower(), toks[3].strip()

    def sub(text):
        return re.sub(r"\{([^}]*)\}", lambda m: fmt(eval_expr(m.group(1), env)), text)

    m = re.match(r"^(pulse|pwl)\s*\((.*)\)\s*$", rest, re.I)
    if m:
        kind = m.group(1).lower()
        vals = [fmt(spice_number(v)) for v in sub(m.group(2)).replace(",", " ").split()]
        return f"alter @{name}[{kind}] = [ {' '.join(vals)} ]"
    m = re.match(r"^(?:dc\s+)?(\S+)$", rest, re.I)
    if m:
        return f"alter {name} dc = {fmt(spice_number(sub(m.group(1))))}"
    raise SystemExit(f"engine_bench: cannot turn this source into an alter command: {line}")


def make_variant_b(point_files, out_path, verify_path):
    """Write the (b) netlist: point 0 as the base circuit (.meas/.tran/.end removed) plus a
    .control block that alters the swept sources to each point's values, runs `tran`, measures
    the same line charge and destroys the plot.  Returns (netlist text, number of alters/point,
    q measure window)."""
    texts = [open(p).read().splitlines() for p in point_files]
    base = texts[0]
    # 1. the rendered points may differ only in .param lines
    varying = set()
    for t in texts[1:]:
        if len(t) != len(base):
            raise SystemExit("engine_bench: rendered points differ in line count; cannot build (b)")
        for a, b in zip(base, t):
            if a != b:
                if a.startswith("*") and b.startswith("*"):
                    continue
                if not (a.lower().startswith(".param") and b.lower().startswith(".param")):
                    raise SystemExit(f"engine_bench: points differ outside .param lines:\n{a}\n{b}")
                varying.add(a[6:].split("=", 1)[0].strip())
    # 2. close over derived params
    params = parse_params(base)
    dep = set(varying)
    for name, raw in params:
        if raw.startswith("{") and idents(raw) & dep:
            dep.add(name)
    # 3. element lines that use a dependent param must be independent V sources
    srcs, tran, qmeas = [], None, None
    lines, in_cont = [], False
    for line in base:
        low = line.lower()
        if low.startswith(".tran"):
            tran = line[1:].strip()
            continue
        if low.startswith(".meas"):
            if re.search(r"\binteg\b", low) and "vsense" in low and qmeas is None:
                qmeas = line
            continue
        if low.strip() == ".end":
            continue
        lines.append(line)
        if low.startswith((".param", "*")) or not line.strip():
            continue
        if line.startswith("+"):
            if in_cont and idents(line) & dep:
                raise SystemExit(f"engine_bench: swept param used on a continuation: {line}")
            continue
        in_cont = True
        used = set(re.findall(r"\{([^}]*)\}", line))
        if any(idents(u) & dep for u in used):
            if not low.startswith("v"):
                raise SystemExit(f"engine_bench: swept param used outside a V source: {line}")
            srcs.append(line)
    if tran is None or qmeas is None:
        raise SystemExit("engine_bench: point 0 has no .tran line or no integ i(vsense) .meas")
    win = re.search(r"from\s*=\s*(\S+)\s+to\s*=\s*(\S+)", qmeas, re.I)
    q_from, q_to = win.group(1), win.group(2)
    # 4. .control block
    ctl = [".control", "set noaskquit"]
    for k, t in enumerate(texts):
        env = eval_params(parse_params(t))
        ctl.append(f"* point {k}: " + " ".join(f"{v}={fmt(env[v])}" for v in sorted(varying)))
        ctl += [source_alter(s, env) for s in srcs]
        ctl += [tran,
                f"meas tran q integ i(vsense) from={q_from} to={q_to}",
                f'echo "BQ {k} $&q"',
                "destroy all"]
    ctl += ["quit 0", ".endc", ".end"]
    text = "\n".join(lines + ctl) + "\n"
    with open(out_path, "w") as f:
        f.write(text)
    # untimed twin for the charge check: dump i(vsense) at full precision instead of `meas`
    # (ngspice's meas keeps 6 digits and its INTEG is not gaincell's exact trapezoid)
    vtext = text.replace(f"meas tran q integ i(vsense) from={q_from} to={q_to}\n", "")
    vtext = re.sub(r'echo "BQ (\d+) \$&q"', r"wrdata bw_\1.txt i(vsense)", vtext)
    vtext = vtext.replace("set noaskquit", "set noaskquit\nset wr_singlescale\nset numdgt=17", 1)
    with open(verify_path, "w") as f:
        f.write(vtext)
    return {"swept_params": sorted(varying), "altered_sources": [s.split()[0] for s in srcs],
            "tran": tran, "q_window": [q_from, q_to]}


def read_bq(log_path):
    q = {}
    for line in open(log_path, errors="replace"):
        m = re.match(r"^BQ (\d+) (\S+)", line)
        if m:
            q[int(m.group(1))] = float(m.group(2))
    return q


def trapezoid(t, y, lo, hi):
    """gaincell's `integral`: trapezoid on the samples, linear interpolation at the window ends."""
    lo, hi = max(lo, t[0]), min(hi, t[-1])
    tt = np.concatenate(([lo], t[(t > lo) & (t < hi)], [hi]))
    return float(np.trapz(np.interp(tt, t, y), tt))


def read_meas_log(log_path, name):
    for line in open(log_path, errors="replace"):
        m = re.match(rf"^{name}\s*=\s*(\S+)", line.strip())
        if m:
            return float(m.group(1))
    return None


# ----------------------------------------------------------------------------------------------
# timing
# ----------------------------------------------------------------------------------------------
def timed(cmd, cwd, tmp):
    """Run cmd under /usr/bin/time; return wall (perf_counter), cpu, peak RSS KiB, rc."""
    tf = os.path.join(tmp, "time.out")
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf] + cmd, cwd=cwd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    fields = open(tf).read().split()[-4:]
    return {"wall_s": wall, "cpu_s": float(fields[1]) + float(fields[2]),
            "peak_rss_kib": int(fields[3]), "rc": r.returncode,
            "stderr": r.stderr.decode(errors="replace")[-2000:]}


def h5_attrs(path):
    with h5py.File(path, "r") as f:
        a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        run = f["timing/run_time_s"][()]
        parse = f["timing/parse_time_s"][()]
        q = f["measures/q_line_c"][()]
        status = f["status"][()]
    num = lambda k: float(a[k]) if k in a else float("nan")  # noqa: E731
    return {"wall_time_s": num("wall_time_s"),
            "parent_peak_rss_kib": num("parent_peak_rss_kib"),
            "worker_peak_rss_kib": num("worker_peak_rss_kib"),
            "parent_cpu_time_s": num("parent_cpu_time_s"),
            "ngspice_run_time_s": num("ngspice_run_time_s"),
            "ngspice_parse_time_s": num("ngspice_parse_time_s"),
            "sum_run_s": float(np.nansum(run)), "sum_parse_s": float(np.nansum(parse)),
            "run_per_point_s": run.ravel(), "parse_per_point_s": parse.ravel(),
            "q": q.ravel(), "n_points": int(q.size),
            "n_ok": int(np.count_nonzero(status.ravel() == 0)),
            "git_sha": a.get("gaincell_git_sha", "?"), "ngspice_version": a.get("ngspice_version", "?")}


def med(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--spec", default=os.path.join(ROOT, "characterization", "pushpull_multiply.json"))
    ap.add_argument("--gaincell", default=os.path.join(ROOT, "build", "bin", "gaincell"))
    ap.add_argument("--ngspice", default=shutil.which("ngspice") or "/usr/bin/ngspice")
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions (median is reported)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed repetitions first")
    ap.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (netlists, logs, .h5)")
    args = ap.parse_args()

    G = os.path.abspath(args.gaincell)
    spec = os.path.abspath(args.spec)
    tmp = tempfile.mkdtemp(prefix="gaincell-engine-bench-")
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    log(f"engine_bench: work dir {tmp}")

    # -- reference sweep: point count and gaincell's charges --------------------------------
    ref_h5 = os.path.join(tmp, "ref.h5")
    subprocess.run([G, "-q", "sweep", spec, "-o", ref_h5, "--jobs", "1"], check=True,
                   stdout=subprocess.DEVNULL)
    ref = h5_attrs(ref_h5)
    n = ref["n_points"]
    if ref["n_ok"] != n:
        raise SystemExit(f"engine_bench: reference sweep has {n - ref['n_ok']} failed points")
    log(f"engine_bench: {n} points")

    # -- a one-point copy of the spec: gaincell's fixed cost (start, worker spawn, HDF5 file) ------
    sp = json.load(open(spec))
    sp["template"] = os.path.normpath(os.path.join(os.path.dirname(spec), sp["template"]))
    for ax in sp["axes"]:
        for key in ("linspace", "logspace"):
            if key in ax:
                ax["values"] = [ax.pop(key)["start"]]
        ax["values"] = ax["values"][:1]
    one_spec = os.path.join(tmp, "one_point.json")
    with open(one_spec, "w") as f:
        json.dump(sp, f, indent=1)

    # -- (i) render every point ------------------------------------------------------------
    pts = os.path.join(tmp, "points")
    os.makedirs(pts)
    files = []
    for k in range(n):
        p = os.path.join(pts, f"point_{k:04d}.cir")
        subprocess.run([G, "render", spec, "--point", str(k), "-o", p], check=True,
                       stdout=subprocess.DEVNULL)
        files.append(p)

    # -- (b) netlist -------------------------------------------------------------------------
    b_cir = os.path.join(tmp, "variant_b.cir")
    b_info = make_variant_b(files, b_cir, os.path.join(tmp, "variant_b_verify.cir"))
    log(f"engine_bench: (b) alters {b_info['altered_sources']} for {b_info['swept_params']}")

    # -- thread-setting dirs: each holds a .spiceinit, which shadows ~/.spiceinit ---------------
    dirs = {}
    for tag, body in (("default", "* empty on purpose: shadows ~/.spiceinit, ngspice defaults\n"),
                      ("nt1", "set num_threads=1\n")):
        d = os.path.join(tmp, f"cwd_{tag}")
        os.makedirs(os.path.join(d, "logs"))
        with open(os.path.join(d, ".spiceinit"), "w") as f:
            f.write(body)
        dirs[tag] = d

    a_sh = os.path.join(tmp, "variant_a.sh")
    with open(a_sh, "w") as f:
        f.write("#!/bin/bash\n# (a): one ngspice -b per rendered point, log per point\n"
                f"for f in {pts}/point_*.cir; do\n"
                f"  {args.ngspice} -b \"$f\" > \"logs/$(basename \"$f\" .cir).log\" 2>&1\n"
                "done\n")

    variants = {
        "a_default": (["bash", a_sh], dirs["default"]),
        "a_nt1": (["bash", a_sh], dirs["nt1"]),
        "b_default": (["bash", "-c", f"{args.ngspice} -b {b_cir} > logs/b.log 2>&1"], dirs["default"]),
        "b_nt1": (["bash", "-c", f"{args.ngspice} -b {b_cir} > logs/b.log 2>&1"], dirs["nt1"]),
        "c_jobs1": ([G, "-q", "sweep", spec, "-o", os.path.join(tmp, "c.h5"), "--jobs", "1"], tmp),
        "d_jobs2": ([G, "-q", "sweep", spec, "-o", os.path.join(tmp, "d.h5"), "--jobs", "2"], tmp),
        "f_one_point": ([G, "-q", "sweep", one_spec, "-o", os.path.join(tmp, "f.h5"), "--jobs", "1"],
                        tmp),
    }
    names = list(variants)
    runs = {v: [] for v in names}
    h5runs = {"c_jobs1": [], "d_jobs2": [], "f_one_point": []}

    # -- repetitions: rotate the order each repetition so noise hits all variants alike ---------
    for rep in range(args.warmup + args.reps):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for v in order:
            cmd, cwd = variants[v]
            for h in ("c.h5", "d.h5", "f.h5"):
                if v[0] == h[0] and os.path.exists(os.path.join(tmp, h)):
                    os.remove(os.path.join(tmp, h))
            r = timed(cmd, cwd, tmp)
            if r["rc"] != 0:
                raise SystemExit(f"engine_bench: {v} failed (rc {r['rc']}):\n{r['stderr']}")
            if rep >= args.warmup:
                runs[v].append(r)
                if v in h5runs:
                    h5runs[v].append(h5_attrs(os.path.join(tmp, v[0] + ".h5")))
        log(f"engine_bench: repetition {rep + 1}/{args.warmup + args.reps}"
            f"{' (warm-up)' if rep < args.warmup else ''} done")

    # -- verification: (b) and (a) charges against gaincell's q_line_c ----------------------------
    q_g = ref["q"]
    fs = float(np.max(np.abs(q_g)))
    verify = {}
    for tag in ("default", "nt1"):
        qb = read_bq(os.path.join(dirs[tag], "logs", "b.log"))
        if len(qb) != n:
            raise SystemExit(f"engine_bench: (b) {tag} printed {len(qb)} of {n} charges")
        qa = np.array([read_meas_log(os.path.join(dirs[tag], "logs", f"point_{k:04d}.log"),
                                     "q_line_c") for k in range(n)], dtype=float)
        qbv = np.array([qb[k] for k in range(n)])
        verify["_qa_" + tag], verify["_qb_" + tag] = qa, qbv
        for lab, q in (("b_" + tag, qbv), ("a_" + tag, qa)):
            d = np.abs(q - q_g)
            big = np.abs(q_g) > 0.01 * fs
            verify[lab] = {"max_abs_diff_C": float(np.max(d)),
                           "max_abs_diff_over_full_scale": float(np.max(d) / fs),
                           "max_rel_diff_points_above_1pct_fs": float(np.max(d[big] / np.abs(q_g[big]))),
                           "points_above_1pct_fs": int(np.count_nonzero(big)),
                           "full_scale_C": fs}
    # (b) with full-precision vectors, integrated like gaincell (untimed twin of the (b) netlist)
    vdir = os.path.join(tmp, "verify_b")
    os.makedirs(vdir)
    shutil.copy(os.path.join(dirs["nt1"], ".spiceinit"), vdir)
    subprocess.run([args.ngspice, "-b", os.path.join(tmp, "variant_b_verify.cir")], cwd=vdir,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    lo = spice_number(b_info["q_window"][0])
    hi = spice_number(b_info["q_window"][1])
    qx = np.array([trapezoid(*np.loadtxt(os.path.join(vdir, f"bw_{k}.txt"), unpack=True), lo, hi)
                   for k in range(n)])
    d = np.abs(qx - q_g)
    big = np.abs(q_g) > 0.01 * fs
    verify["b_vectors_trapezoid"] = {
        "max_abs_diff_C": float(np.max(d)), "max_abs_diff_over_full_scale": float(np.max(d) / fs),
        "max_rel_diff_points_above_1pct_fs": float(np.max(d[big] / np.abs(q_g[big]))),
        "points_above_1pct_fs": int(np.count_nonzero(big)), "full_scale_C": fs,
        "bit_identical": int(np.count_nonzero(qx == q_g))}
    qa1 = verify.pop("_qa_nt1")
    qb1 = verify.pop("_qb_nt1")
    verify["a_vs_b_meas"] = {"max_abs_diff_C": float(np.max(np.abs(qa1 - qb1))),
                             "equal_at_meas_precision": int(np.count_nonzero(qa1 == qb1))}
    verify.pop("_qa_default"), verify.pop("_qb_default")
    qd = h5runs["d_jobs2"][-1]["q"]
    verify["d_vs_c_bit_identical"] = int(np.count_nonzero(qd == h5runs["c_jobs1"][-1]["q"]))

    # -- statistics --------------------------------------------------------------------------
    summary = {}
    for v in names:
        rs = runs[v]
        summary[v] = {"wall_s": med([r["wall_s"] for r in rs]),
                      "wall_s_all": [round(r["wall_s"], 4) for r in rs],
                      "cpu_s": med([r["cpu_s"] for r in rs]),
                      "peak_rss_kib": max(r["peak_rss_kib"] for r in rs)}
        summary[v]["ms_per_point"] = 1e3 * summary[v]["wall_s"] / n
    for v in h5runs:
        hs = h5runs[v]
        summary[v].update({
            "gaincell_wall_time_s": med([h["wall_time_s"] for h in hs]),
            "driver_peak_rss_kib": max(h["parent_peak_rss_kib"] for h in hs),
            "worker_peak_rss_kib": max(h["worker_peak_rss_kib"] for h in hs),
            "driver_cpu_s": med([h["parent_cpu_time_s"] for h in hs]),
            "sum_run_s": med([h["sum_run_s"] for h in hs]),
            "sum_parse_s": med([h["sum_parse_s"] for h in hs])})
    fx = h5runs["f_one_point"]
    fixed = med([r["wall_s"] - h["sum_run_s"] - h["sum_parse_s"] for r, h in zip(runs["f_one_point"], fx)])
    c = h5runs["c_jobs1"]
    marginal = med([(r["wall_s"] - h["sum_run_s"] - h["sum_parse_s"] - fixed) / n
                    for r, h in zip(runs["c_jobs1"], c)])
    e_run = med([h["sum_run_s"] for h in c])
    e_pr = med([h["sum_run_s"] + h["sum_parse_s"] for h in c])
    summary["e_run"] = {"wall_s": e_run, "ms_per_point": 1e3 * e_run / n}
    summary["e_parse_run"] = {"wall_s": e_pr, "ms_per_point": 1e3 * e_pr / n}
    # overhead per repetition, from the same (c) run: process wall vs its own run / parse+run sums
    ov_run = [(r["wall_s"] - h["sum_run_s"]) / h["sum_run_s"] for r, h in zip(runs["c_jobs1"], c)]
    ov_pr = [(r["wall_s"] - h["sum_run_s"] - h["sum_parse_s"]) / (h["sum_run_s"] + h["sum_parse_s"])
             for r, h in zip(runs["c_jobs1"], c)]
    ov_in_run = [(h["wall_time_s"] - h["sum_run_s"]) / h["sum_run_s"] for h in c]
    run_pp = np.median(np.array([h["run_per_point_s"] for h in c]), axis=0)
    parse_pp = np.median(np.array([h["parse_per_point_s"] for h in c]), axis=0)

    def ratio(base, v):   # median of per-repetition ratios (same repetition, paired)
        return med([rb["wall_s"] / rv["wall_s"] for rb, rv in zip(runs[base], runs[v])])

    ratios = {v: {"vs_a_default": ratio("a_default", v), "vs_a_nt1": ratio("a_nt1", v),
                  "vs_b_default": ratio("b_default", v), "vs_b_nt1": ratio("b_nt1", v)}
              for v in names if v != "f_one_point"}
    for e in ("e_run", "e_parse_run"):
        ratios[e] = {"vs_a_default": summary["a_default"]["wall_s"] / summary[e]["wall_s"],
                     "vs_a_nt1": summary["a_nt1"]["wall_s"] / summary[e]["wall_s"],
                     "vs_b_default": summary["b_default"]["wall_s"] / summary[e]["wall_s"],
                     "vs_b_nt1": summary["b_nt1"]["wall_s"] / summary[e]["wall_s"]}

    cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                      if l.startswith("model name")), "?")
    ngv = subprocess.run([args.ngspice, "-v"], capture_output=True, text=True).stdout
    ngv = next((l.strip("* \n") for l in ngv.splitlines() if "ngspice-" in l), "?")
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip() != ""
    now = datetime.datetime.now(datetime.timezone.utc)
    result = {
        "benchmark": "engine", "date_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"nproc": os.cpu_count(), "cpu_model": cpu_model, "kernel": platform.release(),
                    "ngspice": ngv, "hostname": platform.node()},
        "gaincell": {"git_head": head, "worktree_dirty": dirty, "binary_git_sha": ref["git_sha"],
                     "binary": G},
        "spec": spec, "points": n, "reps": args.reps, "warmup": args.warmup,
        "variant_b": b_info, "summary": summary, "ratios": ratios,
        "overhead": {"c_wall_minus_run_over_run": med(ov_run),
                     "c_wall_minus_parse_run_over_parse_run": med(ov_pr),
                     "c_internal_wall_minus_run_over_run": med(ov_in_run),
                     "all_reps_vs_run": [round(x, 4) for x in ov_run],
                     "all_reps_vs_parse_run": [round(x, 4) for x in ov_pr]},
        "fixed_cost_s": fixed,
        "marginal_overhead_ms_per_point": 1e3 * marginal,
        "run_ms_per_point_c": [round(1e3 * x, 4) for x in run_pp],
        "parse_ms_per_point_c": [round(1e3 * x, 4) for x in parse_pp],
        "per_point_c": {"run_ms_median": float(np.median(run_pp) * 1e3),
                        "run_ms_min": float(np.min(run_pp) * 1e3),
                        "run_ms_max": float(np.max(run_pp) * 1e3),
                        "parse_ms_median": float(np.median(parse_pp) * 1e3)},
        "verification": verify,
        "command": "bench/engine_bench.sh " + " ".join(sys.argv[1:]),
    }
    os.makedirs(args.results_dir, exist_ok=True)
    out = os.path.join(args.results_dir, f"engine_{now.strftime('%Y%m%dT%H%M%SZ')}.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    log(f"engine_bench: results {out}")
    print(markdown(result))
    if not args.keep:
        shutil.rmtree(tmp)
    else:
        log(f"engine_bench: kept {tmp}")


def markdown(r):
    s, ra, n = r["summary"], r["ratios"], r["points"]
    kib = lambda x: f"{x / 1024:.1f} MiB"  # noqa: E731
    rows = [
        ("(a) bash loop, `ngspice -b` per point, default threads", "a_default",
         f"{kib(s['a_default']['peak_rss_kib'])} per ngspice"),
        ("(a) same, num_threads=1", "a_nt1", f"{kib(s['a_nt1']['peak_rss_kib'])} per ngspice"),
        ("(b) one `ngspice -b`, `.control` + `alter` loop, default threads", "b_default",
         kib(s["b_default"]["peak_rss_kib"])),
        ("(b) same, num_threads=1", "b_nt1", kib(s["b_nt1"]["peak_rss_kib"])),
        ("(c) `gaincell sweep --jobs 1`", "c_jobs1",
         f"{kib(s['c_jobs1']['driver_peak_rss_kib'])} driver + {kib(s['c_jobs1']['worker_peak_rss_kib'])} worker"),
        ("(d) `gaincell sweep --jobs 2`", "d_jobs2",
         f"{kib(s['d_jobs2']['driver_peak_rss_kib'])} driver + {kib(s['d_jobs2']['worker_peak_rss_kib'])} per worker (x2)"),
        ("(e) sum of `run` inside the (c) worker", "e_run", "-"),
        ("(e') sum of parse + `run` inside the (c) worker", "e_parse_run", "-"),
    ]
    out = [f"Engine benchmark, {n} points, median of {r['reps']} after {r['warmup']} warm-up; "
           f"{r['machine']['nproc']} x {r['machine']['cpu_model']}, {r['machine']['ngspice']}; "
           f"gaincell {r['gaincell']['git_head']} (binary {r['gaincell']['binary_git_sha']}); "
           f"{r['date_utc']}", "",
           "| variant | wall s | ms / point | cpu s | peak RSS | (a) / X | (b) / X | (a nt=1) / X | (b nt=1) / X |",
           "|---|---|---|---|---|---|---|---|---|"]
    for label, key, rss in rows:
        x = s[key]
        cpu = f"{x['cpu_s']:.3f}" if "cpu_s" in x else "-"
        q = ra[key]
        out.append(f"| {label} | {x['wall_s']:.3f} | {x['ms_per_point']:.2f} | {cpu} | {rss} | "
                   f"{q['vs_a_default']:.2f} | {q['vs_b_default']:.2f} | {q['vs_a_nt1']:.2f} | "
                   f"{q['vs_b_nt1']:.2f} |")
    o = r["overhead"]
    pp = r["per_point_c"]
    v = r["verification"]
    out += ["",
            "Ratios are medians of the per-repetition ratios (variants alternated in each repetition); "
            "(e) ratios use the medians.",
            f"Engine overhead of (c): (wall - run) / run = {100 * o['c_wall_minus_run_over_run']:.1f} %; "
            f"(wall - parse - run) / (parse + run) = {100 * o['c_wall_minus_parse_run_over_parse_run']:.1f} %; "
            f"gaincell's own wall_time_s vs run: {100 * o['c_internal_wall_minus_run_over_run']:.1f} %.",
            f"gaincell fixed cost (1-point sweep wall - its parse - its run): {r['fixed_cost_s'] * 1e3:.1f} ms; "
            f"(c) beyond fixed cost + parse + run: {r['marginal_overhead_ms_per_point']:.3f} ms per point "
            f"(one-point sweep wall {r['summary']['f_one_point']['wall_s'] * 1e3:.1f} ms).",
            f"Per point in (c): run median {pp['run_ms_median']:.2f} ms (min {pp['run_ms_min']:.2f}, "
            f"max {pp['run_ms_max']:.2f}), parse median {pp['parse_ms_median']:.3f} ms.",
            "Charge check against gaincell's q_line_c (full scale "
            f"{v['b_default']['full_scale_C']:.4g} C):",
            f"- (b) loop, i(vsense) dumped at full precision and integrated like gaincell: max |dq| = "
            f"{v['b_vectors_trapezoid']['max_abs_diff_C']:.3g} C "
            f"({v['b_vectors_trapezoid']['max_abs_diff_over_full_scale']:.2g} of full scale), max rel "
            f"{v['b_vectors_trapezoid']['max_rel_diff_points_above_1pct_fs']:.2g} over the "
            f"{v['b_vectors_trapezoid']['points_above_1pct_fs']} points above 1 % of full scale, "
            f"{v['b_vectors_trapezoid']['bit_identical']}/{n} bit-identical"]
    out += [f"- {k} via ngspice `meas ... integ` (6 digits): max |dq| = {v[k]['max_abs_diff_C']:.3g} C "
            f"({v[k]['max_abs_diff_over_full_scale']:.2g} of full scale), max rel "
            f"{v[k]['max_rel_diff_points_above_1pct_fs']:.2g}"
            for k in ("b_default", "b_nt1", "a_default", "a_nt1")]
    out += [f"- (a) vs (b), both `meas`: max |dq| = {v['a_vs_b_meas']['max_abs_diff_C']:.3g} C, "
            f"{v['a_vs_b_meas']['equal_at_meas_precision']}/{n} equal at 6 digits",
            f"- (d) vs (c): {v['d_vs_c_bit_identical']}/{n} bit-identical"]
    return "\n".join(out)


if __name__ == "__main__":
    main()
