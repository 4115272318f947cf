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
from .backend import array_ops, as_array

_EVERY_INPUT = (True,) * 16  # driven by hand, every input's gradient is wanted


class Function:
    """Base class of every operation; subclass it with `forward` and `backward` to add your own."""

    __slots__ = ("inputs", "outputs", "needs_input_grad", "released", "__dict__", "__weakref__")
    xp = array_ops  # the namespace backward computes with; graphgrad's own ops under create_graph

    def __new__(cls, *args, **kwargs):
        fn = super().__new__(cls)
        fn.inputs = ()
        fn.outputs = ()
        fn.needs_input_grad = _EVERY_INPUT
        fn.released = False
        return fn

    def forward(self, *xs):
        """Compute the output array(s) from input arrays, keeping on `self` what backward needs."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def backward(self, *gys):
        """Return the gradient for each input (a tuple, or one value for one input)."""
        raise NotImplementedError(f"{type(self).__name__} must define backward()")

    def __call__(self, *inputs):
        from .tensor import Tensor

        tensors = inputs if all(isinstance(x, Tensor) for x in inputs) else _wrap_constants(inputs)
        ys = self.forward(*[t.data for t in tensors])
        single = not isinstance(ys, tuple)
        if single:
            ys = (ys,)
        ys = tuple(self._as_saved_array(y) for y in ys)
        outs = tuple(Tensor(y) for y in ys)
        if mode.anomaly:
            check_finite(self, "forward", ys)
        if mode.grad_enabled and any(t.requires_grad for t in tensors):
            self.inputs = tensors
            self.needs_input_grad = tuple(t.requires_grad for t in tensors)
            self.outputs = tuple(weakref.ref(o) for o in outs)
            for o in outs:
                o.creator = self
                o.requires_grad = True
        return outs[0] if single else outs

    def _as_saved_array(self, y):
        """Outputs must be ndarrays; a NumPy scalar kept on self is replaced by the same array."""
        if isinstance(y, np.ndarray):
            return y
        arr = as_array(y) if not isinstance(y, np.generic) else np.asarray(y)
        for key, value in self.__dict__.items():
            if value is y:
                self.__dict__[key] = arr
        return arr

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _wrap_constants(inputs) -> tuple:
    """Wrap non-tensor inputs as constants; Python numbers take the dtype of the tensors beside them."""
    from .tensor import Tensor

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
        if a is not None and np.issubdtype(np.asarray(a).dtype, np.inexact) and not np.isfinite(a).all():
            what = "output" if phase == "forward" else "gradient for input"
            raise FloatingPointError(
                f"detect_anomaly: {type(fn).__name__}.{phase} produced NaN or Inf in its {what} {i} "
                f"(shape {np.shape(a)})"
            )
