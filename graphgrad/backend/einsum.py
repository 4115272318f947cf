"""einsum from the Array API's own functions, for libraries that have none (the standard defines none).

An explicit equation ('ij,jk->ik') is evaluated one operand at a time, as einsum implementations
lower it to matrix products: a subscript repeated within an operand takes that diagonal; letters
that neither a later operand nor the output needs are summed away; then each pair of operands is
one batched `matmul` of (shared kept letters, the first's own, the letters they contract) by
(shared kept letters, the contracted, the second's own).
"""
from __future__ import annotations

import math


def einsum(xp, equation: str, *operands):
    """einsum('ij,jk->ik', a, b) with `xp`'s permute_dims, reshape, sum and matmul (explicit equations only)."""
    lhs, arrow, out = equation.replace(" ", "").partition("->")
    subs = lhs.split(",")
    if not arrow or "." in equation or len(subs) != len(operands):
        raise ValueError(f"einsum: {equation!r} for {len(operands)} operands; without a library einsum, the equation "
                         f"must name every operand's subscripts and the output's ('ij,jk->ik'), with no '...'")
    sizes: dict = {}
    for sub, x in zip(subs, operands):
        if len(sub) != x.ndim:
            raise ValueError(f"einsum: subscripts {sub!r} do not match an operand of shape {tuple(x.shape)}")
        for c, n in zip(sub, x.shape):
            if sizes.setdefault(c, n) != n:
                raise ValueError(f"einsum: subscript {c!r} has size {sizes[c]} in one operand and {n} in another")
    if set(out) - set(sizes) or len(set(out)) != len(out):
        raise ValueError(f"einsum: output subscripts {out!r} must be distinct letters of the operands'")
    terms = [_diagonals(xp, sub, x) for sub, x in zip(subs, operands)]

    def later(i: int) -> set:  # the letters the output or an operand after the i-th needs
        return set(out).union(*(set(t) for t, _ in terms[i + 1:]))

    sub, acc = _sum_away(xp, *terms[0], later(0))
    for i in range(1, len(terms)):
        other, b = _sum_away(xp, *terms[i], later(i) | set(sub))
        sub, acc = _pair(xp, sub, acc, other, b, later(i), sizes)
    sub, acc = _sum_away(xp, sub, acc, set(out))
    return xp.permute_dims(acc, tuple(sub.index(c) for c in out))


def _diagonals(xp, sub: str, x):
    """(subscripts, x) with each letter once: a repeated letter ('ii') keeps the diagonal."""
    while len(set(sub)) != len(sub):
        c = next(c for c in sub if sub.count(c) > 1)
        p = sub.index(c)
        q = sub.index(c, p + 1)
        rest = [k for k in range(len(sub)) if k not in (p, q)]
        n = x.shape[p]
        x = xp.reshape(xp.permute_dims(x, tuple(rest) + (p, q)), tuple(x.shape[k] for k in rest) + (n * n,))
        x = x[..., ::n + 1]  # the flattened (n, n) block's diagonal
        sub = "".join(sub[k] for k in rest) + c
    return sub, x


def _sum_away(xp, sub: str, x, keep: set):
    """(subscripts, x) summed over the letters not in `keep`."""
    gone = tuple(k for k, c in enumerate(sub) if c not in keep)
    if not gone:
        return sub, x
    return "".join(c for c in sub if c in keep), xp.sum(x, axis=gone)


def _pair(xp, sa: str, a, sb: str, b, keep: set, sizes: dict):
    """The product of two operands summed over their shared letters not in `keep`, as one batched matmul."""
    batch = [c for c in sa if c in sb and c in keep]
    summed = [c for c in sa if c in sb and c not in keep]
    left, right = [c for c in sa if c not in sb], [c for c in sb if c not in sa]

    def arrange(s: str, x, first: list, second: list):
        x = xp.permute_dims(x, tuple(s.index(c) for c in batch + first + second))
        shape = [sizes[c] for c in batch] + [math.prod(sizes[c] for c in first), math.prod(sizes[c] for c in second)]
        return xp.reshape(x, tuple(shape))

    product = xp.matmul(arrange(sa, a, left, summed), arrange(sb, b, summed, right))
    letters = batch + left + right
    return "".join(letters), xp.reshape(product, tuple(sizes[c] for c in letters))
