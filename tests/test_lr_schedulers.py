"""LambdaLR, MultiStepLR, LinearLR, OneCycleLR, ReduceLROnPlateau, SequentialLR against torch.optim.lr_scheduler.

Each schedule runs beside PyTorch's on twin optimizers (two parameter groups with different lrs)
for many steps; the lrs (and OneCycleLR's momentum or beta1) must be the same floats, bit for bit.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import optim
from graphgrad.nn import Parameter
from graphgrad.optim import lr_scheduler as ours

torch = pytest.importorskip("torch", reason="PyTorch is the oracle (pip install torch==2.13.0)")
theirs = torch.optim.lr_scheduler


def twins(kind: str = "sgd", **hyper):
    """The same two-group optimizer in graphgrad and in PyTorch."""
    cls = {"sgd": (optim.SGD, torch.optim.SGD), "adam": (optim.Adam, torch.optim.Adam)}[kind]
    mine = cls[0]([{"params": [Parameter(np.ones(2))]}, {"params": [Parameter(np.ones(3))], "lr": 0.05}],
                  lr=0.1, **hyper)
    other = cls[1]([{"params": [torch.ones(2, requires_grad=True)]},
                    {"params": [torch.ones(3, requires_grad=True)], "lr": 0.05}], lr=0.1, **hyper)
    return mine, other


def momenta(opt) -> list:
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def assert_same_run(make, steps: int, kind: str = "sgd", exact: bool = True, **hyper):
    """Step `make(module, optimizer)` from both libraries `steps` times; lrs and momenta must agree."""
    mine_opt, their_opt = twins(kind, **hyper)
    mine, other = make(ours, mine_opt), make(theirs, their_opt)
    for step in range(steps):
        got, want = mine.get_last_lr(), other.get_last_lr()
        if exact:
            assert got == want, f"step {step}: {got} != {want}"
            assert momenta(mine_opt) == momenta(their_opt), f"step {step}"
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, err_msg=f"step {step}")
        assert [g["lr"] for g in mine_opt.param_groups] == got
        mine_opt.step()
        their_opt.step()
        mine.step()
        other.step()
    return mine, mine_opt


class Warmup:
    """A callable object: its attributes are saved by LambdaLR.state_dict (functions are not)."""

    def __init__(self, epochs: int):
        self.epochs = epochs

    def __call__(self, epoch: int) -> float:
        return min(1.0, (epoch + 1) / self.epochs)


CONFIGS = {
    "lambda": lambda m, o: m.LambdaLR(o, lambda e: 0.93 ** e),
    "lambda-per-group": lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), Warmup(4)]),
    "multistep": lambda m, o: m.MultiStepLR(o, milestones=[3, 7, 7, 12], gamma=0.3),
    "multistep-unsorted": lambda m, o: m.MultiStepLR(o, milestones=[9, 2], gamma=0.5),
    "linear-default": lambda m, o: m.LinearLR(o),
    "linear-warmup": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=7),
    "linear-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=11),
    "onecycle-cos": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=40),
    "onecycle-linear": lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 2.0], epochs=4, steps_per_epoch=9,
                                                 anneal_strategy="linear", pct_start=0.25),
    "onecycle-three-phase": lambda m, o: m.OneCycleLR(o, max_lr=0.8, total_steps=33, three_phase=True,
                                                      div_factor=10.0, final_div_factor=100.0),
    "onecycle-no-momentum": lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=20, cycle_momentum=False),
    "sequential-warmup-decay": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.2, total_iters=4), m.MultiStepLR(o, [3, 6], gamma=0.5)], milestones=[5]),
    "sequential-three": lambda m, o: m.SequentialLR(
        o, [m.LambdaLR(o, lambda e: 0.5 + 0.1 * e), m.LinearLR(o, 0.5, 1.0, 3), m.OneCycleLR(o, 0.9, total_steps=31)],
        milestones=[4, 9]),
    "sequential-milestone-0": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o), m.MultiStepLR(o, [2], gamma=0.1)], milestones=[0]),
}
STEPS = {"onecycle-cos": 40, "onecycle-linear": 36, "onecycle-three-phase": 33, "onecycle-no-momentum": 20}


@pytest.mark.parametrize("name", CONFIGS)
def test_the_lr_sequence_is_pytorchs(name):
    assert_same_run(CONFIGS[name], STEPS.get(name, 40), momentum=0.9)


@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_onecycle_cycles_adams_beta1(anneal, three_phase):
    make = lambda m, o: m.OneCycleLR(o, max_lr=3e-3, total_steps=25, anneal_strategy=anneal,
                                     three_phase=three_phase, base_momentum=0.8, max_momentum=0.97)
    _, opt = assert_same_run(make, 25, kind="adam", betas=(0.9, 0.99))
    assert all(g["betas"][1] == 0.99 for g in opt.param_groups)  # beta2 untouched


def test_existing_schedules_restart_inside_sequential():
    make = lambda m, o: m.SequentialLR(o, [m.ExponentialLR(o, 0.9), m.CosineAnnealingLR(o, T_max=6, eta_min=0.01),
                                           m.StepLR(o, 2, 0.5)], milestones=[5, 11])
    assert_same_run(make, 25, exact=False)  # PyTorch computes these recursively: equal to rounding


@settings(max_examples=30, deadline=None)
@given(milestones=st.lists(st.integers(0, 30), max_size=6), gamma=st.floats(0.05, 0.99))
def test_multistep_for_any_milestones(milestones, gamma):
    assert_same_run(lambda m, o: m.MultiStepLR(o, milestones, gamma=gamma), 35)


@settings(max_examples=30, deadline=None)
@given(start=st.floats(0.01, 1.0), end=st.floats(0.0, 1.0), total=st.integers(1, 20))
def test_linear_for_any_factors(start, end, total):
    assert_same_run(lambda m, o: m.LinearLR(o, start_factor=start, end_factor=end, total_iters=total), 25)


@settings(max_examples=30, deadline=None)
@given(total=st.integers(4, 60), pct=st.floats(0.05, 0.45), three_phase=st.booleans(),
       anneal=st.sampled_from(["cos", "linear"]))
def test_onecycle_for_any_length(total, pct, three_phase, anneal):
    make = lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=total, pct_start=pct, three_phase=three_phase,
                                     anneal_strategy=anneal)
    assert_same_run(make, total, momentum=0.9)


def plateau_run(metrics, **kwargs):
    mine_opt, their_opt = twins()
    mine = ours.ReduceLROnPlateau(mine_opt, **kwargs)
    other = theirs.ReduceLROnPlateau(their_opt, **kwargs)
    assert mine.get_last_lr() == other.get_last_lr()
    for epoch, value in enumerate(metrics):
        mine.step(value)
        other.step(value)
        assert mine.get_last_lr() == other.get_last_lr(), f"epoch {epoch}"
        assert [g["lr"] for g in mine_opt.param_groups] == [g["lr"] for g in their_opt.param_groups]
        assert (mine.best, mine.num_bad_epochs, mine.cooldown_counter) == \
               (other.best, other.num_bad_epochs, other.cooldown_counter)
    return mine


PLATEAUS = [
    dict(),
    dict(mode="max", factor=0.5, patience=2),
    dict(mode="min", threshold=0.1, threshold_mode="abs", patience=1, cooldown=2),
    dict(mode="max", threshold=0.05, threshold_mode="rel", patience=0, cooldown=1, min_lr=[0.01, 0.02]),
    dict(factor=0.2, patience=1, min_lr=0.004, eps=1e-3),
]


@pytest.mark.parametrize("kwargs", PLATEAUS, ids=[str(sorted(k.items())) for k in PLATEAUS])
def test_reduce_on_plateau_is_pytorchs(kwargs):
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1, 0.5, 10), np.full(15, 0.5), rng.random(40), np.linspace(0, 2, 10)])
    plateau_run(metrics.tolist(), **kwargs)


@settings(max_examples=40, deadline=None)
@given(metrics=st.lists(st.sampled_from([0.0, 0.5, 0.9, 1.0, 1.0001, 2.0]) | st.floats(-10, 10), max_size=40),
       mode=st.sampled_from(["min", "max"]), threshold_mode=st.sampled_from(["rel", "abs"]),
       patience=st.integers(0, 4), cooldown=st.integers(0, 3), threshold=st.sampled_from([0.0, 1e-4, 0.1]))
def test_reduce_on_plateau_for_any_metrics(metrics, mode, threshold_mode, patience, cooldown, threshold):
    plateau_run(metrics, mode=mode, threshold_mode=threshold_mode, patience=patience, cooldown=cooldown,
                threshold=threshold, min_lr=1e-3)


def test_reduce_on_plateau_reads_a_tensor_metric():
    scheduler = plateau_run([], patience=0)
    scheduler.step(gg.tensor(3.0))
    scheduler.step(gg.tensor([4.0]))  # worse: cut at patience 0
    assert scheduler.get_last_lr() == pytest.approx([0.01, 0.005])


@pytest.mark.parametrize("name", ["lambda-per-group", "multistep", "linear-warmup", "onecycle-three-phase",
                                  "sequential-three", "plateau"])
def test_state_dict_resumes_exactly_through_graphgrad_save(name, tmp_path):
    make = (lambda m, o: m.ReduceLROnPlateau(o, patience=1, cooldown=1)) if name == "plateau" else CONFIGS[name]
    metrics = [1.0, 0.9, 0.95, 0.97, 0.99, 0.8, 0.85, 0.9, 0.91, 0.92, 0.7, 0.75, 0.8, 0.81, 0.82]

    def advance(scheduler, opt, steps, start=0):
        lrs = []
        for i in range(start, start + steps):
            opt.step()
            scheduler.step(metrics[i]) if name == "plateau" else scheduler.step()
            lrs.append(scheduler.get_last_lr())
        return lrs

    opt, _ = twins(momentum=0.9)
    scheduler = make(ours, opt)
    expected = advance(scheduler, opt, 14)

    opt, _ = twins(momentum=0.9)
    scheduler = make(ours, opt)
    got = advance(scheduler, opt, 6)
    gg.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()}, tmp_path / "ckpt.npz")
    state = gg.load(tmp_path / "ckpt.npz")
    opt, _ = twins(momentum=0.9)
    resumed = make(ours, opt)  # as PyTorch advises: the scheduler first, then the optimizer's state
    opt.load_state_dict(state["optimizer"])
    resumed.load_state_dict(state["scheduler"])
    got += advance(resumed, opt, 8, start=6)
    assert got == expected


def test_lambda_state_dict_keeps_callable_objects_state_only():
    opt, _ = twins()
    scheduler = ours.LambdaLR(opt, [lambda e: 1.0, Warmup(4)])
    assert scheduler.state_dict()["lr_lambdas"] == [None, {"epochs": 4}]
    other = ours.LambdaLR(twins()[0], [lambda e: 1.0, Warmup(9)])
    other.load_state_dict(scheduler.state_dict())
    assert other.lr_lambdas[1].epochs == 4


def test_onecycle_refuses_to_step_past_the_cycle():
    scheduler = ours.OneCycleLR(twins()[0], max_lr=1.0, total_steps=3)
    for _ in range(3):
        scheduler.step()
    with pytest.raises(ValueError, match="OneCycleLR: tried to step 4 times, but total_steps is 3"):
        scheduler.step()


@pytest.mark.parametrize("make, message", [
    (lambda o: ours.LinearLR(o, start_factor=0), r"LinearLR: start_factor must lie in \(0, 1\], got 0"),
    (lambda o: ours.LinearLR(o, end_factor=1.5), r"LinearLR: end_factor must lie in \[0, 1\], got 1.5"),
    (lambda o: ours.LambdaLR(o, [lambda e: 1.0]), "LambdaLR: expected 2 lr_lambdas"),
    (lambda o: ours.OneCycleLR(o, max_lr=1.0), "give either total_steps or both epochs and steps_per_epoch"),
    (lambda o: ours.OneCycleLR(o, max_lr=1.0, total_steps=0), "total_steps must be a positive integer, got 0"),
    (lambda o: ours.OneCycleLR(o, max_lr=[1.0], total_steps=5), "expected 2 values of max_lr"),
    (lambda o: ours.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="exp"), "'cos' or 'linear'"),
    (lambda o: ours.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=1.5), r"pct_start must lie in \[0, 1\]"),
    (lambda o: ours.ReduceLROnPlateau(o, factor=1.0), "factor must be < 1.0, got 1.0"),
    (lambda o: ours.ReduceLROnPlateau(o, mode="maximum"), "mode must be 'min' or 'max'"),
    (lambda o: ours.ReduceLROnPlateau(o, threshold_mode="relative"), "threshold_mode must be 'rel' or 'abs'"),
    (lambda o: ours.ReduceLROnPlateau(o, min_lr=[0.1]), "expected 2 min_lrs"),
    (lambda o: ours.SequentialLR(o, [ours.LinearLR(o)], milestones=[3]), "1 schedulers need 0 milestones, got 1"),
    (lambda o: ours.SequentialLR(o, [ours.LinearLR(o), ours.LinearLR(twins()[0])], milestones=[3]),
     "scheduler 1 .LinearLR. drives another optimizer"),
    (lambda o: ours.SequentialLR(o, [ours.LinearLR(o), ours.ReduceLROnPlateau(o)], milestones=[3]),
     "scheduler 1 is a ReduceLROnPlateau"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make(twins()[0])


def test_cycle_momentum_needs_momentum_or_betas():
    opt = optim.Adagrad([Parameter(np.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="Adagrad has neither .pass cycle_momentum=False."):
        ours.OneCycleLR(opt, max_lr=1.0, total_steps=5)
    assert ours.OneCycleLR(opt, max_lr=1.0, total_steps=5, cycle_momentum=False).get_last_lr() == pytest.approx([0.04])


def test_names_are_exported_from_optim():
    for name in ("LambdaLR", "MultiStepLR", "LinearLR", "OneCycleLR", "ReduceLROnPlateau", "SequentialLR"):
        assert getattr(optim, name) is getattr(ours, name)
