"""Pooling: max and average pooling over windows (1-D and 2-D), adaptive average and max pooling.

Window pooling works on a strided window view of the (padded) input, one pass per window offset
over the output (a 2x2 pool: four vectorised passes), never a copy of the windows. Max pooling
keeps, per output element, which offset won (one byte), not a mask of the input: backward writes
the gradient at those positions. The common 2x2, stride-2 max pool of a contiguous NumPy array
runs as two pairwise rounds instead (horizontal pairs, then upper against lower), keeping each
round's winner as a bool, a cache-sized chunk of rows at a time: ~4x faster. Each backward
is itself differentiable (create_graph): it is a scatter to, or a gather from, the winners' flat
indices, which are adjoint ops of each other.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..backend import namespace
from .conv import Geometry, blocks, channel_major_zeros, check_input, pair
from ..autograd.tensor import unwrap


def pool_size(op: str, n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's output length of a pooling window over an axis of length n."""
    span = n + 2 * p - d * (k - 1) - 1
    if span < 0:
        raise ValueError(f"{op}: kernel size {k} (dilated to {d * (k - 1) + 1}) is larger than the padded input "
                         f"{n + 2 * p} (input {n}, padding {p})")
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:  # the last window must start inside the input or the left padding
        out -= 1
    return out


def pool_geometry(op: str, x, spatial: int, kernel_size, stride, padding, dilation, ceil_mode) -> Geometry:
    """The windows of a pooling op over x (as a 2-D geometry, a 1-D op over a height-1 image)."""
    check_input(op, x, spatial)
    k = pair(op, "kernel_size", kernel_size, spatial)
    s = k if stride is None or stride == () or stride == [] else pair(op, "stride", stride, spatial)
    p, d = pair(op, "padding", padding, spatial, minimum=0), pair(op, "dilation", dilation, spatial)
    if any(2 * pi > ki for pi, ki in zip(p, k)):
        raise ValueError(f"{op}: padding {p} must be at most half the kernel size {k}")
    size = tuple(x.shape[2:])
    out = tuple(pool_size(op, n, ki, si, pi, di, ceil_mode) for n, ki, si, pi, di in zip(size, k, s, p, d))
    for n, o, ki, si, pi, di in zip(size, out, k, s, p, d):
        reads = np.arange(o)[:, None] * si - pi + np.arange(ki)[None, :] * di
        if not ((reads >= 0) & (reads < n)).any(axis=1).all():
            raise ValueError(f"{op}: with kernel size {k}, stride {s}, padding {p} and dilation {d} some window over "
                             f"the input {size} reads only padding; use less padding or dilation")
    # right padding: what the last window reaches beyond the input (ceil_mode), at least nothing
    pads = tuple((pi, max(0, (o - 1) * si + di * (ki - 1) + 1 - n - pi)) for n, o, ki, si, pi, di in zip(size, out, k, s, p, d))
    if spatial == 1:
        return Geometry((1,) + size, (1,) + out, (1,) + k, (1,) + s, ((0, 0),) + pads, (1,) + d, 1)
    return Geometry(size, out, k, s, pads, d, 1)


def padded(xp, x, g: Geometry, value: float):
    """x (N, C, H, W) surrounded by `value` as g's pads say (x itself without padding)."""
    if not any(lo or hi for lo, hi in g.pads):
        return x
    out = channel_major_zeros(xp, tuple(x.shape[:2]) + g.padded, x)
    if value:
        out[...] = value
    (top, _), (left, _) = g.pads
    out[:, :, top:top + g.size[0], left:left + g.size[1]] = x
    return out


def offsets(g: Geometry):
    """(k, index) for each window offset: the slice of the padded input it reads at every output position."""
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = g.kernel, g.out, g.stride, g.dilation
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, (slice(None), slice(None), slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
                               slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


def channel_major(a) -> bool:
    """True for an (N, C, ...) NumPy array stored as (C, N, ...)."""
    return a.ndim > 1 and a.shape[0] > 1 and a.shape[1] > 1 and a.strides[1] > a.strides[0]


def overlapping(g: Geometry) -> bool:
    """True when neighbouring windows share input positions."""
    return any(s < d * (k - 1) + 1 for k, s, d in zip(g.kernel, g.stride, g.dilation))


def tiles(g: Geometry) -> bool:
    """True when the windows cover the unpadded input exactly once (2x2 windows, stride 2, even sizes)."""
    return (not any(lo or hi for lo, hi in g.pads) and g.dilation == (1,) * len(g.kernel)
            and g.stride == g.kernel and all(o * k == n for o, k, n in zip(g.out, g.kernel, g.size)))


def crop(x, g: Geometry):
    """x (N, C, H', W') without the padding that geometry `g` added: its (H, W) interior."""
    (top, _), (left, _) = g.pads
    return x[:, :, top:top + g.size[0], left:left + g.size[1]]


def flat_indices(xp, winner, g: Geometry):
    """Each winning offset as PyTorch's index into its channel's flattened (H·W) input."""
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = g.kernel, g.out, g.stride, g.dilation
    (top, _), (left, _) = g.pads
    w = xp.astype(winner, xp.int64)
    rows = xp.reshape(xp.arange(oh, like=winner) * sh - top, (oh, 1)) + (w // kw) * dh
    cols = xp.reshape(xp.arange(ow, like=winner) * sw - left, (1, ow)) + (w % kw) * dw
    return rows * g.size[1] + cols


def gather_flat(xp, x, index):
    """x (N, C, H, W) read at flat per-channel indices `index` (N, C, ...)."""
    if getattr(xp, "differentiable", False):
        return GatherFlat(index)(x)
    n, c = x.shape[:2]
    flat = xp.reshape(x, (n, c, -1))
    return xp.reshape(xp.take_along_axis(flat, xp.reshape(index, (n, c, -1)), axis=2), tuple(index.shape))


def scatter_flat(xp, shape: tuple, index, g):
    """Zeros of `shape` (N, C, H, W) with g added at the flat per-channel indices `index` (repeats add up)."""
    if getattr(xp, "differentiable", False):
        return ScatterFlat(shape, index)(g)
    n, c = shape[:2]
    rows = xp.scatter_add_rows((n * c, math.prod(shape[2:])), xp.reshape(index, (n * c, -1)),
                               xp.reshape(g, (n * c, -1)))
    return xp.reshape(rows, shape)


class GatherFlat(Function):
    """y = x at flat per-channel indices (max pooling's forward, given the winners).  Backward scatters."""

    symbol = "gather"

    def __init__(self, index):
        """Gather at the flat per-channel indices `index`."""
        self.index = index

    def forward(self, x):
        self.in_shape = tuple(x.shape)
        return gather_flat(self.xp, x, self.index)

    def backward(self, gy):
        return scatter_flat(self.xp, self.in_shape, self.index, gy)


class ScatterFlat(Function):
    """y = zeros(shape) with x added at flat per-channel indices: the adjoint of GatherFlat."""

    symbol = "scatter"

    def __init__(self, shape: tuple, index):
        """Scatter-add into zeros of `shape` at the flat per-channel indices `index`."""
        self.shape, self.index = tuple(shape), index

    def forward(self, x):
        return scatter_flat(self.xp, self.shape, self.index, x)

    def backward(self, gy):
        return gather_flat(self.xp, gy, self.index)


def _lift(xp, a, spatial: int):
    """A 1-D op's (N, C, L) as (N, C, 1, L)."""
    return a if spatial == 2 else xp.reshape(a, tuple(a.shape[:2]) + (1,) + tuple(a.shape[2:]))


def _lower(xp, a, spatial: int):
    return a if spatial == 2 else xp.reshape(a, tuple(a.shape[:2]) + tuple(a.shape[3:]))


def _scan(xp, win, g: Geometry):
    """Each window's maximum and the offset of its first maximum; a NaN wins and propagates (as in PyTorch)."""
    best = win[..., 0, 0]
    winner = xp.zeros(tuple(best.shape), dtype=xp.int64, like=best)
    for k in range(1, math.prod(g.kernel)):
        v = win[..., k // g.kernel[1], k % g.kernel[1]]
        better = (v > best) | (v != v)
        best, winner = xp.where(better, v, best), xp.where(better, k, winner)
    return best, winner


def _scan_numpy(win, g: Geometry):
    """_scan in place, every temporary in the input's memory order (mixed orders cost 3-10x here).

    A NaN's value propagates through np.maximum; its position is found by a second, exact scan.
    """
    best = win[..., 0, 0].copy(order="K")
    if not (win.strides[0] and win.strides[1]):  # a broadcast input: give the scan ordinary arrays
        best = np.ascontiguousarray(best)
    winner = np.zeros_like(best, dtype=np.int8 if math.prod(g.kernel) < 128 else np.int64)
    better, step = np.empty_like(best, dtype=bool), np.empty_like(winner)
    for k in range(1, math.prod(g.kernel)):
        v = win[..., k // g.kernel[1], k % g.kernel[1]]
        np.greater(v, best, out=better)
        np.maximum(best, v, out=best)
        # winner = where(better, k, winner), as arithmetic: a masked copy branches per element (10x slower)
        np.subtract(k, winner, out=step)
        step *= better
        winner += step
    if np.isnan(best.sum()):  # np.maximum propagated some NaN (rare): find its position with the NaN rule
        best, winner = _scan(namespace(win), win, g)
        winner = winner.astype(np.int8 if math.prod(g.kernel) < 128 else np.int64)
    return best, winner


def in_memory_order(x):
    """x (N, C, H, W) as the C-contiguous array its memory holds, (N, C, H, W) or channel-major (C, N, H, W);
    None for other layouts (or other libraries)."""
    if type(x) is not np.ndarray:
        return None
    if x.flags.c_contiguous:
        return x
    t = x.transpose(1, 0, 2, 3)
    return t if t.flags.c_contiguous else None


# The paired kernels go through the array a chunk of window rows at a time, each chunk's rounds
# done while it is in the core's cache: on the SimpleConvNet's 30x24x24 maps (batch 100, 7 MB)
# 3.2 ms instead of 6.7 for whole-array passes, whose intermediates went through memory.
PAIR_CHUNK_BYTES = 512 << 10


def _pool_pairs(memory):
    """2x2, stride-2 max pooling of a C-contiguous (A, B, H, W) array as two pairwise rounds.

    First each horizontal pair (its right one wins only if greater: the first maximum wins ties),
    then the upper and lower pair winners. The pairs' two halves are first copied apart (NumPy's
    comparisons run ~8x faster on contiguous arrays than on stride-2 views). Returns the maxima
    (A, B, H/2, W/2) and the two rounds' results (`right`: per pair, `lower`: per window), or
    (None, None, None) when a NaN is among the maxima (its position is the exact scan's job).
    """
    a, b, h, w = memory.shape
    rows = memory.reshape(-1, 2 * w)  # one row of windows: its upper and lower input rows
    n = rows.shape[0]
    best = np.empty((n, w // 2), dtype=memory.dtype)
    right, lower = np.empty((n, w), dtype=bool), np.empty((n, w // 2), dtype=bool)
    parts = blocks(n, 2 * w * memory.itemsize, PAIR_CHUNK_BYTES)
    size = (parts[0].stop - parts[0].start) * w
    first, second = np.empty(size, dtype=memory.dtype), np.empty(size, dtype=memory.dtype)
    for part in parts:
        flat = rows[part].reshape(-1)
        left, other = first[:flat.size // 2], second[:flat.size // 2]
        np.copyto(left, flat[0::2])
        np.copyto(other, flat[1::2])
        np.greater(other, left, out=right[part].reshape(-1))
        halves = np.maximum(left, other, out=left).reshape(-1, 2, w // 2)
        np.maximum(halves[:, 0], halves[:, 1], out=best[part])
        np.greater(halves[:, 1], halves[:, 0], out=lower[part])
    if np.isnan(best.sum()):
        return None, None, None
    return best.reshape(a, b, h // 2, w // 2), right.reshape(-1), lower


def _pairs_winner(right, lower, shape: tuple, swapped: bool):
    """The winning offset (0-3, row-major in the window) of each of _pool_pairs' windows, as (N, C, OH, OW)
    (`shape` is the maxima's shape in memory order; `swapped`: that order is channel-major)."""
    a, b, oh, ow = shape
    rows = right.reshape(-1, 2, ow)
    winner = (2 * lower + np.where(lower, rows[:, 1], rows[:, 0])).astype(np.int8).reshape(a, b, oh, ow)
    return winner.transpose(1, 0, 2, 3) if swapped else winner


def _unpool_pairs(right, lower, gy, swapped: bool):
    """_pool_pairs' backward: gy (N, C, OH, OW) at each window's winner, zeros elsewhere, in the input's memory order."""
    memory = gy.transpose(1, 0, 2, 3) if swapped else gy
    a, b, oh, ow = memory.shape
    finite = np.isfinite(gy.sum())
    g = memory.reshape(-1, ow)  # one row of windows per row (a copy when gy is laid out otherwise)
    out = np.empty((a, b, 2 * oh, 2 * ow), dtype=gy.dtype)
    rows, right = out.reshape(-1, 4 * ow), right.reshape(-1, 2 * ow)
    parts = blocks(g.shape[0], 4 * ow * gy.itemsize, PAIR_CHUNK_BYTES)
    buffer = np.empty((parts[0].stop - parts[0].start, 2, ow), dtype=gy.dtype)
    for part in parts:
        pairs = buffer[:part.stop - part.start]
        put(g[part], ~lower[part], pairs[:, 0], finite)
        put(g[part], lower[part], pairs[:, 1], finite)
        half, flat, won = pairs.reshape(-1), rows[part].reshape(-1), right[part].reshape(-1)
        put(half, ~won, flat[0::2], finite)
        put(half, won, flat[1::2], finite)
    return out.transpose(1, 0, 2, 3) if swapped else out


def put(g, mask, out, finite: bool) -> None:
    """out = g where mask, else 0: NumpyOps.masked_product written into `out` (a strided view), with g's
    finiteness decided once per call rather than per chunk (inf·0 is NaN: a non-finite g takes `where`)."""
    if finite:
        np.multiply(g, mask, out=out)
    else:
        np.copyto(out, np.where(mask, g, 0))


class MaxPool2d(Function):
    """y = the maximum of each window of x (N, C, H, W) (PyTorch's max_pool2d; -inf padding).

    With return_indices, also each maximum's flat index into its channel's H·W input.
    dy/dx·g puts g at each window's maximum (the first one on ties).
    """

    name, symbol, spatial = "max_pool2d", "max pool", 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        """Max pooling with PyTorch's `kernel_size`, `stride` (default: the kernel), `padding`, `dilation`, `ceil_mode` and `return_indices`."""
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.ceil_mode, self.return_indices = ceil_mode, return_indices

    def forward(self, x):
        xp, n = self.xp, self.spatial
        g = self.geometry = pool_geometry(self.name, x, n, self.kernel_size, self.stride, self.padding,
                                          self.dilation, self.ceil_mode)
        self.in_shape = tuple(x.shape)
        x2 = _lift(xp, x, n)
        memory = in_memory_order(x2) if g.kernel == (2, 2) and tiles(g) else None
        best, right, lower = (None, None, None) if memory is None else _pool_pairs(memory)
        self.paired = best is not None  # not for a NaN: its position comes from the exact scan
        if self.paired:
            self.save_for_backward(right, lower)
            self.memory_shape, self.channel_major = best.shape, memory is not x2
            winner = _pairs_winner(right, lower, best.shape, self.channel_major) if self.return_indices else None
            best = best.transpose(1, 0, 2, 3) if self.channel_major else best
        else:
            win = xp.windows(padded(xp, x2, g, -math.inf), (2, 3), g.kernel, g.stride, g.dilation)
            win = win[:, :, :g.out[0], :g.out[1], ...]
            if type(win) is np.ndarray:
                best, winner = _scan_numpy(win, g)
            else:
                best, winner = _scan(xp, win, g)
            self.save_for_backward(winner)
        if self.return_indices:
            self.indices = _lower(xp, flat_indices(xp, winner, g), n)
        return _lower(xp, best, n)

    @staticmethod
    def function(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        """The maximum of each window of x (N, C, H, W); with return_indices, (values, flat indices)."""
        op = MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode, return_indices)
        return with_indices(op, x)

    def backward(self, gy):
        xp, g, n = self.xp, self.geometry, self.spatial
        g2 = _lift(xp, gy, n)
        differentiable = getattr(xp, "differentiable", False)
        if self.paired and not differentiable:
            return _lower(xp, _unpool_pairs(*self.saved, g2, self.channel_major), n)
        if self.paired:
            winner = _pairs_winner(*map(unwrap, self.saved), self.memory_shape, self.channel_major)
        else:
            winner = unwrap(self.saved[0])
        if differentiable or type(g2) is not np.ndarray:
            index = flat_indices(namespace(winner), winner, g)
            shape = tuple(g2.shape[:2]) + g.size
            return _lower(xp, scatter_flat(xp, shape, index, g2), n)
        share = np.empty_like(winner, dtype=g2.dtype)  # gy in the winners' memory order: no mixed-order passes
        share[...] = g2
        shape = tuple(g2.shape[:2]) + g.padded
        make = np.empty if tiles(g) else np.zeros  # windows that tile the input write every element once
        if channel_major(winner):
            out = make((shape[1], shape[0]) + shape[2:], dtype=g2.dtype).swapaxes(0, 1)
        else:
            out = make(shape, dtype=g2.dtype)
        add, finite = overlapping(g), np.isfinite(share.sum())
        hit = np.empty_like(winner, dtype=bool)
        for k, index in offsets(g):
            np.equal(winner, k, out=hit)
            if add:
                out[index] += share * hit if finite else np.where(hit, share, 0)
            else:
                put(share, hit, out[index], finite)
        return _lower(xp, crop(out, g), n)


class MaxPool1d(MaxPool2d):
    """y = the maximum of each window of x (N, C, L) (PyTorch's max_pool1d)."""

    name, symbol, spatial = "max_pool1d", "max pool", 1

    @staticmethod
    def function(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        """The maximum of each window of x (N, C, L); with return_indices, (values, flat indices)."""
        return with_indices(MaxPool1d(kernel_size, stride, padding, dilation, ceil_mode, return_indices), x)


def with_indices(op: Function, x):
    """op(x), and with op.return_indices also the winners' indices (a tensor that carries no gradient)."""
    y = op(x)
    if not op.return_indices:
        return y
    if not hasattr(y, "creator"):
        raise TypeError(f"{op.name}: return_indices needs a tensor input (a static graph's node gives the values only)")
    from ..autograd.tensor import Tensor

    return y, Tensor(op.indices)


def avg_divisor(xp, g: Geometry, p: tuple, count_include_pad: bool, like):
    """How many inputs each output of avg_pool averages (PyTorch's rule), as an (OH, OW) array."""
    factors = []
    for n, o, k, s, pad in zip(g.size, g.out, g.kernel, g.stride, p):
        start = np.arange(o) * s - pad
        end = np.minimum(start + k, n + pad)
        if count_include_pad:
            factors.append(end - start)
        else:
            factors.append(np.minimum(end, n) - np.maximum(start, 0))
    div = np.outer(*factors) if len(factors) == 2 else factors[0]
    return xp.constant(div, like)


def window_mean(xp, x, g: Geometry, divisor):
    """Average pooling's forward: the sum of each window of x (zero padding) over its divisor."""
    xpad = padded(xp, x, g, 0.0)
    total = None
    for _, index in offsets(g):
        v = xpad[index]
        total = v if total is None else total + v
    return total / divisor


def window_mean_adjoint(xp, gy, g: Geometry, divisor, like):
    """The adjoint of window_mean: each output's gradient over its divisor, spread over its window."""
    share = gy / divisor
    out = channel_major_zeros(xp, tuple(gy.shape[:2]) + g.padded, like)
    numpy = type(out) is np.ndarray
    for _, index in offsets(g):
        if numpy:
            out[index] += share
        else:
            out[index] = out[index] + share
    return crop(out, g)


class WindowMean(Function):
    """Average pooling with a fixed geometry (role 'y'), or its adjoint (role 'x'): each the other's gradient."""

    symbol = "avg pool"

    def __init__(self, geometry: Geometry, divisor, role: str):
        """Window means over `geometry` divided by `divisor`, as face `role` ('y' or 'x')."""
        self.geometry, self.divisor, self.role = geometry, divisor, role

    def forward(self, x):
        if self.role == "y":
            return window_mean(self.xp, x, self.geometry, self.divisor)
        return window_mean_adjoint(self.xp, x, self.geometry, self.divisor, x)

    def backward(self, gy):
        return mean_face(self.xp, "x" if self.role == "y" else "y", self.geometry, self.divisor, gy)


def mean_face(xp, role: str, g: Geometry, divisor, a):
    """Window means of `a` (`role` 'y') or their adjoint (`role` 'x'): the WindowMean op when `xp` is differentiable, else computed directly."""
    if getattr(xp, "differentiable", False):
        return WindowMean(g, divisor, role)(a)
    if role == "y":
        return window_mean(xp, a, g, divisor)
    return window_mean_adjoint(xp, a, g, divisor, a)


class AvgPool2d(Function):
    """y = the mean of each window of x (N, C, H, W) (PyTorch's avg_pool2d; zero padding).

    count_include_pad=False divides by the number of input (not padding) elements in the window.
    dy/dx·g spreads each window's g, divided by the same count, over the window's elements.
    """

    name, symbol, spatial = "avg_pool2d", "avg pool", 2

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        """Average pooling with PyTorch's `kernel_size`, `stride` (default: the kernel), `padding`, `ceil_mode` and `count_include_pad`."""
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x):
        xp, n = self.xp, self.spatial
        g = self.geometry = pool_geometry(self.name, x, n, self.kernel_size, self.stride, self.padding, 1,
                                          self.ceil_mode)
        pads = tuple(lo for lo, _ in g.pads)
        self.divisor = avg_divisor(xp, g, pads, self.count_include_pad, x)
        return _lower(xp, window_mean(xp, _lift(xp, x, n), g, self.divisor), n)

    def backward(self, gy):
        xp, n = self.xp, self.spatial
        return _lower(xp, mean_face(xp, "x", self.geometry, self.divisor, _lift(xp, gy, n)), n)


class AvgPool1d(AvgPool2d):
    """y = the mean of each window of x (N, C, L) (PyTorch's avg_pool1d)."""

    name, symbol, spatial = "avg_pool1d", "avg pool", 1


def adaptive_bins(n: int, out: int):
    """PyTorch's adaptive pooling bins over an axis: [floor(i·n/out), ceil((i+1)·n/out))."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


def _output_size(op: str, x, output_size) -> tuple:
    check_input(op, x, 2)
    items = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(items) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    size = tuple(x.shape[2:][i] if v is None else v for i, v in enumerate(items))
    if any(not isinstance(v, (int, np.integer)) or v < 1 for v in size):
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return tuple(int(v) for v in size)


class AdaptiveAvgPool2d(Function):
    """y = x (N, C, H, W) averaged over output_size bins: Pₕ·x·Pᵥᵀ with averaging matrices (PyTorch's bins).  dy/dx·g = Pₕᵀ·g·Pᵥ."""

    name, symbol = "adaptive_avg_pool2d", "adaptive avg pool"

    def __init__(self, output_size):
        """Adaptive average pooling to `output_size` (an int or a pair; None keeps that size)."""
        self.output_size = output_size

    def forward(self, x):
        xp = self.xp
        out = _output_size(self.name, x, self.output_size)
        mats = []
        for n, o in zip(x.shape[2:], out):
            m = np.zeros((o, n))
            for i, (a, b) in enumerate(adaptive_bins(n, o)):
                m[i, a:b] = 1.0 / (b - a)
            mats.append(xp.asarray(m.astype(str(x.dtype))) if type(x) is np.ndarray else
                        xp.asarray(m, dtype=x.dtype, device=xp.device(x)))
        rows, cols = mats
        self.save_for_backward(rows, cols)
        return xp.matmul(xp.matmul(rows, x), cols.mT)

    def backward(self, gy):
        rows, cols = self.saved
        return self.xp.matmul(self.xp.matmul(rows.mT, gy), cols)


class AdaptiveMaxPool2d(Function):
    """y = the maximum of x (N, C, H, W) over output_size bins (PyTorch's bins); return_indices as max_pool2d.  dy/dx·g puts g at each bin's maximum."""

    name, symbol = "adaptive_max_pool2d", "adaptive max pool"

    def __init__(self, output_size, return_indices=False):
        """Adaptive max pooling to `output_size`; `return_indices` also returns each maximum's flat index."""
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x):
        xp = self.xp
        out = _output_size(self.name, x, self.output_size)
        n, c, h, w = x.shape
        index = np.zeros((n, c) + out, dtype=np.int64) if type(x) is np.ndarray else None
        cells = []
        for i, (r0, r1) in enumerate(adaptive_bins(h, out[0])):
            for j, (c0, c1) in enumerate(adaptive_bins(w, out[1])):
                cell = xp.reshape(x[:, :, r0:r1, c0:c1], (n, c, -1))
                local = xp.argmax(cell, axis=2)
                if type(x) is np.ndarray:
                    nan = np.isnan(cell).any(axis=2)
                    if nan.any():  # NaN wins, as in PyTorch
                        local = np.where(nan, np.isnan(cell).argmax(axis=2), local)
                flat = (r0 + local // (c1 - c0)) * w + c0 + local % (c1 - c0)
                if index is not None:
                    index[:, :, i, j] = flat
                else:
                    cells.append(flat)
        if index is None:
            index = xp.reshape(xp.stack(cells, axis=-1), (n, c) + out)
        self.in_shape = (n, c, h, w)
        self.save_for_backward(index)
        if self.return_indices:
            self.indices = index
        return gather_flat(xp, x, index)

    @staticmethod
    def function(x, output_size, return_indices=False):
        """The maximum of x (N, C, H, W) over output_size bins; with return_indices, (values, flat indices)."""
        return with_indices(AdaptiveMaxPool2d(output_size, return_indices), x)

    def backward(self, gy):
        return scatter_flat(self.xp, self.in_shape, unwrap(self.saved[0]), gy)
