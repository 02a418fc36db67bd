#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the report of a `gaincell flow` directory: ONE self-contained HTML
file (plots as inline PNG, no external resources) that opens offline.

Reads OUT/flow.json, OUT/sweeps/*.h5, OUT/fits/*.json, OUT/eval/*. Plots are
made with matplotlib (Debian python3-matplotlib). Fitted curves are the model
files evaluated by the gaincell Python package (gaincell.Model), never a copy
of their formulas; `gaincell report` puts the package on PYTHONPATH. A section
whose inputs are missing is shown as a visible notice naming them, never as a
blank picture.

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
try:
    import gaincell
except ImportError as e:  # pragma: no cover
    sys.exit(f"report: needs the gaincell Python package (built with GAINCELL_PYTHON=ON; docs/python.md): {e}")

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
    """A fitted model of this flow, evaluated by the gaincell library (gaincell.Model)."""
    return gaincell.Model(need(os.path.join(OUT, "fits", name)))


def coefficient(model, name):
    return {c["name"]: c["value"] for c in model.document.get("coefficients", [])}[name]


def within(model, k, x):
    """x limited to the valid range of the model's input k (so a curve is never extrapolated)."""
    i = model.inputs[k]
    return x[(x >= i["min"]) & (x <= i["max"])]


def cell_name():
    """The flow's cell, named on every figure and table of the report."""
    return CELL.get("name", "?")


def titled(ax, text):
    ax.set_title(f"{text}\ncell: {cell_name()}", fontsize=10)


def table(caption, header, rows):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    return (f"<table><caption>cell {html.escape(cell_name())}: {html.escape(caption)}</caption><tr>{head}</tr>"
            + rows + "</table>")


def h5(name):
    return h5py.File(need(os.path.join(OUT, "sweeps", name)), "r")


def axis(f, name):
    return f["axes/" + name][:]


def trace_times(f, name):
    """A trace's sample times: the scale of its last dimension (/<name>_time, or /trace_times/<name>
    in gaincell-sweep/1 files)."""
    ds = f["measures/" + name]
    return ds.dims[ds.ndim - 1][0][:]


# ---------------------------------------------------------------------------
# Sections: each returns (title, [(caption, png_base64)], html_extra)


def section_multiply():
    f = h5("multiply.h5")
    v = axis(f, "v_store")
    t = axis(f, "t_pulse")
    q = f["measures/q_line_c"][:]
    m = load_model("multiply.paper_poly.json")
    # The fit's stored-voltage input: the measured storage node, or the written value.
    if any(i["name"] == "v_sn_read_v" for i in m.inputs):
        vsn = f["measures/v_sn_read_v"][:]
    else:
        vsn = np.broadcast_to(v[:, None], q.shape)
    fit = m(t[None, :], vsn)
    fig, ax = plt.subplots(figsize=FIGSIZE)
    cmap = plt.get_cmap("viridis")
    for k in range(0, len(t), max(1, len(t) // 8)):
        ax.plot(v, q[:, k] * 1e15, "o-", ms=3, color=cmap(k / max(1, len(t) - 1)), label=f"{t[k] * 1e9:.0f} ns")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("stored voltage v_store [V]")
    ax.set_ylabel("charge drawn from the line q_line [fC]")
    titled(ax, "Multiply: line charge vs stored voltage, one curve per pulse width")
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
    qual = m.document.get("quality", {})
    titled(ax, f"Paper-polynomial fit residuals (R² {qual.get('r_squared', float('nan')):.4f}, "
               f"RMS {qual.get('rms_residual', float('nan')) * 1e15:.2f} fC)")
    b = png(fig)
    return ("Multiply surface and fit", [
        (f"Cell {cell_name()}: charge per read over {len(v)} stored voltages x {len(t)} pulse widths "
         f"(sweeps/multiply.h5); full scale {np.nanmax(np.abs(q)) * 1e15:.1f} fC.", a),
        (f"Cell {cell_name()}: residuals of the paper's eq. (4) fitted to it (fits/multiply.paper_poly.json).", b)], "")


def section_retention():
    f = h5("retention.h5")
    v = axis(f, "v_store")
    tr = f["measures/v_sn_trace_v"][:]
    tt = trace_times(f, "v_sn_trace_v")
    m = load_model("retention.exp_decay.json")
    tau, vinf = coefficient(m, "tau_s"), coefficient(m, "v_inf_v")
    # Time in the unit that suits the hold (ms for silicon, s for oxide cells).
    scale, unit = (1e3, "ms") if tt.max() < 1 else (1.0, "s")
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for k in range(len(v)):
        ax.plot(tt * scale, tr[k], "o", ms=3, label=f"measured, v_store {v[k]:.2f} V")
    tf = within(m, 0, np.linspace(max(tt.min(), 1e-9), tt.max(), 300))
    tau_text = f"{tau * scale:.3g} {unit}"
    ax.plot(tf * scale, m(tf), "k-", lw=1.5,
            label=f"exp fit (v_store {v.max():.2f} V): τ = {tau_text}, V∞ = {vinf:.3f} V")
    ax.set_xlabel(f"time after the write [{unit}]")
    ax.set_ylabel("storage node voltage V(SN) [V]")
    titled(ax, "Retention: the stored voltage decays")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return ("Retention", [(f"Cell {cell_name()}: storage-node traces (sweeps/retention.h5) with the exponential fit "
                           f"(fits/retention.exp_decay.json): τ = {tau_text}.", png(fig))], "")


def section_c2p():
    f = h5("c2p.h5")
    qin = axis(f, "q_in")
    pw = f["measures/pw_s"][:]
    m = load_model("c2p.hardsigmoid.json")
    xs, ys = coefficient(m, "x_sat"), coefficient(m, "y_sat")
    fig, ax = plt.subplots(figsize=FIGSIZE)
    ax.plot(qin * 1e12, pw * 1e9, "o", ms=4, label=f"{CELL.get('converter', 'converter')} (SPICE)")
    xf = within(m, 0, np.linspace(qin.min(), qin.max(), 400))
    ax.plot(xf * 1e12, m(xf) * 1e9, "-", lw=1.5,
            label=f"HardSigmoid fit: Q_sat = {xs * 1e12:.3f} pC, T_max = {ys * 1e9:.2f} ns")
    ax.set_xlabel("input charge q_in [pC]")
    ax.set_ylabel("output pulse width [ns]")
    titled(ax, "Charge-to-pulse transfer of the card's converter")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ("Charge-to-pulse converter", [(f"Cell {cell_name()}: the transfer of its converter "
                                           f"{CELL.get('converter', '')} (sweeps/c2p.h5) and its HardSigmoid fit "
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
        ax.plot(s, np.array(t["q_fitted_c"]) * 1e15, "o", ms=5, label=f"fitted mode vs held lines, seed {t['seed']}")
        lim = max(lim, np.abs(s).max())
        if "q_ode_c" in t:
            sp = np.array(t["q_spice_passive_c"]) * 1e15
            ax.plot(sp, np.array(t["q_ode_c"]) * 1e15, "x", ms=6, label=f"ODE mode vs passive lines, seed {t['seed']}")
            lim = max(lim, np.abs(sp).max())
        ce = t["charge_error_pct_fs"]
        w1 = t["within_1lsb_share"]
        verdict = "PASS" if t.get("passed") else "FAIL"
        cls = "pass" if t.get("passed") else "fail"
        why = "; ".join(t.get("failures", []))
        rows += (f"<tr><td>{t['tokens']} x {t['dims']}</td><td>{t['seed']}</td><td>{ce.get('fitted', float('nan')):.3f} %"
                 f"</td><td>{ce.get('ode', float('nan')):.3f} %</td><td>{100 * w1.get('fitted', float('nan')):.1f} %</td>"
                 f"<td>{100 * w1.get('ode', float('nan')):.1f} %</td><td class=\"{cls}\">{verdict}"
                 f"{(': ' + html.escape(why)) if why else ''}</td></tr>")
    lim = max(lim, 1e-3) * 1.1
    ax.plot([-lim, lim], [-lim, lim], "k--", lw=0.8, label="identity")
    ax.set_xlabel("SPICE stage-1 charge per line [fC]")
    ax.set_ylabel("evaluator stage-1 charge per line [fC]")
    titled(ax, "Evaluator vs SPICE on a sub-tile")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    figs.append((f"Cell {cell_name()}: stage-1 charges of the evaluator (fitted and ODE modes) against ngspice on "
                 f"the same circuit (eval/spice_check.json).", png(fig)))
    th = d.get("thresholds", {})
    passed = d.get("passed", False)
    compared = d.get("compared", {})
    verdict = (f'<p class="{"pass" if passed else "fail"}">SPICE check {"passed" if passed else "FAILED"}: '
               f"thresholds stage-1 charge error &le; {th.get('max_charge_error_pct_fs', float('nan')):g} % of full scale "
               f"and &ge; {100 * th.get('min_within_1lsb_share', float('nan')):g} % of 5-bit outputs within 1 LSB, "
               f"in every mode.</p>")
    what = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in compared.items())
    return ("Evaluator against SPICE", figs,
            verdict + (f"<ul>{what}</ul>" if what else "") +
            table("the evaluator against SPICE", ["tile", "seed", "charge error, fitted (% of Q_sat)", "ODE",
                                                  "5-bit outputs within 1 LSB, fitted", "ODE", "verdict"], rows))


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
    ax.set_ylabel(f"attention output, {cell_name()} [1]")
    titled(ax, f"What this cell does to attention (r = {r:.3f})")
    ax.grid(alpha=0.3)
    figs = [(f"Outputs of the evaluator on the shipped Q/K/V sample: the authors' cubic against cell {cell_name()}'s "
             f"fitted models; correlation {r:.3f}, mean |difference| {np.abs(ya - yb).mean():.3f}.", png(fig))]
    if "phi" in b:
        phi = b["phi"][:]
        phi = phi.reshape(-1, phi.shape[-2], phi.shape[-1])[0]
        fig, ax = plt.subplots(figsize=(5.2, 4.2))
        im = ax.imshow(phi, cmap="magma", vmin=0, vmax=1, origin="upper")
        fig.colorbar(im, ax=ax, label="phi: C2P pulse / T_max [1]")
        ax.set_xlabel("key token")
        ax.set_ylabel("query token")
        titled(ax, "Attention pulses phi, head 0")
        figs.append((f"Cell {cell_name()}: the charge-to-pulse output for every (query, key) pair of head 0: causal, "
                     "saturating.", png(fig)))
    return (f"Attention with cell {cell_name()}", figs, "")


def section_lm():
    path = os.path.join(OUT, "eval", "lm.json")
    if not os.path.exists(path) and FLOW.get("stages") and \
            not any(s.get("name") == "lm_eval" for s in FLOW["stages"]):
        return ("Language model", [], "<p>Not run: the flow was run with <code>--no-lm</code>.</p>")
    with open(need(path)) as f:
        d = json.load(f)
    rows = d["rows"]
    labels, ppl, colors, body = [], [], [], ""
    palette = {"-": "#555555", "trained": "#4c72b0", "config": "#4c72b0", "adapted": "#55a868", "given": "#8172b2",
               "initial": "#c44e52"}
    for r in rows:
        att = r["attention"]
        name = f"{r['model']} model, {att}" + ("" if r["scalers"] == "-" else f" ({r['scalers']})")
        labels.append(name)
        ppl.append(r["perplexity"])
        colors.append(palette.get(r["scalers"], "#999999"))
        conv = ""
        if "converged" in r:
            ok = r["converged"]
            conv = (f'<span class="{"pass" if ok else "fail"}">{"converged" if ok else "NOT converged"} after '
                    f'{r["iterations"]} iterations</span>')
        body += (f"<tr><td>{html.escape(r['model'])}</td><td>{html.escape(att)}</td><td>{html.escape(r['scalers'])}</td>"
                 f"<td>{r['loss_nats_per_token']:.4f}</td><td>{r['perplexity']:.3f}</td><td>{r['tokens']}</td>"
                 f"<td>{r['seconds']:.1f}</td><td>{conv}</td></tr>")
    fig, ax = plt.subplots(figsize=FIGSIZE)
    y = np.arange(len(rows))[::-1]
    ax.barh(y, ppl, color=colors)
    for yi, p in zip(y, ppl):
        ax.text(p, yi, f" {p:.2f}", va="center", fontsize=8)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel("validation perplexity [1] (lower is better)")
    if max(ppl) / max(min(ppl), 1e-9) > 20:
        ax.set_xscale("log")  # an unadapted model can be orders of magnitude off
    else:
        ax.set_xlim(0, max(ppl) * 1.2)
    titled(ax, "The tiny language model with this cell's attention")
    ax.grid(alpha=0.3, axis="x")
    tokens = rows[0]["tokens"] if rows else 0
    caption = (f"Cell {cell_name()}: perplexity of the shipped character-level GPT on {tokens} held-out tokens "
               "(eval/lm.json): the softmax-trained baseline with ideal attention, the model trained with the linear "
               "gain-cell attention on the linear preset, on the authors' cubic and on this cell's fitted models, with "
               "its trained scalers (blue), at the authors' starting point a = 1, b = 0 (red) and after their adaptation "
               "(green).")
    return ("Language model", [(caption, png(fig))],
            table("the tiny language model (cross-entropy in nats per token)",
                  ["model", "attention", "scalers", "cross-entropy [nats/token]", "perplexity", "tokens", "time [s]",
                   "adaptation"], body))


def section_energy():
    with open(need(os.path.join(OUT, "eval", "energy.json"))) as f:
        e = json.load(f)
    ours = e["per_token_per_head"]["components_j"]
    paper = e["paper"]["components_j"]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    colors = plt.get_cmap("tab10")
    for col, (label, comps) in enumerate(((cell_name(), ours), ("paper", paper))):
        bottom = 0.0
        for k, (name, val) in enumerate(sorted(comps.items())):
            ax.bar(col, val * 1e9, bottom=bottom, color=colors(k + (0 if col == 0 else 5)), label=f"{label}: {name}")
            bottom += val * 1e9
        ax.text(col, bottom * 1.02, f"{bottom:.2f} nJ", ha="center", fontsize=8)
    ax.set_xticks([0, 1], [cell_name(), "paper"])
    ax.set_ylabel("energy per token per head [nJ]")
    titled(ax, "Energy per token per head, by component")
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    a = png(fig)
    fig, axs = plt.subplots(1, 2, figsize=(8.4, 3.6))
    heads = e.get("heads", 12)
    names = [cell_name()] + [g["name"] for g in e["gpu"]]
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
    fig.suptitle(f"Per token: gaincell estimate for cell {cell_name()} vs GPU measurements (log scale)")
    b = png(fig)
    rows = "".join(
        f"<tr><td>{html.escape(g['name'])}</td><td>{g['latency_s'] * 1e6:.1f} µs</td><td>{g['energy_j'] * 1e3:.2f} mJ</td>"
        f"<td>{g['speedup']:.0f}x</td><td>{g['energy_ratio']:.0f}x</td><td>{g['paper_speedup']:.1f}x</td>"
        f"<td>{g['paper_energy_ratio']:.0f}x</td></tr>" for g in e["gpu"])
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in e.get("characterized", {}).get("notes", []))
    table_html = (table("per token against the GPUs", ["GPU", "latency/token", f"energy/token ({heads} heads)",
                                                       "gaincell speed-up", "gaincell energy ratio", "paper speed-up",
                                                       "paper energy ratio"], rows) +
             (f"<ul>{notes}</ul>" if notes else "") +
             f"<p>Cell {html.escape(cell_name())}: {e['per_token_per_head']['total_j'] * 1e9:.2f} nJ and "
             f"{e['per_token_per_head']['latency_s'] * 1e9:.0f} ns per token per head; paper: "
             f"{e['paper']['total_j'] * 1e9:.2f} nJ, {e['paper']['latency_s'] * 1e9:.0f} ns. The digital share is an "
             f"assumption ({e['assumptions']['digital_energy_j'] * 1e9:.1f} nJ), not a measurement.</p>")
    return ("Energy and latency", [(f"Cell {cell_name()}: breakdown per token per head (eval/energy.json) beside the "
                                    "paper's figures.", a),
                                   (f"Cell {cell_name()}: latency and energy per token against the RTX 4090 and Jetson "
                                    "Nano measurements.", b)],
            table_html)


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
    return ("Fit quality", [], table("the fitted models", ["model", "kind", "inputs", "points", "R²", "RMS residual",
                                                           "max |residual|", "CV RMS"], rows))


def section_provenance():
    with open(need(os.path.join(OUT, "flow.json"))) as f:
        fl = json.load(f)
    rows = ""
    for s in fl.get("stages", []):
        dur = s.get("duration_s")
        status = s.get("status", "")
        cls = {"failed": "fail", "skipped": "fail"}.get(status, "")
        reason = s.get("reason", "")
        rows += (f"<tr><td>{html.escape(s['name'])}</td><td class=\"{cls}\">{html.escape(status)}"
                 f"{' (reused)' if s.get('reused') else ''}{(': ' + html.escape(reason)) if reason else ''}</td>"
                 f"<td>{'' if dur is None else f'{dur:.2f} s'}</td>"
                 f"<td><code>{html.escape(' '.join(s.get('command', [])))}</code></td></tr>")
    specs = ""
    for role, v in fl.get("specs", {}).items():
        if isinstance(v, dict) and "path" in v:
            specs += (f"<li>{html.escape(role)}: <code>{html.escape(v['path'])}</code>"
                      f"{' (hand-written)' if v.get('given') else ' (derived from the card)'}</li>")
        elif isinstance(v, dict):
            specs += f'<li class="fail">{html.escape(role)}: not available: {html.escape(v.get("unavailable", ""))}</li>'
        else:
            specs += f"<li>{html.escape(role)}: <code>{html.escape(str(v))}</code></li>"
    c = fl.get("cell", {})
    files = "".join(f"<li><code>{html.escape(x['path'])}</code> {html.escape(x['sha256'][:16])}…</li>"
                    for x in c.get("files", []))
    return ("Run provenance", [], f"<p>gaincell {html.escape(fl.get('gaincell_version', '?'))}, flow time "
            f"{fl.get('wall_time_s', float('nan')):.1f} s (until this report). Cell {html.escape(cell_name())}: card "
            f"<code>{html.escape(c.get('card', '?'))}</code>, the files it makes the circuits read:</p><ul>{files}</ul>"
            f"<p>Sweeps:</p><ul>{specs}</ul>"
            + table("every stage of the flow", ["stage", "status", "time", "command"], rows))


FLOW = {}  # OUT/flow.json

SECTIONS = [section_multiply, section_retention, section_c2p, section_spice, section_eval, section_lm, section_energy,
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
.fail { color: #b00; font-weight: bold; } .pass { color: #070; font-weight: bold; }
.failbox { border: 2px solid #b00; background: #fff0f0; padding: .8em; color: #900; }
caption { text-align: left; font-weight: bold; padding: .3em 0; }
nav a { margin-right: 1em; } code { font-size: .85em; word-break: break-all; }
"""


def main():
    global OUT
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir")
    p.add_argument("-o", "--output")
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args()
    global CELL
    OUT = os.path.abspath(args.dir)
    output = args.output or os.path.join(OUT, "report.html")
    flow = {}
    try:
        with open(os.path.join(OUT, "flow.json")) as f:
            flow = json.load(f)
    except (OSError, ValueError):
        pass
    CELL = flow.get("cell", {})
    FLOW.update(flow)
    failed = [s for s in flow.get("stages", []) if s.get("status") in ("failed", "skipped")]
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
    banner = ""
    if failed:
        items = "".join(f"<li>{html.escape(s['name'])}: {html.escape(s.get('status', ''))}"
                        f"{(' — ' + html.escape(s.get('reason', '').strip())) if s.get('reason') else ''}</li>" for s in failed)
        banner = f'<div class="failbox"><b>{len(failed)} stage(s) of this flow did not complete:</b><ul>{items}</ul></div>'
    about = (f"<p>Cell <b>{html.escape(cell_name())}</b>: {html.escape(CELL.get('description', ''))} "
             f"Subcircuit {html.escape(CELL.get('subckt', '?'))} of <code>{html.escape(CELL.get('subckt_file', '?'))}</code>, "
             f"{html.escape(CELL.get('read_scheme', '?'))} read line at {CELL.get('line_v', float('nan')):g} V, "
             f"{html.escape(CELL.get('sign_scheme', '?'))} around {CELL.get('offset_v', float('nan')):g} V; card "
             f"<code>{html.escape(CELL.get('card', '?'))}</code>.</p>") if CELL else ""
    page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>gaincell report: {html.escape(cell_name())}</title>"
            f"<style>{CSS}</style><script>{CHECK_SCRIPT}</script></head><body>"
            f"<h1>gaincell report: cell {html.escape(cell_name())}</h1>{about}<p>{html.escape(OUT)} · made {stamp}</p>"
            f"{banner}<nav>{' '.join(nav)}</nav>"
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
CELL = {}
if __name__ == "__main__":
    main()
