"""How a value or a gradient is written on a picture: numbers for small arrays, statistics for big ones."""
from __future__ import annotations

import numpy as np

SMALL = 6  # arrays up to this many elements are written out in full
HEAD = 8  # how many leading elements the explorer's detail panel lists for a big array


def fmt(v: float, digits: int = 4) -> str:
    """A number in at most `digits` significant digits, without a trailing '.0' (2.2, 110, -0.25)."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    v = float(v)
    if v == 0:
        return "0"  # also turns -0.0 into 0
    return f"{v:.{digits}g}"


def shape_text(shape) -> str:
    """(2, 3) -> '(2, 3)'; a scalar's () stays '()'."""
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def summarize(a) -> dict:
    """A JSON-ready description of an array: shape, dtype, a short label and the detail text."""
    a = np.asarray(a)
    out = {"shape": list(a.shape), "dtype": str(a.dtype)}
    if a.size == 0:
        out["label"] = out["stats"] = f"empty {shape_text(a.shape)}"
        return out
    numeric = a.astype(np.float64) if a.dtype != np.float64 else a
    if a.size == 1:
        out["label"] = fmt(numeric.reshape(()))
        out["full"] = fmt(numeric.reshape(()), 10)
    elif a.size <= SMALL:
        out["label"] = "[" + ", ".join(fmt(v) for v in numeric.ravel()) + "]"
        out["full"] = np.array2string(numeric, precision=6, separator=", ")
    else:
        out["label"] = shape_text(a.shape)
        out["head"] = [fmt(v, 6) for v in numeric.ravel()[:HEAD]]
    if a.size > 1:
        with np.errstate(all="ignore"):
            lo, mean, hi = numeric.min(), numeric.mean(), numeric.max()
        out["min"], out["mean"], out["max"] = fmt(lo, 6), fmt(mean, 6), fmt(hi, 6)
        out["stats"] = f"min {fmt(lo)} mean {fmt(mean)} max {fmt(hi)}"
    return out


def long_label(s: dict) -> str:
    """The label plus statistics for a big array: what DOT writes on an edge."""
    if "head" in s:
        return f"{s['label']} {s['stats']}"
    if len(s["shape"]) > 1:  # a small matrix, flattened: say its shape
        return f"{shape_text(s['shape'])} {s['label']}"
    return s["label"]
