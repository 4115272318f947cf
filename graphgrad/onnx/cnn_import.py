"""The import entries of the convolutional operators: Conv, ConvTranspose, the pools, Pad, Gelu.

Each is computed by graphgrad's own op (Conv2d, MaxPool2d, ...), so an imported network trains
like one built here. ONNX pads each side on its own (begins, then ends) where PyTorch's ops pad
both sides alike: uneven pads become an explicit Pad first (or, for ConvTranspose, a crop after).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .. import ops
from ..autograd.tensor import Tensor
from ..ops.conv import Conv1d, Conv2d, ConvTranspose2d
from ..ops.padding import Pad
from ..ops.pooling import AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from ..ops.reductions import Max, Mean
from .errors import ONNXError


def _spatial(node, x, what: str = "") -> int:
    """The number of spatial axes of x (N, C, ...): 1 or 2, else a clear error."""
    n = x.ndim - 2
    if n not in (1, 2):
        raise ONNXError(f"ONNX import: {node.where()}{what} on a {x.ndim}-D input {x.shape}: only 1-D and 2-D "
                        f"(N, C, L) or (N, C, H, W) inputs are supported")
    return n


def _ints(node, key: str, n: int, default: int) -> tuple:
    return tuple(int(v) for v in node.attrs.get(key, [default] * n))


def _pads(node, size: tuple, kernel: tuple, strides: tuple, dilations: tuple) -> tuple[tuple, tuple]:
    """(begins, ends) from `pads` or `auto_pad` (SAME_UPPER puts the odd pad at the end, SAME_LOWER at the start)."""
    n = len(kernel)
    auto = node.attrs.get("auto_pad", "NOTSET")
    if auto == "NOTSET":
        pads = _ints(node, "pads", 2 * n, 0)
        return pads[:n], pads[n:]
    if auto == "VALID":
        return (0,) * n, (0,) * n
    if auto not in ("SAME_UPPER", "SAME_LOWER"):
        raise ONNXError(f"ONNX import: {node.where()} has auto_pad={auto!r}; expected NOTSET, VALID, SAME_UPPER or SAME_LOWER")
    totals = [max(0, (-(-m // s) - 1) * s + d * (k - 1) + 1 - m) for m, k, s, d in zip(size, kernel, strides, dilations)]
    small = [t // 2 for t in totals]
    large = [t - t // 2 for t in totals]
    return (tuple(small), tuple(large)) if auto == "SAME_UPPER" else (tuple(large), tuple(small))


def _padded(x, begins: tuple, ends: tuple, value: float = 0.0):
    """x with its spatial axes padded by (begins, ends) (graphgrad's pad tuple runs last axis first)."""
    if not any(begins) and not any(ends):
        return x
    pad = tuple(p for b, e in reversed(list(zip(begins, ends))) for p in (b, e))
    return Pad(pad, "constant", value)(x)


def _conv(node, x, w, b=None):
    """Conv: graphgrad's Conv1d/Conv2d; uneven pads as an explicit Pad first."""
    n = _spatial(node, x)
    strides, dilations = _ints(node, "strides", n, 1), _ints(node, "dilations", n, 1)
    begins, ends = _pads(node, x.shape[2:], tuple(w.shape[2:]), strides, dilations)
    padding = begins
    if begins != ends:
        x, padding = _padded(x, begins, ends), 0
    op = (Conv2d if n == 2 else Conv1d)(strides, padding, dilations, int(node.attrs.get("group", 1)))
    return op(x, w) if b is None else op(x, w, b)


def _conv_transpose(node, x, w, b=None):
    """ConvTranspose: graphgrad's ConvTranspose2d (a 1-D one over a height-1 image); uneven pads as a crop."""
    n = _spatial(node, x)
    if "output_shape" in node.attrs or node.attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise ONNXError(f"ONNX import: {node.where()} sets output_shape or auto_pad SAME_*; only explicit pads "
                        f"(and output_padding) are supported")
    strides, dilations = _ints(node, "strides", n, 1), _ints(node, "dilations", n, 1)
    extra = _ints(node, "output_padding", n, 0)
    pads = (0,) * (2 * n) if node.attrs.get("auto_pad") == "VALID" else _ints(node, "pads", 2 * n, 0)
    begins, ends = pads[:n], pads[n:]
    padding = begins if begins == ends else (0,) * n
    if n == 1:  # as 2-D over a height-1 image
        x, w = (ops.reshape(t, tuple(t.shape[:2]) + (1,) + tuple(t.shape[2:])) for t in (x, w))
        strides, dilations, extra, padding = (1,) + strides, (1,) + dilations, (0,) + extra, (0,) + padding
    op = ConvTranspose2d(strides, padding, extra, int(node.attrs.get("group", 1)), dilations)
    y = op(x, w) if b is None else op(x, w, b)
    if begins != ends:
        y = ops.getitem(y, (slice(None),) * (4 - n) + tuple(
            slice(lo, m - hi) for lo, hi, m in zip(begins, ends, y.shape[4 - n:])))
    return ops.reshape(y, tuple(y.shape[:2]) + tuple(y.shape[3:])) if n == 1 else y


def _pool_settings(node, x, n: int) -> tuple:
    """kernel, strides (ONNX's default 1, not the kernel), (begins, ends), dilations, ceil_mode."""
    kernel = tuple(int(k) for k in node.attrs["kernel_shape"])
    strides, dilations = _ints(node, "strides", n, 1), _ints(node, "dilations", n, 1)
    begins, ends = _pads(node, x.shape[2:], kernel, strides, dilations)
    return kernel, strides, begins, ends, dilations, bool(node.attrs.get("ceil_mode", 0))


def _even(begins: tuple, ends: tuple, kernel: tuple) -> bool:
    """True when PyTorch's pools take these pads as they are (both sides alike, at most half the kernel)."""
    return begins == ends and all(2 * p <= k for p, k in zip(begins, kernel))


def _max_pool(node, x):
    """MaxPool: graphgrad's MaxPool1d/2d; other pads as an explicit -inf Pad first."""
    n = _spatial(node, x)
    if len(node.outputs) > 1 and node.outputs[1]:
        raise ONNXError(f"ONNX import: {node.where()} also outputs the maxima's indices, which graphgrad does not import")
    kernel, strides, begins, ends, dilations, ceil = _pool_settings(node, x, n)
    padding = begins
    if not _even(begins, ends, kernel):
        x, padding = _padded(x, begins, ends, -math.inf), 0
    return (MaxPool2d if n == 2 else MaxPool1d)(kernel, strides, padding, dilations, ceil)(x)


def _avg_pool(node, x):
    """AveragePool: graphgrad's AvgPool1d/2d (ONNX's count_include_pad defaults to 0).

    Other pads: the mean over the explicitly zero-padded input; without count_include_pad, divided
    by the share of each window that is input (the same pool over a mask of ones).
    """
    n = _spatial(node, x)
    kernel, strides, begins, ends, dilations, ceil = _pool_settings(node, x, n)
    if any(d != 1 for d in dilations):
        raise ONNXError(f"ONNX import: {node.where()} has dilations {dilations}; graphgrad's average pooling has none")
    include = bool(node.attrs.get("count_include_pad", 0))
    pool = AvgPool2d if n == 2 else AvgPool1d
    if _even(begins, ends, kernel):
        return pool(kernel, strides, begins, ceil, include)(x)
    y = pool(kernel, strides, 0, ceil, True)(_padded(x, begins, ends))
    if include:
        return y
    ones = Tensor(np.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype))
    share = pool(kernel, strides, 0, ceil, True)(_padded(ones, begins, ends))
    return y / Tensor(share.data)


def _global(reduce: type) -> Callable:
    """GlobalAveragePool/GlobalMaxPool: over every spatial axis, kept as size 1."""
    return lambda node, x: reduce(tuple(range(2, x.ndim)), True)(x)


PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def _pad(node, x, pads=None, value=None, axes=None):
    """Pad (constant, reflect, edge, wrap); pads from the input (opset 11) or the attribute, axes from opset 18."""
    mode = node.attrs.get("mode", "constant")
    if mode not in PAD_MODES:
        raise ONNXError(f"ONNX import: {node.where()} has mode {mode!r}; expected one of {', '.join(PAD_MODES)}")
    if node.opset < 11:
        widths, fill = np.asarray(node.attrs["pads"], np.int64), node.attrs.get("value", 0.0)
    else:
        widths = np.asarray(pads.data, np.int64)
        fill = 0.0 if value is None or value.data.size == 0 else float(value.data.reshape(-1)[0])
    where = list(range(x.ndim)) if axes is None else [int(a) % x.ndim for a in axes.data.reshape(-1)]
    k = len(where)
    if widths.size != 2 * k or (widths < 0).any():
        raise ONNXError(f"ONNX import: {node.where()} has pads {widths.tolist()}; expected {2 * k} non-negative "
                        f"numbers for input {x.shape} (negative pads crop, which is not supported)")
    side = dict(zip(where, zip(widths[:k].tolist(), widths[k:].tolist())))
    last = max((a for a, w in side.items() if any(w)), default=None)
    if last is None:
        return x
    pad = tuple(p for a in range(last, -1, -1) for p in side.get(a, (0, 0)))
    return Pad(pad, PAD_MODES[mode], fill)(x)


def _gelu(node, x):
    """Gelu (opset 20): x·Φ(x) exactly (with graphgrad's erf op), or its tanh approximation."""
    if node.attrs.get("approximate", "none") == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2 / math.pi)
        return x * (ops.tanh(inner) + 1.0) * 0.5
    erf = getattr(ops, "erf", None)
    if erf is None:
        raise ONNXError(f"ONNX import: {node.where()} (approximate='none') needs graphgrad's erf op, "
                        f"which this version of graphgrad lacks")
    return x * (erf(x * (1 / math.sqrt(2))) + 1.0) * 0.5


CNN_IMPORTERS: dict[str, Callable] = {
    "Conv": _conv, "ConvTranspose": _conv_transpose, "MaxPool": _max_pool, "AveragePool": _avg_pool,
    "GlobalAveragePool": _global(Mean), "GlobalMaxPool": _global(Max), "Pad": _pad, "Gelu": _gelu,
}
if hasattr(ops, "erf"):  # the error function arrives with the PyTorch-surface ops
    CNN_IMPORTERS["Erf"] = lambda node, x: ops.erf(x)

# Inputs read as numbers: Pad's widths, fill value and axes.
CNN_SETTING_INPUTS: dict[str, tuple] = {"Pad": (1, 2, 3)}
