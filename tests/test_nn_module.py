"""Module: registration order, traversal, modes, state_dict round trips and their errors, repr, init."""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
import graphgrad.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8, generator=0)
        self.act = nn.ReLU()
        self.bn = nn.BatchNorm1d(8)
        self.fc2 = nn.Linear(8, 3, generator=1)
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))

    def forward(self, x):
        return self.fc2(self.bn(self.act(self.fc1(x)))) * self.scale


def test_parameters_register_in_declaration_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight", "fc2.bias",
    ]
    assert list(net.state_dict()) == [
        "scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
        "bn.num_batches_tracked", "fc2.weight", "fc2.bias",
    ]
    assert [type(m).__name__ for m in net.children()] == ["Linear", "ReLU", "BatchNorm1d", "Linear"]
    assert len(list(net.parameters())) == 7


def test_state_dict_keys_match_torch(torch_oracle):
    tnn = torch_oracle.nn
    ours = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.BatchNorm1d(8), nn.Linear(8, 3))
    theirs = tnn.Sequential(tnn.Linear(4, 8), tnn.ReLU(), tnn.BatchNorm1d(8), tnn.Linear(8, 3))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in ours.state_dict().items():
        assert tuple(theirs.state_dict()[k].shape) == v.shape
    theirs.load_state_dict({k: torch_oracle.tensor(np.array(v)) for k, v in ours.state_dict().items()})


def test_shared_parameter_listed_once():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2


def test_train_eval_reach_every_descendant():
    net = Net().eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_sets_none():
    net = Net()
    net(np.ones((4, 4), dtype=np.float32)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_load_state_dict_round_trip_in_place():
    a, b = Net(), Net()
    a(np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32))  # move running statistics
    weight = b.fc1.weight.data
    b.load_state_dict({k: v.copy() for k, v in a.state_dict().items()})
    assert b.fc1.weight.data is weight  # copied into the existing array: optimizers keep working
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k], v)
    x = np.ones((2, 4), dtype=np.float32)
    np.testing.assert_array_equal(a.eval()(x).data, b.eval()(x).data)


def test_load_state_dict_names_missing_unexpected_and_mismatched_keys():
    net = Net()
    state = {k: v.copy() for k, v in net.state_dict().items()}
    del state["fc2.bias"]
    state["fc3.weight"] = np.zeros(2)
    state["fc1.weight"] = np.zeros((8, 5))
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(state)
    msg = str(err.value)
    assert "missing keys 'fc2.bias'" in msg and "unexpected keys 'fc3.weight'" in msg
    assert "fc1.weight: checkpoint (8, 5), model (8, 4)" in msg
    del state["fc1.weight"]
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["fc1.weight", "fc2.bias"] and result.unexpected_keys == ["fc3.weight"]


def test_repr_is_readable():
    text = repr(nn.Sequential(nn.Linear(784, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, 10)))
    assert text == (
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=50, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.5)\n"
        "  (3): Linear(in_features=50, out_features=10, bias=True)\n"
        ")"
    )


def test_sequential_indexing_and_append():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert isinstance(seq[0], nn.Linear) and len(seq[:1]) == 1
    seq.append(nn.Linear(3, 1))
    assert len(seq) == 3 and seq(np.ones((5, 2), dtype=np.float32)).shape == (5, 1)
    with pytest.raises(TypeError, match="item '0' is of type int, not a Module"):
        nn.Sequential(3)


def test_forgetting_super_init_is_explained():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first in Bad.__init__"):
        Bad()


def test_to_double_converts_parameters_and_buffers():
    net = Net().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.bn.running_mean.dtype == np.float64 and net.bn.num_batches_tracked.dtype == np.int64
    assert net(np.ones((3, 4))).dtype == np.float64


def test_linear_init_is_seedable_and_in_pytorch_range():
    a, b = nn.Linear(100, 20, generator=3), nn.Linear(100, 20, generator=3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert np.abs(a.weight.data).max() <= 0.1 and a.weight.dtype == np.float32
    nn.init.manual_seed(5)
    c = nn.Linear(100, 20)
    nn.init.manual_seed(5)
    np.testing.assert_array_equal(c.weight.data, nn.Linear(100, 20).weight.data)


@pytest.mark.parametrize("fn,expected_std", [
    (nn.init.xavier_normal_, np.sqrt(2 / (400 + 300))),
    (nn.init.xavier_uniform_, np.sqrt(6 / (400 + 300)) / np.sqrt(3)),
    (lambda w, generator: nn.init.kaiming_normal_(w, nonlinearity="relu", generator=generator), np.sqrt(2 / 400)),
    (lambda w, generator: nn.init.kaiming_uniform_(w, nonlinearity="relu", generator=generator), np.sqrt(2 / 400)),
    (lambda w, generator: nn.init.normal_(w, 0, 0.05, generator=generator), 0.05),
    (lambda w, generator: nn.init.uniform_(w, -1, 1, generator=generator), 1 / np.sqrt(3)),
])
def test_initialisers_have_the_right_scale(fn, expected_std):
    w = nn.Parameter(np.zeros((300, 400)))  # (out, in): fan_in 400, fan_out 300
    fn(w, generator=np.random.default_rng(0))
    assert abs(w.data.std() / expected_std - 1) < 0.02
    again = nn.Parameter(np.zeros((300, 400)))
    fn(again, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(w.data, again.data)


def test_constant_initialisers_and_aliases():
    w = nn.Parameter(np.full((2, 3), 7.0))
    nn.init.zeros_(w)
    assert (w.data == 0).all()
    nn.init.ones_(w)
    assert (w.data == 1).all()
    assert nn.init.he_normal_ is nn.init.kaiming_normal_ and nn.init.glorot_uniform_ is nn.init.xavier_uniform_
    with pytest.raises(TypeError, match="generator must be an int seed"):
        nn.init.normal_(w, generator="seed")


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(np.ones(3))
    assert isinstance(p, gg.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:")
