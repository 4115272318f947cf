"""In-place operations, version counters, `.data` idioms, factories and higher derivatives, against PyTorch."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import graphgrad as gg
from conftest import torch

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install torch==2.13.0)")
MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace operation"
LEAF = "a leaf Variable that requires grad is being used in an in-place operation."


def test_manual_sgd_with_minus_equals_trains():
    """`with no_grad(): for p in params: p -= lr * p.grad` must update the parameters (it used to rebind)."""
    gg.manual_seed(0)
    model = gg.nn.Linear(3, 1)
    x, y = gg.randn(32, 3), gg.randn(32, 1)
    params = list(model.parameters())
    losses = []
    for _ in range(30):
        for p in params:
            p.grad = None
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        with gg.no_grad():
            for p in params:
                p -= 0.1 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
    assert all(isinstance(p, gg.nn.Parameter) for p in model.parameters())


@pytest.mark.parametrize("idiom", ["data -=", "data.sub_", "add_(alpha)", "copy_"])
def test_parameter_update_idioms(idiom):
    p = gg.nn.Parameter(gg.tensor([1.0, 2.0]))
    p.grad = gg.tensor([0.5, -1.0])
    if idiom == "data -=":
        p.data -= 0.1 * p.grad
    elif idiom == "data.sub_":
        p.data.sub_(0.1 * p.grad)
    elif idiom == "add_(alpha)":
        with gg.no_grad():
            p.add_(p.grad, alpha=-0.1)
    else:
        p.data.copy_(p.detach() - 0.1 * p.grad)
    np.testing.assert_allclose(p.data, [0.95, 2.1], rtol=1e-6)
    assert isinstance(p, gg.nn.Parameter) and p.requires_grad and p.is_leaf


def test_data_zero_and_fill():
    p = gg.tensor([1.0, 2.0], requires_grad=True)
    p.data.zero_()
    np.testing.assert_array_equal(p.data, [0.0, 0.0])
    p.data.fill_(3.0)
    np.testing.assert_array_equal(p.numpy(), [3.0, 3.0])
    assert type(p.numpy()) is np.ndarray and type((p * 2).data) is np.ndarray


def test_leaf_in_place_needs_no_grad():
    p = gg.tensor([1.0, 2.0], requires_grad=True)
    for op in (lambda: p.add_(1), lambda: p.mul_(2), lambda: p.zero_(), lambda: p.__isub__(1)):
        with pytest.raises(RuntimeError, match=LEAF):
            op()
    with gg.no_grad():
        p.mul_(3).add_(1)
    np.testing.assert_allclose(p.data, [4.0, 7.0])
    assert p._version == 2


@needs_torch
def test_in_place_on_a_graph_tensor_is_differentiable():
    def run(T, a):
        x = T.tensor(a, requires_grad=True)
        y = x * 2
        y += 1
        y.mul_(x)
        y.clamp_(max=1.2)
        z = y.sin()
        z.sum().backward()
        return z, x.grad

    a = np.array([0.1, -0.3, 0.2])
    (z, g), (tz, tg) = run(gg, a), run(torch, a)
    np.testing.assert_allclose(z.data, tz.detach().numpy())
    np.testing.assert_allclose(g.data, tg.numpy())
    assert z.grad_fn is z.creator and type(z.grad_fn).__name__ == "Sin"
    assert type(z.grad_fn.inputs[0].grad_fn).__name__ == "Clip"  # y is now the output of the in-place clamp_


@needs_torch
@pytest.mark.parametrize("case", ["saved output", "saved input", "view of saved"])
def test_backward_through_a_modified_saved_tensor_raises(case):
    for T in (torch, gg):
        x = T.tensor([0.5, 1.0], requires_grad=True)
        if case == "saved output":
            y = x.exp()
            out = y.sum()
            with T.no_grad():
                y.add_(1)
        elif case == "saved input":
            h = x * 1
            out = (h * h).sum()
            h.zero_()
        else:
            h = x * 1
            out = (h * h).sum()
            h[0:1].mul_(2) if T is torch else h[0:1].mul_(2)
        with pytest.raises(RuntimeError, match=MODIFIED):
            out.backward()


def test_modified_error_names_the_op():
    x = gg.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()
    loss = y.sum()
    with gg.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="Exp"):
        loss.backward()


def test_in_place_unrelated_to_saved_values_is_fine():
    x = gg.tensor([0.5, 1.0], requires_grad=True)
    w = gg.tensor([2.0, 3.0])
    loss = (x * w).sum()
    other = gg.zeros(2)
    other.add_(1)  # an in-place write elsewhere: the check runs and finds nothing
    loss.backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 3.0])


def test_in_place_result_dtype_and_shape_checks():
    i = gg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(1.5)
    x = gg.zeros(3)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        x.add_(gg.ones(2, 3))
    x.add_(gg.ones(1))
    x.copy_(gg.tensor([1, 2, 3]))
    np.testing.assert_array_equal(x.data, [1.0, 2.0, 3.0])
    assert x.dtype == gg.float32


def test_requires_grad_and_detach_in_place():
    x = gg.zeros(2).requires_grad_()
    assert x.requires_grad and x.is_leaf
    y = x * 2
    y.detach_()
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None


def test_dim_and_axis_spellings_agree():
    x = gg.tensor(np.arange(12.0).reshape(3, 4))
    for f in ("sum", "mean", "amax", "logsumexp"):
        a = getattr(x, f)(dim=1, keepdim=True)
        b = getattr(x, f)(axis=1, keepdims=True)
        np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(gg.cumsum(x, axis=0).data, gg.cumsum(x, dim=0).data)
    np.testing.assert_array_equal(gg.cat([x, x], axis=1).data, gg.cat([x, x], dim=1).data)


def test_pow_at_zero_has_pytorch_gradients_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = gg.tensor([0.0, 2.0], requires_grad=True)
        (x ** 0).sum().backward()
        np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
        y = gg.tensor([0.5, 2.0], requires_grad=True)
        (0 ** y).sum().backward()
        np.testing.assert_array_equal(y.grad.data, [0.0, 0.0])
        z = gg.tensor([0.0, 1.0], requires_grad=True)
        gg.pow(z, gg.tensor([0.0, 0.0])).sum().backward()
        np.testing.assert_array_equal(z.grad.data, [0.0, 0.0])


@needs_torch
def test_factories_and_dtypes_match_pytorch():
    pairs = [
        (gg.zeros(2, 3), torch.zeros(2, 3)), (gg.ones((2,)), torch.ones((2,))), (gg.full((2, 2), 7), torch.full((2, 2), 7)),
        (gg.full((2,), 1.5), torch.full((2,), 1.5)), (gg.arange(5), torch.arange(5)), (gg.arange(0, 1, 0.25), torch.arange(0, 1, 0.25)),
        (gg.linspace(0, 1, 5), torch.linspace(0, 1, 5)), (gg.eye(3, 2), torch.eye(3, 2)), (gg.empty(2, 2).zero_(), torch.empty(2, 2).zero_()),
        (gg.zeros_like(gg.ones(2, dtype=gg.int64)), torch.zeros_like(torch.ones(2, dtype=torch.int64))),
        (gg.ones_like(gg.zeros(3), dtype=gg.float64), torch.ones_like(torch.zeros(3), dtype=torch.float64)),
        (gg.full_like(gg.zeros(2), 4), torch.full_like(torch.zeros(2), 4)),
        (gg.from_numpy(np.arange(3)), torch.from_numpy(np.arange(3))), (gg.as_tensor([1, 2]), torch.as_tensor([1, 2])),
        (gg.tensor([1.0], dtype=gg.long), torch.tensor([1.0], dtype=torch.long)),
    ]
    for ours, theirs in pairs:
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)
    for name in ("float32", "float64", "float16", "int64", "long", "int32", "int", "bool", "float", "double", "half"):
        assert str(getattr(gg, name)) == str(getattr(torch, name)).replace("torch.", ""), name


def test_random_factories_follow_manual_seed():
    gg.manual_seed(3)
    a = (gg.rand(2, 3), gg.randn(4), gg.randint(0, 10, (5,)), gg.rand_like(gg.zeros(2)), gg.randn_like(gg.zeros(2)))
    gg.manual_seed(3)
    b = (gg.rand(2, 3), gg.randn(4), gg.randint(0, 10, (5,)), gg.rand_like(gg.zeros(2)), gg.randn_like(gg.zeros(2)))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.data, y.data)
    assert a[0].dtype == gg.float32 and a[2].dtype == gg.int64 and 0 <= a[0].data.min() and a[0].data.max() < 1
    m = gg.from_numpy(np.zeros(2))
    m.add_(1)  # shares memory with the array, as PyTorch's from_numpy
    np.testing.assert_array_equal(m.numpy(), [1.0, 1.0])


def test_to_device_accepts_cpu_and_names_others():
    x = gg.ones(2)
    assert x.to("cpu") is x and x.to("cpu", gg.float64).dtype == gg.float64
    if not gg.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            x.to("cuda")


SECOND_ORDER = {  # f(T, x) whose Hessian-vector product is compared with PyTorch's
    "sin*cos": lambda T, x: (x.sin() * x.cos()).sum(),
    "erf": lambda T, x: x.erf().sum(),
    "atan2": lambda T, x: T.atan2(x, x * x + 1).sum(),
    "logaddexp": lambda T, x: T.logaddexp(x, 2 * x).sum(),
    "prod": lambda T, x: x.prod(1).sum(),
    "std": lambda T, x: x.std(1).sum(),
    "cumsum": lambda T, x: (x.cumsum(1) ** 2).sum(),
    "cumprod": lambda T, x: x.cumprod(1).sum(),
    "logcumsumexp": lambda T, x: (x.logcumsumexp(1) ** 2).sum(),
    "gather": lambda T, x: (x.gather(1, T.tensor([[0, 0], [2, 1]])) ** 3).sum(),
    "sort": lambda T, x: (x.sort(1)[0] ** 3 * T.tensor([1.0, 2.0, 3.0])).sum(),
    "max(dim)": lambda T, x: (x.max(1).values ** 3).sum(),
    "einsum": lambda T, x: T.einsum("ij,kj->ik", x, x).pow(2).sum(),
    "flip/roll": lambda T, x: (x.flip(0).roll(1, 1) * x).pow(2).sum(),
    "repeat": lambda T, x: (x.repeat(2, 1) ** 3).sum(),
    "normalize": lambda T, x: (_normalize(T)(x, dim=1) * x).sum(),
    "pow(tensor)": lambda T, x: (x.abs() + 0.5).pow(x).sum(),
    "scatter_add": lambda T, x: (x.scatter_add(1, T.tensor([[0, 0, 1], [2, 2, 2]]), x * x) ** 2).sum(),
}


def _normalize(T):
    return gg.normalize if T is gg else torch.nn.functional.normalize


@needs_torch
@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_derivatives_match_pytorch(name):
    f = SECOND_ORDER[name]
    a = np.array([[0.3, -0.5, 0.8], [0.6, 0.2, -0.4]])
    v = np.array([[1.0, -2.0, 0.5], [0.3, 0.7, -1.1]])
    x = gg.tensor(a, requires_grad=True)
    (g,) = gg.autograd.grad(f(gg, x), x, create_graph=True)
    (h,) = gg.autograd.grad((g * gg.tensor(v)).sum(), x)
    tx = torch.tensor(a, requires_grad=True)
    (tg,) = torch.autograd.grad(f(torch, tx), tx, create_graph=True)
    (th,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(h.data, th.numpy(), rtol=1e-7, atol=1e-10)
