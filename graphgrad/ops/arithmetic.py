"""Arithmetic and elementwise math: each op's forward beside its derivative.

Broadcasting is undone by the engine (gradients are summed back to each input's shape), so
backward here is the plain math.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def _no_broadcast(op: str, x, y) -> ValueError:
    return ValueError(
        f"{op}: shapes {np.shape(x)} and {np.shape(y)} do not broadcast "
        f"(trailing dimensions must be equal or 1)"
    )


class Add(Function):
    """z = x + y.  dz/dx = dz/dy = 1: the add gate hands the upstream gradient to both inputs."""

    def forward(self, x, y):
        try:
            return x + y
        except ValueError:
            raise _no_broadcast("add", x, y) from None

    def backward(self, gz):
        return gz, gz


class Sub(Function):
    """z = x - y.  dz/dx = 1, dz/dy = -1."""

    def forward(self, x, y):
        try:
            return x - y
        except ValueError:
            raise _no_broadcast("sub", x, y) from None

    def backward(self, gz):
        return gz, -gz


class Mul(Function):
    """z = x * y.  dz/dx = y, dz/dy = x: the multiply gate swaps its inputs."""

    def forward(self, x, y):
        self.x, self.y = x, y
        try:
            return x * y
        except ValueError:
            raise _no_broadcast("mul", x, y) from None

    def backward(self, gz):
        need_x, need_y = self.needs_input_grad[:2]
        return (gz * self.y if need_x else None), (gz * self.x if need_y else None)


class Div(Function):
    """z = x / y.  dz/dx = 1/y, dz/dy = -x/y²."""

    def forward(self, x, y):
        self.x, self.y = x, y
        try:
            return x / y
        except ValueError:
            raise _no_broadcast("div", x, y) from None

    def backward(self, gz):
        gx = gz / self.y
        gy = -gx * self.x / self.y if self.needs_input_grad[1] else None
        return gx, gy


class Neg(Function):
    """z = -x.  dz/dx = -1."""

    def forward(self, x):
        return -x

    def backward(self, gz):
        return -gz


class PowScalar(Function):
    """z = x**c for a constant c.  dz/dx = c·x^(c-1)."""

    def __init__(self, c: float):
        self.c = c

    def forward(self, x):
        self.x = x
        return x ** self.c

    def backward(self, gz):
        return gz * self.c * self.x ** (self.c - 1)


class Pow(Function):
    """z = x**y for tensors.  dz/dx = y·x^(y-1), dz/dy = z·log(x)."""

    def forward(self, x, y):
        self.x, self.y = x, y
        try:
            self.z = x ** y
        except ValueError:
            raise _no_broadcast("pow", x, y) from None
        return self.z

    def backward(self, gz):
        need_x, need_y = self.needs_input_grad[:2]
        gx = gz * self.y * self.x ** (self.y - 1) if need_x else None
        gy = gz * self.z * self.xp.log(self.x) if need_y else None
        return gx, gy


class MatMul(Function):
    """z = x @ w.  dz/dx = gz @ wᵀ, dz/dw = xᵀ @ gz (batched over leading axes, 1-D as in NumPy)."""

    def forward(self, x, w):
        self.x, self.w = x, w
        try:
            return x @ w
        except ValueError:
            raise ValueError(
                f"matmul: shapes {x.shape} and {w.shape} are not aligned: the last axis of the first "
                f"must equal the {'second-to-last' if w.ndim > 1 else 'only'} axis of the second"
            ) from None

    def backward(self, gz):
        x, w = self.x, self.w
        need_x, need_w = self.needs_input_grad[:2]
        if x.ndim == 1 and w.ndim == 1:
            return (gz * w if need_x else None), (gz * x if need_w else None)
        if x.ndim == 1:  # (n,) @ (..., n, m): treat x as a row
            x, gz = x.reshape(1, -1), gz.reshape(gz.shape[:-1] + (1, gz.shape[-1]))
        if w.ndim == 1:  # (..., k, n) @ (n,): treat w as a column
            w, gz = w.reshape(-1, 1), gz.reshape(gz.shape + (1,))
        gx = gz @ w.mT if need_x else None
        gw = x.mT @ gz if need_w else None
        if gx is not None and self.x.ndim == 1:
            gx = gx.reshape(gx.shape[:-2] + (gx.shape[-1],))
        if gw is not None and self.w.ndim == 1:
            gw = gw.reshape(gw.shape[:-1])
        return gx, gw


class Exp(Function):
    """y = eˣ.  dy/dx = y."""

    def forward(self, x):
        self.y = np.exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.y


class Log(Function):
    """y = ln x.  dy/dx = 1/x."""

    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, gy):
        return gy / self.x


class Sqrt(Function):
    """y = √x.  dy/dx = 1/(2y)."""

    def forward(self, x):
        self.y = np.sqrt(x)
        return self.y

    def backward(self, gy):
        return gy / (2 * self.y)


class Abs(Function):
    """y = |x|.  dy/dx = sign(x) (0 at 0, as in PyTorch)."""

    def forward(self, x):
        self.sign = np.sign(x)
        return np.abs(x)

    def backward(self, gy):
        return gy * self.sign


class Maximum(Function):
    """z = max(x, y) elementwise: the max gate routes the gradient to the larger input (ties split)."""

    def forward(self, x, y):
        try:
            z = np.maximum(x, y)
        except ValueError:
            raise _no_broadcast("maximum", x, y) from None
        self.to_x = _share(x > y, x == y, z.dtype)
        return z

    def backward(self, gz):
        return gz * self.to_x, gz * (1 - self.to_x)


class Minimum(Function):
    """z = min(x, y) elementwise: the gradient goes to the smaller input (ties split)."""

    def forward(self, x, y):
        try:
            z = np.minimum(x, y)
        except ValueError:
            raise _no_broadcast("minimum", x, y) from None
        self.to_x = _share(x < y, x == y, z.dtype)
        return z

    def backward(self, gz):
        return gz * self.to_x, gz * (1 - self.to_x)


def _share(wins, ties, dtype) -> np.ndarray:
    """1 where the first input wins, 0.5 on ties, 0 elsewhere."""
    return (wins + 0.5 * ties).astype(dtype)


class Clip(Function):
    """y = min(max(x, lo), hi).  dy/dx = 1 inside [lo, hi], 0 outside."""

    def __init__(self, lo=None, hi=None):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        inside = np.ones(x.shape, dtype=bool)
        if self.lo is not None:
            inside &= x >= self.lo
        if self.hi is not None:
            inside &= x <= self.hi
        self.inside = inside
        return np.clip(x, self.lo, self.hi)

    def backward(self, gy):
        return gy * self.inside


class Where(Function):
    """z = cond ? x : y.  The gradient goes to x where cond holds, to y elsewhere."""

    def forward(self, cond, x, y):
        self.cond = cond.astype(bool)
        return np.where(self.cond, x, y)

    def backward(self, gz):
        return None, gz * self.cond, gz * ~self.cond


class AsType(Function):
    """y = x cast to another dtype.  dy/dx = 1 (cast back to x's dtype)."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.astype(self.in_dtype)
