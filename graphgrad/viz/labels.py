"""Operation labels: the textbook's symbols, with an unnamed scalar constant folded into the node."""
from __future__ import annotations

from ..autograd.tensor import Tensor
from .summary import fmt

SYMBOLS = {
    "Add": "+", "Sub": "−", "Mul": "×", "Div": "÷", "Neg": "−x", "MatMul": "@", "Exp": "exp",
    "Log": "log", "Sqrt": "√", "Abs": "|x|", "Sigmoid": "σ", "Tanh": "tanh", "ReLU": "ReLU",
    "Sum": "Σ", "Mean": "mean", "Max": "max", "Min": "min", "Maximum": "max", "Minimum": "min",
    "Softmax": "softmax", "LogSoftmax": "log_softmax", "LogSumExp": "logsumexp",
    "Transpose": "T", "GetItem": "[ ]", "Reshape": "reshape", "Where": "where", "Clip": "clip",
}


def op_label(fn, cls: type) -> tuple[str, set]:
    """The op's symbol, with an unnamed scalar constant operand folded in (+1, ×-1, 1/x, x**2)."""
    name = cls.__name__
    sym = SYMBOLS.get(name, name)
    if name == "PowScalar":
        return f"x**{fmt(fn.c)}" if hasattr(fn, "c") else "pow", set()
    if len(fn.inputs) != 2 or name not in ("Add", "Sub", "Mul", "Div", "Maximum", "Minimum"):
        return sym, set()
    consts = [j for j, t in enumerate(fn.inputs) if is_scalar_constant(t)]
    if len(consts) != 1:
        return sym, set()
    j = consts[0]
    c = fmt(fn.inputs[j].data.reshape(()))
    if name == "Div":
        return (f"{c}/x" if j == 0 else f"÷{c}"), {j}
    if name == "Sub":
        return (f"{c}−x" if j == 0 else f"−{c}"), {j}
    if name in ("Maximum", "Minimum"):
        return f"{sym}(x, {c})", {j}
    return f"{sym}{c}", {j}


def is_scalar_constant(t: Tensor) -> bool:
    """An unnamed one-element leaf that wants no gradient: drawn inside its operation, not as a box."""
    return t.creator is None and not t.requires_grad and t.name is None and t.data.size == 1
