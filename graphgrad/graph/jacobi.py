"""Dense Jacobians of a static graph, the way the seed text defines backpropagation.

`local_jacobian` is an operation's Jacobian with respect to one input, read off the op's own
backward: row k is the vector-Jacobian product with the k-th unit vector (for elementwise ops
one product with a vector of ones gives the whole diagonal). No derivative is written here.

`chain_jacobian` is the text's recursion made iterative: the Jacobian of `result` with respect to
a node is the identity at the result itself, otherwise the sum over the node's children of the
child's Jacobian times the child's local Jacobian, each computed once (memoised on the node).
These matrices have (result size) x (node size) entries: fine for teaching and checking, far too
big for training, which goes through batched vector-Jacobian products instead (backprop.py).
"""
from __future__ import annotations

import numpy as np

from ..backend import sum_to

def local_jacobian(fn, inputs: list, output: np.ndarray, positions: list[int]) -> np.ndarray:
    """d output / d inputs[p] (summed over the positions p where that input appears), as (out.size, in.size).

    `fn` must hold the state of its forward on exactly `inputs` (the caller ran it).
    """
    shape = inputs[positions[0]].shape
    dtype = np.result_type(output.dtype, np.float32) if np.issubdtype(output.dtype, np.inexact) else np.float64
    old = fn.__dict__.get("needs_input_grad")
    fn.needs_input_grad = tuple(i in positions for i in range(len(inputs)))
    try:
        if fn.elementwise and all(inputs[i].shape == output.shape for i in positions):
            diag = _summed(fn.backward(np.ones(output.shape, dtype=dtype)), positions, shape)
            return np.diag(diag.astype(dtype, copy=False))
        jac = np.zeros((output.size, int(np.prod(shape))), dtype=dtype)
        seed = np.zeros(output.shape, dtype=dtype)
        flat = seed.reshape(-1)  # a view: setting flat[k] sets the seed's k-th element
        for k in range(output.size):
            flat[k] = 1
            jac[k] = _summed(fn.backward(seed), positions, shape)  # copied out before the seed changes
            flat[k] = 0
        return jac
    finally:
        if old is None:
            del fn.needs_input_grad
        else:
            fn.needs_input_grad = old


def _summed(gxs, positions: list[int], shape: tuple) -> np.ndarray:
    """The gradients backward returned for `positions`, summed to `shape` and added, flattened."""
    if not isinstance(gxs, tuple):
        gxs = (gxs,)
    total = np.zeros(int(np.prod(shape)))
    for i in positions:
        g = gxs[i] if i < len(gxs) else None
        if g is None:  # backward says this input gets no gradient (labels, conditions)
            continue
        g = np.asarray(g)
        if g.shape != shape:
            g = sum_to(g, shape)
        total = total + g.reshape(-1)
    return total


def chain_jacobian(node, result) -> np.ndarray:
    """d result / d node, shape (result.size, node.size), memoised on every node in between."""
    graph = node.graph
    if result.graph is not graph:
        raise ValueError(
            f"backward: result {result.name!r} belongs to another graph than node {node.name!r}; "
            f"both must be built in the same Graph"
        )
    result.forward()
    key = (id(result), graph.value_version)
    if node._jacobi is not None and node._jacobi_key == key:
        return node._jacobi
    ancestors = graph.order(result)
    above = {id(n) for n in ancestors}
    out_size = result._value.size
    if id(node) not in above:  # result does not depend on node
        node.forward()
        node._store_jacobi(np.zeros((out_size, node._value.size)), key)
        return node._jacobi
    between = _descendants(node, above)
    for n in reversed(ancestors):  # the result first, then towards the inputs
        if id(n) not in between or (n._jacobi is not None and n._jacobi_key == key):
            continue
        if n is result:
            jac = np.eye(out_size, dtype=np.result_type(result._value.dtype, np.float32))
        else:
            jac = None
            for child in _unique(n.children):
                if id(child) in between:
                    term = child._jacobi @ child.get_jacobi(n)
                    jac = term if jac is None else jac + term
        n._store_jacobi(jac, key)
    return node._jacobi


def _descendants(node, allowed: set) -> set:
    """ids of `node` and of its descendants that lie in `allowed`."""
    found, stack = {id(node)}, [node]
    while stack:
        for child in stack.pop().children:
            if id(child) in allowed and id(child) not in found:
                found.add(id(child))
                stack.append(child)
    return found


def _unique(nodes) -> list:
    """`nodes` without repeats (a child that uses a node twice is one term: get_jacobi sums both uses)."""
    seen, out = set(), []
    for n in nodes:
        if id(n) not in seen:
            seen.add(id(n))
            out.append(n)
    return out
