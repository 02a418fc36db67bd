#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the report of a `gaincell flow` directory: ONE self-contained HTML
file (plots as inline PNG, no external resources) that opens offline.

Reads OUT/flow.json, OUT/sweeps/*.h5, OUT/fits/*.json, OUT/eval/*. Plots are
made with matplotlib (Debian python3-matplotlib). A section whose inputs are
missing is shown as a visible notice naming them, never as a blank picture.

Usage: tools/report.py OUT_DIR [-o report.html] [-q]   (run by `gaincell report`)
"""
import argparse
import base64
import datetime
import html
import io
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

try:
    import h5py
except ImportError:  # pragma: no cover
    sys.exit("report: needs Debian python3-h5py")

FIGSIZE = (7.2, 4.2)


class Missing(Exception):
    """A section's input is missing or unusable."""


def png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def need(path):
    if not os.path.exists(path):
        raise Missing(f"{os.path.relpath(path, OUT)} is missing")
    return path


def load_model(name):
    with open(need(os.path.join(OUT, "fits", name))) as f:
        m = json.load(f)
    m["c"] = {c["name"]: c["value"] for c in m.get("coefficients", [])}
    return m


def h5(name):
    return h5py.File(need(os.path.join(OUT, "sweeps", name)), "r")


def axis(f, name):
    return f["axes/" + name][:]


# ---------------------------------------------------------------------------
# Sections: each returns (title, [(caption, png_base64)], html_extra)


def section_multiply():
    f = h5("multiply.h5")
    v = axis(f, "v_store")
    t = axis(f, "t_pulse")
    q = f["measures/q_line_c"][:]
    vsn = f["measures/v_sn_read_v"][:]
    m = load_model("multiply.paper_poly.json")
    off, vin = m["parameters"]["offset_v"], m["parameters"]["vin_v"]
    fit = np.zeros_like(q)
    for i in range(4):
        for j in range(4 - i):
            fit += m["c"][f"C_{i}_{j}"] * (vsn - off) ** i * vin ** j
    fit *= t[None, :]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    cmap = plt.get_cmap("viridis")
    for k in range(0, len(t), max(1, len(t) // 8)):
        ax.plot(v, q[:, k] * 1e15, "o-", ms=3, color=cmap(k / max(1, len(t) - 1)), label=f"{t[k] * 1e9:.0f} ns")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("stored voltage v_store [V]")
    ax.set_ylabel("charge drawn from the line q_line [fC]")
    ax.set_title("Multiply: line charge vs stored voltage, one curve per pulse width")
    ax.legend(title="pulse width", fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    a = png(fig)
    fig, ax = plt.subplots(figsize=FIGSIZE)
    res = (q - fit) * 1e15
    lim = np.nanmax(np.abs(res))
    im = ax.pcolormesh(t * 1e9, v, res, cmap="RdBu_r", vmin=-lim, vmax=lim, shading="nearest")
    fig.colorbar(im, ax=ax, label="measured − fit [fC]")
    ax.set_xlabel("pulse width t_pulse [ns]")
    ax.set_ylabel("stored voltage v_store [V]")
    qual = m.get("quality", {})
    ax.set_title(f"Paper-polynomial fit residuals (R² {qual.get('r_squared', float('nan')):.4f}, "
                 f"RMS {qual.get('rms_residual', float('nan')) * 1e15:.2f} fC)")
    b = png(fig)
    return ("Multiply surface and fit", [
        (f"The cell's charge per read over {len(v)} stored voltages x {len(t)} pulse widths "
         f"(sweeps/multiply.h5); full scale {np.nanmax(np.abs(q)) * 1e15:.1f} fC.", a),
        ("Residuals of the paper's eq. (4) fitted to it (fits/multiply.paper_poly.json).", b)], "")


def section_retention():
    f = h5("retention.h5")
    v = axis(f, "v_store")
    tr = f["measures/v_sn_trace_v"][:]
    tt = f["trace_times/v_sn_trace_v"][:]
    m = load_model("retention.exp_decay.json")
    tau, vinf, v0 = m["c"]["tau_s"], m["c"]["v_inf_v"], m["c"]["v0_v"]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for k in range(len(v)):
        ax.plot(tt * 1e3, tr[k], "o", ms=3, label=f"measured, v_store {v[k]:.2f} V")
    tf = np.linspace(max(tt.min(), 1e-9), tt.max(), 300)
    ax.plot(tf * 1e3, vinf + (v0 - vinf) * np.exp(-tf / tau), "k-", lw=1.5,
            label=f"exp fit (v_store 0.9 V): τ = {tau * 1e3:.2f} ms, V∞ = {vinf:.3f} V")
    ax.set_xlabel("time after the write [ms]")
    ax.set_ylabel("storage node voltage V(SN) [V]")
    ax.set_title("Retention: the stored voltage decays")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return ("Retention", [(f"Storage-node traces (sweeps/retention.h5) with the exponential fit "
                           f"(fits/retention.exp_decay.json): τ = {tau * 1e3:.2f} ms.", png(fig))], "")


def section_c2p():
    f = h5("c2p.h5")
    qin = axis(f, "q_in")
    pw = f["measures/pw_s"][:]
    m = load_model("c2p.hardsigmoid.json")
    x0, xs, yl, ys = m["c"]["x0"], m["c"]["x_sat"], m["c"]["y_low"], m["c"]["y_sat"]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    ax.plot(qin * 1e12, pw * 1e9, "o", ms=4, label="transistor-level C2P (SPICE)")
    xf = np.linspace(qin.min(), qin.max(), 400)
    ax.plot(xf * 1e12, (yl + (ys - yl) * np.clip((xf - x0) / (xs - x0), 0, 1)) * 1e9, "-", lw=1.5,
            label=f"HardSigmoid fit: Q_sat = {xs * 1e12:.3f} pC, T_max = {ys * 1e9:.2f} ns")
    ax.set_xlabel("input charge q_in [pC]")
    ax.set_ylabel("output pulse width [ns]")
    ax.set_title("Charge-to-pulse transfer")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ("Charge-to-pulse converter", [("C2P transfer (sweeps/c2p.h5) and its HardSigmoid fit "
                                           "(fits/c2p.hardsigmoid.json).", png(fig))], "")


def section_spice():
    with open(need(os.path.join(OUT, "eval", "spice_check.json"))) as f:
        d = json.load(f)
    figs = []
    fig, ax = plt.subplots(figsize=FIGSIZE)
    lim = 0
    rows = ""
    for t in d["tiles"]:
        s = np.array(t["q_spice_c"]) * 1e15
        ax.plot(s, np.array(t["q_fitted_c"]) * 1e15, "o", ms=5, label=f"fitted mode, seed {t['seed']}")
        lim = max(lim, np.abs(s).max())
        if "q_ode_c" in t:
            sp = np.array(t["q_spice_passive_c"]) * 1e15
            ax.plot(sp, np.array(t["q_ode_c"]) * 1e15, "x", ms=6, label=f"ODE mode vs passive line, seed {t['seed']}")
        ce = t["charge_error_pct_fs"]
        w1 = t["within_1lsb_share"]
        rows += (f"<tr><td>{t['tokens']} x {t['dims']}</td><td>{t['seed']}</td><td>{ce.get('fitted', float('nan')):.3f} %"
                 f"</td><td>{ce.get('ode', float('nan')):.3f} %</td><td>{100 * w1.get('fitted', float('nan')):.1f} %</td>"
                 f"<td>{100 * w1.get('ode', float('nan')):.1f} %</td></tr>")
    lim *= 1.1
    ax.plot([-lim, lim], [-lim, lim], "k--", lw=0.8, label="identity")
    ax.set_xlabel("SPICE stage-1 charge per line [fC]")
    ax.set_ylabel("evaluator stage-1 charge per line [fC]")
    ax.set_title("Evaluator vs SPICE on a sub-tile")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    figs.append(("Stage-1 charges of the evaluator (fitted and ODE modes) against ngspice (eval/spice_check.json).",
                 png(fig)))
    table = ("<table><tr><th>tile</th><th>seed</th><th>charge error, fitted (% of Q_sat)</th><th>ODE</th>"
             "<th>5-bit outputs within 1 LSB, fitted</th><th>ODE</th></tr>" + rows + "</table>")
    return ("Evaluator against SPICE", figs, table)


def section_eval():
    a = h5py.File(need(os.path.join(OUT, "eval", "reference.h5")), "r")
    b = h5py.File(need(os.path.join(OUT, "eval", "fitted.h5")), "r")
    ya, yb = a["output"][:].ravel(), b["output"][:].ravel()
    fig, ax = plt.subplots(figsize=FIGSIZE)
    ax.plot(ya, yb, ".", ms=2, alpha=0.4)
    lim = max(np.abs(ya).max(), np.abs(yb).max()) * 1.05
    ax.plot([-lim, lim], [-lim, lim], "k--", lw=0.8)
    r = np.corrcoef(ya, yb)[0, 1]
    ax.set_xlabel("attention output, reference preset (authors' cell) [1]")
    ax.set_ylabel("attention output, this cell (fitted) [1]")
    ax.set_title(f"What this cell does to attention (r = {r:.3f})")
    ax.grid(alpha=0.3)
    figs = [(f"Outputs of the evaluator on the shipped Q/K/V sample: the authors' cubic against this cell's fitted "
             f"models; correlation {r:.3f}, mean |difference| {np.abs(ya - yb).mean():.3f}.", png(fig))]
    if "phi" in b:
        phi = b["phi"][:]
        phi = phi.reshape(-1, phi.shape[-2], phi.shape[-1])[0]
        fig, ax = plt.subplots(figsize=(5.2, 4.2))
        im = ax.imshow(phi, cmap="magma", vmin=0, vmax=1, origin="upper")
        fig.colorbar(im, ax=ax, label="phi: C2P pulse / T_max [1]")
        ax.set_xlabel("key token")
        ax.set_ylabel("query token")
        ax.set_title("Attention pulses phi, head 0 (fitted)")
        figs.append(("The charge-to-pulse output for every (query, key) pair of head 0: causal, saturating.",
                     png(fig)))
    return ("Attention with this cell", figs, "")


def section_energy():
    with open(need(os.path.join(OUT, "eval", "energy.json"))) as f:
        e = json.load(f)
    ours = e["per_token_per_head"]["components_j"]
    paper = e["paper"]["components_j"]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    colors = plt.get_cmap("tab10")
    for col, (label, comps) in enumerate((("gaincell (this cell)", ours), ("paper", paper))):
        bottom = 0.0
        for k, (name, val) in enumerate(sorted(comps.items())):
            ax.bar(col, val * 1e9, bottom=bottom, color=colors(k + (0 if col == 0 else 5)), label=f"{label}: {name}")
            bottom += val * 1e9
        ax.text(col, bottom * 1.02, f"{bottom:.2f} nJ", ha="center", fontsize=8)
    ax.set_xticks([0, 1], ["gaincell (this cell)", "paper"])
    ax.set_ylabel("energy per token per head [nJ]")
    ax.set_title("Energy per token per head, by component")
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    a = png(fig)
    fig, axs = plt.subplots(1, 2, figsize=(8.4, 3.6))
    heads = e.get("heads", 12)
    names = ["gaincell"] + [g["name"] for g in e["gpu"]]
    lat = [e["per_token_per_head"]["latency_s"]] + [g["latency_s"] for g in e["gpu"]]
    en = [e["per_token_per_head"]["total_j"] * heads] + [g["energy_j"] for g in e["gpu"]]
    axs[0].bar(names, np.array(lat) * 1e6, color=["C2", "C0", "C1"])
    axs[0].set_yscale("log")
    axs[0].set_ylabel("latency per token [µs]")
    axs[1].bar(names, np.array(en) * 1e3, color=["C2", "C0", "C1"])
    axs[1].set_yscale("log")
    axs[1].set_ylabel(f"energy per token, {heads} heads [mJ]")
    for axx in axs:
        axx.tick_params(axis="x", labelsize=8)
        axx.grid(alpha=0.3, axis="y")
    fig.suptitle("Per token: gaincell estimate vs GPU measurements (log scale)")
    b = png(fig)
    rows = "".join(
        f"<tr><td>{html.escape(g['name'])}</td><td>{g['latency_s'] * 1e6:.1f} µs</td><td>{g['energy_j'] * 1e3:.2f} mJ</td>"
        f"<td>{g['speedup']:.0f}x</td><td>{g['energy_ratio']:.0f}x</td><td>{g['paper_speedup']:.1f}x</td>"
        f"<td>{g['paper_energy_ratio']:.0f}x</td></tr>" for g in e["gpu"])
    table = ("<table><tr><th>GPU</th><th>latency/token</th><th>energy/token (12 heads)</th><th>gaincell speed-up</th>"
             "<th>gaincell energy ratio</th><th>paper speed-up</th><th>paper energy ratio</th></tr>" + rows + "</table>"
             f"<p>gaincell: {e['per_token_per_head']['total_j'] * 1e9:.2f} nJ and "
             f"{e['per_token_per_head']['latency_s'] * 1e9:.0f} ns per token per head; paper: "
             f"{e['paper']['total_j'] * 1e9:.2f} nJ, {e['paper']['latency_s'] * 1e9:.0f} ns. The digital share is an "
             f"assumption ({e['assumptions']['digital_energy_j'] * 1e9:.1f} nJ), not a measurement.</p>")
    return ("Energy and latency", [("Breakdown per token per head (eval/energy.json) beside the paper's figures.", a),
                                   ("Latency and energy per token against the RTX 4090 and Jetson Nano measurements.", b)],
            table)


def section_quality():
    rows = ""
    fits = os.path.join(OUT, "fits")
    if not os.path.isdir(fits):
        raise Missing("fits/ is missing")
    for name in sorted(os.listdir(fits)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(fits, name)) as f:
            m = json.load(f)
        q = m.get("quality", {})
        unit = m.get("output", {}).get("unit", "")
        rows += (f"<tr><td>{html.escape(name)}</td><td>{html.escape(m.get('kind', ''))}</td>"
                 f"<td>{html.escape(', '.join(i['name'] + ' [' + i['unit'] + ']' for i in m.get('inputs', [])))}</td>"
                 f"<td>{q.get('points_used', '')}</td><td>{q.get('r_squared', float('nan')):.5f}</td>"
                 f"<td>{q.get('rms_residual', float('nan')):.3g} {unit}</td>"
                 f"<td>{q.get('max_abs_residual', float('nan')):.3g} {unit}</td>"
                 f"<td>{q.get('cv_rms_residual', float('nan')):.3g} {unit}</td></tr>")
    if not rows:
        raise Missing("no model files in fits/")
    return ("Fit quality", [], "<table><tr><th>model</th><th>kind</th><th>inputs</th><th>points</th><th>R²</th>"
                              "<th>RMS residual</th><th>max |residual|</th><th>CV RMS</th></tr>" + rows + "</table>")


def section_provenance():
    with open(need(os.path.join(OUT, "flow.json"))) as f:
        fl = json.load(f)
    rows = ""
    for s in fl.get("stages", []):
        dur = s.get("duration_s")
        rows += (f"<tr><td>{html.escape(s['name'])}</td><td>{html.escape(s.get('status', ''))}"
                 f"{' (reused)' if s.get('reused') else ''}</td><td>{'' if dur is None else f'{dur:.2f} s'}</td>"
                 f"<td><code>{html.escape(' '.join(s.get('command', [])))}</code></td></tr>")
    specs = "".join(f"<li>{html.escape(k)}: <code>{html.escape(v)}</code></li>" for k, v in fl.get("specs", {}).items())
    return ("Run provenance", [], f"<p>gaincell {html.escape(fl.get('gaincell_version', '?'))}, flow time "
            f"{fl.get('wall_time_s', float('nan')):.1f} s. Sweeps:</p><ul>{specs}</ul>"
            "<table><tr><th>stage</th><th>status</th><th>time</th><th>command</th></tr>" + rows + "</table>")


SECTIONS = [section_multiply, section_retention, section_c2p, section_spice, section_eval, section_energy,
            section_quality, section_provenance]

CHECK_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img'), ok = 0, nonblank = 0;
  imgs.forEach(function (img) {
    if (img.complete && img.naturalWidth > 0) {
      ok++;
      var c = document.createElement('canvas');
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      var g = c.getContext('2d'); g.drawImage(img, 0, 0);
      var d = g.getImageData(0, 0, c.width, c.height).data, first = d[0], differ = 0;
      for (var i = 0; i < d.length; i += 16) { if (Math.abs(d[i] - first) > 8) { differ++; } }
      if (differ > d.length / 16 * 0.005) nonblank++;
    }
  });
  var external = 0;
  document.querySelectorAll('[src],[href]').forEach(function (e) {
    var u = e.getAttribute('src') || e.getAttribute('href');
    if (!(u.startsWith('data:') || u.startsWith('#'))) external++;
    if (u.startsWith('#') && !document.getElementById(u.slice(1))) external++;
  });
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-images-decoded', ok);
  document.body.setAttribute('data-images-nonblank', nonblank);
  document.body.setAttribute('data-bad-links', external);
});
"""

CSS = """
body { font-family: DejaVu Sans, Arial, sans-serif; max-width: 1000px; margin: 2em auto; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.8em; }
figure { margin: 1em 0; } figcaption { font-size: .9em; color: #444; }
img { max-width: 100%; }
table { border-collapse: collapse; font-size: .85em; margin: .8em 0; }
td, th { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
.missing { border: 2px dashed #c33; background: #fff3f3; padding: .8em; color: #922; }
nav a { margin-right: 1em; } code { font-size: .85em; word-break: break-all; }
"""


def main():
    global OUT
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir")
    p.add_argument("-o", "--output")
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args()
    OUT = os.path.abspath(args.dir)
    output = args.output or os.path.join(OUT, "report.html")
    body, nav, missing = [], [], []
    for k, fn in enumerate(SECTIONS):
        sid = f"s{k}"
        try:
            title, figs, extra = fn()
            parts = [f'<h2 id="{sid}">{html.escape(title)}</h2>']
            for caption, b64 in figs:
                parts.append(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{b64}">'
                             f"<figcaption>{html.escape(caption)}</figcaption></figure>")
            parts.append(extra)
        except (Missing, KeyError, OSError, ValueError) as e:
            title = fn.__name__.replace("section_", "").replace("_", " ")
            why = str(e) if isinstance(e, Missing) else f"{type(e).__name__}: {e}"
            missing.append(f"{title}: {why}")
            parts = [f'<h2 id="{sid}">{html.escape(title)}</h2>',
                     f'<div class="missing">Not shown: {html.escape(why)}. Run <code>gaincell flow</code> '
                     f"(or the stage that writes it) and rebuild the report.</div>"]
        nav.append(f'<a href="#{sid}">{html.escape(title)}</a>')
        body.append("\n".join(parts))
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>gaincell report</title>"
            f"<style>{CSS}</style><script>{CHECK_SCRIPT}</script></head><body>"
            f"<h1>gaincell report</h1><p>{html.escape(OUT)} · made {stamp}</p><nav>{' '.join(nav)}</nav>"
            + "\n".join(body) + "</body></html>")
    tmp = output + ".partial"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, output)
    if not args.quiet:
        print(f"report: {output} ({len(page) / 1e6:.2f} MB, {len(SECTIONS) - len(missing)} of {len(SECTIONS)} sections)")
    for m in missing:
        print(f"report: missing section {m}", file=sys.stderr)


OUT = "."
if __name__ == "__main__":
    main()
