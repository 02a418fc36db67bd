#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""gaincell's HDF5 files are netCDF-4 as xarray (engine h5netcdf) and netCDF-C (netCDF4-python)
read them, on files the gaincell binary writes (docs/hdf5_layout.md, "netCDF-4 and xarray"):

- a sweep: every measure with named dimensions, coordinates with units, the status with its CF flag
  meanings and the messages, from the root group and from the /measures and /timing groups;
- failed points (tests/data/faulty_rc.json): their status codes and messages;
- a corner axis (string coordinate) and a trace with its trace-time dimension;
- a shard (dimension point_index) and its merge;
- an evaluator output file and a tile output file: named dimensions.

Usage: check_netcdf_readers.py SOURCE_DIR   (GAINCELL = path of the gaincell binary)
Debian: python3-xarray, python3-h5netcdf, python3-netcdf4, python3-h5py.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import netCDF4
import numpy as np
import xarray as xr

source = sys.argv[1]
gaincell = os.environ["GAINCELL"]


def run(*args, cwd, code=0):
    p = subprocess.run([gaincell, "-q", *args], stdout=subprocess.DEVNULL, cwd=cwd)
    assert p.returncode == code, (args, p.returncode)


def same(a, b):
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def sweep_file(path, spec, tmp):
    """xarray and netCDF4 on a whole sweep: the same values h5py reads."""
    with h5py.File(path, "r") as f:
        axes = f.attrs["axes"].split(",")
        measures = f.attrs["measures"].split(",")
        raw = {m: f["measures/" + m][...] for m in measures}
        raw_status = f["status"][...]
        raw_axes = {a: f["axes/" + a][...] for a in axes}
        units = {a: f["axes/" + a].attrs["units"] for a in axes}
    ds = xr.open_dataset(path, engine="h5netcdf")
    for m in measures:
        assert m in ds.data_vars, (spec, m, list(ds.data_vars))
        assert ds[m].dims[: len(axes)] == tuple(axes), (spec, m, ds[m].dims)
        assert same(ds[m].values, raw[m]), (spec, m)
        assert ds[m].attrs["units"], (spec, m)
    for a in axes:
        assert a in ds.coords, (spec, a)
        assert ds[a].attrs["units"] == units[a], (spec, a, ds[a].attrs)
        got = ds[a].values
        assert list(got) == [x.decode() if isinstance(x, bytes) else x for x in raw_axes[a]], (spec, a, got)
    assert ds["status"].dtype == np.uint8 and ds["status"].dims == tuple(axes), ds["status"]
    assert same(ds["status"].values, raw_status), spec
    names = dict(zip(ds["status"].flag_values, ds["status"].flag_meanings.split()))   # as docs/hdf5_layout.md
    assert names[0] == "ok" and names[4] == "timestep_too_small" and names[255] == "not_run", names
    assert ds["message"].dims == tuple(axes), ds["message"]
    # The groups: /measures holds the same measures, /timing the time per point.
    group = xr.open_dataset(path, engine="h5netcdf", group="measures")
    assert sorted(group.data_vars) == sorted(measures), (spec, list(group.data_vars))
    for m in measures:
        assert group[m].dims == ds[m].dims and same(group[m].values, raw[m]), (spec, m)
    timing = xr.open_dataset(path, engine="h5netcdf", group="timing")
    assert timing["run_time_s"].dims == tuple(axes) and timing["run_time_s"].attrs["units"] == "s", timing
    # netCDF-C reads the same dimensions and variables.
    with netCDF4.Dataset(path) as nc:
        assert set(axes) <= set(nc.dimensions), (spec, list(nc.dimensions))
        for m in measures:
            assert nc[m].dimensions == ds[m].dims, (spec, m, nc[m].dimensions)
            assert same(nc[m][...].filled(np.nan), raw[m]), (spec, m)
            assert nc["measures"][m].dimensions == ds[m].dims, (spec, m)
        nc.set_auto_mask(False)
        assert same(nc["status"][...], raw_status) and nc["status"].flag_meanings.split()[0] == "ok", spec
        assert nc["message"].dimensions == tuple(axes)
    return ds


with tempfile.TemporaryDirectory(prefix="gaincell-netcdf-") as tmp:
    # A sweep of 30 x 20 RC transients.
    rc = os.path.join(tmp, "rc.h5")
    run("sweep", os.path.join(source, "tests", "data", "rc_sweep.json"), "-o", rc, "--jobs", "2", cwd=tmp)
    ds = sweep_file(rc, "rc_sweep", tmp)
    assert dict(ds.sizes) == {"r_load": 30, "c_load": 20}, dict(ds.sizes)
    assert ds["r_load"].attrs["units"] == "ohm" and ds["c_load"].attrs["units"] == "F", ds
    np.testing.assert_allclose(ds["c_load"].values, np.linspace(0.2e-12, 2e-12, 20), rtol=1e-12)
    assert (ds["status"] == 0).all() and ds["v_out_v"].attrs["units"] == "V"
    # Selecting by coordinate value: the RC's charge is C * V (the step is 1 V, RC < 2 ns / 5 here).
    q = float(ds["q_in_c"].sel(r_load=500.0, c_load=2e-13))
    assert abs(q - 2e-13) < 0.01 * 2e-13, q

    # Points that fail: their status codes (named by flag_meanings) and messages.
    faulty = os.path.join(tmp, "faulty.h5")
    run("sweep", os.path.join(source, "tests", "data", "faulty_rc.json"), "-o", faulty, "--jobs", "2", cwd=tmp, code=4)
    ds = sweep_file(faulty, "faulty_rc", tmp)
    names = dict(zip(ds["status"].attrs["flag_values"].tolist(), ds["status"].attrs["flag_meanings"].split()))
    by_mode = {int(m): names[int(ds["status"].sel(mode=m, v_in=1.0))] for m in ds["mode"].values}
    assert by_mode == {3: "timeout", 1: "timestep_too_small", 2: "no_convergence", 0: "ok"}, by_mode
    msg = str(ds["message"].sel(mode=1, v_in=1.0).values)
    assert "Timestep too small" in msg, msg
    assert str(ds["message"].sel(mode=0, v_in=1.0).values) == ""
    assert np.isnan(ds["v_out_v"].sel(mode=3).values).all() and not np.isnan(ds["v_out_v"].sel(mode=0).values).any()

    # A corner axis (strings) and a trace, whose last dimension is its sample times.
    ret = os.path.join(tmp, "ret.h5")
    run("sweep", os.path.join(source, "characterization", "gc3t_retention.json"), "-o", ret, "--jobs", "2", cwd=tmp)
    ds = sweep_file(ret, "gc3t_retention", tmp)
    assert list(ds["corner"].values) == ["tt", "ff", "ss"], ds["corner"].values
    tr = ds["v_sn_trace_v"]
    assert tr.dims == ("corner", "v_store", "v_sn_trace_v_time"), tr.dims
    assert ds["v_sn_trace_v_time"].attrs["units"] == "s" and tr.sizes["v_sn_trace_v_time"] == 31
    np.testing.assert_allclose(ds["v_sn_trace_v_time"].values[[0, -1]], [1e-5, 1e-2], rtol=1e-9)
    assert same(tr.sel(corner="ff").isel(v_sn_trace_v_time=-1), ds["v_sn_end_v"].sel(corner="ff"))

    # A shard: its points are the dimension point_index; the merge is a whole file again.
    shards = []
    for i in (0, 1):
        shards.append(os.path.join(tmp, f"shard-{i}.h5"))
        run("sweep", os.path.join(source, "characterization", "gc3t_retention.json"), "--shard", f"{i}/2",
            "-o", shards[-1], "--jobs", "2", cwd=tmp)
    sh = xr.open_dataset(shards[1], engine="h5netcdf")
    assert sh["v_sn_trace_v"].dims == ("point_index", "v_sn_trace_v_time"), sh["v_sn_trace_v"].dims
    assert sh["status"].dims == ("point_index",) and list(sh["point_index"].values) == [1, 3, 5, 7], sh["point_index"]
    flat = ds["v_sn_end_v"].values.reshape(-1)
    assert same(sh["v_sn_end_v"].values, flat[sh["point_index"].values]), "shard values"
    with netCDF4.Dataset(shards[1]) as nc:
        assert nc["v_sn_trace_v"].dimensions == ("point_index", "v_sn_trace_v_time"), nc["v_sn_trace_v"].dimensions
        assert list(nc["point_index"][:]) == [1, 3, 5, 7]
    merged = os.path.join(tmp, "merged.h5")
    run("merge", *shards, "-o", merged, cwd=tmp)
    m = sweep_file(merged, "merged gc3t_retention", tmp)
    for v in ("v_sn_trace_v", "v_sn_end_v", "status"):
        assert same(m[v].values, ds[v].values), v

    # The evaluator's output: [batch, head, query, dim] and S, phi [batch, head, query, key].
    attn = os.path.join(tmp, "attn.h5")
    run("eval", "-i", os.path.join(source, "data", "qkv_sample.h5"), "-o", attn, "--intermediates", cwd=tmp)
    ev = xr.open_dataset(attn, engine="h5netcdf")
    assert ev["output"].dims == ("batch", "head", "query", "dim"), ev["output"].dims
    assert ev["S"].dims == ev["phi"].dims == ("batch", "head", "query", "key"), ev["S"].dims
    with h5py.File(os.path.join(source, "data", "qkv_sample.h5"), "r") as f:
        assert ev["output"].shape == f["Q"].shape, (ev["output"].shape, f["Q"].shape)
    assert not [v for v in ev.variables if v not in ("output", "S", "phi")], list(ev.variables)
    with netCDF4.Dataset(attn) as nc:
        assert nc["S"].dimensions == ("batch", "head", "query", "key") and list(nc.variables) == ["S", "output", "phi"]

    # An input without heads: [batch, token, dim] gives output (batch, query, dim).
    qkv3 = os.path.join(tmp, "qkv3.h5")
    with h5py.File(os.path.join(source, "data", "qkv_sample.h5"), "r") as f, h5py.File(qkv3, "w") as g:
        for name in ("Q", "K", "V"):
            g[name] = f[name][:, 0, :16, :]
    attn3 = os.path.join(tmp, "attn3.h5")
    run("eval", "-i", qkv3, "-o", attn3, "--intermediates", cwd=tmp)
    ev = xr.open_dataset(attn3, engine="h5netcdf")
    assert ev["output"].dims == ("batch", "query", "dim") and ev["S"].dims == ("batch", "query", "key"), ev
    assert ev.sizes["query"] == ev.sizes["key"] == 16

    # A tile: Q [dim], K [token, dim], and per line [token] in /lines.
    tile = os.path.join(tmp, "tile.h5")
    run("tile", "--tokens", "2", "--dims", "3", "--seed", "1", "-o", tile, cwd=tmp)
    tl = xr.open_dataset(tile, engine="h5netcdf")
    assert tl["K"].dims == ("token", "dim") and tl["Q"].dims == ("dim",), tl
    assert dict(tl.sizes) == {"token": 2, "dim": 3} and tl["K"].attrs["units"] == "V"
    lines = xr.open_dataset(tile, engine="h5netcdf", group="lines")
    for v in ("q_line_c", "v_int_v", "c2p_pulse_width_s"):
        assert lines[v].dims == ("token",), (v, lines[v].dims)
    with netCDF4.Dataset(tile) as nc:
        assert nc["K"].dimensions == ("token", "dim") and nc["lines"]["q_line_c"].dimensions == ("token",)
    # gaincell-sweep/1 (tests/store/data): why /2 exists. Its /measures had no visible dimensions
    # for xarray, and netCDF4-python fails on its enum status.
    v1 = os.path.join(source, "tests", "store", "data", "v1_faulty_rc.h5")
    try:
        xr.open_dataset(v1, engine="h5netcdf", group="measures")
        raise AssertionError("xarray opened the measures of a gaincell-sweep/1 file")
    except KeyError as e:
        assert "mode" in str(e) or "v_in" in str(e), e
    try:
        netCDF4.Dataset(v1).close()
        raise AssertionError("netCDF4 opened a gaincell-sweep/1 file")
    except AttributeError:
        pass
print("check_netcdf_readers: xarray (h5netcdf) and netCDF4 read sweep, shard, merged, evaluator and tile files")
