"""Ops the texts' frameworks need that the rest of the library does not have.

`StackedAffine` is a layer whose neurons are stored apart, one n x 1 weight column and one 1 x 1
bias each, as in the article's listings (`Add(Dot(Variable(784, True), X), Variable(1, True))` per
neuron): it computes all of them as one matrix product. graphgrad.graph's `Vectorize` builds it
when it is handed such neurons, so the article's code runs at a layer's speed, not a neuron's.
`Step` is the perceptron's threshold.
"""
from __future__ import annotations

from ..autograd.function import Function


class StackedAffine(Function):
    """z = [w₁ … wₙ]ᵀ x + [b₁ … bₙ] for a column x (d x 1), columns wᵢ (d x 1) and biases bᵢ (1 x 1): z is n x 1.

    dz/dx·g = W g,  dz/dwᵢ·g = x gᵢ,  dz/dbᵢ·g = gᵢ.
    """

    name, symbol = "stacked_affine", "neurons"

    @staticmethod
    def function(x, weights, biases):
        """The n x 1 column of neurons wᵢᵀx + bᵢ, one per (weight column, 1 x 1 bias) pair."""
        weights, biases = list(weights), list(biases)
        if len(weights) != len(biases) or not weights:
            raise ValueError(f"stacked_affine: needs one bias per weight, got {len(weights)} weights and "
                             f"{len(biases)} biases")
        return StackedAffine()(x, *weights, *biases)

    def forward(self, x, *params):
        """z from x and `params` = the n weight columns, then the n biases."""
        xp = self.xp
        n = len(params) // 2
        ws, bs = params[:n], params[n:]
        if x.ndim != 2 or x.shape[1] != 1 or any(tuple(w.shape) != (x.shape[0], 1) for w in ws) \
                or any(tuple(b.shape) != (1, 1) for b in bs):
            raise ValueError(
                f"stacked_affine: input {tuple(x.shape)} must be a column (d, 1) with weight columns (d, 1) and "
                f"1 x 1 biases; got weights {sorted({tuple(w.shape) for w in ws})}, biases {sorted({tuple(b.shape) for b in bs})}"
            )
        rows = xp.concat([w.mT for w in ws], axis=0)  # (n, d): each weight column copied as a contiguous row
        self.save_for_backward(x, *ws)
        return rows @ x + xp.concat(bs, axis=0)

    def backward(self, gz):
        """(W gz, x gzᵢ for each weight, gzᵢ for each bias), each only where needs_input_grad says."""
        xp = self.xp
        x, *ws = self.saved
        n = len(ws)
        need = self.needs_input_grad
        gx = xp.concat([w.mT for w in ws], axis=0).mT @ gz if need[0] else None
        gw = gz @ x.mT if any(need[1:n + 1]) else None  # (n, d): row i is dz/dwᵢ·g, contiguous
        gws = [gw[i:i + 1, ...].mT if need[1 + i] else None for i in range(n)]  # (d, 1) views of whole rows
        gbs = [gz[i:i + 1, ...] if need[1 + n + i] else None for i in range(n)]
        return (gx, *gws, *gbs)


class Step(Function):
    """y = 1 where x >= 0, else 0 (the perceptron's threshold).  dy/dx = 0 almost everywhere."""

    name, symbol, elementwise = "step", "step", True

    def forward(self, x):
        """1 where x >= 0, else 0, in x's dtype."""
        return self.xp.astype(x >= 0, x.dtype)

    def backward(self, gy):
        """gx = 0 (the step is flat wherever it has a derivative)."""
        return self.xp.zeros_like(gy)
