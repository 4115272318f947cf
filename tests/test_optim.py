"""Each optimizer's 10-step trajectory against torch.optim; groups, state_dict, schedules, no in-place grads."""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
import graphgrad.optim as optim
from graphgrad.nn import Parameter
from graphgrad.io import load, save

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.8, weight_decay=0.05)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, alpha=0.9)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
]


def _start():
    rng = np.random.default_rng(0)
    return [rng.standard_normal((3, 4)), rng.standard_normal(4)]


def _grad(p: np.ndarray, step: int) -> np.ndarray:
    """A gradient that depends on the parameter (so trajectories diverge if an update is wrong) and the step."""
    noise = np.random.default_rng(100 + step).standard_normal(p.shape)
    return 2 * p + np.cos(3 * p) + 0.5 * noise


def _ours(name, hyper, steps=10, start=None):
    params = [Parameter(a.copy()) for a in (start or _start())]
    opt = getattr(optim, name)(params, **hyper)
    for k in range(steps):
        for p in params:
            p.grad = gg.Tensor(_grad(p.data, k))
        opt.step()
    return [p.data for p in params], opt


def _theirs(torch, name, hyper, steps=10):
    params = [torch.tensor(a, requires_grad=True) for a in _start()]
    opt = getattr(torch.optim, name)(params, **hyper)
    for k in range(steps):
        for p in params:
            p.grad = torch.tensor(_grad(p.detach().numpy(), k))
        opt.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("name,hyper", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_ten_steps_match_torch(torch_oracle, name, hyper):
    ours, _ = _ours(name, hyper)
    theirs = _theirs(torch_oracle, name, hyper)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name,hyper", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_steps_update_in_place_and_never_touch_grad(name, hyper):
    p = Parameter(np.ones((2, 3)))
    data = p.data
    grad = np.full((2, 3), 0.5)
    opt = getattr(optim, name)([p], **hyper)
    for _ in range(3):
        p.grad = gg.Tensor(grad)
        opt.step()
    assert p.data is data and not np.allclose(data, 1)
    np.testing.assert_array_equal(grad, 0.5)


def test_float32_parameters_stay_float32():
    p = Parameter(np.ones(3, dtype=np.float32))
    opt = optim.Adam([p], lr=0.1, weight_decay=0.01)
    p.grad = gg.Tensor(np.ones(3, dtype=np.float32))
    opt.step()
    assert p.data.dtype == np.float32


def test_parameter_groups_match_torch(torch_oracle):
    torch = torch_oracle
    start = _start()
    ours = [Parameter(a.copy()) for a in start]
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    opt = optim.SGD([{"params": [ours[0]]}, {"params": [ours[1]], "lr": 0.01, "momentum": 0.5}], lr=0.1)
    topt = torch.optim.SGD([{"params": [theirs[0]]}, {"params": [theirs[1]], "lr": 0.01, "momentum": 0.5}], lr=0.1)
    for k in range(10):
        for p, tp in zip(ours, theirs):
            p.grad = gg.Tensor(_grad(p.data, k))
            tp.grad = torch.tensor(_grad(tp.detach().numpy(), k))
        opt.step()
        topt.step()
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-12)


def test_parameters_without_grad_are_skipped_and_zero_grad_clears():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = optim.SGD([a, b], lr=1.0)
    a.grad = gg.Tensor(np.ones(2))
    opt.step()
    np.testing.assert_array_equal(a.data, 0)
    np.testing.assert_array_equal(b.data, 1)
    opt.zero_grad()
    assert a.grad is None


@pytest.mark.parametrize("name,hyper", [("Adam", dict(lr=0.05, amsgrad=True)), ("SGD", dict(lr=0.1, momentum=0.9)),
                                        ("RMSprop", dict(lr=0.01, centered=True, momentum=0.3)),
                                        ("Adagrad", dict(lr=0.1))])
def test_state_dict_round_trip_through_save_load(tmp_path, name, hyper):
    straight, _ = _ours(name, hyper, steps=10)
    half, opt = _ours(name, hyper, steps=5)
    save({"optimizer": opt.state_dict()}, tmp_path / "opt.npz")
    params = [Parameter(a.copy()) for a in half]
    resumed = getattr(optim, name)(params, **hyper)
    resumed.load_state_dict(load(tmp_path / "opt.npz")["optimizer"])
    for k in range(5, 10):
        for p in params:
            p.grad = gg.Tensor(_grad(p.data, k))
        resumed.step()
    for a, b in zip(straight, params):
        np.testing.assert_allclose(a, b.data, rtol=1e-14)


def test_load_state_dict_rejects_a_different_layout():
    _, opt = _ours("Adam", dict(lr=0.1), steps=1)
    other = optim.Adam([Parameter(np.ones(3))], lr=0.1)
    with pytest.raises(ValueError, match="a group has 2 parameters in the state but 1 here"):
        other.load_state_dict(opt.state_dict())


def test_bad_hyper_parameters_are_named():
    p = [Parameter(np.ones(2))]
    with pytest.raises(ValueError, match="SGD: lr must be >= 0, got -1"):
        optim.SGD(p, lr=-1)
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        optim.SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])


def test_textbook_aliases():
    assert optim.AdaGrad is optim.Adagrad and optim.RMSProp is optim.RMSprop


SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
]


@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedules_match_torch(torch_oracle, name, kwargs):
    torch = torch_oracle
    opt = optim.SGD([Parameter(np.ones(2))], lr=0.1)
    topt = torch.optim.SGD([torch.ones(2, requires_grad=True)], lr=0.1)
    sched = getattr(optim, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for _ in range(12):
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12, atol=1e-15)
        assert opt.param_groups[0]["lr"] == sched.get_last_lr()[0]
        opt.step()
        topt.step()
        sched.step()
        tsched.step()


def test_schedule_state_dict_resumes():
    opt = optim.SGD([Parameter(np.ones(2))], lr=0.1)
    sched = optim.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    opt2 = optim.SGD([Parameter(np.ones(2))], lr=0.1)
    sched2 = optim.StepLR(opt2, step_size=2, gamma=0.1)
    sched2.load_state_dict(state)
    sched.step()
    sched2.step()
    assert sched.get_last_lr() == sched2.get_last_lr()
