# SPDX-License-Identifier: MIT
"""gaincell for Python (docs/python.md): numpy arrays in and out.

    import gaincell
    ev = gaincell.Evaluator("reference", settings={"window": 256})
    out = ev.forward(Q, K, V)                    # the array-level attention evaluator

    m = gaincell.Model("fits/multiply.paper_poly.json")
    q = m(t_pulse, v_store)                      # any fitted model, inputs broadcast like numpy

    r = gaincell.load_results("sweeps/multiply.h5")
    r.measures["q_line_c"], r.units["q_line_c"], r.axes["v_store"], r.status
"""
import warnings

import numpy as np

from ._core import (  # noqa: F401  (re-exported)
    DecodeSession,
    Evaluator,
    InputError,
    IoError,
    __version__,
    presets,
)
from . import _core

__all__ = ["Evaluator", "DecodeSession", "Model", "Results", "load_results", "presets", "InputError", "IoError",
           "STATUS_NAMES", "__version__"]

#: The outcome of a sweep point, by its code in a results file's status (docs/hdf5_layout.md).
STATUS_NAMES = dict(_core._status_names())


class Model:
    """A fitted model file (gaincell-model/1: paper_poly, poly, exp_decay, hard_sigmoid or lut),
    evaluated exactly as the gaincell library evaluates it.

    ``m(x0, x1, ...)`` takes one array per input, in the order of ``m.inputs`` (each in its SI
    unit), broadcast against each other; ``m(X)`` also takes one array whose last axis holds the
    inputs. Returns float64 values in ``m.output["unit"]``. Inputs outside a model's valid range
    are clamped to it (with one RuntimeWarning per call), or raise InputError (GC-1609) when the
    file says ``"out_of_range": "error"``.
    """

    def __init__(self, path):
        self._m = _core._Model(str(path))

    kind = property(lambda self: self._m.kind, doc="the model kind, e.g. 'paper_poly'")
    inputs = property(lambda self: self._m.inputs, doc="[{name, unit, min, max}] in call order")
    output = property(lambda self: self._m.output, doc="{name, unit, min, max} of the value")
    document = property(lambda self: self._m.document, doc="the model file as a dict")
    path = property(lambda self: self._m.path)

    def __repr__(self):
        ins = ", ".join(f"{i['name']} [{i['unit']}]" for i in self.inputs)
        return f"<gaincell.Model {self.kind}: {self.output['name']} [{self.output['unit']}] of ({ins})>"

    def __call__(self, *args):
        n = len(self.inputs)
        if len(args) == 1 and n > 1:
            x = np.asarray(args[0], dtype=np.float64)
            if x.ndim == 0 or x.shape[-1] != n:
                raise ValueError(f"model {self.path}: one array of inputs needs a last axis of {n} "
                                 f"({', '.join(i['name'] for i in self.inputs)}); got shape {x.shape}")
            columns = [x[..., d] for d in range(n)]
        elif len(args) == n:
            columns = [np.asarray(a, dtype=np.float64) for a in args]
        else:
            raise TypeError(f"model {self.path} takes {n} inputs "
                            f"({', '.join(i['name'] for i in self.inputs)}); got {len(args)}")
        columns = np.broadcast_arrays(*columns)
        shape = columns[0].shape
        rows = np.stack([c.reshape(-1) for c in columns], axis=1) if n else np.zeros((1, 0))
        values, clamped = self._m.evaluate(np.ascontiguousarray(rows))
        if clamped:
            warnings.warn(f"model {self.path}: {clamped} input value(s) outside the valid range were clamped",
                          RuntimeWarning, stacklevel=2)
        return values.reshape(shape)


class Results:
    """A sweep results file, read by the gaincell library.

    measures: {name: float64 array shaped by the axes (a trace: one more, last, axis)},
    NaN where a point failed; units: {name: unit} of every measure and axis; axes: {name: values}
    in spec order (a corner axis: 0..n-1, its names in labels); trace_times: {measure: seconds};
    status: uint8 array shaped by the axes (STATUS_NAMES names each code); messages: list, flat;
    attributes: the root provenance attributes. A Slurm shard file keeps the flat per-point
    order, with the global point numbers in point_index.
    """

    def __init__(self, path):
        d = _core._read_results(str(path))
        self.path = str(path)
        self.axes = {a["name"]: a["values"] for a in d["axes"]}
        self.labels = {a["name"]: list(a["labels"]) for a in d["axes"] if a["labels"]}
        self.units = {a["name"]: a["unit"] for a in d["axes"]}
        self.descriptions = {a["name"]: a["description"] for a in d["axes"]}
        self.point_index = d["point_index"]
        shape = tuple(len(a["values"]) for a in d["axes"])
        if len(self.point_index) or int(np.prod(shape)) != len(d["status"]):  # a shard: its stored points
            shape = (len(d["status"]),)
        self.shape = shape
        self.measures, self.trace_times = {}, {}
        for m in d["measures"]:
            width = len(m["trace_times_s"])
            self.measures[m["name"]] = m["values"].reshape(shape + ((width,) if width else ()))
            self.units[m["name"]] = m["unit"]
            self.descriptions[m["name"]] = m["description"]
            if width:
                self.trace_times[m["name"]] = m["trace_times_s"]
        self.status = d["status"].reshape(shape)
        self.messages = list(d["messages"])
        self.parse_time_s = d["parse_time_s"].reshape(shape)
        self.run_time_s = d["run_time_s"].reshape(shape)
        self.attributes = dict(d["attributes"])

    @property
    def ok(self):
        """Boolean array: the points whose status is ok."""
        return self.status == 0

    def __repr__(self):
        axes = ", ".join(f"{k}[{len(v)}] ({self.units[k]})" for k, v in self.axes.items())
        return f"<gaincell.Results {self.path}: {', '.join(self.measures)} over {axes}>"


def load_results(path):
    """Reads a sweep results file (HDF5) into numpy arrays with units: see Results."""
    return Results(path)
