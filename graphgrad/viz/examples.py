"""The shipped example graphs: the textbook's and CS231n's figures, built as graphgrad tensors.

Each function returns the output tensor (or a list of them) of a small computation with named
tensors, so that a drawing reads like the book: `graphgrad graph apple --html apple.html`.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

import graphgrad as gg
from graphgrad.autograd.tensor import Tensor

from .groups import group, record_modules


def _leaf(value, name: str) -> Tensor:
    t = gg.tensor(value, dtype="float64", requires_grad=True)
    t.name = name
    return t


def _named(t: Tensor, name: str) -> Tensor:
    t.name = name
    return t


def apple() -> Tensor:
    """Buying 2 apples at 100 each with 10% tax: price = apple × apple_num × tax = 220."""
    apple, apple_num, tax = _leaf(100.0, "apple"), _leaf(2.0, "apple_num"), _leaf(1.1, "tax")
    apple_price = _named(apple * apple_num, "apple_price")
    return _named(apple_price * tax, "price")


def apple_orange() -> Tensor:
    """2 apples at 100 and 3 oranges at 150 with 10% tax: price = (200 + 450) × 1.1 = 715."""
    apple, apple_num = _leaf(100.0, "apple"), _leaf(2.0, "apple_num")
    orange, orange_num = _leaf(150.0, "orange"), _leaf(3.0, "orange_num")
    tax = _leaf(1.1, "tax")
    apple_price = _named(apple * apple_num, "apple_price")
    orange_price = _named(orange * orange_num, "orange_price")
    all_price = _named(apple_price + orange_price, "all_price")
    return _named(all_price * tax, "price")


def cs231n_gates() -> Tensor:
    """CS231n's gate patterns: f = 2·(x·y + max(z, w)); add distributes, max routes, mul swaps."""
    x, y, z, w = _leaf(3.0, "x"), _leaf(-4.0, "y"), _leaf(2.0, "z"), _leaf(-1.0, "w")
    xy = _named(x * y, "xy")
    m = _named(gg.maximum(z, w), "max_zw")
    s = _named(xy + m, "s")
    return _named(s * 2, "f")


def sigmoid() -> list[Tensor]:
    """σ(x) at x = 1 twice: decomposed into ×-1, exp, +1, 1/x as in the book, and the fused op."""
    x = _leaf(1.0, "x")
    neg = _named(x * -1, "-x")
    e = _named(gg.exp(neg), "exp(-x)")
    d = _named(e + 1, "1+exp(-x)")
    decomposed = _named(1 / d, "y")
    fused = _named(gg.sigmoid(x), "y_fused")
    return [decomposed, fused]


def mnist_digits(batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    """(x (batch, 784) float32 in [0, 1], labels, "MNIST" or "noise") for the examples.

    x is the first `batch` MNIST training digits when MNIST is already on this machine (the
    cache, or `$GRAPHGRAD_DATA`; nothing is downloaded), else uniform noise from `rng`. The noise
    is drawn either way, so what `rng` gives next does not depend on the cache.
    """
    from ..datasets import DatasetUnavailable, load_arrays

    noise, noise_labels = rng.random((batch, 784)).astype(np.float32), rng.integers(0, 10, size=batch)
    try:
        mnist = load_arrays("mnist", download=False, quiet=True)
    except DatasetUnavailable:
        return noise, noise_labels, "noise"
    x = (mnist["x_train"][:batch].reshape(batch, 784) / 255).astype(np.float32)
    return x, mnist["t_train"][:batch].astype(np.int64), "MNIST"


def two_layer_batch(batch: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict, str]:
    """(x (batch, 784) in [0, 1], labels, parameters W1 b1 W2 b2, where x came from) for `two_layer_net`.

    x and the labels are `mnist_digits`' (MNIST when cached, else noise); the parameters are the
    book's N(0, 0.01²) draws from `seed` either way.
    """
    rng = np.random.default_rng(seed)
    x, labels, source = mnist_digits(batch, rng)
    params = {
        "W1": rng.normal(0, 0.01, (784, 50)), "b1": np.zeros(50),
        "W2": rng.normal(0, 0.01, (50, 10)), "b2": np.zeros(10),
    }
    return x, labels, {k: v.astype(np.float32) for k, v in params.items()}, source


def two_layer_net(batch: int = 4, seed: int = 0) -> Tensor:
    """One training step's loss of a 784-50-10 network (affine, ReLU, affine, softmax cross-entropy)
    on `batch` MNIST digits when MNIST is cached (see `two_layer_batch`)."""
    xs, labels, params = two_layer_batch(batch, seed)[:3]
    x = gg.Tensor(xs, name="x")
    t = gg.Tensor(np.eye(10, dtype=np.float32)[labels], name="t")
    W1, b1, W2, b2 = (gg.Tensor(v, requires_grad=True, name=k) for k, v in params.items())
    a1 = _named(x @ W1 + b1, "a1")
    group("Affine1", a1, [x])
    z1 = _named(gg.relu(a1), "z1")
    group("ReLU", z1, [a1])
    a2 = _named(z1 @ W2 + b2, "a2")
    group("Affine2", a2, [z1])
    logp = _named(gg.log_softmax(a2, axis=1), "log_p")
    loss = _named(-(logp * t).sum(axis=1).mean(), "loss")
    group("SoftmaxWithLoss", loss, [a2, t])
    return loss


def nn_mlp(seed: int = 0) -> Tensor:
    """The squared-error loss of a graphgrad.nn 3-2-1 network on two samples, one box per module.

    Each `Linear` box expands to the fused op's two steps, `@` (x @ Wᵀ) and `+` (the bias).
    """
    from .. import nn

    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(3, 2, dtype="float64", generator=rng), nn.ReLU(),
                          nn.Linear(2, 1, dtype="float64", generator=rng))
    x = gg.Tensor(rng.normal(size=(2, 3)), name="x")
    t = gg.Tensor(np.array([[1.0], [-1.0]]), name="t")
    with record_modules(model):
        y = _named(model(x), "y")
    return _named(((y - t) ** 2).mean(), "loss")


def simple_cnn(batch: int = 2, seed: int = 0) -> Tensor:
    """One training step's loss of the textbook's SimpleConvNet (conv 30@5x5, ReLU, max-pool,
    4320-100-10) on `batch` MNIST digits when MNIST is cached (see `mnist_digits`).

    The images enter as x of shape (batch, 1, 28, 28), so that the drawing starts at the named
    digits and the convolution; its filters, feature maps and their gradients are image grids.
    """
    from .. import nn
    from ..train.models import simple_cnn as build

    rng = np.random.default_rng(seed)
    model = build(seed)[1:]  # without its first layer, Unflatten: x is given as images
    images, labels, _ = mnist_digits(batch, rng)
    x = gg.Tensor(images.reshape(batch, 1, 28, 28), name="x")
    t = gg.Tensor(labels, name="t")
    with record_modules(model):
        y = _named(model(x), "y")
    return _named(nn.CrossEntropyLoss()(y, t), "loss")


EXAMPLES: dict[str, Callable] = {
    "apple": apple,
    "apple-orange": apple_orange,
    "cs231n-gates": cs231n_gates,
    "sigmoid": sigmoid,
    "two-layer-net": two_layer_net,
    "nn-mlp": nn_mlp,
    "simple-cnn": simple_cnn,
}
