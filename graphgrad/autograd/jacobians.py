"""Jacobians of functions of tensors: jacobian, hessian, vjp, jvp (as torch.autograd.functional).

All four are built on reverse mode (`autograd.grad`). `vjp` is one backward pass. `jacobian`
stacks one backward pass per output element (strategy="reverse-mode") or one JVP per input
element (strategy="forward-mode"). `jvp` uses the double-VJP trick: u ↦ Jᵀu is linear in u,
so differentiating it with respect to u in direction v gives Jv; it needs create_graph and costs
about two backward passes. `hessian` is the Jacobian of the gradient.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import ops as F
from .grad import grad
from .tensor import Tensor, as_tensor


def vjp(func: Callable, inputs, v=None, create_graph: bool = False):
    """(func(inputs), vᵀ·J): the vector-Jacobian product of func at inputs."""
    single, xs = _inputs(inputs, create_graph)
    outs = func(*xs)
    out_single, outs_t = _outputs(outs, "vjp")
    vs = _vectors(v, outs_t, "vjp", "outputs")
    roots = [o for o in outs_t if o.requires_grad]
    seeds = [g for o, g in zip(outs_t, vs) if o.requires_grad]
    gs = _grads(roots, xs, seeds, create_graph)
    result = _finish(gs, xs, create_graph)
    return _pack(outs_t, out_single, create_graph), (result[0] if single else result)


def jvp(func: Callable, inputs, v=None, create_graph: bool = False):
    """(func(inputs), J·v): the Jacobian-vector product of func at inputs, by the double-VJP trick."""
    single, xs = _inputs(inputs, True)
    outs = func(*xs)
    out_single, outs_t = _outputs(outs, "jvp")
    vs = _vectors(v, xs, "jvp", "inputs")
    # Dummy cotangents u: g(u) = Jᵀu is linear in u, and d<g(u), v>/du = J v.
    us = [Tensor(np.zeros_like(o.data), requires_grad=True) for o in outs_t]
    live = [(o, u) for o, u in zip(outs_t, us) if o.requires_grad]
    gxs = _grads([o for o, _ in live], xs, [u for _, u in live], True) if live else [None] * len(xs)
    pairs = [(g, vi) for g, vi in zip(gxs, vs) if g is not None and g.requires_grad]
    if pairs:
        jv = _grads([g for g, _ in pairs], [u for _, u in live], [vi for _, vi in pairs], create_graph)
        jv_by_out = dict(zip([id(u) for _, u in live], jv))
    else:
        jv_by_out = {}
    result = []
    for o, u in zip(outs_t, us):
        g = jv_by_out.get(id(u))
        result.append(g if g is not None else Tensor(np.zeros_like(o.data)))
    result = [r if create_graph else Tensor(r.data) for r in result]
    return _pack(outs_t, out_single, create_graph), (result[0] if out_single else tuple(result))


def jacobian(func: Callable, inputs, create_graph: bool = False, strategy: str = "reverse-mode"):
    """d func / d inputs with shape output.shape + input.shape (tuples of them for tuple inputs/outputs)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    single, xs = _inputs(inputs, create_graph)
    outs = func(*xs)
    out_single, outs_t = _outputs(outs, "jacobian")
    # blocks[i][j] = d out_i / d in_j, built as a list of rows (reverse) or columns (forward)
    if strategy == "reverse-mode":
        blocks = [[_reverse_block(o, x, xs, create_graph) for x in xs] for o in outs_t]
    else:
        blocks = _forward_blocks(func, xs, outs_t, create_graph)
    per_out = [b[0] if single else tuple(b) for b in blocks]
    return per_out[0] if out_single else tuple(per_out)


def hessian(func: Callable, inputs, create_graph: bool = False):
    """Second derivatives of a scalar func: shape input.shape + input.shape (tuple of tuples for tuple inputs)."""
    single, xs = _inputs(inputs, True)

    def gradient(*ys):
        out = func(*ys)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise ValueError(
                f"hessian: func must return a single-element Tensor, got "
                f"{type(out).__name__}{'' if not isinstance(out, Tensor) else ' of shape ' + str(out.shape)}"
            )
        if not out.requires_grad:
            return tuple(Tensor(np.zeros_like(y.data)) for y in ys)
        gs = grad(out, ys, create_graph=True, allow_unused=True)
        return tuple(Tensor(np.zeros_like(y.data)) if g is None else g for y, g in zip(ys, gs))

    h = jacobian(gradient, tuple(xs), create_graph=create_graph)
    return h[0][0] if single else h


# ---- helpers ----------------------------------------------------------------------------------

def _inputs(inputs, keep_graph: bool):
    """(single?, fresh differentiable leaves or graph-connected views of the inputs)."""
    single = not isinstance(inputs, (tuple, list))
    xs = []
    for x in ([inputs] if single else inputs):
        x = as_tensor(x)
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"jacobian functions: inputs must be floating-point tensors, got dtype {x.dtype}")
        if keep_graph and x.requires_grad:
            xs.append(F.reshape(x, x.shape))  # stays connected, so results can be differentiated further
        else:
            xs.append(Tensor(x.data, requires_grad=True))
    return single, xs


def _outputs(outs, what: str):
    single = not isinstance(outs, (tuple, list))
    outs_t = [outs] if single else list(outs)
    for o in outs_t:
        if not isinstance(o, Tensor):
            raise TypeError(f"{what}: func must return a Tensor or a tuple of Tensors, got {type(o).__name__}")
    return single, outs_t


def _vectors(v, like: list, what: str, side: str) -> list:
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise ValueError(f"{what}: v may be omitted only when there is a single one-element tensor in {side}")
        return [np.ones_like(like[0].data)]
    vs = list(v) if isinstance(v, (tuple, list)) else [v]
    if len(vs) != len(like):
        raise ValueError(f"{what}: v has {len(vs)} entries but there are {len(like)} {side}")
    out = []
    for vi, t in zip(vs, like):
        arr = vi if isinstance(vi, Tensor) else Tensor(np.asarray(vi, dtype=t.dtype))
        if arr.shape != t.shape:
            raise ValueError(f"{what}: v has shape {arr.shape} where the {side[:-1]} has shape {t.shape}")
        out.append(arr)
    return out


def _grads(roots, xs, seeds, create_graph: bool) -> list:
    """d(Σ seedᵢ·rootᵢ)/d xs, None for unreachable inputs (an empty root list gives all None)."""
    if not roots:
        return [None] * len(xs)
    seeds = [s if create_graph else s.data if isinstance(s, Tensor) else s for s in seeds]
    return list(grad(roots, xs, grad_outputs=seeds, retain_graph=True, create_graph=create_graph, allow_unused=True))


def _finish(gs, xs, create_graph: bool) -> tuple:
    return tuple(
        Tensor(np.zeros_like(x.data)) if g is None else (g if create_graph else Tensor(g.data))
        for g, x in zip(gs, xs)
    )


def _pack(outs, single: bool, create_graph: bool):
    outs = [o if create_graph else Tensor(o.data) for o in outs]
    return outs[0] if single else tuple(outs)


def _reverse_block(out: Tensor, x: Tensor, xs: list, create_graph: bool) -> Tensor:
    """d out / d x by one backward pass per element of out (the Jacobian's rows)."""
    dtype = np.result_type(out.dtype, x.dtype)
    if not out.requires_grad:
        return Tensor(np.zeros(out.shape + x.shape, dtype=dtype))
    rows = []
    seed = np.zeros(out.shape, dtype=out.dtype)
    flat = seed.reshape(-1)
    for k in range(out.numel()):
        flat[k] = 1
        (g,) = grad(out, x, grad_outputs=seed.copy(), retain_graph=True, create_graph=create_graph, allow_unused=True)
        flat[k] = 0
        rows.append(Tensor(np.zeros(x.shape, dtype=dtype)) if g is None else g)
    if create_graph:
        return F.reshape(F.stack(rows), out.shape + x.shape)
    return Tensor(np.stack([r.data for r in rows]).reshape(out.shape + x.shape) if rows else np.zeros(out.shape + x.shape, dtype=dtype))


def _forward_blocks(func: Callable, xs: list, outs: list, create_graph: bool) -> list:
    """d out_i / d x_j by one JVP per element of each x_j (the Jacobian's columns)."""
    cols = [[[] for _ in xs] for _ in outs]
    for j, x in enumerate(xs):
        for k in range(x.numel()):
            e = np.zeros(x.shape, dtype=x.dtype)
            e.reshape(-1)[k] = 1
            vs = [e if i == j else np.zeros_like(y.data) for i, y in enumerate(xs)]
            _, jv = jvp(func, tuple(y.data for y in xs) if not create_graph else tuple(xs), tuple(vs), create_graph)
            jv = (jv,) if isinstance(jv, Tensor) else jv
            for i in range(len(outs)):
                cols[i][j].append(jv[i])
    blocks = []
    for i, o in enumerate(outs):
        row = []
        for j, x in enumerate(xs):
            if create_graph:
                col = F.stack(cols[i][j], axis=-1) if cols[i][j] else Tensor(np.zeros(o.shape + (0,)))
                row.append(F.reshape(col, o.shape + x.shape))
            else:
                data = np.stack([c.data for c in cols[i][j]], axis=-1) if cols[i][j] else np.zeros(o.shape + (0,))
                row.append(Tensor(data.reshape(o.shape + x.shape)))
        blocks.append(row)
    return blocks
