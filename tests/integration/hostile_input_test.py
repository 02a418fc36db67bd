#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Hostile and damaged input through the CLI, as an adversarial user gives it (ctest hostile_input).

Each case names the route and what must happen; every one of them once crashed, hung, ran a
shell command or accepted a number that lies:
- netlists that try to run ngspice commands (.control in an included file, in a .lib section,
  *# lines, a *ng_script title, a subcircuit given to `tile`): refused, the marker file never
  appears; files outside the include roots; `.include /dev/zero` (it used to be hashed forever);
- results files whose datasets disagree with their axes: `info`, `fit`, `merge` refuse them
  with GC-2101 (they used to read out of bounds);
- options and file values beyond their range or documented limit (exit 2 or 3, the message
  names the option or limit), before anything is allocated;
- JSON nested 100,000 deep or holding 1e400, in a spec, a configuration, a model, --set;
- a results file that cannot be written (the file size limit stands in for a full disk): a
  clear error and exit 5, never a crash, and the journal keeps every finished point.

Usage: hostile_input_test.py GAINCELL SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

import itest
from itest import FAILURES, GAINCELL, SRC, check

RC = os.path.join(SRC, "tests", "data", "rc_sweep.json")


def run(args, cwd, expect=0, contains=(), env=None, timeout=120):
    """itest.run with a 120 s limit: a hostile input must never hang gaincell."""
    return itest.run(args, cwd, expect, contains, env, timeout)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def spec_for(template, extra=None):
    s = {"format": "gaincell-spec/1", "name": "t", "template": template,
         "axes": [{"param": "r", "values": [1000, 2000]}],
         "analysis": {"tran": {"step": "1n", "stop": "10n"}},
         "measures": [{"name": "v_a_v", "kind": "value_at", "of": "v(a)", "at": "5n", "unit": "V"}]}
    s.update(extra or {})
    return json.dumps(s)


TOP = "top\n.param r=1k $ [Ohm]\nR1 a 0 {r}\nV1 a 0 1\n"


def scripts(work):
    """Every route by which a netlist file could run a command in ngspice."""
    marker = os.path.join(work, "PWNED")
    shell = f"shell touch {marker}\n"
    routes = {
        "control_in_include": {"t.cir": TOP + ".include evil.inc\n.end\n",
                               "evil.inc": "* models\n.control\n" + shell + ".endc\n"},
        "hash_in_lib_section": {"t.cir": TOP + ".lib pdk/c.lib tt\n.end\n",
                                "pdk/c.lib": ".lib tt\n.include inner.sp\n.endl tt\n",
                                "pdk/inner.sp": "* inner\n*# " + shell},
        "ng_script_title": {"t.cir": "*ng_script\n" + shell + TOP + ".end\n"},
        "hash_in_template": {"t.cir": TOP + "*# " + shell + ".end\n"},
        "shell_line": {"t.cir": TOP + shell + ".end\n"},
        # ngspice matches .control and .include by prefix (found by a review: both ran).
        "control_prefix": {"t.cir": TOP + ".controlfoo\nsource payload.sp\n.endcfoo\n.end\n",
                           "payload.sp": "*ng_script\n" + shell},
        "include_prefix": {"t.cir": TOP + ".incx ev.inc\n.end\n", "ev.inc": ".control\n" + shell + ".endc\n"},
        "lib_prefix": {"t.cir": TOP + ".libx ev.lib tt\n.end\n", "ev.lib": ".lib tt\n.control\n" + shell + ".endc\n.endl tt\n"},
    }
    for name, files in routes.items():
        d = os.path.join(work, name)
        for f, text in files.items():
            write(os.path.join(d, f), text)
        write(os.path.join(d, "s.json"), spec_for("t.cir"))
        gid = "GC-1105" if name.endswith("_prefix") and name != "control_prefix" else "GC-1103"
        for cmd in (["sweep", "s.json", "-o", "o.h5"], ["render", "s.json", "--point", "0"]):
            run(cmd, d, 3, ["error " + gid])
        check(not os.path.exists(marker), f"{name}: the shell command ran")
    # The same through `tile --cell`: a subcircuit file that includes a script.
    d = os.path.join(work, "tile_cell")
    with open(os.path.join(SRC, "netlists", "cells", "pushpull.sub")) as f:
        sub = f.read().replace("../models/generic45.lib", os.path.join(SRC, "netlists", "models", "generic45.lib"))
    write(os.path.join(d, "evil.sub"), ".include evil.inc\n" + sub)
    write(os.path.join(d, "evil.inc"), "* nothing to see\n.control\n" + shell + ".endc\n")
    run(["tile", "--cell", "evil.sub", "--tokens", "2", "--dims", "2", "-o", "t.h5"], d, 3,
        ["evil.inc:2:1: error GC-1103"])
    check(not os.path.exists(marker), "tile --cell: the shell command ran")
    # ~/ in a nested include is $HOME for ngspice: checked there, not beside the file.
    d = os.path.join(work, "tilde")
    write(os.path.join(d, "t.cir"), TOP + ".include nest.inc\n.end\n")
    write(os.path.join(d, "nest.inc"), "* nest\n.include ~/x.inc\n")
    write(os.path.join(d, "~", "x.inc"), "* a harmless decoy beside the file\n")
    home = os.path.join(work, "tilde_home")  # outside the template's directory
    write(os.path.join(home, "x.inc"), "* the real one\n.control\n" + shell + ".endc\n")
    write(os.path.join(d, "s.json"), spec_for("t.cir"))
    run(["render", "s.json", "--point", "0"], d, 3, ["nest.inc:2:1: error GC-1111"], env={"HOME": home})
    run(["render", "s.json", "--point", "0"], d, 3, ["x.inc:2:1: error GC-1103"],
        env={"HOME": home, "GAINCELL_INCLUDE_PATH": home})
    check(not os.path.exists(marker), "~/: the shell command ran")
    # Confinement: a model outside the template's directory needs include_roots.
    d = os.path.join(work, "roots")
    write(os.path.join(d, "pdk", "m.lib"), "* models\n.model nx nmos level=1\n")
    write(os.path.join(d, "cells", "t.cir"), TOP + ".include ../pdk/m.lib\n.end\n")
    write(os.path.join(d, "cells", "s.json"), spec_for("t.cir"))
    run(["render", "cells/s.json", "--point", "0"], d, 3, ["t.cir:5:1: error GC-1111", "include_roots"])
    write(os.path.join(d, "cells", "s2.json"), spec_for("t.cir", {"include_roots": ["../pdk"]}))
    run(["render", "cells/s2.json", "--point", "0"], d, 0)
    run(["render", "cells/s.json", "--point", "0"], d, 0, env={"GAINCELL_INCLUDE_PATH": os.path.join(d, "pdk")})
    # A device as a model file: refused at once, not read forever.
    d = os.path.join(work, "devzero")
    write(os.path.join(d, "t.cir"), TOP + ".include /dev/zero\n.end\n")
    write(os.path.join(d, "s.json"), spec_for("t.cir", {"include_roots": ["/dev"]}))
    run(["render", "s.json", "--point", "0"], d, 3, ["error GC-1108", "not a regular file"], timeout=60)


def damaged_results(work):
    """Results files whose datasets disagree with their axes."""
    d = os.path.join(work, "h5")
    os.makedirs(d)
    run(["-q", "sweep", RC, "-o", "good.h5", "-j", "2"], d, 0)
    for k in range(2):
        run(["-q", "sweep", RC, "-o", f"s{k}.h5", "--shard", f"{k}/2"], d, 0)

    def damaged(src, name, edit):
        path = os.path.join(d, name)
        shutil.copy(os.path.join(d, src), path)
        with h5py.File(path, "r+") as f:
            edit(f)
        return path

    def shorten(ds_name, n=None):
        def edit(f):
            old = f[ds_name][...]
            attrs = dict(f[ds_name].attrs)
            del f[ds_name]
            cut = old.reshape(-1)[: (n if n is not None else old.size // 2)]
            new = f.create_dataset(ds_name, data=cut)
            for k, v in attrs.items():
                if k not in ("DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME"):
                    new.attrs[k] = v
        return edit

    def delete(name):
        def edit(f):
            del f[name]
        return edit

    def retype(name):
        def edit(f):
            old = f[name][...]
            del f[name]
            f.create_dataset(name, data=np.zeros(old.shape, dtype="S4"))
        return edit

    cases = {
        "no_measure.h5": delete("measures/v_out_v"),
        "no_status.h5": delete("status"),
        "string_status.h5": retype("status"),
        "string_measure.h5": retype("measures/q_in_c"),
        "short_status.h5": shorten("status"),
        "short_measure.h5": shorten("measures/v_out_v"),
        "short_message.h5": shorten("message"),
        "short_timing.h5": shorten("timing/run_time_s"),
        "empty_axis.h5": shorten("axes/r_load", 0),
    }
    for name, edit in cases.items():
        path = damaged("good.h5", name, edit)
        run(["info", path], d, 3, ["error GC-2101", os.path.basename(path)])
        run(["fit", path, "-m", "v_out_v", "-i", "r_load,c_load", "--model", "poly", "--degree", "2",
             "-o", name + ".model.json"], d, 3, ["error GC-2101"])
    # Shards: a short /point_index, or one that points outside the grid.
    bad0 = damaged("s0.h5", "bad0.h5", shorten("point_index"))
    run(["merge", bad0, os.path.join(d, "s1.h5"), "-o", "m.h5"], d, 3, ["error GC-2101"])

    def far(f):
        pi = f["point_index"][...]
        pi[-1] = 10 ** 9
        f["point_index"][...] = pi
    bad1 = damaged("s0.h5", "far0.h5", far)
    run(["merge", bad1, os.path.join(d, "s1.h5"), "-o", "m.h5"], d, 3, ["error GC-2101", "beyond"])
    check(not os.path.exists(os.path.join(d, "m.h5")), "a refused merge wrote a file")

    def altered_spec(f):
        f.attrs["spec_json"] = '{"format": 1}'
    bad2 = damaged("s0.h5", "spec0.h5", altered_spec)
    run(["merge", bad2, os.path.join(d, "s1.h5"), "-o", "m.h5"], d, 3, ["error GC-1806", "altered"])
    # A plain HDF5 file whose dimension scale is shorter than its dimension.
    with h5py.File(os.path.join(d, "plain.h5"), "w") as f:
        x = f.create_dataset("x", data=np.arange(3.0))
        x.make_scale("x")
        y = f.create_dataset("y", data=np.arange(5.0))
        y.dims[0].attach_scale(x)
    run(["fit", "plain.h5", "-m", "y", "-i", "x", "--model", "poly", "--degree", "1", "-o", "p.json"], d, 3,
        ["GC-1611", "its scale 'x' has 3 values"])


def numbers(work):
    """Options and file values beyond their range or limit."""
    d = os.path.join(work, "numbers")
    os.makedirs(d)
    usage = [
        (["sweep", RC, "-o", "x.h5", "--timeout", "1e10"], "kMaxTimeout_s"),
        (["sweep", RC, "-o", "x.h5", "--timeout", "nan"], "--timeout"),
        (["sweep", RC, "-o", "x.h5", "--recycle", "-1"], "--recycle"),
        (["sweep", RC, "-o", "x.h5", "-j", "100000"], "kMaxJobs"),
        (["slurm", RC, "-o", "sl", "--shards", "-1"], "--shards"),
        (["slurm", RC, "-o", "sl", "--cpus-per-task", "-3"], "--cpus-per-task"),
        (["tile", "--tokens", "-1"], "--tokens"),
        (["tile", "--c-line", "-1", "--passive-line"], "--c-line"),
        (["eval", "--threads", "100000"], "kMaxJobs"),
        (["spice-check", "--keys", "65"], "--keys"),
        (["energy", "--cell-data", "a", "--c2p-data", "b", "--mean-q", "2"], "--mean-q"),
    ]
    for args, text in usage:
        run(args, d, 2, [text])
    bad_input = [
        (["sweep", RC, "-o", "x.h5", "--shard", "0/-2"], "GC-1801"),
        (["sweep", RC, "-o", "x.h5", "--shard", "0/1000000"], "kMaxShards"),
        (["slurm", RC, "-o", "sl", "--partition", "debug\nrm -rf ~"], "GC-1809"),
        (["slurm", RC, "-o", "sl", "--sbatch", "--qos=x\necho pwned"], "GC-1809"),
        (["slurm", RC, "-o", "sl", "--output-name", "../m.h5"], "GC-1809"),
    ]
    for args, text in bad_input:
        run(args, d, 3, [text])
    check(not os.path.exists(os.path.join(d, "x.h5.partial")), "a refused sweep started writing")
    # status on a slurm.json claiming 1e11 shards
    write(os.path.join(d, "st", "slurm.json"), json.dumps({"format": "gaincell-slurm/1", "points_total": 10,
                                                           "shards": 100000000000}))
    run(["status", "st"], d, 3, ["GC-1808", "\"shards\""])
    # A sweep spec too large to allocate.
    spec = json.load(open(RC))
    spec["template"] = os.path.join(SRC, "tests", "data", spec["template"])
    spec["axes"][0] = {"param": "r_load", "linspace": {"start": 500, "stop": 5000, "count": 1000000000}}
    write(os.path.join(d, "huge.json"), json.dumps(spec))
    run(["render", "huge.json", "--point", "0"], d, 3, ["kMaxListValues"])
    spec["axes"][0] = {"param": "r_load", "linspace": {"start": 500, "stop": 5000, "count": 1000000}}
    write(os.path.join(d, "big.json"), json.dumps(spec))
    run(["render", "big.json", "--point", "0"], d, 3, ["GC-1209", "10000000 points"])
    spec["axes"][0] = {"param": "r_load", "values": [1000]}
    spec["measures"].append({"name": "tr_v", "kind": "trace", "of": "v(out)", "unit": "V",
                             "times": {"linspace": {"start": "0.1n", "stop": "2n", "count": 200000}}})
    write(os.path.join(d, "long_trace.json"), json.dumps(spec))
    run(["render", "long_trace.json", "--point", "0"], d, 3, ["GC-1205", "kMaxTraceSamples"])
    # An evaluator input declaring 2^40 values (the file itself is tiny): refused before allocating.
    with h5py.File(os.path.join(d, "huge_qkv.h5"), "w") as f:
        for n in ("Q", "K", "V"):
            f.create_dataset(n, shape=(1, 1, 2 ** 20, 2 ** 20), dtype="f4")
    run(["eval", "-i", "huge_qkv.h5", "-o", "o.h5"], d, 3, ["GC-1707", "kMaxTensorElements"])
    # Model files that would evaluate to garbage with exit 0.
    run(["-q", "sweep", RC, "-o", "m.h5"], d, 0)
    run(["fit", "m.h5", "-m", "v_out_v", "-i", "r_load,c_load", "--model", "lut", "-o", "lut.json"], d, 0)
    run(["fit", "m.h5", "-m", "v_out_v", "-i", "r_load,c_load", "--model", "poly", "-o", "poly.json"], d, 0)
    lut = json.load(open(os.path.join(d, "lut.json")))
    lut["parameters"]["grids"][0] = lut["parameters"]["grids"][0][::-1]
    write(os.path.join(d, "lut_rev.json"), json.dumps(lut))
    run(["model", "show", "lut_rev.json"], d, 3, ["GC-1608", "/parameters/grids/0/1", "increase"])
    poly = json.load(open(os.path.join(d, "poly.json")))
    poly["parameters"]["half_ranges"][1] = 0
    write(os.path.join(d, "poly_zero.json"), json.dumps(poly))
    run(["export", "poly_zero.json", "--format", "csv", "-o", "ex"], d, 3, ["GC-1608", "/parameters/half_ranges/1"])


def limits_documented():
    """The Limits table of docs/cli.md states the values of include/gaincell/core/limits.h."""
    import re
    header = open(os.path.join(SRC, "include", "gaincell", "core", "limits.h")).read()
    code = {m.group(1): float(m.group(2).replace("'", "")) for m in
            re.finditer(r"constexpr \w+(?:::\w+)? (k\w+) = ([0-9.e']+);", header)}
    page = open(os.path.join(SRC, "docs", "cli.md")).read()
    documented = {m.group(1): float(m.group(2).replace(",", "").replace(" s", "")) for m in
                  re.finditer(r"^\| `(k\w+)` \| ([0-9.e, s]+?) \|", page, re.M)}
    check(len(code) >= 8, f"limits.h: found {code}")
    check(code == documented, f"docs/cli.md Limits {documented} != limits.h {code}")


def json_bombs(work):
    d = os.path.join(work, "json")
    os.makedirs(d)
    deep = "[" * 100000 + "]" * 100000
    with open(RC) as f:
        spec_text = f.read().replace('"template": "', '"template": "' + os.path.join(SRC, "tests", "data") + "/")
    write(os.path.join(d, "deep_spec.json"), spec_text.replace('"description":', '"deep": ' + deep + ',\n"description":'))
    run(["render", "deep_spec.json", "--point", "0"], d, 3, ["GC-1201", "nested deeper than 128"])
    write(os.path.join(d, "big_number.json"), spec_text.replace('"timeout_s"', '"timeout_s": 1e400, "x"')
          if '"timeout_s"' in spec_text else spec_text.replace('"name":', '"timeout_s": 1e400,\n"name":'))
    run(["render", "big_number.json", "--point", "0"], d, 3, ["GC-1201", "1e400 does not fit a double"])
    write(os.path.join(d, "deep_config.json"), deep)
    run(["eval", "-c", "deep_config.json", "--show-config"], d, 3, ["GC-1704", "nested deeper"])
    write(os.path.join(d, "deep_model.json"), '{"format": ' + deep + '}')
    run(["model", "show", "deep_model.json"], d, 3, ["GC-1608", "nested deeper"])
    write(os.path.join(d, "huge_model.json"), '{"format": 1e400}')
    run(["model", "show", "huge_model.json"], d, 3, ["GC-1608", "does not fit a double"])
    run(["eval", "--set", "window=" + "[" * 100000, "--show-config"], d, 3, ["GC-1705", "nested deeper"])


def disk_full(work):
    """A file size limit stands in for a full disk: exit 5 with a clear message, no crash."""
    d = os.path.join(work, "full")
    os.makedirs(d)
    for blocks in (4, 40):
        p = subprocess.run(["sh", "-c", f"trap '' XFSZ; ulimit -f {blocks}; exec {GAINCELL} -q sweep {RC} -o o{blocks}.h5"],
                           cwd=d, capture_output=True, text=True, timeout=120)
        check(p.returncode == 5, f"file size limit {blocks}: exit {p.returncode} (expected 5)\n{p.stderr}")
        check("cannot write" in p.stderr and "--resume" in p.stderr, f"file size limit {blocks}: {p.stderr}")
        check("failed to close" not in p.stderr, f"file size limit {blocks}: noise on error: {p.stderr}")
    # With room again, --resume finishes the run.
    run(["-q", "sweep", RC, "-o", "o40.h5", "--resume"], d, 0)


def main():
    work = tempfile.mkdtemp(prefix="gaincell-hostile-")
    limits_documented()
    for section in (scripts, damaged_results, numbers, json_bombs, disk_full):
        print("==", section.__name__, flush=True)
        section(work)
    if FAILURES:
        print(f"{len(FAILURES)} failure(s); kept {work} for inspection")
        sys.exit(1)
    shutil.rmtree(work)
    print("hostile input: all cases refused as documented")


if __name__ == "__main__":
    main()
