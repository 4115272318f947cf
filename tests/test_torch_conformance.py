"""PyTorch conformance: each everyday idiom run in graphgrad and in PyTorch (values, dtypes, shapes, gradients).

Every idiom is one function of the module (`graphgrad` or `torch`) and the input tensors, so the
same line runs in both libraries; results are compared value for value, dtype for dtype, and the
gradient of a weighted sum of the floating outputs is compared for every input that requires it.
"""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install torch==2.13.0)")

rng = np.random.default_rng(7)
M = rng.standard_normal((3, 4))  # float64 inputs: values must agree to rounding
M[0, 1] = M[0, 2]  # a tie, for max/sort/cummax
P = rng.uniform(0.2, 0.9, (3, 4))  # inside (0, 1): asin, atanh, log
V = rng.standard_normal(5)
B = rng.standard_normal((2, 3, 4))
IMG = rng.standard_normal((2, 3, 4, 5))
IDX = np.array([[0, 2, 1, 0], [2, 2, 0, 1]])
INTS = np.array([[5, -3, 8], [2, 7, -6]], dtype=np.int64)
MASK = M > 0


def grad(a):
    """An input that requires grad (float64)."""
    return ("grad", a)


def const(a):
    """An input that does not."""
    return ("const", a)


# name: (idiom(T, *tensors), inputs)
IDIOMS = {
    # ---- shapes and views
    "view": (lambda T, x: x.view(4, 3), [grad(M)]),
    "view_as": (lambda T, x, y: x.view_as(y), [grad(M), const(M.reshape(2, 6))]),
    "reshape(*shape)": (lambda T, x: x.reshape(2, -1), [grad(M)]),
    "reshape(tuple)": (lambda T, x: T.reshape(x, (6, 2)), [grad(M)]),
    "flatten": (lambda T, x: x.flatten(), [grad(B)]),
    "flatten(start, end)": (lambda T, x: x.flatten(1, 2), [grad(IMG)]),
    "unflatten": (lambda T, x: x.unflatten(1, (2, 2)), [grad(M)]),
    "t": (lambda T, x: x.t(), [grad(M)]),
    "T": (lambda T, x: x.T, [grad(M)]),
    "unsqueeze": (lambda T, x: x.unsqueeze(1), [grad(M)]),
    "squeeze(dim) size 1": (lambda T, x: x.unsqueeze(0).squeeze(0), [grad(M)]),
    "squeeze(dim) not size 1": (lambda T, x: x.squeeze(1), [grad(M)]),
    "squeeze()": (lambda T, x: x.reshape(1, 3, 1, 4).squeeze(), [grad(M)]),
    "permute(*dims)": (lambda T, x: x.permute(2, 0, 1), [grad(B)]),
    "transpose(d0, d1)": (lambda T, x: x.transpose(0, 2), [grad(B)]),
    "transpose(-1, -2)": (lambda T, x: T.transpose(x, -1, -2), [grad(B)]),
    "contiguous": (lambda T, x: x.transpose(0, 1).contiguous(), [grad(M)]),
    "expand": (lambda T, x: x[None].expand(2, -1, -1), [grad(M)]),
    "expand_as": (lambda T, x, y: x[:1].expand_as(y), [grad(M), const(M)]),
    "repeat": (lambda T, x: x.repeat(2, 1, 3), [grad(M)]),
    "clone": (lambda T, x: x.clone() * 2, [grad(M)]),
    "cat": (lambda T, x, y: T.cat([x, y], dim=1), [grad(M), grad(P)]),
    "concatenate": (lambda T, x, y: T.concatenate([x, y], 0), [grad(M), grad(P)]),
    "stack(dim)": (lambda T, x, y: T.stack([x, y], dim=2), [grad(M), grad(P)]),
    "chunk": (lambda T, x: x.chunk(3, 1), [grad(M)]),
    "split(int)": (lambda T, x: x.split(3, dim=1), [grad(M)]),
    "split(sizes)": (lambda T, x: T.split(x, [1, 2], 0), [grad(M)]),
    "flip": (lambda T, x: x.flip(0, 1), [grad(M)]),
    "roll": (lambda T, x: x.roll(1, 1), [grad(M)]),
    "roll(flat)": (lambda T, x: T.roll(x, 2), [grad(M)]),
    "tril": (lambda T, x: x.tril(), [grad(M)]),
    "triu(1)": (lambda T, x: T.triu(x, 1), [grad(M)]),
    "diag(vector)": (lambda T, v: T.diag(v, 1), [grad(V)]),
    "diag(matrix)": (lambda T, x: x.diag(), [grad(M)]),
    "diagonal": (lambda T, x: x.diagonal(0, 1, 2), [grad(B)]),
    "meshgrid(ij)": (lambda T, x, y: T.meshgrid(x, y, indexing="ij"), [grad(V), grad(V[:3])]),
    "meshgrid(xy)": (lambda T, x, y: T.meshgrid(x, y, indexing="xy"), [grad(V), grad(V[:3])]),
    "repeat_interleave": (lambda T, x: x.repeat_interleave(2, dim=0), [grad(M)]),
    "getitem": (lambda T, x: x[1:, ::2], [grad(M)]),
    "getitem(mask)": (lambda T, x, m: x[m], [grad(M), const(MASK)]),
    # ---- dtypes and conversions
    "float()": (lambda T, x: x.float(), [grad(M)]),
    "double()": (lambda T, x: x.float().double(), [grad(M)]),
    "half()": (lambda T, x: x.half(), [const(M)]),
    "long()": (lambda T, x: x.long(), [const(M * 3)]),
    "int()": (lambda T, x: x.int(), [const(M * 3)]),
    "bool()": (lambda T, x: x.bool(), [const(np.round(M))]),
    "to(dtype)": (lambda T, x: x.to(T.float32), [grad(M)]),
    "to(tensor)": (lambda T, x, y: x.to(y), [grad(M), const(INTS)]),
    "type_as": (lambda T, x, y: x.type_as(y), [const(INTS), const(M)]),
    "int * python float": (lambda T, i: i * 1.5, [const(INTS)]),
    "int / int": (lambda T, i: i / T.tensor(4), [const(INTS)]),
    "int + python int": (lambda T, i: i + 2, [const(INTS)]),
    "exp of ints": (lambda T, i: (i.float() * 0 + i).exp() if False else T.exp(i), [const(INTS)]),
    "where(mask, float, float32)": (lambda T, x: T.where(x > 0, 0.5, x.float()), [grad(M)]),
    "sum of bools": (lambda T, x: (x > 0).sum(), [const(M)]),
    "sum(dim=-1) of 0-d": (lambda T, x: x.sum().sum(dim=-1), [grad(M)]),
    # ---- comparisons and tests
    "eq/ne/lt": (lambda T, x, y: (x.eq(y), x.ne(y), x.lt(y)), [const(M), const(M.T.reshape(3, 4))]),
    "le/gt/ge": (lambda T, x: (x.le(0), x.gt(0.1), x.ge(-0.1)), [const(M)]),
    "isclose": (lambda T, x, y: T.isclose(x, y, atol=0.5), [const(M), const(P)]),
    "isclose(equal_nan)": (lambda T, x: T.isclose(x.log(), x.log(), equal_nan=True), [const(M)]),
    "allclose": (lambda T, x, y: T.tensor([T.allclose(x, x + 1e-9), T.allclose(x, y), x.allclose(x)]),
                 [const(M), const(P)]),
    "isnan/isinf/isfinite": (lambda T, x: (x.log().isnan(), (x / 0).isinf(), x.isfinite()), [const(M)]),
    "any/all": (lambda T, x: (x.gt(0).any(), x.gt(-5).all(), x.gt(0).any(dim=1), x.gt(0).all(1, keepdim=True)),
                [const(M)]),
    "nonzero": (lambda T, x: x.gt(0).nonzero(), [const(M)]),
    # ---- elementwise math
    "clamp": (lambda T, x: x.clamp(-0.5, 0.5), [grad(M)]),
    "clamp(min=)": (lambda T, x: T.clamp(x, min=0.1), [grad(M)]),
    "clamp_min/clamp_max": (lambda T, x: x.clamp_min(-0.3).clamp_max(0.4), [grad(M)]),
    "pow(tensor)": (lambda T, x, y: x.pow(y), [grad(P), grad(M)]),
    "pow(number)": (lambda T, x: T.pow(x, 3), [grad(M)]),
    "sign": (lambda T, x: x.sign() * x, [grad(M)]),
    "copysign": (lambda T, x, y: x.copysign(y), [grad(M), const(P - 0.5)]),
    "sin/cos/tan": (lambda T, x: x.sin() + x.cos() * x.tan(), [grad(M)]),
    "asin/acos/atan": (lambda T, x: x.asin() + x.acos() * x.atan(), [grad(P)]),
    "atan2": (lambda T, x, y: T.atan2(x, y), [grad(M), grad(P)]),
    "sinh/cosh": (lambda T, x: x.sinh() * x.cosh(), [grad(M)]),
    "asinh/acosh/atanh": (lambda T, x: x.asinh() + (x + 1).acosh() + x.atanh(), [grad(P)]),
    "erf": (lambda T, x: x.erf(), [grad(M)]),
    "floor/ceil/round/trunc": (lambda T, x: (x * 3).floor() + (x * 3).ceil() + (x * 3).round() + (x * 3).trunc(),
                               [grad(M)]),
    "frac": (lambda T, x: (x * 3).frac(), [grad(M)]),
    "log2/log10/log1p": (lambda T, x: x.log2() + x.log10() + x.log1p(), [grad(P)]),
    "exp2/expm1/rsqrt": (lambda T, x: x.exp2() + x.expm1() + x.rsqrt(), [grad(P)]),
    "logaddexp": (lambda T, x, y: T.logaddexp(x, y), [grad(M), grad(P)]),
    "lerp": (lambda T, x, y, w: T.lerp(x, y, w), [grad(M), grad(P), grad(P * 0.5)]),
    "fmod": (lambda T, x, y: T.fmod(x * 3, y), [grad(M), grad(P)]),
    "remainder": (lambda T, x, y: T.remainder(x * 3, y), [grad(M), grad(P)]),
    "% operator": (lambda T, x: (x * 3) % 0.7, [grad(M)]),
    "// on floats": (lambda T, x: (x * 3) // 0.7, [const(M)]),
    "// on ints": (lambda T, i: i // 3, [const(INTS)]),
    "bitwise and/or/xor": (lambda T, i: (i & 6, i | 1, i ^ 3), [const(INTS)]),
    "bitwise not, shifts": (lambda T, i: (~i, i << 2, i >> 1), [const(INTS)]),
    "bitwise on bools": (lambda T, x: ((x > 0) & (x < 1), (x > 0) | (x < -1), ~(x > 0)), [const(M)]),
    # ---- reductions
    "max()": (lambda T, x: x.max(), [grad(M)]),
    "max(dim)": (lambda T, x: x.max(1), [grad(M)]),
    "max(dim)[1] is argmax": (lambda T, x: x.max(1)[1], [const(M)]),
    "max(dim).values, keepdim": (lambda T, x: x.max(dim=0, keepdim=True).values, [grad(M)]),
    "min(dim)": (lambda T, x: x.min(0), [grad(M)]),
    "max(tensor)": (lambda T, x, y: T.max(x, y), [grad(M), grad(P)]),
    "amax/amin": (lambda T, x: (x.amax(1), x.amin(dim=(0, 1))), [grad(M)]),
    "argmax/argmin": (lambda T, x: (x.argmax(), x.argmax(1), x.argmin(0, keepdim=True)), [const(M)]),
    "sum(dim, keepdim)": (lambda T, x: x.sum(dim=1, keepdim=True), [grad(M)]),
    "mean(axis=) NumPy spelling": (lambda T, x: x.mean(1), [grad(M)]),
    "prod": (lambda T, x: (x.prod(), x.prod(1)), [grad(M)]),
    "prod with a zero": (lambda T, x: x.prod(1), [grad(np.where(MASK, M, 0.0))]),
    "std/var": (lambda T, x: (x.std(), x.var(1), x.std(dim=0, keepdim=True)), [grad(M)]),
    "std/var(correction=0)": (lambda T, x: (x.std(1, correction=0), T.var(x, 0, correction=2)), [grad(M)]),
    "std_mean": (lambda T, x: T.std_mean(x, dim=1), [grad(M)]),
    "var_mean": (lambda T, x: T.var_mean(x, 0, correction=0), [grad(M)]),
    "logsumexp": (lambda T, x: x.logsumexp(1), [grad(M)]),
    # ---- ordering and cumulative
    "sort": (lambda T, x: x.sort(1), [grad(M)]),
    "sort(descending)": (lambda T, x: T.sort(x, 0, descending=True), [grad(M)]),
    "argsort": (lambda T, x: x.argsort(dim=1, descending=True, stable=True), [const(M)]),
    "topk": (lambda T, x: x.topk(2, 1), [grad(M)]),
    "topk(smallest)": (lambda T, x: x.topk(2, 0, largest=False), [grad(M)]),
    "cumsum": (lambda T, x: x.cumsum(1), [grad(M)]),
    "cumsum of ints": (lambda T, i: i.cumsum(0), [const(INTS)]),
    "cumprod": (lambda T, x: x.cumprod(dim=0), [grad(M)]),
    "cumprod with a zero": (lambda T, x: x.cumprod(1), [grad(np.where(MASK, M, 0.0))]),
    "cummax": (lambda T, x: x.cummax(1), [grad(M)]),
    "cummin": (lambda T, x: T.cummin(x, 0), [grad(M)]),
    "logcumsumexp": (lambda T, x: x.logcumsumexp(1), [grad(M)]),
    # ---- indexing
    "gather": (lambda T, x, i: x.gather(0, i), [grad(M), const(IDX)]),
    "scatter": (lambda T, x, i, s: x.scatter(1, i, s), [grad(M), const(np.array([[0, 3], [1, 2]])), grad(P[:2, :2])]),
    "scatter(value=)": (lambda T, x, i: T.scatter(x, 0, i[:, :1], value=2.0), [grad(M), const(IDX)]),
    "scatter_add": (lambda T, x, i, s: x.scatter_add(0, i, s), [grad(M), const(IDX), grad(P[:2])]),
    "scatter_reduce(sum)": (lambda T, x, i, s: x.scatter_reduce(0, i, s, "sum"), [grad(M), const(IDX), grad(P[:2])]),
    "scatter_reduce(amax)": (lambda T, x, i, s: x.scatter_reduce(0, i, s, "amax", include_self=False),
                             [grad(M), const(IDX), grad(P[:2])]),
    "scatter_reduce(mean)": (lambda T, x, i, s: x.scatter_reduce(0, i, s, "mean"), [grad(M), const(IDX), grad(P[:2])]),
    "index_select": (lambda T, x, i: x.index_select(1, i[0]), [grad(M), const(IDX)]),
    "masked_fill": (lambda T, x, m: x.masked_fill(m, -1.0), [grad(M), const(MASK)]),
    "masked_select": (lambda T, x, m: x.masked_select(m), [grad(M), const(MASK)]),
    "one_hot": (lambda T, i: (T.one_hot(i, 3) if T is gg else torch.nn.functional.one_hot(i, 3)), [const(IDX)]),
    # ---- linear algebra, attention, resizing
    "einsum(bij,bjk)": (lambda T, a, b: T.einsum("bij,bjk->bik", a, b), [grad(B), grad(B.transpose(0, 2, 1))]),
    "einsum(ij->j)": (lambda T, a: T.einsum("ij->j", a), [grad(M)]),
    "einsum(outer)": (lambda T, a, b: T.einsum("i,j", a, b), [grad(V), grad(V[:3])]),
    "matmul method": (lambda T, a, b: a.matmul(b), [grad(M), grad(M.T.copy())]),
    "add/sub/mul/div methods": (lambda T, a, b: a.add(b).sub(b, alpha=2).mul(b).div(b + 3), [grad(M), grad(P)]),
    "add(alpha=)": (lambda T, a, b: T.add(a, b, alpha=0.5), [grad(M), grad(P)]),
    "scaled_dot_product_attention": (lambda T, q, k, v: _sdpa(T)(q, k, v), [grad(B), grad(B), grad(B)]),
    "sdpa(is_causal)": (lambda T, q, k, v: _sdpa(T)(q, k, v, is_causal=True), [grad(B), grad(B), grad(B)]),
    "normalize": (lambda T, x: _functional(T).normalize(x, dim=1), [grad(M)]),
    "interpolate(nearest)": (lambda T, x: _functional(T).interpolate(x, size=(6, 7)), [grad(IMG)]),
    "interpolate(bilinear)": (lambda T, x: _functional(T).interpolate(x, scale_factor=2, mode="bilinear"), [grad(IMG)]),
    "interpolate(bilinear, align_corners)": (
        lambda T, x: _functional(T).interpolate(x, size=(3, 8), mode="bilinear", align_corners=True), [grad(IMG)]),
    # ---- attributes
    "size()": (lambda T, x: T.tensor(x.size()), [const(B)]),
    "size(dim)": (lambda T, x: T.tensor([x.size(0), x.size(-1), x.dim(), x.numel()]), [const(B)]),
    "tolist/item": (lambda T, x: T.tensor(x.tolist()) + x[0, 0].item(), [const(M)]),
}


def _sdpa(T):
    return T.scaled_dot_product_attention if T is gg else torch.nn.functional.scaled_dot_product_attention


def _functional(T):
    return gg if T is gg else torch.nn.functional


def _make(T, spec):
    kind, a = spec
    if T is gg:
        return gg.tensor(a, requires_grad=kind == "grad")
    return torch.tensor(a, requires_grad=kind == "grad")


def _outputs(out) -> list:
    return list(out) if isinstance(out, tuple) else [out]


def _dtype_name(d) -> str:
    return str(d).replace("torch.", "")


@pytest.mark.parametrize("name", sorted(IDIOMS))
def test_idiom(name):
    idiom, specs = IDIOMS[name]
    ours_in = [_make(gg, s) for s in specs]
    theirs_in = [_make(torch, s) for s in specs]
    ours, theirs = _outputs(idiom(gg, *ours_in)), _outputs(idiom(torch, *theirs_in))
    assert len(ours) == len(theirs), f"{name}: {len(ours)} outputs, PyTorch gives {len(theirs)}"
    for k, (o, t) in enumerate(zip(ours, theirs)):
        assert o.shape == tuple(t.shape), f"{name}: output {k} has shape {o.shape}, PyTorch {tuple(t.shape)}"
        assert _dtype_name(o.dtype) == _dtype_name(t.dtype), f"{name}: output {k} is {o.dtype}, PyTorch {t.dtype}"
        np.testing.assert_allclose(np.asarray(o.data, dtype=np.float64), t.detach().double().numpy(),
                                   rtol=1e-6, atol=1e-9, err_msg=f"{name}: output {k}")
    floating = [k for k, t in enumerate(theirs) if t.requires_grad]
    assert [k for k, o in enumerate(ours) if o.requires_grad] == floating, f"{name}: requires_grad differs"
    if not floating:
        return
    w = [np.random.default_rng(k).uniform(0.5, 1.5, theirs[k].shape) for k in floating]
    sum(((ours[k] * gg.tensor(wk)).sum() for k, wk in zip(floating, w)), gg.tensor(0.0)).backward()
    sum((theirs[k] * torch.tensor(wk)).sum() for k, wk in zip(floating, w)).backward()
    for i, (x, tx) in enumerate(zip(ours_in, theirs_in)):
        if tx.requires_grad:
            expected = np.zeros(tx.shape) if tx.grad is None else tx.grad.numpy()
            got = np.zeros(x.shape) if x.grad is None else x.grad.data
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9, err_msg=f"{name}: gradient of input {i}")
