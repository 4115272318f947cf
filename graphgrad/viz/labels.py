"""Operation labels: each op's declared symbol, with an unnamed scalar constant folded into the node."""
from __future__ import annotations

from ..autograd.tensor import Tensor
from .summary import fmt

def op_label(fn, cls: type) -> tuple[str, set]:
    """The op's symbol, with an unnamed scalar constant operand folded in (+1, ×-1, 1/x, x**2)."""
    name = cls.__name__
    sym = getattr(cls, "symbol", None) or name  # each op declares how it is drawn
    if name == "PowScalar":
        return f"x**{fmt(fn.c)}", set()
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
