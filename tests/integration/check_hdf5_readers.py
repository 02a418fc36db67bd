#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The results file is readable without gaincell: h5py sees named dimensions
with units, the status with its flag meanings and the provenance; h5dump prints
the header. (netCDF-4 readers: check_netcdf_readers.py.)

Usage: check_hdf5_readers.py SOURCE_DIR   (GAINCELL = path of the gaincell binary)
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

source = sys.argv[1]
gaincell = os.environ["GAINCELL"]
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "mult.h5")
    spec = os.path.join(source, "characterization", "pushpull_multiply.json")
    subprocess.run([gaincell, "-q", "sweep", spec, "-o", out, "--jobs", "2"], check=True, stdout=subprocess.DEVNULL)

    with h5py.File(out, "r") as f:
        assert f.attrs["gaincell_format"] == "gaincell-sweep/2", f.attrs["gaincell_format"]
        for key in ("gaincell_version", "ngspice_version", "spec_sha256", "template_sha256", "spec_json"):
            assert key in f.attrs, key
        assert len(f.attrs["spec_sha256"]) == 64
        q = f["measures/q_line_c"]
        assert q == f["q_line_c"], "/measures/q_line_c and /q_line_c are one dataset"
        assert q.shape == (8, 16), q.shape
        assert q.attrs["units"] == "C"
        # Each dimension has one scale, named like the dimension: the axis at the root.
        dims = [d.keys()[0] for d in q.dims]       # as docs/hdf5_layout.md
        assert dims == ["v_store", "t_pulse"] and all(len(d) == 1 for d in q.dims), dims
        assert q.dims[0][0] == f["v_store"] == f["axes/v_store"]
        assert q.dims[0][0].attrs["units"] == "V"
        assert q.dims[1][0].attrs["units"] == "s"
        np.testing.assert_allclose(q.dims[1][0][:], np.linspace(0, 15e-9, 16), rtol=1e-12, atol=0)
        status = f["status"]
        assert status.dtype == np.uint8 and h5py.check_enum_dtype(status.dtype) is None, status.dtype
        meaning = dict(zip(status.attrs["flag_values"], status.attrs["flag_meanings"].split()))
        assert meaning[0] == "ok" and meaning[5] == "timeout" and meaning[255] == "not_run", meaning
        assert (status[...] == 0).all()
        assert np.isfinite(q[...]).all()
        assert f["message"].shape == (8, 16)
        assert f["timing/run_time_s"].attrs["units"] == "s"
        assert (f["timing/run_time_s"][...] > 0).all()
        measures = len(f["measures"])

    dump = subprocess.run(["h5dump", "-H", out], check=True, capture_output=True, text=True).stdout
    for needle in ('DATASET "q_line_c"', 'ATTRIBUTE "units"', 'DATASET "status"', "H5T_STD_U8LE", "DIMENSION_LIST",
                   'ATTRIBUTE "flag_meanings"', 'ATTRIBUTE "REFERENCE_LIST"'):
        assert needle in dump, needle
    # The second name of each measure and axis is printed as a hard link.
    assert dump.count("HARDLINK") == measures + 2, dump.count("HARDLINK")
# The same h5py paths read a gaincell-sweep/1 file (tests/store/data).
with h5py.File(os.path.join(source, "tests", "store", "data", "v1_gc3t_retention.h5"), "r") as f:
    assert f.attrs["gaincell_format"] == "gaincell-sweep/1"
    assert f["measures/v_sn_end_v"].shape == (3, 3) and list(f["axes/corner"].asstr()[...]) == ["tt", "ff", "ss"]
    assert (f["status"][...] == 0).all() and f["message"].shape == (3, 3) and f["timing/run_time_s"].shape == (3, 3)
    tr = f["measures/v_sn_trace_v"]
    assert tr.dims[2][0].shape == (31,) and tr.dims[2][0].attrs["units"] == "s"
print("check_hdf5_readers: h5py and h5dump read the results file")
