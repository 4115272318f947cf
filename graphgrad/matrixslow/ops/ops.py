"""MatrixSlow's operator nodes as graphgrad.graph nodes, each built from graphgrad's ops.

Names and semantics are MatrixSlow's: `ReLU` is its leaky ReLU (slope 0.1 below zero), `SoftMax`
normalises a column, `Concat` flattens its inputs row by row into one column, `Convolve` is a
same-size 2-D correlation of one matrix with one kernel, `MaxPooling` pools one matrix, `Welding` is
re-wired to a new parent by `weld(node)`.
"""
from __future__ import annotations

import numpy as np

from ... import graph as G
from ...autograd.function import Function

__all__ = ["Add", "MatMul", "Multiply", "ScalarMultiply", "Logistic", "ReLU", "SoftMax", "Reshape", "Concat", "Step",
           "Convolve", "MaxPooling", "Welding"]

NEGATIVE_SLOPE = np.array(0.1)  # MatrixSlow's ReLU (a float64 array: a Python float would become a float32 constant)


def Add(*parents, **kargs):
    """The sum of any number of same-shaped matrices."""
    if not parents:
        raise ValueError("Add: needs at least one parent")
    out = parents[0]
    for p in parents[1:-1]:
        out = G.add(out, p)
    return G.add(out, parents[-1], name=kargs.get("name")) if len(parents) > 1 else out


def MatMul(a, b, **kargs):
    """The matrix product a·b."""
    return G.matmul(a, b, name=kargs.get("name"))


def Multiply(a, b, **kargs):
    """The elementwise (Hadamard) product."""
    return G.mul(a, b, name=kargs.get("name"))


def ScalarMultiply(scalar, matrix, **kargs):
    """A 1 x 1 node times a matrix."""
    return G.mul(scalar, matrix, name=kargs.get("name"))


def Logistic(x, **kargs):
    """1 / (1 + e⁻ˣ) elementwise."""
    return G.sigmoid(x, name=kargs.get("name"))


def ReLU(x, **kargs):
    """MatrixSlow's ReLU: x where x > 0, else 0.1·x (its gradient 1 or 0.1)."""
    return G.maximum(x, G.mul(x, NEGATIVE_SLOPE), name=kargs.get("name"))


def SoftMax(x, **kargs):
    """eˣ / Σ eˣ over a column."""
    return G.softmax(x, 0, name=kargs.get("name"))


def Reshape(x, **kargs):
    """The matrix in `shape=(rows, columns)`."""
    if "shape" not in kargs:
        raise TypeError("Reshape: give the new shape as Reshape(node, shape=(rows, columns))")
    return G.reshape(x, tuple(kargs["shape"]), name=kargs.get("name"))


def Concat(*parents, **kargs):
    """Every parent flattened row by row, one after the other, as one column."""
    return G.concatenate([G.reshape(p, (-1, 1)) for p in parents], axis=0, name=kargs.get("name"))


def Step(x, **kargs):
    """1 where x >= 0, else 0 (the perceptron's output; no gradient flows through it)."""
    return G.step(x, name=kargs.get("name"))


def _as_image(x):
    """A matrix node as a one-image, one-channel batch (1, 1, h, w), whatever its size turns out to be."""
    return G.expand_dims(G.expand_dims(x, 0), 0)


def Convolve(x, kernel, **kargs):
    """2-D correlation of matrix x with a kernel of odd sizes, zero-padded to keep x's shape: graphgrad.conv2d."""
    kh, kw = kernel.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"Convolve: kernel {kernel.name!r} is {kh} x {kw}; MatrixSlow's same-size convolution "
                         f"needs odd kernel sizes")
    out = G.conv2d(_as_image(x), _as_image(kernel), None, 1, (kh // 2, kw // 2))
    return G.squeeze(out, (0, 1), name=kargs.get("name"))


def MaxPooling(x, **kargs):
    """The maximum of each window around every stride=(sh, sw)-th element (the window spans size//2 on each
    side, cut at the edges; an h x w map gives ceil(h/sh) x ceil(w/sw)): graphgrad.max_pool2d."""
    if "size" not in kargs or "stride" not in kargs:
        raise TypeError("MaxPooling: give the window and the step as MaxPooling(node, size=(h, w), stride=(sh, sw))")
    half = tuple(k // 2 for k in kargs["size"])
    out = G.max_pool2d(_as_image(x), tuple(2 * k + 1 for k in half), tuple(kargs["stride"]), half)
    return G.squeeze(out, (0, 1), name=kargs.get("name"))


class Weld(Function):
    """y = x: the welding point passes its parent's value on.  dy/dx = I."""

    def forward(self, *xs):
        """The parent's value, unchanged (an error while nothing is welded)."""
        if len(xs) != 1:
            raise RuntimeError("Welding: this welding point is not welded to a node yet; call weld(node) before "
                               "computing anything that depends on it")
        return xs[0]

    def backward(self, gy):
        """The gradient, unchanged."""
        return gy


class Welding(G.Operation):
    """A node whose parent is chosen later: `weld(node)` makes node's value its value (MatrixSlow's RNN examples
    weld the last step of a variable-length sequence to the layers after it)."""

    def __init__(self, **kargs):
        """MatrixSlow's constructor: no parent yet (name= and graph= as for every node)."""
        super().__init__(Weld(), name=kargs.get("name"), graph=kargs.get("graph"))
        self.matrix_api = True  # a matrix, as every MatrixSlow value: the nodes built on it before weld() are too

    def weld(self, node: G.Node) -> None:
        """Make `node` this point's only parent: every value computed from the old one is forgotten."""
        if not isinstance(node, G.Node) or node.graph is not self.graph:
            raise ValueError(f"Welding.weld: {getattr(node, 'name', node)!r} is not a node of {self.name!r}'s graph")
        if any(n is self for n in self.graph.order(node)):
            raise ValueError(f"Welding.weld: {node.name!r} is computed from {self.name!r}; welding it would make a cycle")
        for parent in self.parents:
            parent.children.remove(self)
        self.parents = (node,)
        node.children.append(self)
        self.graph.structure_changed()
        self.reset_value()
