"""Tensor.register_post_accumulate_grad_hook: once per backward, after the leaf's final gradient, removable."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import graphgrad as gg
from graphgrad import nn
from graphgrad.autograd import grad


def _three_uses(lib, w, x):
    """A loss that reaches `w` along three paths of different depth (three contributions to its gradient)."""
    h = lib.tanh(w * x)
    return (h * h).sum() + (w * w).sum() * 0.5 + lib.exp(h * w).sum()


def test_the_hook_sees_the_final_gradient_once_per_backward_as_pytorch():
    rng = np.random.default_rng(0)
    w0, x0 = rng.standard_normal(5), rng.standard_normal(5)
    w, x = gg.tensor(w0, requires_grad=True), gg.tensor(x0)
    tw, tx = torch.tensor(w0, requires_grad=True), torch.tensor(x0)
    seen, torch_seen = [], []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.data.copy()))
    tw.register_post_accumulate_grad_hook(lambda t: torch_seen.append(t.grad.detach().numpy().copy()))
    for _ in range(2):  # the second backward accumulates onto the first: the hook sees the sum
        _three_uses(gg, w, x).backward()
        _three_uses(torch, tw, tx).backward()
    assert len(seen) == len(torch_seen) == 2
    for mine, theirs in zip(seen, torch_seen):
        np.testing.assert_allclose(mine, theirs, rtol=1e-13, atol=0)
    np.testing.assert_array_equal(seen[-1], w.grad.data)


def test_hooks_fire_layer_by_layer_while_backward_goes_on():
    """The last layer's gradients are final (and their hooks run) before the first layer's are computed."""
    model = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.Tanh(), nn.Linear(4, 2, dtype=np.float64))
    names = dict((id(p), n) for n, p in model.named_parameters())
    events = []
    for p in model.parameters():
        p.register_post_accumulate_grad_hook(
            lambda t: events.append((names[id(t)], model[0].weight.grad is None)))
    model(gg.tensor(np.ones((5, 3)))).sum().backward()
    assert sorted(n for n, _ in events) == sorted(names.values())  # each parameter once
    order = [n for n, _ in events]
    assert max(order.index("2.weight"), order.index("2.bias")) < min(order.index("0.weight"), order.index("0.bias"))
    first_layer_pending = dict(events)
    assert first_layer_pending["2.weight"] and first_layer_pending["2.bias"]


def test_removing_the_handle_stops_the_hook():
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    first = w.register_post_accumulate_grad_hook(lambda t: calls.append("first"))
    with w.register_post_accumulate_grad_hook(lambda t: calls.append("second")):
        (w * 3).sum().backward()
    (w * 3).sum().backward()
    first.remove()
    first.remove()  # twice is harmless
    (w * 3).sum().backward()
    assert calls == ["first", "second", "first"]
    np.testing.assert_array_equal(w.grad.data, [9, 9])


def test_no_hook_without_an_accumulated_gradient():
    """autograd.grad accumulates nothing; a leaf the loss does not reach gets nothing; a leaf root does."""
    used, unused = gg.tensor([1.0], requires_grad=True), gg.tensor([2.0], requires_grad=True)
    calls = []
    for t in (used, unused):
        t.register_post_accumulate_grad_hook(lambda t: calls.append(t))
    loss = (used * 2).sum()
    grad(loss, [used])
    assert calls == []
    (used * 2).sum().backward()
    assert calls == [used] and unused.grad is None
    unused.backward(gg.tensor([1.0]))  # a leaf as the root of backward
    assert calls == [used, unused]


def test_hooks_only_on_leaves_that_require_grad():
    w = gg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf tensor accumulates no gradient"):
        (w * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="does not require grad"):
        gg.tensor([1.0]).register_post_accumulate_grad_hook(print)
    with pytest.raises(TypeError, match="hook must be callable, got int"):
        w.register_post_accumulate_grad_hook(3)
