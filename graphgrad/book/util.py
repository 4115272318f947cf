"""The textbook's array utilities (`common.util`): curve smoothing, shuffling, and im2col / col2im.

im2col lays every filter-sized patch of a batch of images out as one row, so that a convolution
becomes one matrix product; col2im is its adjoint (it adds each row back onto the patch it came
from), which is what the backward pass of a convolution or pooling needs. The layout is the
book's: rows ordered by (image, output row, output column), columns by (channel, filter row,
filter column).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["smooth_curve", "shuffle_dataset", "conv_output_size", "im2col", "col2im"]


def smooth_curve(x, window: int = 11) -> np.ndarray:
    """A loss curve smoothed by a Kaiser window (β = 2) of `window` points, edges reflected; same length as x."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < window:
        raise ValueError(f"smooth_curve: needs a 1-D curve of at least {window} points, got shape {x.shape}")
    padded = np.concatenate([x[window - 1:0:-1], x, x[-1:-window:-1]])
    w = np.kaiser(window, 2)
    smoothed = np.convolve(w / w.sum(), padded, mode="valid")
    half = window // 2
    return smoothed[half:len(smoothed) - half]


def shuffle_dataset(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and t reordered by the same random permutation of their first axis (from np.random, as the book)."""
    if len(x) != len(t):
        raise ValueError(f"shuffle_dataset: x has {len(x)} samples but t has {len(t)}")
    order = np.random.permutation(x.shape[0])
    return x[order], t[order]


def conv_output_size(input_size: int, filter_size: int, stride: int = 1, pad: int = 0) -> float:
    """(input + 2·pad - filter) / stride + 1: the output's height or width (a float, as the book computes it)."""
    return (input_size + 2 * pad - filter_size) / stride + 1


def _out_size(name: str, shape: tuple, filter_h: int, filter_w: int, stride: int, pad: int) -> tuple[int, int]:
    if len(shape) != 4:
        raise ValueError(f"{name}: input must be (N, C, H, W), got shape {tuple(shape)}")
    if stride < 1 or pad < 0:
        raise ValueError(f"{name}: stride must be >= 1 and pad >= 0, got stride={stride}, pad={pad}")
    h, w = shape[2] + 2 * pad, shape[3] + 2 * pad
    if filter_h > h or filter_w > w:
        raise ValueError(f"{name}: filter ({filter_h}, {filter_w}) is larger than the padded input ({h}, {w})")
    return (h - filter_h) // stride + 1, (w - filter_w) // stride + 1


def im2col(input_data: np.ndarray, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Patches of (N, C, H, W) images as rows: shape (N·out_h·out_w, C·filter_h·filter_w)."""
    x = np.asarray(input_data)
    out_h, out_w = _out_size("im2col", x.shape, filter_h, filter_w, stride, pad)
    if pad:
        x = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    windows = sliding_window_view(x, (filter_h, filter_w), axis=(2, 3))  # (N, C, H', W', fh, fw), a view
    windows = windows[:, :, ::stride, ::stride][:, :, :out_h, :out_w]
    n, c = x.shape[:2]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * out_h * out_w, c * filter_h * filter_w)


def col2im(col: np.ndarray, input_shape: tuple, filter_h: int, filter_w: int, stride: int = 1,
           pad: int = 0) -> np.ndarray:
    """The adjoint of im2col: each row added back onto its patch of an (N, C, H, W) array of input_shape."""
    n, c, h, w = input_shape
    out_h, out_w = _out_size("col2im", input_shape, filter_h, filter_w, stride, pad)
    expected = (n * out_h * out_w, c * filter_h * filter_w)
    if col.shape != expected:
        raise ValueError(f"col2im: col of shape {col.shape} does not fit input {tuple(input_shape)} with a "
                         f"{filter_h}x{filter_w} filter, stride {stride}, pad {pad}; expected {expected}")
    patches = col.reshape(n, out_h, out_w, c, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=col.dtype)
    for i in range(filter_h):  # one strided add per filter position: filter_h·filter_w vectorised adds
        rows = slice(i, i + stride * out_h, stride)
        for j in range(filter_w):
            img[:, :, rows, j:j + stride * out_w:stride] += patches[:, :, i, j]
    return img[:, :, pad:pad + h, pad:pad + w]
