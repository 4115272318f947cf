"""The export entries of the convolutional networks' ops: Conv, ConvTranspose, pooling and Pad.

The ops keep their window geometry (`fn.geometry`: kernel, stride, pads per side, dilation,
groups, as a 2-D geometry even for 1-D ops), so every attribute is read from what the forward
pass computed, never recomputed here. Padding becomes ONNX's explicit begin/end `pads`: that
covers 'same' (uneven sides) and PyTorch's ceil_mode (a longer last side) alike. Where such a
setting depends on the spatial size, export checks that the size is fixed.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..ops.conv import pair
from .emitter import Emitter
from .errors import ONNXError
from .trace import Op


def _spatial(fn) -> int:
    """How many spatial axes the op works on (1-D ops carry a 2-D geometry over a height-1 image)."""
    return getattr(fn, "spatial", 2)


def _window(fn) -> dict:
    """kernel_shape, strides, pads (begins, then ends) and dilations of the op's geometry."""
    g, drop = fn.geometry, 2 - _spatial(fn)
    pads = g.pads[drop:]
    return {"kernel_shape": list(g.kernel[drop:]), "strides": list(g.stride[drop:]),
            "pads": [lo for lo, _ in pads] + [hi for _, hi in pads], "dilations": list(g.dilation[drop:])}


def _fixed_spatial(op: Op, why: str) -> None:
    """Refuse a mapping that holds for the traced spatial size only when that size is dynamic."""
    x = op.inputs[0]
    if x.twin_shape is not None and tuple(x.twin_shape[2:]) != tuple(x.shape[2:]):
        raise ONNXError(f"export: {op.where()}: {why} depends on the spatial size {tuple(x.shape[2:])}, which "
                        f"dynamic_axes makes variable; export with fixed spatial axes")


def _conv(e: Emitter, op: Op) -> None:
    """Conv1d/Conv2d: Conv with the forward pass's pads ('same' may pad one side more)."""
    e.node("Conv", e.inputs(op), e.out(op), group=int(op.fn.geometry.groups), **_window(op.fn))


def _conv_transpose(e: Emitter, op: Op) -> None:
    """ConvTranspose2d: the same output size rule as PyTorch's, output_padding included."""
    extra = pair("conv_transpose2d", "output_padding", op.fn.output_padding, minimum=0)
    e.node("ConvTranspose", e.inputs(op), e.out(op), group=int(op.fn.geometry.groups),
           output_padding=list(extra), **_window(op.fn))


def _uneven(op: Op) -> bool:
    """True when ceil_mode gave the last window more padding than the first; as those pads hold for
    the traced size only, a dynamic spatial size is refused then."""
    uneven = any(hi != lo for lo, hi in op.fn.geometry.pads)
    if uneven:
        _fixed_spatial(op, "ceil_mode's extra padding")
    return uneven


def _max_pool(e: Emitter, op: Op) -> None:
    """MaxPool1d/2d: MaxPool with explicit pads (padding never wins, as PyTorch's -inf).

    ONNX Runtime wants each pad smaller than the kernel; a dilated window's ceil_mode padding can
    be longer, and then an explicit Pad with -inf comes first.
    """
    attrs, x = _window(op.fn), e.name(op.inputs[0])
    _uneven(op)
    n = len(attrs["kernel_shape"])
    if any(p >= k for p, k in zip(attrs["pads"], attrs["kernel_shape"] * 2)):
        pads = [0, 0] + attrs["pads"][:n] + [0, 0] + attrs["pads"][n:]
        fill = e.constant(-np.inf, op.inputs[0].dtype, "fill")
        x = e.node("Pad", [x, e.ints(pads, "pads"), fill], mode="constant")
        attrs["pads"] = [0] * (2 * n)
    e.node("MaxPool", [x], e.out(op), **attrs)


def _avg_pool(e: Emitter, op: Op) -> None:
    """AvgPool1d/2d: AveragePool, with PyTorch's divisor.

    With count_include_pad PyTorch divides by the window clipped to the input and `padding`, so a
    window reaching into ceil_mode's extra padding divides by less than the kernel's size, where
    ONNX divides by the whole kernel: a constant factor then puts it right.
    """
    attrs = _window(op.fn)
    del attrs["dilations"]  # AveragePool has them from opset 19 only; PyTorch's avg_pool has none
    include = bool(op.fn.count_include_pad)
    uneven = _uneven(op)
    kernel = math.prod(attrs["kernel_shape"])
    divisor = np.asarray(op.fn.divisor).reshape((1, 1) + tuple(op.output.shape[2:]))
    fix = include and uneven and bool(np.any(divisor != kernel))
    y = e.node("AveragePool", [e.name(op.inputs[0])], None if fix else e.out(op),
               count_include_pad=int(include), **attrs)
    if fix:
        e.node("Mul", [y, e.constant(kernel / divisor, op.output.dtype, "divisor_fix")], e.out(op))


def _adaptive(global_type: str, window_type: str) -> Callable:
    """AdaptiveAvg/MaxPool2d: the Global* operator for a 1x1 output; for an output size that divides the
    input's, the equal windows of the plain pool; other sizes have uneven bins, which ONNX's pools lack."""
    def emit(e: Emitter, op: Op) -> None:
        size, out = tuple(op.inputs[0].shape[2:]), tuple(op.output.shape[2:])
        if out == (1,) * len(out):
            e.node(global_type, e.inputs(op), e.out(op))
            return
        if any(n % o for n, o in zip(size, out)):
            raise ONNXError(f"export: {op.where()}: output size {out} does not divide the input's {size}, so its "
                            f"bins are uneven and no ONNX pool computes them; use an input size divisible by "
                            f"the output size (or output size 1)")
        _fixed_spatial(op, f"output size {out} as equal windows")
        kernel = [n // o for n, o in zip(size, out)]
        e.node(window_type, e.inputs(op), e.out(op), kernel_shape=kernel, strides=kernel)
    return emit


PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad(e: Emitter, op: Op) -> None:
    """Pad: constant, reflect and replicate (edge); circular needs opset 19 (wrap)."""
    fn, ndim = op.fn, len(op.inputs[0].shape)
    if fn.mode == "circular" and e.opset < 19:
        raise ONNXError(f"export: {op.where()}: circular padding needs opset_version 19 or later (ONNX's 'wrap')")
    widths = [fn.widths.get(a, (0, 0)) for a in range(ndim)]
    inputs = [e.name(op.inputs[0]), e.ints([lo for lo, _ in widths] + [hi for _, hi in widths], "pads")]
    if fn.mode == "constant":
        inputs.append(e.constant(fn.value, op.inputs[0].dtype, "pad_value"))
    e.node("Pad", inputs, e.out(op), mode=PAD_MODES[fn.mode])


CNN_EXPORTERS: dict[str, Callable[[Emitter, Op], None]] = {
    "Conv1d": _conv, "Conv2d": _conv, "ConvTranspose2d": _conv_transpose,
    "MaxPool1d": _max_pool, "MaxPool2d": _max_pool, "AvgPool1d": _avg_pool, "AvgPool2d": _avg_pool,
    "AdaptiveAvgPool2d": _adaptive("GlobalAveragePool", "AveragePool"),
    "AdaptiveMaxPool2d": _adaptive("GlobalMaxPool", "MaxPool"), "Pad": _pad,
}
