"""einsum where the array library has none (array-api-strict: the standard defines no einsum) against NumPy's."""
from __future__ import annotations

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.backend import to_numpy
from graphgrad.backend.einsum import einsum

xp = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed (pip install array-api-strict)")
pytest.importorskip("array_api_compat", reason="array-api-compat is not installed (pip install array-api-compat)")
DEVICE = xp.Device("device1")
rng = np.random.default_rng(0)

# equation: operand shapes (matrix and batched products, contractions of 3 operands, diagonals, sums, outer products)
EQUATIONS = {
    "ij,jk->ik": [(2, 3), (3, 4)],
    "bij,bjk->bik": [(2, 3, 4), (2, 4, 5)],
    "ij,jk,kl->il": [(2, 3), (3, 4), (4, 2)],
    "ijk,jl->lik": [(2, 3, 4), (3, 5)],
    "i,j->ij": [(3,), (4,)],
    "i,i->": [(5,), (5,)],
    "ij,ij->ij": [(2, 3), (2, 3)],
    "ij->ji": [(2, 3)],
    "ijk->j": [(2, 3, 4)],
    "ii->": [(4, 4)],
    "ii->i": [(4, 4)],
    "iij->ji": [(3, 3, 2)],
    "ijj,jk->ik": [(2, 3, 3), (3, 4)],
    "ab,cd->": [(2, 3), (4, 5)],
    ",ij->ij": [(), (2, 3)],
    "bhqd,bhkd->bhqk": [(2, 3, 4, 5), (2, 3, 6, 5)],
}


@pytest.mark.parametrize("equation", sorted(EQUATIONS))
def test_einsum_from_matmul_and_sum_matches_numpy(equation):
    arrays = [rng.standard_normal(s) for s in EQUATIONS[equation]]
    out = einsum(xp, equation, *[xp.asarray(a, device=DEVICE) for a in arrays])
    assert out.device == DEVICE
    np.testing.assert_allclose(to_numpy(out), np.einsum(equation, *arrays), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("equation", ["bij,bjk->bik", "ij,jk,kl->il", "ijk,jl->lik", "ijk->j", "i,j->ij"])
def test_einsum_gradients_on_the_device_match_numpy(equation):
    arrays = [rng.standard_normal(s) for s in EQUATIONS[equation]]
    grads = []
    for make in (np.asarray, lambda a: xp.asarray(a, device=DEVICE)):
        ts = [gg.tensor(make(a), requires_grad=True) for a in arrays]
        (gg.einsum(equation, *ts) ** 2).sum().backward()
        grads.append([to_numpy(t.grad.data) for t in ts])
    for ours, ref in zip(*grads):
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("equation, shapes, message", [
    ("ij,jk", [(2, 3), (3, 4)], "must name every operand's subscripts and the output's"),
    ("...i,i->...", [(2, 3), (3,)], "no '...'"),
    ("ij,jk->ik", [(2, 3), (4, 5)], "subscript 'j' has size 3 in one operand and 4"),
    ("ij->ik", [(2, 3)], "output subscripts 'ik'"),
    ("ijk->i", [(2, 3)], "subscripts 'ijk' do not match an operand of shape"),
])
def test_einsum_bad_equations_are_clear_errors(equation, shapes, message):
    with pytest.raises(ValueError, match=message):
        einsum(xp, equation, *[xp.asarray(np.ones(s), device=DEVICE) for s in shapes])
