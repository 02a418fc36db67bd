#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The results file is readable without gaincell: h5py sees named dimensions
with units, the status enum and the provenance; h5dump prints the header.

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
        assert f.attrs["gaincell_format"] == "gaincell-sweep/1", f.attrs["gaincell_format"]
        for key in ("gaincell_version", "ngspice_version", "spec_sha256", "template_sha256", "spec_json"):
            assert key in f.attrs, key
        assert len(f.attrs["spec_sha256"]) == 64
        q = f["measures/q_line_c"]
        assert q.shape == (8, 16), q.shape
        assert q.attrs["units"] == "C"
        assert [d.label for d in q.dims] == ["v_store", "t_pulse"], [d.label for d in q.dims]
        assert q.dims[0][0].name == "/axes/v_store"
        assert q.dims[0][0].attrs["units"] == "V"
        assert q.dims[1][0].attrs["units"] == "s"
        np.testing.assert_allclose(q.dims[1][0][:], np.linspace(0, 15e-9, 16), rtol=1e-12, atol=0)
        status = f["status"]
        mapping = h5py.check_enum_dtype(status.dtype)
        assert mapping["ok"] == 0 and mapping["timeout"] == 5 and mapping["not_run"] == 255, mapping
        assert (status[...] == 0).all()
        assert np.isfinite(q[...]).all()
        assert f["message"].shape == (8, 16)
        assert f["timing/run_time_s"].attrs["units"] == "s"
        assert (f["timing/run_time_s"][...] > 0).all()

    dump = subprocess.run(["h5dump", "-H", out], check=True, capture_output=True, text=True).stdout
    for needle in ('DATASET "q_line_c"', 'ATTRIBUTE "units"', 'DATASET "status"', "H5T_ENUM", "DIMENSION_LIST"):
        assert needle in dump, needle
print("check_hdf5_readers: h5py and h5dump read the results file")
