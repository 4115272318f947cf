"""einsum: products and sums written in Einstein notation.  The gradient for an operand is the einsum
of the upstream gradient with the other operands, producing that operand's subscripts."""
from __future__ import annotations

import string

from ..autograd.function import Function


def parse(equation: str, shapes: list) -> tuple[list, str]:
    """(subscripts per operand, output subscripts) with '...' spelled out and the implicit output made explicit."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} names {len(inputs)} operands, {len(shapes)} were given")
    used = set(eq) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    width = max((len(s) - (len(sub) - 3) for sub, s in zip(inputs, shapes) if "..." in sub), default=0)
    ell = "".join(spare[:width])
    subs = []
    for sub, shape in zip(inputs, shapes):
        if "..." in sub:
            n = len(shape) - (len(sub) - 3)
            sub = sub.replace("...", ell[width - n:] if n else "")
        if len(sub) != len(shape):
            raise ValueError(f"einsum: subscripts {sub!r} do not match an operand of shape {tuple(shape)}")
        subs.append(sub)
    if arrow:
        out = rhs.replace("...", ell)
    else:  # implicit: the letters that occur once, in alphabetical order, after the broadcast dims
        letters = "".join(subs)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return subs, out


class Einsum(Function):
    """y = einsum(equation, *operands).  d/d operand k: einsum(gy, the others -> operand k's subscripts)."""

    name, symbol = "einsum", "einsum"

    def __init__(self, equation: str):
        """Einsum with the subscripts `equation` (e.g. 'ij,jk->ik')."""
        self.equation = equation

    @staticmethod
    def function(equation: str, *operands):
        """Einstein summation over the operands (`einsum('bij,bjk->bik', a, b)`; a list of operands also works)."""
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
        return Einsum(equation)(*operands)

    def forward(self, *xs):
        self.subs, self.out = parse(self.equation, [x.shape for x in xs])
        self.sizes = {c: n for sub, x in zip(self.subs, xs) for c, n in zip(sub, x.shape)}
        self.save_for_backward(*xs)
        spec = ",".join(self.subs) + "->" + self.out
        return self.xp.einsum(spec, *xs)

    def backward(self, gy):
        xs = self.saved
        xp = self.xp
        grads = []
        for k, (sub, need) in enumerate(zip(self.subs, self.needs_input_grad)):
            if not need:
                grads.append(None)
                continue
            if len(set(sub)) != len(sub):
                raise NotImplementedError(f"einsum: the gradient for an operand with a repeated subscript ({sub!r}) is not implemented")
            others = [(s, x) for i, (s, x) in enumerate(zip(self.subs, xs)) if i != k]
            present = set(self.out).union(*[set(s) for s, _ in others])
            target = "".join(c for c in sub if c in present)
            spec = ",".join([self.out] + [s for s, _ in others]) + "->" + target
            g = xp.einsum(spec, gy, *[x for _, x in others])
            if target != sub:  # letters only this operand has were summed away: their gradient is constant along them
                shape = tuple(self.sizes[c] if c in present else 1 for c in sub)
                g = xp.broadcast_to(xp.reshape(g, shape), tuple(self.sizes[c] for c in sub))
            grads.append(g)
        return tuple(grads)
