"""MatrixSlow's operator nodes as graphgrad.graph nodes, each built from graphgrad's ops.

Names and semantics are MatrixSlow's: `ReLU` is its leaky ReLU (slope 0.1 below zero), `SoftMax`
normalises a column, `Concat` flattens its inputs row by row into one column, `Convolve` is a
same-size 2-D correlation of one matrix with one kernel, `MaxPooling` pools one matrix.
"""
from __future__ import annotations

import numpy as np

import graphgrad as _gg
from ... import graph as G

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


def _need(op: str):
    if not hasattr(_gg, op):
        raise NotImplementedError(
            f"graphgrad.{op} is not in this graphgrad yet (the convolution ops are being added); "
            f"MatrixSlow's {'Convolve' if op == 'conv2d' else 'MaxPooling'} maps onto it"
        )
    return getattr(G, op)


def Convolve(x, kernel, **kargs):
    """2-D correlation of matrix x with a kernel (odd sizes), zero-padded to keep x's shape: graphgrad.conv2d."""
    conv2d = _need("conv2d")
    kh, kw = kernel.shape
    h, w = x.shape
    out = conv2d(G.reshape(x, (1, 1, h, w)), G.reshape(kernel, (1, 1, kh, kw)), None, 1, (kh // 2, kw // 2))
    return G.reshape(out, (h, w), name=kargs.get("name"))


def MaxPooling(x, **kargs):
    """The maximum of each size=(h, w) window, moved by stride=(sh, sw), padded by half a window: graphgrad.max_pool2d."""
    max_pool2d = _need("max_pool2d")
    size, stride = tuple(kargs["size"]), tuple(kargs["stride"])
    h, w = x.shape
    out = max_pool2d(G.reshape(x, (1, 1, h, w)), size, stride, (size[0] // 2, size[1] // 2))
    oh, ow = (h + 2 * (size[0] // 2) - size[0]) // stride[0] + 1, (w + 2 * (size[1] // 2) - size[1]) // stride[1] + 1
    return G.reshape(out, (oh, ow), name=kargs.get("name"))


def Welding(*parents, **kargs):
    """Not supported: MatrixSlow's RNN examples re-wire a node's parent after construction (`weld`)."""
    raise NotImplementedError("Welding: graphgrad's graphs are fixed once built; MatrixSlow's RNN welding is not "
                              "supported (unroll the sequence with shared Variables instead)")
