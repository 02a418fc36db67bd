#!/usr/bin/python3
"""Engine benchmark: one sweep of each spec (default: the push-pull multiply surface, 128 points,
and the 3T corners x temperature spec, 72 points) timed several ways on the same machine, in one
run.

  (a)  bash loop, one `ngspice -b point_K.cir` per rendered point (as a user would run them)
  (b)  one `ngspice -b` whose .control block loops over the points with `alter` (a spec whose
       points change corner or temperature: one `source` of a base netlist per combination)
  (c)  `gaincell sweep --jobs 1` with circuit reuse; (c0) the same with GAINCELL_CIRCUIT_REUSE=0
  (d)  `gaincell sweep --jobs 2` with circuit reuse; (d0) the same with GAINCELL_CIRCUIT_REUSE=0
  (g)  the spec with "collapse": {"axis": "t_pulse", "line": "precharged", "force": true}, --jobs 2 (skipped, with a message, where the spec has
       no such axis or this gaincell does not know the key)
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


def numparam_fmt(x):
    """A value as numparam writes it into a netlist line (16 digits, "% 23.15e")."""
    return "%.15e" % float(x)


def source_alter(line, env, numparam=False):
    """`alter` command that sets the independent V source on `line` to its value under env.
    numparam=False: every value written with repr() (17 digits; (b) as a user's script would);
    True: brace values written as numparam writes them and literals as written, which `alter`'s
    vector reader (INPevaluate) then reads exactly as a fresh parse does."""
    toks = line.split(None, 3)
    name, rest = toks[0].lower(), toks[3].strip()
    show = numparam_fmt if numparam else fmt

    def sub(text):
        return re.sub(r"\{([^}]*)\}", lambda m: " " + show(eval_expr(m.group(1), env)) + " ", text)

    m = re.match(r"^(pulse|pwl)\s*\((.*)\)\s*$", rest, re.I)
    if m:
        kind = m.group(1).lower()
        vals = sub(m.group(2)).replace(",", " ").split()
        if not numparam:
            vals = [fmt(spice_number(v)) for v in vals]
        return f"alter @{name}[{kind}] = [ {' '.join(vals)} ]"
    m = re.match(r"^(?:dc\s+)?(\S+)$", rest, re.I)
    if m and numparam:
        return f"alter @{name}[dc] = [ {sub(m.group(1)).strip()} ]"
    if m:
        return f"alter {name} dc = {fmt(spice_number(sub(m.group(1))))}"
    raise SystemExit(f"engine_bench: cannot turn this source into an alter command: {line}")


def structure_key(lines):
    """A point's lines with its .param values and comments masked: points with the same key differ
    only in .param values (the same corner, temperature, options and .meas lines)."""
    return tuple("*" if l.startswith("*") else
                 (l[6:].split("=", 1)[0].strip() if l.lower().startswith(".param") else l) for l in lines)


def make_variant_b(point_files, out_path, verify_path):
    """Write the (b) netlist: point 0 as the base circuit (.meas/.tran/.end removed) plus a
    .control block that alters the swept sources to each point's values, runs `tran`, measures
    the same line charge and destroys the plot.  Points that differ in more than .param values
    (a .lib corner, the temperature option) form groups; each further group's first point is
    written as its own base netlist and loaded with `source` before that group's points (one
    parse per group, as a user's script would).  Returns (netlist text, number of alters/point,
    q measure window)."""
    texts = [open(p).read().splitlines() for p in point_files]
    groups = {}
    for k, t in enumerate(texts):
        groups.setdefault(structure_key(t), []).append(k)
    group_of = {k: g for g, ks in enumerate(groups.values()) for k in ks}
    firsts = [ks[0] for ks in groups.values()]
    base = texts[0]
    # 1. within a group, the rendered points may differ only in .param lines
    varying = set()
    for k, t in enumerate(texts):
        b0 = texts[firsts[group_of[k]]]
        if len(t) != len(b0):
            raise SystemExit("engine_bench: rendered points differ in line count; cannot build (b)")
        for a, b in zip(b0, t):
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

    def strip(lines_in):
        """The lines without .tran/.meas/.end; the swept sources, .tran and the q .meas."""
        srcs, tran, qmeas = [], None, None
        lines, in_cont = [], False
        for line in lines_in:
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
        return lines, srcs, tran, qmeas

    lines, srcs, tran, qmeas = strip(base)
    if tran is None or qmeas is None:
        raise SystemExit("engine_bench: point 0 has no .tran line or no integ i(vsense) .meas")
    win = re.search(r"from\s*=\s*(\S+)\s+to\s*=\s*(\S+)", qmeas, re.I)
    q_from, q_to = win.group(1), win.group(2)
    # further groups: base netlists loaded with `source` (no analysis lines; .end kept)
    group_files = {}
    for g, k in enumerate(firsts):
        if g == 0:
            continue
        path = os.path.join(os.path.dirname(out_path), f"variant_b_group_{g}.cir")
        with open(path, "w") as f:
            f.write("\n".join(strip(texts[k])[0] + [".end"]) + "\n")
        group_files[k] = path
    # 4. .control block
    ctl = [".control", "set noaskquit"]
    for k, t in enumerate(texts):
        if k in group_files:
            ctl.append(f"source {group_files[k]}")
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
            "tran": tran, "q_window": [q_from, q_to], "groups_sourced": len(firsts)}


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
def timed(cmd, cwd, tmp, env=None):
    """Run cmd under /usr/bin/time; return wall (perf_counter), cpu, peak RSS KiB, rc."""
    tf = os.path.join(tmp, "time.out")
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf] + cmd, cwd=cwd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
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
            "git_sha": a.get("gaincell_git_sha", "?"), "ngspice_version": a.get("ngspice_version", "?"),
            "points_reused": int(a.get("points_reused", -1)),
            "points_altered": int(a.get("points_altered", -1))}


def med(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--spec", action="append",
                    help="spec to sweep (repeatable); default: the push-pull multiply surface and the "
                         "3T corners x temperature spec, in one run")
    ap.add_argument("--collapse", default="t_pulse",
                    help="axis for the collapsed-sweep variant (spec key \"collapse\"); skipped with a "
                         "message where the spec has no such axis or gaincell does not know the key")
    ap.add_argument("--collapse-line", default="precharged", choices=["held", "precharged", "integrator"],
                    help="the collapse's \"line\" (docs/spec-format.md#collapse); the shipped multiply specs "
                         "read a precharged line, so the variant forces the collapse unless this is \"held\"")
    ap.add_argument("--gaincell", default=os.path.join(ROOT, "build", "bin", "gaincell"))
    ap.add_argument("--ngspice", default=shutil.which("ngspice") or "/usr/bin/ngspice")
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions (median is reported)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed repetitions first")
    ap.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (netlists, logs, .h5)")
    args = ap.parse_args()
    specs = args.spec or [os.path.join(ROOT, "characterization", "pushpull_multiply.json"),
                          os.path.join(ROOT, "characterization", "gc3t_corners.json")]
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for spec in specs:
        bench_spec(os.path.abspath(spec), args, stamp)


def gaincell_env(reuse):
    env = dict(os.environ)
    env.pop("GAINCELL_CIRCUIT_REUSE", None)
    if not reuse:
        env["GAINCELL_CIRCUIT_REUSE"] = "0"
    return env


def bench_spec(spec, args, stamp):
    G = os.path.abspath(args.gaincell)
    tmp = tempfile.mkdtemp(prefix="gaincell-engine-bench-")
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    log(f"engine_bench: {os.path.basename(spec)}, work dir {tmp}")
    load_start = os.getloadavg()

    # -- reference sweep: point count and gaincell's charges --------------------------------
    ref_h5 = os.path.join(tmp, "ref.h5")
    subprocess.run([G, "-q", "sweep", spec, "-o", ref_h5, "--jobs", "1"], check=True,
                   stdout=subprocess.DEVNULL, env=gaincell_env(False))
    ref = h5_attrs(ref_h5)
    n = ref["n_points"]
    if ref["n_ok"] != n:
        raise SystemExit(f"engine_bench: reference sweep has {n - ref['n_ok']} failed points")
    log(f"engine_bench: {n} points")

    # -- a one-point copy of the spec: gaincell's fixed cost (start, worker spawn, HDF5 file) ------
    sp = json.load(open(spec))
    sp["template"] = os.path.normpath(os.path.join(os.path.dirname(spec), sp["template"]))
    for ax in sp["axes"]:
        if "corner" in ax:  # paths are relative to the spec, which now lives in tmp
            ax["corner"] = os.path.normpath(os.path.join(os.path.dirname(spec), ax["corner"]))
        for key in ("linspace", "logspace"):
            if key in ax:
                ax["values"] = [ax.pop(key)["start"]]
        ax["values"] = ax["values"][:1]
    one_spec = os.path.join(tmp, "one_point.json")
    with open(one_spec, "w") as f:
        json.dump(sp, f, indent=1)

    # -- the collapsed variant: the spec with "collapse": AXIS, if this gaincell knows the key ------
    collapse_note = None
    axis_names = [ax.get("param") for ax in json.load(open(spec))["axes"]]
    g_spec = os.path.join(tmp, "collapsed.json")
    if args.collapse not in axis_names:
        collapse_note = f"skipped: the spec has no param axis '{args.collapse}'"
    else:
        cs = json.load(open(spec))
        cs["template"] = os.path.normpath(os.path.join(os.path.dirname(spec), cs["template"]))
        for ax in cs["axes"]:
            if "corner" in ax:
                ax["corner"] = os.path.normpath(os.path.join(os.path.dirname(spec), ax["corner"]))
        cs["collapse"] = {"axis": args.collapse, "line": args.collapse_line}
        if args.collapse_line != "held":
            cs["collapse"]["force"] = True
        with open(g_spec, "w") as f:
            json.dump(cs, f, indent=1)
        probe = subprocess.run([G, "-q", "sweep", g_spec, "-o", os.path.join(tmp, "g_probe.h5"), "--jobs", "2"],
                               capture_output=True, text=True)
        if probe.returncode not in (0, 4):
            collapse_note = ("skipped: this gaincell refuses the spec key \"collapse\" (exit "
                             f"{probe.returncode}: {probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else ''})")
        else:
            collapse_ref = h5_attrs(os.path.join(tmp, "g_probe.h5"))
    if collapse_note:
        log(f"engine_bench: collapsed sweep {collapse_note}")

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

    on, off = gaincell_env(True), gaincell_env(False)
    h5 = lambda name: os.path.join(tmp, name + ".h5")  # noqa: E731
    # name: (command, cwd, env, results file or None)
    variants = {
        "a_default": (["bash", a_sh], dirs["default"], None, None),
        "a_nt1": (["bash", a_sh], dirs["nt1"], None, None),
        "b_default": (["bash", "-c", f"{args.ngspice} -b {b_cir} > logs/b.log 2>&1"], dirs["default"], None, None),
        "b_nt1": (["bash", "-c", f"{args.ngspice} -b {b_cir} > logs/b.log 2>&1"], dirs["nt1"], None, None),
        "c_jobs1": ([G, "-q", "sweep", spec, "-o", h5("c_jobs1"), "--jobs", "1"], tmp, on, h5("c_jobs1")),
        "c_jobs1_noreuse": ([G, "-q", "sweep", spec, "-o", h5("c_jobs1_noreuse"), "--jobs", "1"], tmp, off,
                            h5("c_jobs1_noreuse")),
        "d_jobs2": ([G, "-q", "sweep", spec, "-o", h5("d_jobs2"), "--jobs", "2"], tmp, on, h5("d_jobs2")),
        "d_jobs2_noreuse": ([G, "-q", "sweep", spec, "-o", h5("d_jobs2_noreuse"), "--jobs", "2"], tmp, off,
                            h5("d_jobs2_noreuse")),
        "f_one_point": ([G, "-q", "sweep", one_spec, "-o", h5("f_one_point"), "--jobs", "1"], tmp, on,
                        h5("f_one_point")),
    }
    if not collapse_note:
        variants["g_collapse_jobs2"] = ([G, "-q", "sweep", g_spec, "-o", h5("g_collapse_jobs2"), "--jobs", "2"],
                                        tmp, on, h5("g_collapse_jobs2"))
    names = list(variants)
    runs = {v: [] for v in names}
    h5runs = {v: [] for v in names if variants[v][3]}

    # -- repetitions: rotate the order each repetition so noise hits all variants alike ---------
    for rep in range(args.warmup + args.reps):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for v in order:
            cmd, cwd, env, out = variants[v]
            if out and os.path.exists(out):
                os.remove(out)
            r = timed(cmd, cwd, tmp, env)
            if r["rc"] not in ((0, 4) if v.startswith("g_") else (0,)):
                raise SystemExit(f"engine_bench: {v} failed (rc {r['rc']}):\n{r['stderr']}")
            if rep >= args.warmup:
                runs[v].append(r)
                if out:
                    h5runs[v].append(h5_attrs(out))
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
    # circuit reuse against the reference sweep (a fresh parse of every point), bit for bit
    for v in ("c_jobs1", "d_jobs2", "c_jobs1_noreuse", "d_jobs2_noreuse"):
        verify[v + "_vs_fresh_parse_bit_identical"] = min(int(np.count_nonzero(h["q"] == q_g)) for h in h5runs[v])
    if "g_collapse_jobs2" in h5runs:
        qg = h5runs["g_collapse_jobs2"][-1]["q"]
        verify["g_collapse_max_diff_pct_of_full_scale"] = float(100 * np.nanmax(np.abs(qg - q_g)) / fs)

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
            "sum_parse_s": med([h["sum_parse_s"] for h in hs]),
            "points_reused": med([h["points_reused"] for h in hs]),
            "points_altered": med([h["points_altered"] for h in hs])})
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
    cn = h5runs["c_jobs1_noreuse"]
    ov_run_noreuse = [(r["wall_s"] - h["sum_run_s"]) / h["sum_run_s"] for r, h in zip(runs["c_jobs1_noreuse"], cn)]
    marginal_noreuse = med([(r["wall_s"] - h["sum_run_s"] - h["sum_parse_s"] - fixed) / n
                            for r, h in zip(runs["c_jobs1_noreuse"], cn)])
    parse_pp_noreuse = np.median(np.array([h["parse_per_point_s"] for h in cn]), axis=0)
    run_pp = np.median(np.array([h["run_per_point_s"] for h in c]), axis=0)
    parse_pp = np.median(np.array([h["parse_per_point_s"] for h in c]), axis=0)

    def ratio(base, v):   # median of per-repetition ratios (same repetition, paired)
        return med([rb["wall_s"] / rv["wall_s"] for rb, rv in zip(runs[base], runs[v])])

    ratios = {v: {"vs_a_default": ratio("a_default", v), "vs_a_nt1": ratio("a_nt1", v),
                  "vs_b_default": ratio("b_default", v), "vs_b_nt1": ratio("b_nt1", v),
                  "vs_d_jobs2_noreuse": ratio("d_jobs2_noreuse", v),
                  "vs_c_jobs1_noreuse": ratio("c_jobs1_noreuse", v)}
              for v in names if v != "f_one_point"}
    for e in ("e_run", "e_parse_run"):
        ratios[e] = {"vs_a_default": summary["a_default"]["wall_s"] / summary[e]["wall_s"],
                     "vs_a_nt1": summary["a_nt1"]["wall_s"] / summary[e]["wall_s"],
                     "vs_b_default": summary["b_default"]["wall_s"] / summary[e]["wall_s"],
                     "vs_b_nt1": summary["b_nt1"]["wall_s"] / summary[e]["wall_s"],
                     "vs_d_jobs2_noreuse": summary["d_jobs2_noreuse"]["wall_s"] / summary[e]["wall_s"],
                     "vs_c_jobs1_noreuse": summary["c_jobs1_noreuse"]["wall_s"] / summary[e]["wall_s"]}

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
        "load_average_1_5_15": {"start": [round(x, 2) for x in load_start],
                                "end": [round(x, 2) for x in os.getloadavg()]},
        "collapse": collapse_note or ("timed: \"collapse\": " + json.dumps(
            {"axis": args.collapse, "line": args.collapse_line, **({} if args.collapse_line == "held" else {"force": True})})
            + " (variant g_collapse_jobs2)"),
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
                     "all_reps_vs_parse_run": [round(x, 4) for x in ov_pr],
                     "c_noreuse_wall_minus_run_over_run": med(ov_run_noreuse),
                     "all_reps_noreuse_vs_run": [round(x, 4) for x in ov_run_noreuse]},
        "marginal_overhead_ms_per_point_noreuse": 1e3 * marginal_noreuse,
        "fixed_cost_s": fixed,
        "marginal_overhead_ms_per_point": 1e3 * marginal,
        "run_ms_per_point_c": [round(1e3 * x, 4) for x in run_pp],
        "parse_ms_per_point_c": [round(1e3 * x, 4) for x in parse_pp],
        "per_point_c": {"run_ms_median": float(np.median(run_pp) * 1e3),
                        "run_ms_min": float(np.min(run_pp) * 1e3),
                        "run_ms_max": float(np.max(run_pp) * 1e3),
                        "parse_ms_median": float(np.median(parse_pp) * 1e3),
                        "parse_ms_median_noreuse": float(np.median(parse_pp_noreuse) * 1e3),
                        "parse_ms_median_reused_points": float(np.median(
                            parse_pp[parse_pp < 0.5 * np.median(parse_pp_noreuse)]) * 1e3)
                        if np.any(parse_pp < 0.5 * np.median(parse_pp_noreuse)) else float("nan")},
        "verification": verify,
        "command": "bench/engine_bench.sh " + " ".join(sys.argv[1:]),
    }
    os.makedirs(args.results_dir, exist_ok=True)
    out = os.path.join(args.results_dir, f"engine_{stamp}_{os.path.splitext(os.path.basename(spec))[0]}.json")
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
        ("(c) `gaincell sweep --jobs 1`, circuit reuse", "c_jobs1",
         f"{kib(s['c_jobs1']['driver_peak_rss_kib'])} driver + {kib(s['c_jobs1']['worker_peak_rss_kib'])} worker"),
        ("(c0) same, `GAINCELL_CIRCUIT_REUSE=0`", "c_jobs1_noreuse",
         f"{kib(s['c_jobs1_noreuse']['driver_peak_rss_kib'])} driver + "
         f"{kib(s['c_jobs1_noreuse']['worker_peak_rss_kib'])} worker"),
        ("(d) `gaincell sweep --jobs 2`, circuit reuse", "d_jobs2",
         f"{kib(s['d_jobs2']['driver_peak_rss_kib'])} driver + {kib(s['d_jobs2']['worker_peak_rss_kib'])} per worker (x2)"),
        ("(d0) same, `GAINCELL_CIRCUIT_REUSE=0`", "d_jobs2_noreuse",
         f"{kib(s['d_jobs2_noreuse']['driver_peak_rss_kib'])} driver + "
         f"{kib(s['d_jobs2_noreuse']['worker_peak_rss_kib'])} per worker (x2)"),
        ("(g) collapsed sweep `--jobs 2`", "g_collapse_jobs2", "-"),
        ("(e) sum of `run` inside the (c) worker", "e_run", "-"),
        ("(e') sum of parse + `run` inside the (c) worker", "e_parse_run", "-"),
    ]
    out = [f"Engine benchmark, {n} points, median of {r['reps']} after {r['warmup']} warm-up; "
           f"{r['machine']['nproc']} x {r['machine']['cpu_model']}, {r['machine']['ngspice']}; "
           f"gaincell {r['gaincell']['git_head']} (binary {r['gaincell']['binary_git_sha']}); "
           f"{r['date_utc']}", "",
           f"Load average (1, 5, 15 min) at start {r['load_average_1_5_15']['start']}, at end "
           f"{r['load_average_1_5_15']['end']}. Collapsed sweep: {r['collapse']}.", "",
           "| variant | wall s | ms / point | cpu s | peak RSS | (a) / X | (b) / X | (a nt=1) / X | (b nt=1) / X "
           "| (c0) / X | (d0) / X | reused / altered points |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, key, rss in rows:
        if key not in s:
            continue
        x = s[key]
        cpu = f"{x['cpu_s']:.3f}" if "cpu_s" in x else "-"
        q = ra[key]
        out.append(f"| {label} | {x['wall_s']:.3f} | {x['ms_per_point']:.2f} | {cpu} | {rss} | "
                   f"{q['vs_a_default']:.2f} | {q['vs_b_default']:.2f} | {q['vs_a_nt1']:.2f} | "
                   f"{q['vs_b_nt1']:.2f} | {q['vs_c_jobs1_noreuse']:.2f} | {q['vs_d_jobs2_noreuse']:.2f} | "
                   f"{x['points_reused'] if 'points_reused' in x else '-'} / "
                   f"{x['points_altered'] if 'points_altered' in x else '-'} |")
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
            f"max {pp['run_ms_max']:.2f}), parse median {pp['parse_ms_median']:.3f} ms "
            f"(reused points {pp['parse_ms_median_reused_points']:.3f} ms; without reuse "
            f"{pp['parse_ms_median_noreuse']:.3f} ms).",
            f"Without reuse, (c0): (wall - run) / run = {100 * o['c_noreuse_wall_minus_run_over_run']:.1f} %, "
            f"beyond fixed cost + parse + run {r['marginal_overhead_ms_per_point_noreuse']:.3f} ms per point.",
            "Reuse vs a fresh parse of every point (q_line_c, bit for bit): " + ", ".join(
                f"{k[:-len('_vs_fresh_parse_bit_identical')]} {r['verification'][k]}/{n}"
                for k in r["verification"] if k.endswith("_vs_fresh_parse_bit_identical")) + ".",
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
    if "g_collapse_max_diff_pct_of_full_scale" in v:
        out.append(f"- (g) collapsed vs exact: max |dq| = {v['g_collapse_max_diff_pct_of_full_scale']:.4f} % "
                   "of full scale")
    return "\n".join(out)


if __name__ == "__main__":
    main()
