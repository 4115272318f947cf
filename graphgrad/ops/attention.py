"""Functions built from other ops: attention, vector normalisation, resizing images, one per class.

Each is a composition of differentiable ops (matmul, softmax, where, x[index], ...), so its
gradient, also under create_graph, needs no rule of its own.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import unwrap
from ..backend import beside


def _F():
    from . import FUNCTIONS

    return FUNCTIONS


class ScaledDotProductAttention(Function):
    """softmax(q kᵀ · scale + mask) v, as PyTorch's scaled_dot_product_attention."""

    name = "scaled_dot_product_attention"

    @staticmethod
    def function(query, key, value, attn_mask=None, dropout_p: float = 0.0, is_causal: bool = False,
                 scale=None, enable_gqa: bool = False):
        """Attention over the last two dims: query (..., L, E), key (..., S, E), value (..., S, Ev)."""
        F = _F()
        L, S = query.shape[-2], key.shape[-2]
        if query.shape[-1] != key.shape[-1]:
            raise ValueError(f"scaled_dot_product_attention: query {tuple(query.shape)} and key {tuple(key.shape)} "
                             f"must share the embedding size (last dim)")
        scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
        scores = F["matmul"](query, F["transpose"](key, -2, -1)) * scale
        if is_causal:
            if attn_mask is not None:
                raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
            attn_mask = beside(np.tril(np.ones((L, S), dtype=bool)), unwrap(scores))
        if attn_mask is not None:
            mask = unwrap(attn_mask)
            if "bool" in str(getattr(mask, "dtype", "")):
                scores = F["where"](mask, scores, beside(np.asarray(-np.inf), unwrap(scores), scores.dtype))
            else:
                scores = scores + attn_mask
        weights = F["softmax"](scores, -1)
        if dropout_p > 0:
            from ..factories import default_generator

            keep = default_generator().random(weights.shape) >= dropout_p
            weights = weights * beside(keep / (1 - dropout_p), unwrap(weights), weights.dtype)
        return F["matmul"](weights, value)


class Normalize(Function):
    """x / max(‖x‖_p, eps) along dim, as PyTorch's functional normalize."""

    name = "normalize"

    @staticmethod
    def function(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12):  # noqa: A002  (PyTorch's name)
        """Each slice along `dim` scaled to unit p-norm."""
        F = _F()
        if p == 2:
            norm = F["sqrt"](F["sum"](input * input, dim, True))
        else:
            norm = F["sum"](F["abs"](input) ** p, dim, True) ** (1 / p)
        return input / F["clamp_min"](norm, eps)


class Interpolate(Function):
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) input: 'nearest', 'linear',
    'bilinear' (align_corners as PyTorch), as PyTorch's interpolate."""

    name = "interpolate"

    @staticmethod
    def function(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,  # noqa: A002
                 recompute_scale_factor=None, antialias: bool = False):
        """The input resampled to `size` (or scaled by `scale_factor`) over its spatial dims."""
        spatial = len(input.shape) - 2
        if spatial < 1:
            raise ValueError(f"interpolate: expects (N, C, ...) input, got shape {tuple(input.shape)}")
        if mode not in ("nearest", "linear", "bilinear"):
            raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented (nearest, linear, bilinear are)")
        if mode in ("linear", "bilinear") and spatial != {"linear": 1, "bilinear": 2}[mode]:
            raise ValueError(f"interpolate: mode {mode!r} needs {'3' if mode == 'linear' else '4'}-D input, got shape {tuple(input.shape)}")
        if mode == "nearest" and align_corners is not None:
            raise ValueError("interpolate: align_corners only applies to the linear modes")
        in_sizes = tuple(input.shape[2:])
        if (size is None) == (scale_factor is None):
            raise ValueError("interpolate: give exactly one of size and scale_factor")
        if size is not None:
            out_sizes = (size,) * spatial if isinstance(size, int) else tuple(size)
            scales = [None] * spatial
        else:
            factors = (scale_factor,) * spatial if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
            out_sizes = tuple(int(math.floor(n * f)) for n, f in zip(in_sizes, factors))
            scales = [None if recompute_scale_factor else f for f in factors]
        if len(out_sizes) != spatial:
            raise ValueError(f"interpolate: size {out_sizes} does not match the {spatial} spatial dims of {tuple(input.shape)}")
        out = input
        for axis, (n_in, n_out, s) in enumerate(zip(in_sizes, out_sizes, scales)):
            d = 2 + axis
            if mode == "nearest":
                ratio = n_in / n_out if s is None else 1 / s
                index = np.minimum(np.floor(np.arange(n_out) * ratio).astype(np.int64), n_in - 1)
                out = _F()["index_select"](out, d, beside(index, unwrap(out)))
            else:
                out = _linear_along(out, d, n_in, n_out, s, bool(align_corners))
        return out


def _linear_along(x, d: int, n_in: int, n_out: int, scale, align_corners: bool):
    """Linear interpolation along dim d (a weighted sum of two index_selects)."""
    F = _F()
    if align_corners:
        src = np.arange(n_out) * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        ratio = n_in / n_out if scale is None else 1 / scale
        src = np.maximum((np.arange(n_out) + 0.5) * ratio - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    shape = [1] * len(x.shape)
    shape[d] = n_out
    w = beside((src - lo).reshape(shape), unwrap(x), x.dtype)
    lo, hi = beside(lo, unwrap(x)), beside(hi, unwrap(x))
    return F["index_select"](x, d, lo) * (1 - w) + F["index_select"](x, d, hi) * w
