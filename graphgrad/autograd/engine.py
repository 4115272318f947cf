"""The backward engine: reverse topological order, gradient accumulation, graph freeing.

Iterative throughout (no recursion), so a chain of 100,000 operations backpropagates. Each
function runs its backward once, after every consumer of its outputs has sent its gradient.
Gradients are kept in a dict keyed by the id of the tensor they belong to; every such tensor
is alive for the whole pass because the graph holds it as some function's input. A leaf's
post-accumulate-grad hooks (hooks.py) run as soon as its gradient is final.
"""
from __future__ import annotations

from . import function, hooks, mode
from .inplace import check_versions
from ..backend import namespace, sum_to
from .function import Function, check_finite
from .tensor import Tensor

FREED_GRAPH = (
    "trying to backward through the graph a second time: {op} already freed its saved arrays "
    "after the first backward. Pass retain_graph=True to the first backward() (or autograd.grad) "
    "if you need to backpropagate through the same graph twice."
)


def topological_order(roots) -> list[Function]:
    """Functions reachable from `roots`, each after the functions that produced its inputs."""
    order, seen = [], set()
    for root in roots:
        fn = root.creator
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        stack = [(fn, iter(fn.inputs))]  # depth-first, each entry resuming where it left off
        while stack:
            fn, pending = stack[-1]
            for t in pending:
                c = t.creator
                if c is not None and c not in seen:
                    seen.add(c)
                    stack.append((c, iter(c.inputs)))
                    break
            else:
                stack.pop()
                order.append(fn)  # every producer of its inputs is already placed
    return order


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, capture=None, observe=None):
    """Backpropagate `root_grads` from `roots`: the one reverse sweep of graphgrad.

    Without `capture`, gradients accumulate into `.grad` of leaves (and of tensors that called
    `retain_grad()`). With `capture` (a list of tensors), their gradients are returned instead
    and no `.grad` is touched. `observe(fn, gys, gxs)`, if given, sees every backward step (the
    visualiser draws the gradient flowing along each edge from it).
    """
    wanted = {id(t) for t in capture} if capture is not None else None
    store = wanted is None  # leaves' gradients go straight into their .grad
    grads, found = {}, {}
    order = topological_order(roots)
    hooked = hooks.hooked_leaves(roots, order) if store and hooks.registered else None  # None: no hooks anywhere
    for r, g in zip(roots, root_grads):
        if store and r.creator is None:
            _store_grad(r, g, create_graph)
        else:
            grads[id(r)] = g if id(r) not in grads else grads[id(r)] + g
    state = mode.state  # this thread's modes: backward never touches another thread's
    anomaly, before = state.anomaly, state.grad_enabled
    state.grad_enabled = create_graph  # first-order backward runs on arrays and records nothing
    try:
        for fn in reversed(order):
            outputs = fn.outputs
            if len(outputs) == 1:  # the common case, kept lean
                out = outputs[0]()
                g = grads.pop(id(out), None) if out is not None else None
                if g is None:
                    if hooked:
                        hooks.count_down(fn, hooked)
                    continue
                if wanted is not None:
                    if id(out) in wanted:
                        found[id(out)] = g
                elif out.retains_grad:
                    _store_grad(out, g, create_graph)
                gys = (g,)
            else:
                gys = _output_grads(fn, grads, wanted, found, create_graph)
                if gys is None:
                    if hooked:
                        hooks.count_down(fn, hooked)
                    continue
            if fn.released:
                raise RuntimeError(FREED_GRAPH.format(op=type(fn).__name__))
            if fn.epoch != function.inplace_writes:  # something was written in place after fn was recorded
                check_versions(fn)
            gxs = _call_backward(fn, gys) if create_graph else fn.backward(*gys)
            if type(gxs) is not tuple:
                gxs = (gxs,)
            if anomaly:
                check_finite(fn, "backward", gxs)
            if observe is not None:
                observe(fn, gys, gxs)
            for t, gx, need in zip(fn.inputs, gxs, fn.needs_input_grad):
                if need and gx is not None:
                    data = t.data
                    if gx.shape != data.shape:
                        gx = _tensor_ops().sum_to(gx, data.shape) if create_graph else sum_to(gx, data.shape)
                    if store and t.creator is None:
                        if gx.dtype is not data.dtype and gx.dtype != data.dtype:  # the leaf's dtype
                            gx = gx.astype(data.dtype)
                        if create_graph:
                            _store_grad(t, gx, True)
                        else:  # a new array each time: gradients are never modified in place
                            t.grad = Tensor(gx) if t.grad is None else Tensor(t.grad.data + gx)
                    else:
                        key = id(t)
                        prev = grads.get(key)
                        grads[key] = gx if prev is None else prev + gx
            if hooked:
                hooks.count_down(fn, hooked)
            if not retain_graph:
                fn.release()
        if hooked:
            hooks.fire_remaining(hooked)
    finally:
        state.grad_enabled = before

    if store:
        return None
    return [_as_dtype_of(t, found.get(id(t), grads.get(id(t)))) for t in capture]  # leaves' stay in grads


def _as_dtype_of(t: Tensor, g):
    """A gradient has its tensor's dtype (a float32 leaf times a float64 constant gets float32)."""
    if g is None or g.dtype is t.data.dtype or g.dtype == t.data.dtype:
        return g
    return g.astype(t.data.dtype)


def _output_grads(fn: Function, grads: dict, wanted, found: dict, create_graph: bool):
    """Gradients for each output of a multi-output function (zeros for unused ones), or None."""
    gys = []
    for ref in fn.outputs:
        out = ref()
        g = grads.pop(id(out), None) if out is not None else None
        if g is not None:
            if wanted is not None:
                if id(out) in wanted:
                    found[id(out)] = g
            elif out.retains_grad:
                _store_grad(out, g, create_graph)
        gys.append(g)
    if all(g is None for g in gys):
        return None
    return [_zeros_like(fn.outputs[i]().data, create_graph) if g is None else g for i, g in enumerate(gys)]


def _zeros_like(a, create_graph: bool):
    z = namespace(a).zeros_like(a)
    return Tensor(z) if create_graph else z


def _store_grad(t: Tensor, g, create_graph: bool) -> None:
    """Add `g` into `t.grad` (a new array each time: gradients are never modified in place)."""
    if g.dtype is not t.data.dtype and g.dtype != t.data.dtype and t.creator is None:
        g = g.astype(t.data.dtype)
    if create_graph:
        g = g if isinstance(g, Tensor) else Tensor(g)
        t.grad = g if t.grad is None else t.grad + g
    else:
        t.grad = Tensor(g if t.grad is None else t.grad.data + g)


def _tensor_ops():
    from ..ops import tensor_ops  # the op library sits on this package: imported when first needed

    return tensor_ops


def _check_saved(fn: Function, live: dict) -> None:
    """Refuse an op that keeps an input or output outside `saved`: create_graph could not see it, and
    its higher derivatives would silently miss the terms through it."""
    saved = {id(v) for v in fn.saved or ()}
    for key, value in vars(fn).items():
        if key not in ("saved", "inputs", "outputs") and id(value) in live and id(value) not in saved:
            raise RuntimeError(
                f"{type(fn).__name__} keeps an input or output as self.{key}; save it with "
                f"self.save_for_backward(...) and read it back from self.saved, so that create_graph "
                f"can differentiate through it"
            )


def _call_backward(fn: Function, gys):
    """Run fn.backward on Tensors, so that the gradients it returns are themselves differentiable.

    Backward sees the recorded input and output Tensors in place of the inputs and outputs forward
    saved, constants (masks, indices) as constant Tensors, and graphgrad's tensor functions as `xp`.
    """
    tensor_ops = _tensor_ops()
    live = {id(t.data): t for t in fn.inputs}
    for view, t in zip(fn.__dict__.get("input_views", ()), fn.inputs):
        live[id(view)] = t  # a leaf's Storage reached forward as this plain view (Function._arrays)
    for ref in fn.outputs:
        out = ref()
        if out is not None:
            live[id(out.data)] = out
    saved, xp = fn.saved, fn.__dict__.get("xp")
    _check_saved(fn, live)
    if saved:
        fn.saved = tuple([v if v is None or isinstance(v, Tensor) or not hasattr(v, "shape")
                          else live[id(v)] if id(v) in live else Tensor(v) for v in saved])
    fn.xp = tensor_ops
    try:
        gxs = fn.backward(*[g if isinstance(g, Tensor) else Tensor(g) for g in gys])
        gxs = gxs if type(gxs) is tuple else (gxs,)
        return tuple([g if g is None or isinstance(g, Tensor) else Tensor(g) for g in gxs])
    finally:
        fn.saved = saved
        if xp is None:
            del fn.xp
        else:
            fn.xp = xp
