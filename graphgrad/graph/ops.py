"""Operation nodes over graphgrad's own Functions, and the seed text's names for them.

Each function here records one Operation node whose computation is the Function the eager
engine uses for the same op, so forward, backward and every Jacobian come from one place.
Python numbers and arrays among the inputs become Constant nodes. `apply` builds a node from any
Function subclass, including your own.
"""
from __future__ import annotations

import numpy as np

from ..ops import activations as A
from ..ops import arithmetic as M
from ..ops import linear as L
from ..ops import losses as X
from ..ops import reductions as R
from ..ops import shape as S
from .node import Constant, Node, Operation


def apply(function_class: type, *inputs, name: str | None = None, **config) -> Operation:
    """An Operation node computing `function_class(**config)` of `inputs` (non-nodes become Constants)."""
    graph = next((x.graph for x in inputs if isinstance(x, Node)), None)
    parents = tuple(x if isinstance(x, Node) else Constant(x, graph=graph) for x in inputs)
    return Operation(function_class, *parents, config=config, name=name)


# ---- arithmetic ---------------------------------------------------------------------------
def add(x, y, name=None): return apply(M.Add, x, y, name=name)
def sub(x, y, name=None): return apply(M.Sub, x, y, name=name)
def mul(x, y, name=None): return apply(M.Mul, x, y, name=name)
def div(x, y, name=None): return apply(M.Div, x, y, name=name)
def neg(x, name=None): return apply(M.Neg, x, name=name)
def matmul(x, w, name=None): return apply(M.MatMul, x, w, name=name)
def exp(x, name=None): return apply(M.Exp, x, name=name)
def log(x, name=None): return apply(M.Log, x, name=name)
def sqrt(x, name=None): return apply(M.Sqrt, x, name=name)
def abs(x, name=None): return apply(M.Abs, x, name=name)
def maximum(x, y, name=None): return apply(M.Maximum, x, y, name=name)
def minimum(x, y, name=None): return apply(M.Minimum, x, y, name=name)
def clip(x, min=None, max=None, name=None): return apply(M.Clip, x, lo=min, hi=max, name=name)
def where(cond, x, y, name=None): return apply(M.Where, cond, x, y, name=name)
def astype(x, dtype, name=None): return apply(M.AsType, x, dtype=np.dtype(dtype).name, name=name)


def pow(x, y, name=None):
    """x ** y; a Python-number exponent uses the cheaper x**c rule, as in eager graphgrad."""
    if isinstance(y, (int, float)) and not isinstance(y, bool):
        return apply(M.PowScalar, x, c=y, name=name)
    return apply(M.Pow, x, y, name=name)


def dot(x, y, name=None):
    """The text's Dot: matrix (or vector) product, as `x @ y`."""
    return apply(M.MatMul, x, y, name=name)


# ---- activations and the softmax family ---------------------------------------------------
def sigmoid(x, name=None): return apply(A.Sigmoid, x, name=name)
def tanh(x, name=None): return apply(A.Tanh, x, name=name)
def relu(x, name=None): return apply(A.ReLU, x, name=name)
def softmax(x, axis=-1, name=None): return apply(A.Softmax, x, axis=axis, name=name)
def log_softmax(x, axis=-1, name=None): return apply(A.LogSoftmax, x, axis=axis, name=name)
def logsumexp(x, axis=None, keepdims=False, name=None): return apply(A.LogSumExp, x, axis=axis, keepdims=keepdims, name=name)


# ---- reductions -----------------------------------------------------------------------------
def sum(x, axis=None, keepdims=False, name=None): return apply(R.Sum, x, axis=axis, keepdims=keepdims, name=name)
def mean(x, axis=None, keepdims=False, name=None): return apply(R.Mean, x, axis=axis, keepdims=keepdims, name=name)
def max(x, axis=None, keepdims=False, name=None): return apply(R.Max, x, axis=axis, keepdims=keepdims, name=name)
def min(x, axis=None, keepdims=False, name=None): return apply(R.Min, x, axis=axis, keepdims=keepdims, name=name)


# ---- shapes -----------------------------------------------------------------------------------
def reshape(x, shape, name=None):
    """x's values in a new shape (one -1 allowed)."""
    return apply(S.Reshape, x, shape=(shape,) if isinstance(shape, int) else tuple(shape), name=name)


def transpose(x, axes=None, name=None):
    return apply(S.Transpose, x, axes=None if axes is None else tuple(axes), name=name)


def broadcast_to(x, shape, name=None): return apply(S.BroadcastTo, x, shape=tuple(shape), name=name)
def expand_dims(x, axis, name=None): return apply(S.ExpandDims, x, axis=axis, name=name)
def squeeze(x, axis=None, name=None): return apply(S.Squeeze, x, axis=axis, name=name)
def getitem(x, index, name=None): return apply(S.GetItem, x, index=index, name=name)
def concatenate(xs, axis=0, name=None): return apply(S.Concatenate, *xs, axis=axis, name=name)
def stack(xs, axis=0, name=None): return apply(S.Stack, *xs, axis=axis, name=name)


def vectorize(*xs, name=None):
    """The text's Vectorize: its inputs as one vector, stacked along a new last axis.

    Scalars give a vector of length len(xs); per-sample scores of shape (N,) give (N, len(xs)).
    """
    return apply(S.Stack, *xs, axis=-1, name=name)


# ---- layers and losses --------------------------------------------------------------------------
def linear(x, weight, bias=None, name=None):
    """x @ weightᵀ + bias with weight (out_features, in_features), as torch.nn.functional.linear."""
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return apply(L.Linear, *inputs, name=name)


def cross_entropy(logits, target, reduction="mean", name=None):
    """Softmax cross-entropy of (N, C) logits against class indices (N,) or probabilities (N, C)."""
    return apply(X.SoftmaxCrossEntropy, logits, target, reduction=reduction, name=name)


def binary_cross_entropy_with_logits(logits, target, reduction="mean", name=None):
    """Sigmoid binary cross-entropy of logits against targets of the same shape."""
    return apply(X.BinaryCrossEntropyWithLogits, logits, target, reduction=reduction, name=name)


# ---- the seed text's names ----------------------------------------------------------------------
Add, Dot, MatMul, Multiply = add, dot, matmul, mul
Logistic, ReLU, SoftMax = sigmoid, relu, softmax
Reshape, Concat, Vectorize = reshape, concatenate, vectorize
CrossEntropyWithSoftMax = cross_entropy
