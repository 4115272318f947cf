"""MatrixSlow's loss nodes on graphgrad's ops."""
from __future__ import annotations

from ... import graph as G

__all__ = ["LogLoss", "PerceptionLoss", "CrossEntropyWithSoftMax"]


def LogLoss(x, **kargs):
    """log(1 + e⁻ˣ) elementwise (computed stably, as binary cross-entropy of logits x against 1)."""
    ones = G.add(G.mul(x, 0.0), 1.0)  # a target of x's shape, whatever it turns out to be
    return G.binary_cross_entropy_with_logits(x, ones, "none", name=kargs.get("name"))


def PerceptionLoss(x, **kargs):
    """0 where x >= 0, else -x: the perceptron's loss (its gradient -1 where x < 0)."""
    return G.relu(G.neg(x), name=kargs.get("name"))


def CrossEntropyWithSoftMax(logits, label, **kargs):
    """-Σ label·log softmax(logits) over a column of scores and a one-hot column (a 1 x 1 value)."""
    return G.CrossEntropyWithSoftMax(logits, label, name=kargs.get("name"))
