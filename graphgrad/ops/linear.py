"""The fused affine op y = x·Wᵀ + b, and the embedding lookup y = W[i] (a Linear of one-hot rows).

Affine: y = x·Wᵀ + b, with W stored as (out_features, in_features) like PyTorch.

One op instead of MatMul + Transpose + Add: one graph node per layer, no transposed copies
(`w.T` is a free view that BLAS reads directly), and no gradient for the input when nothing
upstream needs it (the first layer's input never does), which saves a third of the layer's
backward work. The weight's gradient is made in the weight's own memory order, so an in-place
update `w -= lr * gw` walks both arrays contiguously (nn.Linear keeps its weight column-major:
then `x @ w.T` is BLAS's plain product, which is also the faster one).
"""
from __future__ import annotations

from ..autograd.function import Function
from ..backend import namespace, to_numpy


class Linear(Function):
    """y = x @ Wᵀ + b.  dy/dx·g = g @ W,  dy/dW·g = gᵀ @ x,  dy/db·g = Σₙ g."""

    name = "linear"

    def forward(self, x, w, b=None):
        if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
            raise ValueError(
                f"linear: input of shape {tuple(x.shape)} does not fit weight of shape {tuple(w.shape)}; the "
                f"weight is (out_features, in_features), so the input's last axis must be {w.shape[-1]}"
            )
        if b is not None and b.shape != (w.shape[0],):
            raise ValueError(f"linear: bias of shape {tuple(b.shape)} must be ({w.shape[0]},) for weight {tuple(w.shape)}")
        self.save_for_backward(x, w)
        self.has_bias = b is not None
        flags = getattr(w, "flags", None)
        self.w_column_major = flags is not None and not flags.c_contiguous
        y = x @ w.mT
        if b is not None:
            if flags is not None:
                y += b  # y is a fresh ndarray, so adding in place is safe and saves an allocation
            else:
                y = y + b
        return y

    def backward(self, gy):
        x0, w = self.saved
        x = x0
        xp = self.xp
        need = self.needs_input_grad
        if x.ndim != 2:  # leading axes (or a single vector) act as the batch
            x, gy = xp.reshape(x, (-1, w.shape[1])), xp.reshape(gy, (-1, w.shape[0]))
        gx = gy @ w if need[0] else None
        if gx is not None and x0.ndim != 2:
            gx = xp.reshape(gx, tuple(x0.shape))
        gw = None
        if need[1]:
            gw = (x.mT @ gy).mT if self.w_column_major else gy.mT @ x
        if not self.has_bias:
            return gx, gw
        return gx, gw, (xp.sum(gy, axis=0) if need[2] else None)


class Embedding(Function):
    """y = weight[input]: a row of weight per index.  dL/dweight = the rows of g scatter-added at the indices
    (repeats accumulate), none for `padding_idx`'s row; the indices get no gradient."""

    name = "embedding"

    def __init__(self, padding_idx: int | None = None):
        """An embedding lookup; the row `padding_idx` (if not None) gets no gradient."""
        self.padding_idx = padding_idx

    def forward(self, input, weight):
        xp = self.xp
        if weight.ndim != 2:
            raise ValueError(
                f"embedding: weight must be (num_embeddings, embedding_dim), got shape {tuple(weight.shape)}"
            )
        check_indices(input, weight.shape[0])
        self.num_embeddings = n = weight.shape[0]
        if self.padding_idx is not None and not -n <= self.padding_idx < n:
            raise ValueError(f"embedding: padding_idx {self.padding_idx} is out of range for {n} embeddings")
        flat = xp.reshape(input, (-1,))
        self.save_for_backward(flat)
        return xp.reshape(xp.getitem(weight, flat), (*input.shape, weight.shape[1]))

    def backward(self, gy):
        (flat,) = self.saved
        xp = self.xp
        if not self.needs_input_grad[1]:
            return None, None
        index = flat.data if hasattr(flat, "creator") else flat  # a constant under create_graph
        rows = xp.reshape(gy, (-1, gy.shape[-1]))
        if self.padding_idx is not None:
            keep = namespace(index).astype(index != self.padding_idx % self.num_embeddings, rows.dtype)
            rows = rows * keep[:, None]
        return None, xp.scatter_add((self.num_embeddings, gy.shape[-1]), index, rows)


def check_indices(input, n: int) -> None:
    """Raise naming embedding unless `input` holds integer indices in [0, n)."""
    host = to_numpy(input)
    if host.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {host.dtype}")
    if host.size and (host.min() < 0 or host.max() >= n):
        bad = host[(host < 0) | (host >= n)].flat[0]
        raise IndexError(f"embedding: index {int(bad)} is out of range for {n} embeddings (valid: 0 to {n - 1})")
