"""Arithmetic and elementwise math: each op's forward beside its derivative.

Broadcasting is undone by the engine (gradients are summed back to each input's shape), so
backward here is the plain math. `self.xp` is the array namespace of the inputs (NumPy, CuPy,
any Array-API library), or graphgrad's own tensor functions when backward is differentiated.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function

_F64 = np.dtype(np.float64)


def _no_broadcast(op: str, x, y) -> ValueError:
    return ValueError(
        f"{op}: shapes {tuple(getattr(x, 'shape', ()))} and {tuple(getattr(y, 'shape', ()))} do not "
        f"broadcast (trailing dimensions must be equal or 1)"
    )


class Add(Function):
    """z = x + y.  dz/dx = dz/dy = 1: the add gate hands the upstream gradient to both inputs."""

    name, method, operator, symbol, elementwise = "add", True, "add", "+", True

    @staticmethod
    def function(x, y, alpha=1):
        """x + alpha·y."""
        return Add()(x, y if alpha == 1 else y * alpha)

    def forward(self, x, y):
        try:
            return x + y
        except ValueError:
            raise _no_broadcast("add", x, y) from None

    def backward(self, gz):
        return gz, gz


class Sub(Function):
    """z = x - y.  dz/dx = 1, dz/dy = -1."""

    name, method, aliases, operator, symbol, elementwise = "sub", True, ("subtract",), "sub", "−", True

    @staticmethod
    def function(x, y, alpha=1):
        """x - alpha·y."""
        return Sub()(x, y if alpha == 1 else y * alpha)

    def forward(self, x, y):
        try:
            return x - y
        except ValueError:
            raise _no_broadcast("sub", x, y) from None

    def backward(self, gz):
        return gz, -gz


class Mul(Function):
    """z = x * y.  dz/dx = y, dz/dy = x: the multiply gate swaps its inputs."""

    name, method, aliases, operator, symbol, elementwise = "mul", True, ("multiply",), "mul", "×", True

    def forward(self, x, y):
        self.save_for_backward(x, y)
        try:
            return x * y
        except ValueError:
            raise _no_broadcast("mul", x, y) from None

    def backward(self, gz):
        x, y = self.saved
        need_x, need_y = self.needs_input_grad[:2]
        return (gz * y if need_x else None), (gz * x if need_y else None)


class Div(Function):
    """z = x / y.  dz/dx = 1/y, dz/dy = -x/y²."""

    name, method, aliases, operator, symbol, elementwise = "div", True, ("divide", "true_divide"), "truediv", "÷", True

    def forward(self, x, y):
        self.save_for_backward(x, y)
        try:
            z = x / y
        except ValueError:
            raise _no_broadcast("div", x, y) from None
        if z.dtype is _F64 and getattr(x, "dtype", _F64) is not _F64 and getattr(y, "dtype", _F64) is not _F64:  # int / int: the default float
            z = self.xp.astype(z, self.xp.float32)
        return z

    def backward(self, gz):
        x, y = self.saved
        gx = gz / y
        gy = -gx * x / y if self.needs_input_grad[1] else None
        return gx, gy


class Neg(Function):
    """z = -x.  dz/dx = -1."""

    name, method, aliases, operator, symbol, elementwise = "neg", True, ("negative",), "neg", "−x", True

    def forward(self, x):
        return -x

    def backward(self, gz):
        return -gz


class PowScalar(Function):
    """z = x**c for a constant c.  dz/dx = c·x^(c-1)."""

    elementwise = True

    def __init__(self, c: float):
        """x**c for the constant exponent `c`."""
        self.c = c

    def forward(self, x):
        self.save_for_backward(x)
        return x ** self.c

    def backward(self, gz):
        (x,) = self.saved
        if self.c == 0:  # d/dx x⁰ = 0 everywhere, also at x = 0 (where c·x^(c-1) would be 0·inf)
            return self.xp.zeros_like(gz)
        return gz * self.c * x ** (self.c - 1)


class Pow(Function):
    """z = x**y for tensors.  dz/dx = y·x^(y-1), dz/dy = z·log(x)."""

    name, method, operator, symbol, elementwise = "pow", True, "pow", "**", True

    @staticmethod
    def function(x, y):
        """x ** y; a Python-number exponent uses the cheaper x**c rule."""
        if isinstance(y, (int, float)) and not isinstance(y, bool):
            return PowScalar(y)(x)
        return Pow()(x, y)

    def forward(self, x, y):
        try:
            z = x ** y
        except ValueError:
            raise _no_broadcast("pow", x, y) from None
        self.save_for_backward(x, y, z)
        return z

    def backward(self, gz):
        x, y, z = self.saved
        xp = self.xp
        need_x, need_y = self.needs_input_grad[:2]
        gx = gy = None
        if need_x:  # 0 where y = 0 (x⁰ is constant), as PyTorch
            gx = xp.where(y == 0, xp.zeros_like(gz), gz * y * x ** xp.where(y == 0, xp.ones_like(y), y - 1))
        if need_y:  # 0 at x = 0 for y >= 0 (0^y is constant there), as PyTorch
            at_zero = (x == 0) & (y >= 0)
            gy = xp.where(at_zero, xp.zeros_like(gz), gz * z * xp.log(xp.where(at_zero, xp.ones_like(x), x)))
        return gx, gy


class MatMul(Function):
    """z = x @ w.  dz/dx = gz @ wᵀ, dz/dw = xᵀ @ gz (batched over leading axes, 1-D as in NumPy)."""

    name, method, operator, symbol = "matmul", True, "matmul", "@"

    def forward(self, x, w):
        self.save_for_backward(x, w)
        try:
            return x @ w
        except ValueError:
            raise ValueError(
                f"matmul: shapes {tuple(x.shape)} and {tuple(w.shape)} are not aligned: the last axis of "
                f"the first must equal the {'second-to-last' if w.ndim > 1 else 'only'} axis of the second"
            ) from None

    def backward(self, gz):
        x0, w0 = x, w = self.saved
        xp = self.xp
        need_x, need_w = self.needs_input_grad[:2]
        if x.ndim == 1 and w.ndim == 1:
            return (gz * w if need_x else None), (gz * x if need_w else None)
        if x.ndim == 1:  # (n,) @ (..., n, m): treat x as a row
            x, gz = xp.reshape(x, (1, -1)), xp.reshape(gz, tuple(gz.shape[:-1]) + (1, gz.shape[-1]))
        if w.ndim == 1:  # (..., k, n) @ (n,): treat w as a column
            w, gz = xp.reshape(w, (-1, 1)), xp.reshape(gz, tuple(gz.shape) + (1,))
        gx = gz @ w.mT if need_x else None
        gw = x.mT @ gz if need_w else None
        if gx is not None and x0.ndim == 1:
            gx = xp.reshape(gx, tuple(gx.shape[:-2]) + (gx.shape[-1],))
        if gw is not None and w0.ndim == 1:
            gw = xp.reshape(gw, tuple(gw.shape[:-1]))
        return gx, gw


class Exp(Function):
    """y = eˣ.  dy/dx = y."""

    name, method, symbol, elementwise = "exp", True, "exp", True

    def forward(self, x):
        y = self.xp.exp(x)
        if y.dtype is _F64 and getattr(x, "dtype", _F64) is not _F64:  # exp of ints: the default float
            y = self.xp.astype(y, self.xp.float32)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return gy * y


class Log(Function):
    """y = ln x.  dy/dx = 1/x."""

    name, method, symbol, elementwise = "log", True, "log", True

    def forward(self, x):
        y = self.xp.log(x)
        if y.dtype is _F64 and getattr(x, "dtype", _F64) is not _F64:
            x, y = self.xp.astype(x, self.xp.float32), self.xp.astype(y, self.xp.float32)
        self.save_for_backward(x)
        return y

    def backward(self, gy):
        (x,) = self.saved
        return gy / x


class Sqrt(Function):
    """y = √x.  dy/dx = 1/(2y)."""

    name, method, symbol, elementwise = "sqrt", True, "√", True

    def forward(self, x):
        y = self.xp.sqrt(x)
        if y.dtype is _F64 and getattr(x, "dtype", _F64) is not _F64:
            y = self.xp.astype(y, self.xp.float32)
        self.save_for_backward(y)
        return y

    def backward(self, gy):
        (y,) = self.saved
        return gy / (2 * y)


class Abs(Function):
    """y = |x|.  dy/dx = sign(x) (0 at 0, as in PyTorch)."""

    name, method, operator, symbol, elementwise = "abs", True, "abs", "|x|", True

    def forward(self, x):
        self.save_for_backward(self.xp.sign(x))
        return self.xp.abs(x)

    def backward(self, gy):
        (sign,) = self.saved
        return gy * sign


class Maximum(Function):
    """z = max(x, y) elementwise: the max gate routes the gradient to the larger input (ties split)."""

    name, symbol, elementwise = "maximum", "max", True

    def forward(self, x, y):
        xp = self.xp
        try:
            z = xp.maximum(x, y)
        except ValueError:
            raise _no_broadcast("maximum", x, y) from None
        self.save_for_backward(_share(xp, x > y, x == y, z.dtype))
        return z

    def backward(self, gz):
        (to_x,) = self.saved
        return self.xp.masked_product(gz, to_x), self.xp.masked_product(gz, 1 - to_x)


class Minimum(Function):
    """z = min(x, y) elementwise: the gradient goes to the smaller input (ties split)."""

    name, symbol, elementwise = "minimum", "min", True

    def forward(self, x, y):
        xp = self.xp
        try:
            z = xp.minimum(x, y)
        except ValueError:
            raise _no_broadcast("minimum", x, y) from None
        self.save_for_backward(_share(xp, x < y, x == y, z.dtype))
        return z

    def backward(self, gz):
        (to_x,) = self.saved
        return self.xp.masked_product(gz, to_x), self.xp.masked_product(gz, 1 - to_x)


def _share(xp, wins, ties, dtype):
    """1 where the first input wins, 0.5 on ties, 0 elsewhere."""
    return xp.astype(wins, dtype) + 0.5 * xp.astype(ties, dtype)


class Clip(Function):
    """y = min(max(x, min), max).  dy/dx = 1 inside [min, max], 0 outside."""

    name, method, aliases, symbol, elementwise = "clamp", True, ("clip",), "clamp", True

    def __init__(self, min=None, max=None):
        """Clip to [min, max]; either bound may be None (no bound on that side)."""
        self.min, self.max = _number(min), _number(max)

    def forward(self, x):
        xp = self.xp
        inside = None
        if self.min is not None:
            inside = x >= self.min
        if self.max is not None:
            inside = x <= self.max if inside is None else inside & (x <= self.max)
        self.save_for_backward(None if inside is None else xp.astype(inside, x.dtype))
        return xp.clip(x, self.min, self.max)

    def backward(self, gy):
        (inside,) = self.saved
        return gy if inside is None else self.xp.masked_product(gy, inside)


class ClampMin(Clip):
    """y = max(x, min).  dy/dx = 1 where x >= min."""

    name, aliases, symbol = "clamp_min", (), "clamp_min"

    @staticmethod
    def function(x, min):
        """x limited from below by `min`."""
        return Clip(min, None)(x)


class ClampMax(Clip):
    """y = min(x, max).  dy/dx = 1 where x <= max."""

    name, aliases, symbol = "clamp_max", (), "clamp_max"

    @staticmethod
    def function(x, max):
        """x limited from above by `max`."""
        return Clip(None, max)(x)


def _number(v):
    """A clamp bound: a Python number, or a tensor's values (used as constants)."""
    return v.data if hasattr(v, "creator") else v


class Where(Function):
    """z = cond ? x : y.  The gradient goes to x where cond holds, to y elsewhere."""

    name, symbol, elementwise = "where", "where", True

    def forward(self, cond, x, y):
        xp = self.xp
        cond = xp.astype(cond, xp.bool)
        self.save_for_backward(cond)
        try:
            return xp.where(cond, x, y)
        except ValueError:
            raise ValueError(
                f"where: shapes of condition {tuple(cond.shape)}, x {tuple(getattr(x, 'shape', ()))} and "
                f"y {tuple(getattr(y, 'shape', ()))} do not broadcast"
            ) from None

    def backward(self, gz):
        (cond,) = self.saved
        zero = self.xp.zeros_like(gz)
        return None, self.xp.where(cond, gz, zero), self.xp.where(cond, zero, gz)


class AsType(Function):
    """y = x cast to another dtype.  dy/dx = 1 (cast back to x's dtype)."""

    name, method, symbol, elementwise = "astype", True, "astype", True

    def __init__(self, dtype):
        """A cast to `dtype`."""
        self.dtype = dtype

    @staticmethod
    def function(x, dtype):
        """x cast to `dtype`; a cast to an integer or boolean dtype carries no gradient, as in PyTorch."""
        from ..backend import is_floating
        from ..dtypes import resolve_dtype

        op = AsType(dtype)
        try:
            floating = is_floating(resolve_dtype(dtype))
        except TypeError:  # another library's dtype object
            floating = is_floating(dtype)
        if floating:
            return op(x)
        from .math import constant

        return constant(op, x)

    def forward(self, x):
        xp = self.xp
        self.in_dtype = x.dtype
        return xp.astype(x, xp.dtype(self.dtype))

    def backward(self, gy):
        return self.xp.astype(gy, self.in_dtype)
