"""Every layer against PyTorch (forward, input gradient, parameter gradients; train and eval) and central differences."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
import graphgrad.nn as nn
import graphgrad.nn.functional as F
from tests.conftest import numeric_grad

RTOL, ATOL = 1e-10, 1e-12


def _run(module, x: np.ndarray, seed: int):
    """Output, input gradient and parameter gradients of sum(v · module(x)) for a random v, and v."""
    xt = gg.tensor(x, requires_grad=True)
    module.zero_grad()
    y = module(xt)
    v = np.random.default_rng(seed).standard_normal(y.shape)
    (y * v).sum().backward()
    grads = {name: p.grad.data for name, p in module.named_parameters()}
    return y.data, xt.grad.data, grads, v


def _run_torch(torch, tmodule, x: np.ndarray, v: np.ndarray):
    xt = torch.tensor(x, requires_grad=True)
    tmodule.zero_grad()
    y = tmodule(xt)
    (y * torch.tensor(v)).sum().backward()
    grads = {name: p.grad.numpy() for name, p in tmodule.named_parameters()}
    return y.detach().numpy(), xt.grad.numpy(), grads


def _copy_to_torch(torch, module, tmodule) -> None:
    tmodule.load_state_dict({k: torch.tensor(np.array(v)) for k, v in module.state_dict().items()})


def _compare(torch, module, tmodule, x, training: bool = True) -> None:
    module.train(training)
    tmodule.train(training)
    _copy_to_torch(torch, module, tmodule)
    y, gx, grads, v = _run(module, x, 1)
    ty, tgx, tgrads = _run_torch(torch, tmodule, x, v)
    np.testing.assert_allclose(y, ty, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gx, tgx, rtol=1e-9, atol=1e-11)
    assert grads.keys() == tgrads.keys()
    for name in grads:
        np.testing.assert_allclose(grads[name], tgrads[name], rtol=1e-9, atol=1e-11, err_msg=name)
    for name, buf in module.state_dict().items():  # running statistics move the same way
        np.testing.assert_allclose(buf, tmodule.state_dict()[name].numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def _check_numeric(module, x: np.ndarray) -> None:
    """Input and parameter gradients of sum(v · module(x)) against central differences (float64)."""
    state = {k: np.array(b, copy=True) for k, b in module.state_dict().items()}
    _, gx, grads, v = _run(module, x, 2)

    def f(_):
        module.load_state_dict(state_restore(module, state))
        with gg.no_grad():
            return float((module(gg.Tensor(x)).data * v).sum())

    np.testing.assert_allclose(gx, numeric_grad(f, x), rtol=1e-6, atol=1e-7)
    for name, p in module.named_parameters():
        np.testing.assert_allclose(grads[name], numeric_grad(f, p.data), rtol=1e-6, atol=1e-7, err_msg=name)


def state_restore(module, state: dict) -> dict:
    """The saved buffers with the current parameters (a forward in training moves running statistics)."""
    current = dict(module.state_dict())
    current.update({k: v for k, v in state.items() if k not in dict(module.named_parameters())})
    return {k: np.array(v, copy=True) for k, v in current.items()}


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


LAYERS = [
    ("Linear", lambda: nn.Linear(5, 3, dtype="float64", generator=0), lambda t: t.nn.Linear(5, 3).double(), (4, 5)),
    ("Linear-3d", lambda: nn.Linear(5, 3, dtype="float64", generator=0), lambda t: t.nn.Linear(5, 3).double(), (2, 4, 5)),
    ("Linear-nobias", lambda: nn.Linear(5, 3, bias=False, dtype="float64", generator=0),
     lambda t: t.nn.Linear(5, 3, bias=False).double(), (4, 5)),
    ("ReLU", nn.ReLU, lambda t: t.nn.ReLU(), (4, 5)),
    ("LeakyReLU", lambda: nn.LeakyReLU(0.2), lambda t: t.nn.LeakyReLU(0.2), (4, 5)),
    ("Sigmoid", nn.Sigmoid, lambda t: t.nn.Sigmoid(), (4, 5)),
    ("Tanh", nn.Tanh, lambda t: t.nn.Tanh(), (4, 5)),
    ("Softmax", lambda: nn.Softmax(dim=1), lambda t: t.nn.Softmax(dim=1), (4, 5)),
    ("LogSoftmax", lambda: nn.LogSoftmax(dim=1), lambda t: t.nn.LogSoftmax(dim=1), (4, 5)),
    ("Identity", nn.Identity, lambda t: t.nn.Identity(), (4, 5)),
    ("Flatten", nn.Flatten, lambda t: t.nn.Flatten(), (2, 3, 4)),
    ("BatchNorm1d", lambda: nn.BatchNorm1d(5, dtype="float64"), lambda t: t.nn.BatchNorm1d(5).double(), (6, 5)),
    ("BatchNorm1d-3d", lambda: nn.BatchNorm1d(3, momentum=0.3, dtype="float64"),
     lambda t: t.nn.BatchNorm1d(3, momentum=0.3).double(), (4, 3, 5)),
    ("BatchNorm1d-cumulative", lambda: nn.BatchNorm1d(5, momentum=None, dtype="float64"),
     lambda t: t.nn.BatchNorm1d(5, momentum=None).double(), (6, 5)),
    ("LayerNorm", lambda: nn.LayerNorm(5, dtype="float64"), lambda t: t.nn.LayerNorm(5).double(), (4, 5)),
    ("LayerNorm-2d", lambda: nn.LayerNorm((3, 4), dtype="float64"), lambda t: t.nn.LayerNorm((3, 4)).double(), (2, 3, 4)),
]


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name,make,make_torch,shape", LAYERS, ids=[row[0] for row in LAYERS])
def test_layer_matches_torch(torch_oracle, name, make, make_torch, shape, training):
    module, tmodule = make(), make_torch(torch_oracle)
    for p in module.parameters():  # move affine parameters off 1 / 0 so their gradients mean something
        p.data += _x(*p.shape, seed=7) * 0.1
    if "BatchNorm" in name:  # non-trivial running statistics, then a few training steps
        module.running_mean[:] = _x(*module.running_mean.shape, seed=3)
        module.running_var[:] = 1 + np.abs(_x(*module.running_var.shape, seed=4))
    _compare(torch_oracle, module, tmodule, _x(*shape), training)
    _compare(torch_oracle, module, tmodule, _x(*shape, seed=5), training)  # second batch: running stats again


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name,make,make_torch,shape", LAYERS, ids=[row[0] for row in LAYERS])
def test_layer_gradients_match_central_differences(name, make, make_torch, shape, training):
    module = make().train(training)
    for p in module.parameters():
        p.data += _x(*p.shape, seed=7) * 0.1
    _check_numeric(module, _x(*shape))


def test_dropout_is_inverted_seedable_and_identity_in_eval():
    x = np.ones((200, 50))
    a, b = nn.Dropout(0.3, generator=4), nn.Dropout(0.3, generator=4)
    ya, yb = a(gg.tensor(x)).data, b(gg.tensor(x)).data
    np.testing.assert_array_equal(ya, yb)  # same seed, same mask
    np.testing.assert_allclose(np.unique(ya), [0.0, 1 / 0.7])
    assert abs((ya == 0).mean() - 0.3) < 0.02
    assert not np.array_equal(a(gg.tensor(x)).data, ya)  # the next call draws a new mask
    a.eval()
    xt = gg.tensor(x, requires_grad=True)
    assert a(xt) is xt


def test_dropout_gradient_is_the_mask(torch_oracle):
    xt = gg.tensor(_x(10, 8), requires_grad=True)
    y = F.dropout(xt, 0.4, training=True, generator=9)
    y.sum().backward()
    mask = y.data / xt.data
    np.testing.assert_allclose(xt.grad.data, mask)
    assert set(np.round(np.unique(mask), 12)) <= {0.0, round(1 / 0.6, 12)}
    # PyTorch's dropout applies the same rule: kept elements scaled by 1/(1-p)
    tx = torch_oracle.tensor(_x(10, 8), requires_grad=True)
    ty = torch_oracle.nn.functional.dropout(tx, 0.4, training=True)
    ty.sum().backward()
    np.testing.assert_allclose(tx.grad.numpy(), ty.detach().numpy() / tx.detach().numpy())


def test_dropout_rejects_bad_probability():
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


def test_linear_skips_input_gradient_when_not_needed():
    lin = nn.Linear(4, 2, generator=0)
    out = lin(np.ones((3, 4), dtype=np.float32))  # an array input: a constant, no gradient wanted
    assert out.creator.needs_input_grad == (False, True, True)
    out.sum().backward()
    assert lin.weight.grad.shape == (2, 4) and lin.bias.grad.shape == (2,)


def test_linear_weight_gradient_comes_in_the_weight_memory_order():
    # nn.Linear stores (out, in) column-major; the gradient follows, so `w -= lr * g` stays contiguous.
    lin = nn.Linear(5, 3, generator=0)
    assert lin.weight.shape == (3, 5) and lin.weight.data.flags.f_contiguous
    lin(gg.tensor(np.ones((4, 5), dtype=np.float32))).sum().backward()
    assert lin.weight.grad.data.flags.f_contiguous
    w = gg.tensor(np.ones((3, 5), dtype=np.float32), requires_grad=True)  # a row-major weight stays row-major
    F.linear(gg.tensor(np.ones((4, 5), dtype=np.float32)), w).sum().backward()
    assert w.grad.data.flags.c_contiguous


def test_linear_shape_error_names_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(3, 5\) does not fit weight of shape \(2, 4\)"):
        nn.Linear(4, 2)(np.ones((3, 5), dtype=np.float32))


@pytest.mark.parametrize("order", ["C", "F"])
def test_linear_second_order_matches_torch(torch_oracle, order):
    torch = torch_oracle
    x, w, b = _x(3, 4), np.asarray(_x(2, 4, seed=1), order=order), _x(2, seed=2)
    xt, wt = gg.tensor(x, requires_grad=True), gg.tensor(w, requires_grad=True)
    y = F.linear(xt, wt, gg.tensor(b))
    (gx,) = gg.autograd.grad((y * y).sum(), xt, create_graph=True)
    (gx * gx).sum().backward()
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.linear(tx, tw, torch.tensor(b))
    (tgx,) = torch.autograd.grad((ty * ty).sum(), tx, create_graph=True)
    (tgx * tgx).sum().backward()
    np.testing.assert_allclose(wt.grad.data, tw.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-10)


def test_batchnorm_rejects_wrong_channels():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4\): expected input of shape \(N, 4\)"):
        nn.BatchNorm1d(4)(np.ones((3, 5), dtype=np.float32))


@settings(max_examples=25, deadline=None)
@given(lead=st.lists(st.integers(1, 4), min_size=0, max_size=2), n_in=st.integers(1, 6), n_out=st.integers(1, 6),
       bias=st.booleans(), column_major=st.booleans(), seed=st.integers(0, 10**6))
def test_linear_any_shape_matches_torch(lead, n_in, n_out, bias, column_major, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((*lead, n_in)), rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)
    if column_major:  # as nn.Linear stores its weight
        w = np.asfortranarray(w)
    xt, wt, bt = (gg.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.linear(xt, wt, bt if bias else None)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.linear(tx, tw, tb if bias else None)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    for ours, theirs in ((xt, tx), (wt, tw)) + (((bt, tb),) if bias else ()):
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)
