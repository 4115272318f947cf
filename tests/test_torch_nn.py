"""PyTorch's nn idioms against PyTorch itself: activations (to second order), losses, Embedding,
containers, hooks, module traversal, zero_grad and nn.utils; values, input and parameter gradients."""
from __future__ import annotations

import math

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn, optim
from graphgrad.nn import functional as F

torch = pytest.importorskip("torch", reason="PyTorch (the oracle) is not installed (pip install torch)")
hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (pip install hypothesis)")
from hypothesis import given, settings, strategies as st  # noqa: E402

TF = torch.nn.functional
rng = np.random.default_rng(0)


def tt(a, requires_grad=False):
    return torch.tensor(np.asarray(a), requires_grad=requires_grad)


def close(ours, theirs, rtol=1e-10, atol=1e-12):
    a = ours.data if isinstance(ours, gg.Tensor) else ours
    b = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    np.testing.assert_allclose(np.asarray(a), b, rtol=rtol, atol=atol)


# ---- activations ------------------------------------------------------------------------------
# name -> (graphgrad function, torch function): float64 values away from each function's kinks
ACTIVATIONS = {
    "gelu": (gg.gelu, TF.gelu),
    "gelu-tanh": (lambda x: gg.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (gg.silu, TF.silu),
    "elu": (gg.elu, TF.elu),
    "elu-alpha": (lambda x: gg.elu(x, alpha=0.3), lambda x: TF.elu(x, alpha=0.3)),
    "selu": (gg.selu, TF.selu),
    "softplus": (gg.softplus, TF.softplus),
    "softplus-beta": (lambda x: gg.softplus(x, beta=2.0, threshold=5.0), lambda x: TF.softplus(x, beta=2.0, threshold=5.0)),
    "hardtanh": (gg.hardtanh, TF.hardtanh),
    "hardtanh-bounds": (lambda x: gg.hardtanh(x, -2.0, 0.5), lambda x: TF.hardtanh(x, -2.0, 0.5)),
    "relu6": (gg.relu6, TF.relu6),
    "mish": (gg.mish, TF.mish),
}
X_ACT = np.concatenate([np.linspace(-7.9, 7.9, 40), [-40.0, -25.0, 25.0, 40.0, 0.013, -0.017]])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_values_and_gradients_match_pytorch(name):
    ours, theirs = ACTIVATIONS[name]
    w = rng.standard_normal(X_ACT.shape)
    x, xt = gg.tensor(X_ACT, requires_grad=True), tt(X_ACT, True)
    y, yt = ours(x), theirs(xt)
    close(y, yt)
    (y * gg.tensor(w)).sum().backward()
    (yt * tt(w)).sum().backward()
    close(x.grad, xt.grad)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_second_derivatives_match_pytorch(name):
    """d/dx and d/dw of v·(df/dx·w): graphgrad.grad(create_graph=True) against torch.autograd.grad."""
    ours, theirs = ACTIVATIONS[name]
    w, v = rng.standard_normal(X_ACT.shape), rng.standard_normal(X_ACT.shape)
    x, wg = gg.tensor(X_ACT, requires_grad=True), gg.tensor(w, requires_grad=True)
    (g,) = gg.autograd.grad((ours(x) * wg).sum(), x, create_graph=True)
    hx, hw = gg.autograd.grad((g * gg.tensor(v)).sum(), (x, wg), allow_unused=True)
    xt, wt = tt(X_ACT, True), tt(w, True)
    (gt,) = torch.autograd.grad((theirs(xt) * wt).sum(), xt, create_graph=True)
    hxt, hwt = torch.autograd.grad((gt * tt(v)).sum(), (xt, wt), allow_unused=True)
    close(g, gt)
    close(hw, hwt)
    close(np.zeros_like(X_ACT) if hx is None else hx.data, np.zeros_like(X_ACT) if hxt is None else hxt)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradcheck(name):
    ours, _ = ACTIVATIONS[name]
    x = gg.tensor(np.linspace(-3.1, 3.3, 12).reshape(3, 4), requires_grad=True)
    assert gg.gradcheck(ours, [x], atol=1e-7, rtol=1e-6)


def test_activations_keep_float32_and_work_as_methods():
    x = gg.tensor(np.linspace(-2, 2, 5, dtype=np.float32))
    for name in ("gelu", "silu", "elu", "selu", "softplus", "hardtanh", "relu6", "mish"):
        assert getattr(gg, name)(x).dtype == np.float32, name
        np.testing.assert_array_equal(getattr(x, name)().data, getattr(gg, name)(x).data)
    assert gg.gelu(gg.tensor(np.float32([1e4, -1e4]))).data.tolist() == [1e4, 0.0]  # no overflow at the tails
    assert np.isfinite(gg.softplus(gg.tensor([1e4, -1e4])).data).all()
    assert np.isfinite(gg.mish(gg.tensor([1e4, -1e4])).data).all()


MODULES = [
    (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    (lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    (lambda: nn.ELU(0.5), lambda: torch.nn.ELU(0.5)),
    (lambda: nn.SELU(), lambda: torch.nn.SELU()),
    (lambda: nn.Softplus(beta=3.0, threshold=4.0), lambda: torch.nn.Softplus(beta=3.0, threshold=4.0)),
    (lambda: nn.Hardtanh(-0.5, 2.0), lambda: torch.nn.Hardtanh(-0.5, 2.0)),
    (lambda: nn.ReLU6(), lambda: torch.nn.ReLU6()),
    (lambda: nn.Mish(), lambda: torch.nn.Mish()),
    (lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1)),
    (lambda: nn.LogSoftmax(dim=0), lambda: torch.nn.LogSoftmax(dim=0)),
]


@pytest.mark.parametrize("make", MODULES, ids=lambda m: repr(m[0]()))
def test_activation_modules_match_pytorch(make):
    ours, theirs = make[0](), make[1]()
    a = rng.uniform(-8, 8, (4, 5))
    w = rng.standard_normal((4, 5))
    x, xt = gg.tensor(a, requires_grad=True), tt(a, True)
    y, yt = ours(x), theirs(xt)
    close(y, yt)
    (y * gg.tensor(w)).sum().backward()
    (yt * tt(w)).sum().backward()
    close(x.grad, xt.grad)


def test_bad_activation_settings_are_clear_errors():
    with pytest.raises(ValueError, match=r"gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        nn.GELU("erf")
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(1.0\) must be less than max_val \(-1.0\)"):
        nn.Hardtanh(1.0, -1.0)


# ---- cross_entropy and nll_loss: hypothesis over shapes, weights, ignore_index, smoothing ------------------
@st.composite
def classification(draw, soft_allowed=True):
    n = draw(st.integers(1, 4))
    c = draw(st.integers(2, 5))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    seed = draw(st.integers(0, 2**16))
    r = np.random.default_rng(seed)
    logits = r.standard_normal((n, c) + extra) * 3
    soft = soft_allowed and draw(st.booleans())
    ignore_index = draw(st.sampled_from([-100, -1] if soft else [-100, 1, -1]))
    if soft:
        target = r.dirichlet(np.ones(c), size=(n,) + extra)
        target = np.moveaxis(target, -1, 1)
    else:
        target = r.integers(0, c, (n,) + extra)
        if draw(st.booleans()):  # hit ignore_index somewhere
            target.flat[r.integers(0, target.size)] = ignore_index if ignore_index != 1 or c > 1 else 0
    weight = r.uniform(0.2, 3.0, c) if draw(st.booleans()) else None
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return logits, target, weight, ignore_index, reduction


def _weight(w, torch_side=False):
    if w is None:
        return None
    return tt(w) if torch_side else gg.tensor(w)


@settings(max_examples=60, deadline=None)
@given(case=classification(), label_smoothing=st.sampled_from([0.0, 0.1, 0.45]))
def test_cross_entropy_matches_pytorch(case, label_smoothing):
    logits, target, weight, ignore_index, reduction = case
    soft = target.dtype.kind == "f"
    if (target == ignore_index).all() and reduction == "mean" and not soft:
        return  # 0/0: both give nan (checked in test_everything_ignored_gives_nan_as_pytorch)
    x, xt = gg.tensor(logits, requires_grad=True), tt(logits, True)
    t, tt_ = (gg.tensor(target, requires_grad=True), tt(target, True)) if soft else (gg.tensor(target), tt(target))
    kw = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing)
    loss = F.cross_entropy(x, t, _weight(weight), **kw)
    loss_t = TF.cross_entropy(xt, tt_, _weight(weight, True), **kw)
    close(loss, loss_t)
    seed = rng.standard_normal(loss.shape)
    (loss * gg.tensor(seed)).sum().backward()
    (loss_t * tt(seed)).sum().backward()
    close(x.grad, xt.grad)
    if soft:
        close(t.grad, tt_.grad)


@settings(max_examples=40, deadline=None)
@given(case=classification(soft_allowed=False))
def test_nll_loss_matches_pytorch(case):
    logits, target, weight, ignore_index, reduction = case
    if (target == ignore_index).all() and reduction == "mean":
        return
    x, xt = gg.tensor(logits, requires_grad=True), tt(logits, True)
    kw = dict(ignore_index=ignore_index, reduction=reduction)
    loss = F.nll_loss(x, gg.tensor(target), _weight(weight), **kw)
    loss_t = TF.nll_loss(xt, tt(target), _weight(weight, True), **kw)
    close(loss, loss_t)
    seed = rng.standard_normal(loss.shape)
    (loss * gg.tensor(seed)).sum().backward()
    (loss_t * tt(seed)).sum().backward()
    close(x.grad, xt.grad)


def test_everything_ignored_gives_nan_as_pytorch():
    x, t = rng.standard_normal((2, 3)), np.array([-100, -100])
    assert math.isnan(F.cross_entropy(gg.tensor(x), gg.tensor(t)).item())
    assert math.isnan(TF.cross_entropy(tt(x), tt(t)).item())


@pytest.mark.parametrize("general", [False, True])
def test_cross_entropy_second_order_matches_pytorch(general):
    """Hessian-vector products through the fused op: the plain path and the weighted (N, C, d) one."""
    shape, target = ((3, 4), np.array([1, 0, 3])) if not general else ((2, 4, 3), np.array([[1, 0, 3], [2, -100, 1]]))
    kw = dict(label_smoothing=0.2) if general else {}
    a, v = rng.standard_normal(shape), rng.standard_normal(shape)
    w = np.array([1.0, 0.5, 2.0, 1.5]) if general else None
    x = gg.tensor(a, requires_grad=True)
    (g,) = gg.autograd.grad(F.cross_entropy(x, gg.tensor(target), _weight(w), **kw), x, create_graph=True)
    (h,) = gg.autograd.grad((g * gg.tensor(v)).sum(), x)
    xt = tt(a, True)
    (gt,) = torch.autograd.grad(TF.cross_entropy(xt, tt(target), _weight(w, True), **kw), xt, create_graph=True)
    (ht,) = torch.autograd.grad((gt * tt(v)).sum(), xt)
    close(g, gt)
    close(h, ht)


def test_cross_entropy_gradcheck_general_path():
    x = gg.tensor(rng.standard_normal((3, 4, 2)), requires_grad=True)
    t = gg.tensor(np.array([[0, 3], [-100, 1], [2, 2]]))
    w = gg.tensor(np.array([0.5, 1.0, 2.0, 1.5]))
    assert gg.gradcheck(lambda x: F.cross_entropy(x, t, w, label_smoothing=0.3, reduction="none"), [x], atol=1e-7)


def test_plain_cross_entropy_float32_still_fast_path_and_exact():
    a = rng.standard_normal((100, 10)).astype(np.float32)
    t = rng.integers(0, 10, 100)
    x, xt = gg.tensor(a, requires_grad=True), tt(a, True)
    loss = nn.CrossEntropyLoss()(x, gg.tensor(t))
    assert loss.creator.general is False
    loss.backward()
    TF.cross_entropy(xt, tt(t)).backward()
    close(loss, TF.cross_entropy(xt, tt(t)), rtol=1e-6, atol=1e-6)
    close(x.grad, xt.grad, rtol=1e-5, atol=1e-7)


def test_loss_modules_with_weights_match_pytorch_and_save_the_weight():
    w = np.array([0.2, 1.0, 3.0])
    a, t = rng.standard_normal((5, 3)), np.array([0, 2, 1, 2, 0])
    ours = nn.CrossEntropyLoss(gg.tensor(w), ignore_index=1, label_smoothing=0.1)
    theirs = torch.nn.CrossEntropyLoss(tt(w), ignore_index=1, label_smoothing=0.1)
    close(ours(gg.tensor(a), gg.tensor(t)), theirs(tt(a), tt(t)))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    close(nn.NLLLoss(w, reduction="sum")(gg.tensor(a), gg.tensor(t)), torch.nn.NLLLoss(tt(w), reduction="sum")(tt(a), tt(t)))


def test_class_index_out_of_range_names_the_loss_and_the_value():
    x = gg.tensor(rng.standard_normal((2, 3, 2)))
    with pytest.raises(IndexError, match=r"cross_entropy: target\[1, 0\] = 3 is not a class index in \[0, 3\)"):
        F.cross_entropy(x, gg.tensor(np.array([[0, 1], [3, 2]])))
    with pytest.raises(IndexError, match=r"nll_loss: target\[0, 1\] = -2 is not a class index in \[0, 3\) nor "
                                         r"ignore_index \(-100\)"):
        F.nll_loss(x, gg.tensor(np.array([[0, -2], [1, 2]])))
    with pytest.raises(IndexError, match=r"target\[1\] = -100 .* nor ignore_index \(0\)"):
        F.cross_entropy(gg.tensor(np.zeros((2, 3))), gg.tensor(np.array([0, -100])), ignore_index=0)


def test_bad_loss_arguments_are_clear_errors():
    x = gg.tensor(np.zeros((2, 3)))
    t = gg.tensor(np.array([0, 1]))
    with pytest.raises(ValueError, match=r"cross_entropy: weight of shape \(2,\) must be \(3,\), one weight per class"):
        F.cross_entropy(x, t, gg.tensor(np.ones(2)))
    with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be in \[0, 1\], got 1.5"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"cross_entropy: target of shape \(2, 3\) does not match input of shape \(2, 3, 2\); "
                                         r"pass class indices of shape \(2, 2\)"):
        F.cross_entropy(gg.tensor(np.zeros((2, 3, 2))), gg.tensor(np.zeros((2, 3), dtype=int)))
    with pytest.raises(RuntimeError, match=r"cross_entropy: the derivative for 'weight' is not implemented"):
        F.cross_entropy(x, t, gg.tensor(np.ones(3), requires_grad=True)).backward()
    with pytest.raises(ValueError, match=r"cross_entropy: ignore_index \(0\) is not supported for probability targets"):
        F.cross_entropy(x, gg.tensor(np.ones((2, 3)) / 3), ignore_index=0)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: all elements of input should be between 0 and 1, got 1.5"):
        F.binary_cross_entropy(gg.tensor([0.5, 1.5]), gg.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"KLDivLoss: reduction must be one of"):
        nn.KLDivLoss(reduction="avg")


# ---- the elementwise losses -------------------------------------------------------------------------
@st.composite
def pairs(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    r = np.random.default_rng(draw(st.integers(0, 2**16)))
    return r.standard_normal(shape) * 2, r.standard_normal(shape) * 2, draw(st.sampled_from(["mean", "sum", "none"]))


REGRESSION = {
    "l1_loss": (lambda x, t, r: F.l1_loss(x, t, r), lambda x, t, r: TF.l1_loss(x, t, reduction=r)),
    "smooth_l1_loss": (lambda x, t, r: F.smooth_l1_loss(x, t, r, beta=0.7),
                       lambda x, t, r: TF.smooth_l1_loss(x, t, reduction=r, beta=0.7)),
    "smooth_l1_loss-beta0": (lambda x, t, r: F.smooth_l1_loss(x, t, r, beta=0.0),
                             lambda x, t, r: TF.smooth_l1_loss(x, t, reduction=r, beta=0.0)),
    "huber_loss": (lambda x, t, r: F.huber_loss(x, t, r, delta=1.3), lambda x, t, r: TF.huber_loss(x, t, reduction=r, delta=1.3)),
    "mse_loss": (lambda x, t, r: F.mse_loss(x, t, r), lambda x, t, r: TF.mse_loss(x, t, reduction=r)),
    "kl_div": (lambda x, t, r: F.kl_div(x, t.exp(), r), lambda x, t, r: TF.kl_div(x, t.exp(), reduction=r)),
    "kl_div-log_target": (lambda x, t, r: F.kl_div(x, t, r, log_target=True),
                          lambda x, t, r: TF.kl_div(x, t, reduction=r, log_target=True)),
    "binary_cross_entropy": (lambda x, t, r: F.binary_cross_entropy(gg.sigmoid(x), gg.sigmoid(t), reduction=r),
                             lambda x, t, r: TF.binary_cross_entropy(torch.sigmoid(x), torch.sigmoid(t), reduction=r)),
}


@pytest.mark.parametrize("name", sorted(REGRESSION))
@settings(max_examples=15, deadline=None)
@given(case=pairs())
def test_elementwise_losses_match_pytorch(name, case):
    ours, theirs = REGRESSION[name]
    a, b, reduction = case
    x, t, xt, tt_ = gg.tensor(a, requires_grad=True), gg.tensor(b, requires_grad=True), tt(a, True), tt(b, True)
    loss, loss_t = ours(x, t, reduction), theirs(xt, tt_, reduction)
    close(loss, loss_t)
    seed = rng.standard_normal(loss.shape)
    (loss * gg.tensor(seed)).sum().backward()
    (loss_t * tt(seed)).sum().backward()
    close(x.grad, xt.grad)
    close(t.grad, tt_.grad)


def test_kl_div_batchmean_and_zero_targets_match_pytorch():
    a = np.log(rng.dirichlet(np.ones(4), size=3))
    p = rng.dirichlet(np.ones(4), size=3)
    p[0, 1] = 0.0  # 0·log 0 counts 0
    x, xt = gg.tensor(a, requires_grad=True), tt(a, True)
    loss, loss_t = nn.KLDivLoss(reduction="batchmean")(x, gg.tensor(p)), torch.nn.KLDivLoss(reduction="batchmean")(xt, tt(p))
    close(loss, loss_t)
    loss.backward()
    loss_t.backward()
    close(x.grad, xt.grad)


def test_bce_module_with_weight_and_saturated_inputs_match_pytorch():
    a = np.array([[0.0, 0.3, 1.0], [0.9, 1e-50, 0.5]])
    t = np.array([[0.0, 1.0, 1.0], [0.0, 1.0, 0.3]])
    w = np.array([0.5, 2.0, 1.0])
    x, xt = gg.tensor(a, requires_grad=True), tt(a, True)
    loss, loss_t = nn.BCELoss(gg.tensor(w))(x, gg.tensor(t)), torch.nn.BCELoss(tt(w))(xt, tt(t))
    close(loss, loss_t)
    loss.backward()
    loss_t.backward()
    close(x.grad, xt.grad)


@pytest.mark.parametrize("make", [
    (lambda: nn.L1Loss(reduction="sum"), lambda: torch.nn.L1Loss(reduction="sum")),
    (lambda: nn.SmoothL1Loss(beta=0.5), lambda: torch.nn.SmoothL1Loss(beta=0.5)),
    (lambda: nn.HuberLoss(reduction="none", delta=0.8), lambda: torch.nn.HuberLoss(reduction="none", delta=0.8)),
    (lambda: nn.KLDivLoss(log_target=True), lambda: torch.nn.KLDivLoss(log_target=True)),
])
def test_regression_loss_modules_match_pytorch(make):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    close(make[0]()(gg.tensor(a), gg.tensor(b)), make[1]()(tt(a), tt(b)))


def test_elementwise_losses_second_order_match_pytorch():
    """d/dx and d/dt of v·dL/dx for the losses whose gradient depends on x or t (rtol 1e-8: BCE's second
    derivative divides by x(1-x) of a sigmoid, where the two implementations round differently)."""
    r = np.random.default_rng(5)
    a, b, v = r.standard_normal((3, 4)), r.standard_normal((3, 4)), r.standard_normal((3, 4))
    for name in ("huber_loss", "smooth_l1_loss", "binary_cross_entropy", "kl_div", "kl_div-log_target", "mse_loss"):
        ours, theirs = REGRESSION[name]
        x, t, xt, tt_ = gg.tensor(a, requires_grad=True), gg.tensor(b, requires_grad=True), tt(a, True), tt(b, True)
        (g,) = gg.autograd.grad(ours(x, t, "sum"), x, create_graph=True)
        hs = gg.autograd.grad((g * gg.tensor(v)).sum(), (x, t), allow_unused=True)
        (gt,) = torch.autograd.grad(theirs(xt, tt_, "sum"), xt, create_graph=True)
        hts = torch.autograd.grad((gt * tt(v)).sum(), (xt, tt_), allow_unused=True)
        for h, ht in zip(hs, hts):
            close(np.zeros_like(a) if h is None else h.data, np.zeros_like(a) if ht is None else ht, rtol=1e-8)


# ---- Embedding ------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_pytorch(padding_idx):
    ours = nn.Embedding(6, 3, padding_idx=padding_idx, dtype="float64", generator=0)
    theirs = torch.nn.Embedding(6, 3, padding_idx=padding_idx).double()
    theirs.weight.data = tt(ours.weight.data.copy())
    if padding_idx is not None:
        assert not ours.weight.data[padding_idx].any()  # the padding row starts at zero, as PyTorch's
    idx = np.array([[0, 2, 2], [5, 1, 2]])  # repeats accumulate; 2 and 5 (= -1) are padding in some cases
    y, yt = ours(gg.tensor(idx)), theirs(tt(idx))
    close(y, yt)
    seed = rng.standard_normal(y.shape)
    (y * gg.tensor(seed)).sum().backward()
    (yt * tt(seed)).sum().backward()
    close(ours.weight.grad, theirs.weight.grad)
    assert y.shape == (2, 3, 3) and repr(ours) == repr(theirs)


def test_embedding_second_order_from_pretrained_and_errors():
    table = rng.standard_normal((4, 2))
    emb = nn.Embedding.from_pretrained(gg.tensor(table), freeze=False)
    assert emb.weight.requires_grad and not nn.Embedding.from_pretrained(table).weight.requires_grad
    idx = gg.tensor(np.array([1, 3, 1]))
    (g,) = gg.autograd.grad((F.embedding(idx, emb.weight) ** 3).sum(), emb.weight, create_graph=True)
    (h,) = gg.autograd.grad(g.sum(), emb.weight)
    wt = tt(table, True)
    (gt,) = torch.autograd.grad((TF.embedding(tt(idx.data), wt) ** 3).sum(), wt, create_graph=True)
    close(h, torch.autograd.grad(gt.sum(), wt)[0])
    assert gg.gradcheck(lambda w: F.embedding(idx, w, padding_idx=0), [gg.tensor(table, requires_grad=True)])
    with pytest.raises(IndexError, match=r"embedding: index 4 is out of range for 4 embeddings"):
        emb(gg.tensor(np.array([0, 4])))
    with pytest.raises(TypeError, match=r"embedding: indices must be integers, got dtype float64"):
        emb(gg.tensor(np.array([0.0, 1.0])))
    with pytest.raises(ValueError, match=r"Embedding: padding_idx 4 must be within num_embeddings \(4\)"):
        nn.Embedding(4, 2, padding_idx=4)


# ---- containers ---------------------------------------------------------------------------------------
class Net(nn.Module):
    """The same structure as _torch_net's."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(3, 4), nn.ReLU()])
        self.blocks.append(nn.Linear(4, 2))
        self.heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Sequential(nn.Linear(2, 2), nn.Tanh())})
        self.scales = nn.ParameterList([nn.Parameter(np.ones(2))])
        self.scales.append(nn.Parameter(np.zeros(1)))

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.heads["a"](x * self.scales[0]) + self.scales[1]


def _torch_net():
    m = torch.nn.Module()
    m.blocks = torch.nn.ModuleList([torch.nn.Linear(3, 4), torch.nn.ReLU()])
    m.blocks.append(torch.nn.Linear(4, 2))
    m.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(2, 1), "b": torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh())})
    m.scales = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2))])
    m.scales.append(torch.nn.Parameter(torch.zeros(1)))
    return m


def test_containers_register_what_they_hold_like_pytorch():
    ours, theirs = Net(), _torch_net()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        q.data = tt(np.array(p.data, dtype=np.float32))
    a = rng.standard_normal((5, 3)).astype(np.float32)
    y, yt = ours(gg.tensor(a)), theirs.heads["a"](
        (theirs.blocks[2](theirs.blocks[1](theirs.blocks[0](tt(a))))) * theirs.scales[0]) + theirs.scales[1]
    close(y, yt, rtol=1e-5, atol=1e-6)
    y.sum().backward()
    yt.sum().backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        if name.startswith("heads.b"):  # not used by forward: no gradient on either side
            assert p.grad is None and q.grad is None
        else:
            close(p.grad, q.grad, rtol=1e-5, atol=1e-6)


def test_module_list_operations():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    ml = nn.ModuleList([a])
    ml.extend([b])
    ml += [c]
    assert len(ml) == 3 and list(ml) == [a, b, c] and ml[-1] is c
    assert isinstance(ml[1:], nn.ModuleList) and list(ml[1:]) == [b, c]
    ml.insert(0, c)
    assert list(ml) == [c, a, b, c] and list(ml._modules) == ["0", "1", "2", "3"]
    assert ml.pop(1) is a and list(ml) == [c, b, c]
    del ml[0]
    assert list(ml) == [b, c] and not hasattr(ml, "2")
    ml[0] = a
    assert list(ml) == [a, c]
    with pytest.raises(IndexError, match=r"ModuleList index 5 is out of range for length 2"):
        ml[5]
    with pytest.raises(TypeError, match=r"ModuleList: int is not a Module"):
        ml.append(3)
    with pytest.raises(NotImplementedError, match=r"ModuleList has no forward"):
        ml(1)


def test_module_dict_and_parameter_list_operations():
    md = nn.ModuleDict([("x", nn.ReLU())])
    md["y"] = nn.Linear(2, 2)
    md.update({"z": nn.Tanh()})
    assert list(md) == list(md.keys()) == ["x", "y", "z"] and "y" in md and len(md) == 3
    assert [p.shape for p in md.parameters()] == [(2, 2), (2,)]
    assert isinstance(md.pop("y"), nn.Linear) and list(md) == ["x", "z"] and not list(md.parameters())
    with pytest.raises(KeyError, match=r"ModuleDict has no module 'q'; keys: \['x', 'z'\]"):
        md["q"]
    md.clear()
    assert len(md) == 0
    pl = nn.ParameterList([np.ones(3)])
    pl.extend([gg.tensor(np.zeros(2))])
    assert len(pl) == 2 and all(isinstance(p, nn.Parameter) for p in pl) and list(pl.state_dict()) == ["0", "1"]
    pl[0] = np.full(1, 2.0)
    assert pl[0].data.tolist() == [2.0] and len(list(pl.parameters())) == 2


# ---- traversal, modes, hooks ------------------------------------------------------------------------------
def _tree(lib):
    return lib.Sequential(lib.Sequential(lib.Linear(2, 2), lib.ReLU()), lib.Linear(2, 1), lib.Sequential(lib.Tanh()))


def test_apply_visits_children_before_parents_as_pytorch():
    seen, seen_t = [], []
    ours, theirs = _tree(nn), _tree(torch.nn)
    ours.apply(lambda m: seen.append(type(m).__name__))
    theirs.apply(lambda m: seen_t.append(type(m).__name__))
    assert seen == seen_t


def test_modules_train_and_requires_grad_as_pytorch():
    ours, theirs = _tree(nn), _tree(torch.nn)
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [n for n, _ in ours.named_modules(prefix="net")] == [n for n, _ in theirs.named_modules(prefix="net")]
    shared = nn.Linear(1, 1)
    twice = nn.Sequential(shared, shared)
    assert len(list(twice.modules())) == 2 and len(list(twice.named_modules(remove_duplicate=False))) == 3
    assert ours.train(False) is ours and not any(m.training for m in ours.modules())
    ours.train()
    assert all(m.training for m in ours.modules())
    with pytest.raises(ValueError, match=r"training mode is expected to be boolean, got 'no'"):
        ours.train("no")
    assert ours.requires_grad_(False) is ours and not any(p.requires_grad for p in ours.parameters())


def test_forward_hooks_run_in_order_modify_and_are_removable():
    calls = []
    lin = nn.Linear(2, 2, dtype="float64", generator=0)
    net = nn.Sequential(lin, nn.ReLU())
    h1 = lin.register_forward_pre_hook(lambda m, args: calls.append("pre") or (args[0] * 2,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append("post") or out + 1)
    h3 = lin.register_forward_hook(lambda m, args, out: calls.append("first"), prepend=True)
    x = gg.tensor(np.array([[1.0, -1.0]]))
    y = net(x)  # Sequential calls through __call__: the hooks run
    assert calls == ["pre", "first", "post"]
    np.testing.assert_allclose(y.data, np.maximum(lin.forward(x * 2).data + 1, 0))
    for h in (h1, h2, h3):
        h.remove()
    h1.remove()  # a second remove does nothing
    calls.clear()
    np.testing.assert_allclose(net(x).data, np.maximum(lin.forward(x).data, 0))
    assert calls == [] and lin._has_hooks is False


def test_hooks_match_pytorch_semantics_with_kwargs_and_handles():
    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    got = {}
    for lib, m in (("gg", ours), ("torch", theirs)):
        with m.register_forward_hook(lambda mod, args, kwargs, out, lib=lib: got.setdefault(lib, (len(args), kwargs)),
                                     with_kwargs=True):
            m(gg.tensor(np.ones((1, 2), dtype=np.float32)) if lib == "gg" else torch.ones(1, 2))
        m(gg.tensor(np.ones((1, 2), dtype=np.float32)) if lib == "gg" else torch.ones(1, 2))
    assert got["gg"] == got["torch"] == (1, {})
    pre = ours.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] * 0,), kwargs), with_kwargs=True)
    np.testing.assert_allclose(ours(gg.tensor(np.ones((1, 2), dtype=np.float32))).data, ours.bias.data[None])
    pre.remove()
    with pytest.raises(TypeError, match=r"hook must be callable"):
        ours.register_forward_hook(3)


# ---- zero_grad ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("owner", ["module", "optimizer"])
def test_zero_grad_set_to_none_and_in_place(owner):
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    zero = model.zero_grad if owner == "module" else opt.zero_grad
    model(gg.tensor(np.ones((1, 3), dtype=np.float32))).sum().backward()
    grads = [p.grad for p in model.parameters()]
    zero(set_to_none=False)
    assert [p.grad for p in model.parameters()] == grads  # the same Tensor objects
    assert all(not g.data.any() and g.data.dtype == np.float32 for g in grads)
    zero()
    assert all(p.grad is None for p in model.parameters())
    zero(set_to_none=False)  # parameters without gradients stay without
    assert all(p.grad is None for p in model.parameters())


# ---- nn.utils ---------------------------------------------------------------------------------------------
def _with_grads(shapes, scale):
    r = np.random.default_rng(1)
    ours, theirs = [], []
    for s in shapes:
        g = r.standard_normal(s) * scale
        p, q = nn.Parameter(np.zeros(s)), torch.nn.Parameter(torch.zeros(s, dtype=torch.float64))
        p.grad, q.grad = gg.Tensor(g), tt(g.copy())
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("scale", [0.01, 10.0])
def test_clip_grad_norm_matches_pytorch(norm_type, scale):
    ours, theirs = _with_grads([(3, 2), (4,), ()], scale)
    total = nn.utils.clip_grad_norm_(ours, max_norm=1.5, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.5, norm_type=norm_type)
    close(total, total_t)
    for p, q in zip(ours, theirs):
        close(p.grad, q.grad)


def test_clip_grad_value_and_edge_cases():
    ours, theirs = _with_grads([(3, 2), (5,)], 2.0)
    nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs):
        close(p.grad, q.grad)
    assert nn.utils.clip_grad_norm_([nn.Parameter(np.zeros(2))], 1.0).item() == 0.0  # no gradients at all
    p = nn.Parameter(np.zeros(2))
    p.grad = gg.Tensor(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total norm of order 2.0 of the gradients is inf"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_parameters_to_vector_and_back_match_pytorch():
    ours, theirs = nn.Linear(3, 2, dtype="float64", generator=0), torch.nn.Linear(3, 2).double()
    theirs.weight.data, theirs.bias.data = tt(ours.weight.data.copy()), tt(ours.bias.data.copy())
    vec, vec_t = nn.utils.parameters_to_vector(ours.parameters()), torch.nn.utils.parameters_to_vector(theirs.parameters())
    close(vec, vec_t)
    (vec * gg.tensor(np.arange(8.0))).sum().backward()  # differentiable, as PyTorch's
    close(ours.weight.grad, np.arange(6.0).reshape(2, 3))
    new = np.arange(8.0) / 7
    nn.utils.vector_to_parameters(gg.tensor(new), ours.parameters())
    torch.nn.utils.vector_to_parameters(tt(new), theirs.parameters())
    close(ours.weight, theirs.weight)
    close(ours.bias, theirs.bias)
    with pytest.raises(ValueError, match=r"vector_to_parameters: the vector has 3 elements, the parameters 8"):
        nn.utils.vector_to_parameters(gg.tensor(np.ones(3)), ours.parameters())


def test_utils_work_on_array_api_strict_arrays():
    xp = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed (pip install array-api-strict)")
    pytest.importorskip("array_api_compat", reason="array-api-compat is not installed (pip install array-api-compat)")
    from graphgrad.backend import to_numpy

    device = xp.Device("device1")
    g = np.array([3.0, -4.0])
    p = nn.Parameter(xp.asarray(np.zeros(2), device=device))
    p.grad = gg.Tensor(xp.asarray(g, device=device))
    old = p.grad
    total = nn.utils.clip_grad_norm_([p], 1.0)
    assert float(total.item()) == 5.0 and p.grad.data.device == device
    np.testing.assert_allclose(to_numpy(p.grad.data), g / (5 + 1e-6))
    nn.utils.clip_grad_value_([p], 0.1)
    np.testing.assert_allclose(to_numpy(p.grad.data), [0.1, -0.1])
    holder = nn.Module()
    holder.p = p
    holder.zero_grad(set_to_none=False)
    assert p.grad is old and p.grad.data.device == device and not to_numpy(p.grad.data).any()
