"""Selections pass no ±inf or NaN to what they did not select: ReLU, clamp, max and the like give exactly 0
there, as PyTorch's relu, clamp, max and maximum do (IEEE's inf·0 is NaN, so a gradient mask cannot be a
plain product). PyTorch's amax over a dim and copysign do multiply, and give NaN there; graphgrad gives 0
for them too: the gradient does not depend on that upstream value at all."""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.backend import to_numpy

torch = pytest.importorskip("torch", reason="PyTorch is the oracle (pip install torch==2.13.0)")
F = torch.nn.functional
X = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 7.0])
TIES = np.array([1.0, 3.0, 3.0, -1.0, 0.0, 3.0, 2.0, -4.0])

# name: (graphgrad, torch, input)
SELECTIONS = {
    "relu": (gg.relu, F.relu, X),
    "relu6": (gg.nn.functional.relu6, F.relu6, X),
    "hardtanh": (gg.nn.functional.hardtanh, F.hardtanh, X),
    "clamp": (lambda t: gg.clamp(t, -1, 1), lambda t: torch.clamp(t, -1, 1), X),
    "clamp_min": (lambda t: gg.clamp(t, min=0.5), lambda t: torch.clamp(t, min=0.5), X),
    "max": (gg.max, torch.max, TIES),
    "amax_dim": (lambda t: gg.amax(t.reshape(2, 4), 1), lambda t: torch.amax(t.reshape(2, 4), 1), TIES),
    "min": (gg.min, torch.min, TIES),
    "maximum": (lambda t: gg.maximum(t, gg.tensor(np.zeros(8))), lambda t: torch.maximum(t, torch.zeros(8, dtype=t.dtype)), X),
    "minimum": (lambda t: gg.minimum(t, gg.tensor(np.zeros(8))), lambda t: torch.minimum(t, torch.zeros(8, dtype=t.dtype)), X),
    "copysign": (lambda t: gg.copysign(t, gg.tensor(-np.ones(8))), lambda t: torch.copysign(t, -torch.ones(8, dtype=t.dtype)), X),
    "pow0": (lambda t: t ** 0, lambda t: t ** 0, X),
    "scatter": (lambda t: gg.scatter(t, 0, gg.tensor(np.array([1, 4])), gg.tensor(np.zeros(2))),
                lambda t: t.scatter(0, torch.tensor([1, 4]), torch.zeros(2, dtype=t.dtype)), X),
}


def _grads(ours, theirs, x, seed, create_graph=False, lift=np.asarray):
    a = gg.tensor(lift(x), requires_grad=True)
    y = ours(a)
    (ga,) = gg.autograd.grad(y, a, gg.tensor(lift(seed.reshape(tuple(y.shape)))), create_graph=create_graph)
    b = torch.tensor(x, requires_grad=True)
    yt = theirs(b)
    (gt,) = torch.autograd.grad(yt, b, torch.tensor(seed.reshape(tuple(yt.shape))))
    return to_numpy(ga.data), gt.numpy()


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_a_non_finite_gradient_reaches_only_what_was_selected(name, bad, create_graph):
    ours, theirs, x = SELECTIONS[name]
    n = theirs(torch.tensor(x)).numel()
    for at in range(n):  # the bad value at each output position in turn, finite elsewhere
        seed = np.linspace(0.5, 1.5, n)
        seed[at] = bad
        ga, gt = _grads(ours, theirs, x, seed, create_graph)
        seed[at] = 1.0
        _, depends = _grads(ours, theirs, x, seed)  # 0 where the gradient does not use the upstream value
        np.testing.assert_array_equal(ga, np.where(depends == 0, 0.0, gt), err_msg=f"{name}, upstream {bad} at {at}")
        if name not in ("amax_dim", "copysign"):  # PyTorch's own gradient is that already
            np.testing.assert_array_equal(ga, gt, err_msg=f"{name}, upstream {bad} at {at}")


@pytest.mark.parametrize("name", ["relu", "clamp", "max", "hardtanh"])
def test_the_same_on_an_array_api_library(name):
    xp = pytest.importorskip("array_api_strict")
    pytest.importorskip("array_api_compat")
    ours, theirs, x = SELECTIONS[name]
    n = theirs(torch.tensor(x)).numel()
    seed = np.full(n, np.inf)
    ga, gt = _grads(ours, theirs, x, seed, lift=lambda a: xp.asarray(a, device=xp.Device("device1")))
    np.testing.assert_array_equal(ga, gt)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "clamp", "clamp_min"])
def test_a_nan_input_gets_the_gradient_pytorch_gives_it(name, create_graph):
    """ReLU, ReLU6 and Hardtanh pass the gradient at a NaN input (PyTorch masks only x <= bound); clamp gives 0."""
    ours, theirs, _ = SELECTIONS[name]
    x = np.array([np.nan, -2.0, 0.0, 0.5, 9.0])
    ga, gt = _grads(ours, theirs, x, np.linspace(0.5, 1.5, 5), create_graph)
    np.testing.assert_array_equal(ga, gt)
