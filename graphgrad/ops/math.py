"""Elementwise math beyond arithmetic: trigonometry, rounding, special functions, comparisons, bitwise ops.

Each differentiable op sits beside its derivative; rounding and sign have gradient zero (as in
PyTorch); comparisons, tests and bitwise ops give results that carry no gradient at all.
Integer inputs of floating functions (`sin` of an int tensor) compute in the default float dtype.
"""
from __future__ import annotations

import math

from ..autograd import mode
from ..autograd.function import Function
from ..backend import default_float, namespace


def as_floating(xp, x):
    """x itself if it is floating, else x in the default float dtype (PyTorch's promotion for float functions)."""
    kind = getattr(x.dtype, "kind", None)
    if kind == "f" or (kind is None and "float" in str(x.dtype)):
        return x
    return xp.astype(x, xp.dtype(default_float))


def constant(op: Function, *inputs):
    """op's output recorded nowhere: comparisons, masks and indices carry no gradient."""
    state = mode.state
    before = state.grad_enabled
    state.grad_enabled = False
    try:
        return op(*inputs)
    finally:
        state.grad_enabled = before


class _Unary(Function):
    """An elementwise function of one input whose derivative is written in terms of x (or y).

    A subclass gives `f(xp, x)`, the function, and `df(xp, v)`, its derivative dy/dx, where v is
    the input x or, with `saves = "y"`, the output y.
    """

    method, elementwise = True, True
    saves = "x"

    def forward(self, x):
        x = as_floating(self.xp, x)
        y = self.f(self.xp, x)
        self.save_for_backward(x if self.saves == "x" else y)
        return y

    def backward(self, gy):
        (v,) = self.saved
        return gy * self.df(self.xp, v)


class Sin(_Unary):
    """y = sin x.  dy/dx = cos x."""
    name = "sin"

    @staticmethod
    def f(xp, x):
        """y = sin x."""
        return xp.sin(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = cos x, given x."""
        return xp.cos(x)


class Cos(_Unary):
    """y = cos x.  dy/dx = -sin x."""
    name = "cos"

    @staticmethod
    def f(xp, x):
        """y = cos x."""
        return xp.cos(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = -sin x, given x."""
        return -xp.sin(x)


class Tan(_Unary):
    """y = tan x.  dy/dx = 1 + y²."""
    name, saves = "tan", "y"

    @staticmethod
    def f(xp, x):
        """y = tan x."""
        return xp.tan(x)

    @staticmethod
    def df(xp, y):
        """dy/dx = 1 + y², given y."""
        return 1 + y * y


class Asin(_Unary):
    """y = asin x.  dy/dx = 1/√(1 - x²)."""
    name, aliases = "asin", ("arcsin",)

    @staticmethod
    def f(xp, x):
        """y = asin x."""
        return xp.asin(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = 1/√(1 - x²), given x."""
        return 1 / xp.sqrt(1 - x * x)


class Acos(_Unary):
    """y = acos x.  dy/dx = -1/√(1 - x²)."""
    name, aliases = "acos", ("arccos",)

    @staticmethod
    def f(xp, x):
        """y = acos x."""
        return xp.acos(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = -1/√(1 - x²), given x."""
        return -1 / xp.sqrt(1 - x * x)


class Atan(_Unary):
    """y = atan x.  dy/dx = 1/(1 + x²)."""
    name, aliases = "atan", ("arctan",)

    @staticmethod
    def f(xp, x):
        """y = atan x."""
        return xp.atan(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = 1/(1 + x²), given x."""
        return 1 / (1 + x * x)


class Sinh(_Unary):
    """y = sinh x.  dy/dx = cosh x."""
    name = "sinh"

    @staticmethod
    def f(xp, x):
        """y = sinh x."""
        return xp.sinh(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = cosh x, given x."""
        return xp.cosh(x)


class Cosh(_Unary):
    """y = cosh x.  dy/dx = sinh x."""
    name = "cosh"

    @staticmethod
    def f(xp, x):
        """y = cosh x."""
        return xp.cosh(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = sinh x, given x."""
        return xp.sinh(x)


class Asinh(_Unary):
    """y = asinh x.  dy/dx = 1/√(x² + 1)."""
    name, aliases = "asinh", ("arcsinh",)

    @staticmethod
    def f(xp, x):
        """y = asinh x."""
        return xp.asinh(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = 1/√(x² + 1), given x."""
        return 1 / xp.sqrt(x * x + 1)


class Acosh(_Unary):
    """y = acosh x.  dy/dx = 1/√(x² - 1)."""
    name, aliases = "acosh", ("arccosh",)

    @staticmethod
    def f(xp, x):
        """y = acosh x."""
        return xp.acosh(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = 1/√(x² - 1), given x."""
        return 1 / xp.sqrt(x * x - 1)


class Atanh(_Unary):
    """y = atanh x.  dy/dx = 1/(1 - x²)."""
    name, aliases = "atanh", ("arctanh",)

    @staticmethod
    def f(xp, x):
        """y = atanh x."""
        return xp.atanh(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = 1/(1 - x²), given x."""
        return 1 / (1 - x * x)


class Erf(_Unary):
    """y = erf x.  dy/dx = 2/√π · e^(-x²)."""
    name = "erf"

    @staticmethod
    def f(xp, x):
        """y = erf x."""
        return xp.erf(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = 2/√π · e^(-x²), given x."""
        return (2 / math.sqrt(math.pi)) * xp.exp(-(x * x))


class Log2(_Unary):
    """y = log₂ x.  dy/dx = 1/(x ln 2)."""
    name = "log2"

    @staticmethod
    def f(xp, x):
        """y = log₂ x."""
        return xp.log2(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = 1/(x ln 2), given x."""
        return 1 / (x * math.log(2))


class Log10(_Unary):
    """y = log₁₀ x.  dy/dx = 1/(x ln 10)."""
    name = "log10"

    @staticmethod
    def f(xp, x):
        """y = log₁₀ x."""
        return xp.log10(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = 1/(x ln 10), given x."""
        return 1 / (x * math.log(10))


class Log1p(_Unary):
    """y = ln(1 + x).  dy/dx = 1/(1 + x)."""
    name = "log1p"

    @staticmethod
    def f(xp, x):
        """y = ln(1 + x)."""
        return xp.log1p(x)

    @staticmethod
    def df(xp, x):
        """dy/dx = 1/(1 + x), given x."""
        return 1 / (1 + x)


class Exp2(_Unary):
    """y = 2ˣ.  dy/dx = y ln 2."""
    name, saves = "exp2", "y"

    @staticmethod
    def f(xp, x):
        """y = 2ˣ."""
        return xp.exp2(x)

    @staticmethod
    def df(xp, y):
        """dy/dx = y ln 2, given y."""
        return y * math.log(2)


class Expm1(_Unary):
    """y = eˣ - 1.  dy/dx = y + 1."""
    name, saves = "expm1", "y"

    @staticmethod
    def f(xp, x):
        """y = eˣ - 1."""
        return xp.expm1(x)

    @staticmethod
    def df(xp, y):
        """dy/dx = y + 1, given y."""
        return y + 1


class Rsqrt(_Unary):
    """y = 1/√x.  dy/dx = -y³/2."""
    name, saves = "rsqrt", "y"

    @staticmethod
    def f(xp, x):
        """y = 1/√x."""
        return 1 / xp.sqrt(x)

    @staticmethod
    def df(xp, y):
        """dy/dx = -y³/2, given y."""
        return -0.5 * y * y * y


class Reciprocal(_Unary):
    """y = 1/x.  dy/dx = -y²."""
    name, saves = "reciprocal", "y"

    @staticmethod
    def f(xp, x):
        """y = 1/x."""
        return 1 / x

    @staticmethod
    def df(xp, y):
        """dy/dx = -y², given y."""
        return -(y * y)


class Square(_Unary):
    """y = x².  dy/dx = 2x."""
    name = "square"

    @staticmethod
    def f(xp, x):
        """y = x²."""
        return x * x

    @staticmethod
    def df(xp, x):
        """dy/dx = 2x, given x."""
        return 2 * x


class Frac(Function):
    """y = x - trunc(x).  dy/dx = 1."""

    name, method, elementwise = "frac", True, True

    def forward(self, x):
        return x - self.xp.trunc(x)

    def backward(self, gy):
        return gy


class _Step(Function):
    """A piecewise-constant function: its gradient is zero (as in PyTorch), not undefined."""

    method, elementwise = True, True

    def backward(self, gy):
        return self.xp.zeros_like(gy)


class Floor(_Step):
    """y = ⌊x⌋.  dy/dx = 0."""
    name = "floor"

    def forward(self, x):
        return self.xp.floor(x)


class Ceil(_Step):
    """y = ⌈x⌉.  dy/dx = 0."""
    name = "ceil"

    def forward(self, x):
        return self.xp.ceil(x)


class Round(_Step):
    """y = x rounded to `decimals` places, halves to even (as PyTorch).  dy/dx = 0."""
    name = "round"

    def __init__(self, decimals: int = 0):
        """Round to `decimals` decimal places."""
        self.decimals = decimals

    def forward(self, x):
        return self.xp.round(x, decimals=self.decimals) if self.decimals else self.xp.round(x)


class Trunc(_Step):
    """y = x rounded toward zero.  dy/dx = 0."""
    name, aliases = "trunc", ("fix",)

    def forward(self, x):
        return self.xp.trunc(x)


class Sign(_Step):
    """y = sign x (-1, 0 or 1).  dy/dx = 0."""
    name = "sign"

    def forward(self, x):
        return self.xp.sign(x)


# ---- binary -----------------------------------------------------------------------------------

class Atan2(Function):
    """z = atan2(y, x), the angle of (x, y).  dz/dy = x/(x² + y²), dz/dx = -y/(x² + y²)."""

    name, method, aliases, elementwise = "atan2", True, ("arctan2",), True

    def forward(self, y, x):
        y, x = as_floating(self.xp, y), as_floating(self.xp, x)
        self.save_for_backward(y, x)
        return self.xp.atan2(y, x)

    def backward(self, gz):
        y, x = self.saved
        r2 = x * x + y * y
        return gz * x / r2, -gz * y / r2


class Copysign(Function):
    """z = |a| with b's sign.  dz/da = sign(a)·sign(z) (0 at a = 0), dz/db = 0."""

    name, method, elementwise = "copysign", True, True

    def forward(self, a, b):
        xp = self.xp
        a = as_floating(xp, a)
        z = xp.copysign(a, xp.astype(b, a.dtype) if b.dtype != a.dtype else b)
        self.save_for_backward(xp.sign(a) * xp.sign(z))
        return z

    def backward(self, gz):
        (s,) = self.saved
        return self.xp.masked_product(gz, s), None


class LogAddExp(Function):
    """z = log(eᵃ + eᵇ).  dz/da = e^(a - z), dz/db = e^(b - z)."""

    name, method, elementwise = "logaddexp", True, True

    def forward(self, a, b):
        xp = self.xp
        a, b = as_floating(xp, a), as_floating(xp, b)
        z = xp.logaddexp(a, b)
        self.save_for_backward(a, b, z)
        return z

    def backward(self, gz):
        a, b, z = self.saved
        xp = self.xp
        return gz * xp.exp(a - z), gz * xp.exp(b - z)


class Lerp(Function):
    """z = start + weight·(end - start).  dz/dstart = 1 - w, dz/dend = w, dz/dweight = end - start."""

    name, method, elementwise = "lerp", True, True

    def forward(self, start, end, weight):
        self.save_for_backward(start, end, weight)
        return start + weight * (end - start)

    def backward(self, gz):
        start, end, weight = self.saved
        return gz * (1 - weight), gz * weight, gz * (end - start)


class Fmod(Function):
    """z = a - b·trunc(a/b) (the sign of a, as C's fmod).  dz/da = 1, dz/db = -trunc(a/b)."""

    name, method, elementwise = "fmod", True, True

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.fmod(a, b)

    def backward(self, gz):
        a, b = self.saved
        return gz, -gz * self.xp.trunc(a / b)


class Remainder(Function):
    """z = a - b·⌊a/b⌋ (the sign of b, as Python's %).  dz/da = 1, dz/db = -⌊a/b⌋."""

    name, method, operator, symbol, elementwise = "remainder", True, "mod", "%", True

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return self.xp.remainder(a, b)

    def backward(self, gz):
        a, b = self.saved
        return gz, -gz * self.xp.floor(a / b)


# ---- results without gradient: comparisons, tests, integer and bitwise arithmetic ---------------

class _Constant(Function):
    """An elementwise op whose result carries no gradient."""

    method, elementwise = True, True

    def backward(self, *gys):
        raise RuntimeError(f"{type(self).__name__} has no gradient")


def _binary(name: str, f, op: str | None = None, doc: str = "", symbol: str | None = None):
    """Declare the constant binary op `name` computing f(xp, a, b)."""
    def forward(self, a, b):
        """The result for arrays a and b (it carries no gradient)."""
        return f(self.xp, a, b)

    cls = type(name.title().replace("_", ""), (_Constant,), {
        "__doc__": doc, "name": name, "operator": op, "symbol": symbol or name, "__module__": __name__,
        "forward": forward,
        "function": staticmethod(lambda x, other: constant(cls(), x, other)),
    })
    return cls


def _unary(name: str, f, op: str | None = None, doc: str = ""):
    """Declare the constant unary op `name` computing f(xp, x)."""
    def forward(self, x):
        """The result for array x (it carries no gradient)."""
        return f(self.xp, x)

    cls = type(name.title().replace("_", ""), (_Constant,), {
        "__doc__": doc, "name": name, "operator": op, "symbol": name, "__module__": __name__,
        "forward": forward,
        "function": staticmethod(lambda x: constant(cls(), x)),
    })
    return cls


Eq = _binary("eq", lambda xp, a, b: a == b, doc="a == b elementwise (boolean, no gradient).")
Ne = _binary("ne", lambda xp, a, b: a != b, doc="a != b elementwise (boolean, no gradient).")
Lt = _binary("lt", lambda xp, a, b: a < b, doc="a < b elementwise (boolean, no gradient).")
Le = _binary("le", lambda xp, a, b: a <= b, doc="a <= b elementwise (boolean, no gradient).")
Gt = _binary("gt", lambda xp, a, b: a > b, doc="a > b elementwise (boolean, no gradient).")
Ge = _binary("ge", lambda xp, a, b: a >= b, doc="a >= b elementwise (boolean, no gradient).")
IsNan = _unary("isnan", lambda xp, x: xp.isnan(x), doc="True where x is NaN (no gradient).")
IsInf = _unary("isinf", lambda xp, x: xp.isinf(x), doc="True where x is ±inf (no gradient).")
IsFinite = _unary("isfinite", lambda xp, x: xp.isfinite(x), doc="True where x is neither NaN nor ±inf (no gradient).")
LogicalNot = _unary("logical_not", lambda xp, x: xp.logical_not(x), doc="not x, elementwise (boolean, no gradient).")
LogicalAnd = _binary("logical_and", lambda xp, a, b: xp.logical_and(a, b), doc="a and b, elementwise (boolean, no gradient).")
LogicalOr = _binary("logical_or", lambda xp, a, b: xp.logical_or(a, b), doc="a or b, elementwise (boolean, no gradient).")


def _integral(op: str, f):
    def forward(xp, a, b):
        for v in (a, b):
            if getattr(v.dtype, "kind", "i") not in "iub":
                raise TypeError(f"{op}: needs integer or boolean tensors, got {v.dtype}")
        return f(xp, a, b)
    return forward


BitwiseAnd = _binary("bitwise_and", _integral("bitwise_and", lambda xp, a, b: xp.bitwise_and(a, b)), "and",
                     "a & b on integer or boolean tensors (no gradient).", "&")
BitwiseOr = _binary("bitwise_or", _integral("bitwise_or", lambda xp, a, b: xp.bitwise_or(a, b)), "or",
                    "a | b on integer or boolean tensors (no gradient).", "|")
BitwiseXor = _binary("bitwise_xor", _integral("bitwise_xor", lambda xp, a, b: xp.bitwise_xor(a, b)), "xor",
                     "a ^ b on integer or boolean tensors (no gradient).", "^")
BitwiseLeftShift = _binary("bitwise_left_shift", _integral("bitwise_left_shift",
                           lambda xp, a, b: xp.bitwise_left_shift(a, b)), "lshift", "a << b on integer tensors (no gradient).", "<<")
BitwiseRightShift = _binary("bitwise_right_shift", _integral("bitwise_right_shift",
                            lambda xp, a, b: xp.bitwise_right_shift(a, b)), "rshift", "a >> b on integer tensors (no gradient).", ">>")


def _invert(xp, x):
    if getattr(x.dtype, "kind", "i") not in "iub":
        raise TypeError(f"bitwise_not: needs an integer or boolean tensor, got {x.dtype}")
    return xp.bitwise_invert(x) if hasattr(xp, "bitwise_invert") else xp.invert(x)


BitwiseNot = _unary("bitwise_not", _invert, "invert", "~x on an integer or boolean tensor (no gradient).")
FloorDivide = _binary("floor_divide", lambda xp, a, b: xp.floor_divide(a, b), "floordiv",
                      "⌊a / b⌋ elementwise (Python's //; no gradient, as in PyTorch).", "//")


class IsClose(_Constant):
    """|a - b| <= atol + rtol·|b| elementwise (NaNs equal when equal_nan), as PyTorch's isclose (no gradient)."""

    name, symbol = "isclose", "isclose"

    def __init__(self, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
        """Closeness within relative tolerance `rtol` and absolute `atol`; `equal_nan` counts NaNs as equal."""
        self.rtol, self.atol, self.equal_nan = rtol, atol, equal_nan

    @staticmethod
    def function(x, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
        """Where x and other agree within the tolerances (boolean, no gradient)."""
        return constant(IsClose(rtol, atol, equal_nan), x, other)

    def forward(self, a, b):
        return self.xp.isclose(a, b, rtol=self.rtol, atol=self.atol, equal_nan=self.equal_nan)


class AllClose(Function):
    """True if x and other agree everywhere within the tolerances (a Python bool)."""

    name, method = "allclose", True

    @staticmethod
    def function(x, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
        """Whether every element of x is close to other's."""
        close = IsClose.function(x, other, rtol, atol, equal_nan).data
        return bool(namespace(close).all(close))
