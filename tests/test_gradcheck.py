"""gradcheck: passes on correct gradients, and names the input, index and both values on wrong ones."""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
import graphgrad.nn.functional as F
from graphgrad.autograd.function import Function
from graphgrad.autograd.gradcheck import GradcheckError, gradcheck


def _t(*shape, seed=0, grad=True):
    return gg.tensor(np.random.default_rng(seed).standard_normal(shape), dtype="float64", requires_grad=grad)


class WrongSquare(Function):
    """y = x², with a backward that is wrong at one element."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        g = 2 * self.x * gy
        g = g.copy()
        g[1, 2] += 0.5
        return g


@pytest.mark.parametrize("fn,inputs", [
    (F.linear, lambda: (_t(4, 3), _t(2, 3, seed=1), _t(2, seed=2))),
    (lambda x: F.cross_entropy(x, np.array([0, 2, 1, 1])), lambda: (_t(4, 3),)),
    (lambda x, y: (x * y).tanh().sum(axis=0), lambda: (_t(3, 2), _t(3, 2, seed=1))),
    (lambda x: (x.softmax(), x.sigmoid()), lambda: (_t(2, 5),)),
    (lambda x, w: F.layer_norm(x, 4, w), lambda: (_t(3, 4), _t(4, seed=1))),
])
def test_correct_gradients_pass(fn, inputs):
    assert gradcheck(fn, inputs()) is True


def test_only_inputs_with_requires_grad_are_checked():
    x, w = _t(3, 4), _t(2, 4, seed=1, grad=False)
    assert gradcheck(F.linear, (x, w))


def test_wrong_gradient_names_input_index_and_values():
    x = _t(3, 4)
    with pytest.raises(GradcheckError, match=r"gradient of input 1 \(shape \(3, 4\)\) is wrong at index \(1, 2\): "
                                             r"backprop .*, numerical .*"):
        gradcheck(lambda w, x: WrongSquare()(x) * w, (gg.tensor(2.0, dtype="float64"), x))


def test_no_input_to_check_is_an_error():
    with pytest.raises(ValueError, match="no input has requires_grad=True"):
        gradcheck(lambda x: x * 2, (_t(2, grad=False),))


def test_float32_inputs_warn():
    with pytest.warns(UserWarning, match="use float64"):
        gradcheck(lambda x: x * 2, (gg.tensor(np.ones(3), dtype="float32", requires_grad=True),), eps=1e-2, atol=1e-2)
