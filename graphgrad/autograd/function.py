"""Function: one operation with a forward and a backward, used by hand or recorded in a graph.

A Function is the textbook's layer: `forward(*xs)` computes from arrays and keeps what
backward needs on `self`; `backward(*gys)` turns the gradient of the final result with respect
to each output into the gradient with respect to each input (local derivative times upstream
gradient). Calling a Function on tensors runs the same forward and records it for the engine.
"""
from __future__ import annotations

import weakref

import numpy as np

from . import mode
from ..backend import array_ops, as_array

_new = object.__new__
_EVERY_INPUT = (True,) * 16  # driven by hand, every input's gradient is wanted


class Function:
    """Base class of every operation; subclass it with `forward` and `backward` to add your own."""

    xp = array_ops  # the namespace backward computes with; graphgrad's own ops under create_graph
    inputs: tuple = ()  # the Tensors it was called on, once recorded
    outputs: tuple = ()  # weak references to the Tensors it made
    needs_input_grad: tuple = _EVERY_INPUT  # which inputs want a gradient
    released = False  # True once backward has freed what forward saved

    def forward(self, *xs):
        """Compute the output array(s) from input arrays, keeping on `self` what backward needs."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def backward(self, *gys):
        """Return the gradient for each input (a tuple, or one value for one input)."""
        raise NotImplementedError(f"{type(self).__name__} must define backward()")

    def __call__(self, *inputs):
        for x in inputs:
            if not isinstance(x, Tensor):
                inputs = _wrap_constants(inputs)
                break
        n = len(inputs)  # the usual arities unrolled: comprehensions would cost more than the bookkeeping
        if n == 1:
            (a,) = inputs
            ys, needs = self.forward(a.data), (a.requires_grad,)
        elif n == 2:
            a, b = inputs
            ys, needs = self.forward(a.data, b.data), (a.requires_grad, b.requires_grad)
        elif n == 3:
            a, b, c = inputs
            ys, needs = self.forward(a.data, b.data, c.data), (a.requires_grad, b.requires_grad, c.requires_grad)
        else:
            ys = self.forward(*[t.data for t in inputs])
            needs = tuple([t.requires_grad for t in inputs])
        if type(ys) is tuple:
            return self._record(inputs, needs, tuple([Tensor(self._as_saved_array(y)) for y in ys]))
        out = _new(Tensor)  # Tensor(ys) without __init__'s checks: ys is this op's own fresh array
        out.data = ys if type(ys) is np.ndarray else self._as_saved_array(ys)
        if mode.anomaly:
            check_finite(self, "forward", (out,))
        if mode.grad_enabled and True in needs:  # the one-output case of _record, inlined
            self.inputs, self.needs_input_grad, self.outputs = inputs, needs, (weakref.ref(out),)
            out.creator, out.requires_grad = self, True
        return out

    def _record(self, inputs: tuple, needs: tuple, outs: tuple) -> tuple:
        """Remember inputs and (weakly) outputs for backward, if any input requires grad."""
        if mode.anomaly:
            check_finite(self, "forward", outs)
        if mode.grad_enabled and True in needs:
            self.inputs, self.needs_input_grad = inputs, needs
            self.outputs = tuple([weakref.ref(o) for o in outs])
            for o in outs:
                o.creator, o.requires_grad = self, True
        return outs

    def _as_saved_array(self, y) -> np.ndarray:
        """Outputs must be ndarrays; a NumPy scalar kept on self is replaced by the same array."""
        if type(y) is np.ndarray:
            return y
        arr = np.asarray(y) if isinstance(y, (np.ndarray, np.generic)) else as_array(y)
        for key, value in self.__dict__.items():
            if value is y:
                self.__dict__[key] = arr
        return arr

    def release(self) -> None:
        """Free what forward saved, keeping only the graph's structure (after backward)."""
        self.__dict__ = {"inputs": self.inputs, "outputs": self.outputs, "released": True}

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _wrap_constants(inputs) -> tuple:
    """Wrap non-tensor inputs as constants; Python numbers take the dtype of the tensors beside them."""
    ref = next((x.data for x in inputs if isinstance(x, Tensor)), None)
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            out.append(x)
        elif isinstance(x, (int, float, bool)) and ref is not None:
            out.append(Tensor(np.asarray(x, dtype=np.result_type(ref.dtype, x))))
        else:
            out.append(Tensor(as_array(x)))
    return tuple(out)


def check_finite(fn: Function, phase: str, arrays) -> None:
    """Raise FloatingPointError naming `fn` if any array holds NaN or Inf (anomaly mode)."""
    for i, a in enumerate(arrays):
        a = getattr(a, "data", a)
        if a is None or not np.issubdtype(np.asarray(a).dtype, np.inexact):
            continue
        if not np.isfinite(a).all():
            what = "output" if phase == "forward" else "gradient for input"
            raise FloatingPointError(
                f"detect_anomaly: {type(fn).__name__}.{phase} produced NaN or Inf in its {what} {i} "
                f"(shape {np.shape(a)})"
            )


from .tensor import Tensor  # noqa: E402  (tensor.py needs Function defined first)
