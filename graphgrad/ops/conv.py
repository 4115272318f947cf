"""Convolutions: conv1d, conv2d, conv_transpose2d, unfold and fold, on one set of kernels.

A convolution y = conv(x, w) is bilinear, so its three faces are one geometry read three ways:
`y` (the forward pass), `x` (the adjoint in x: conv_transpose2d, and conv2d's input gradient) and
`w` (the adjoint in w: the correlation of x with y, conv2d's weight gradient). Each face's
gradient is made of the other two, so one internal op (`ConvFace`) gives every derivative of
every order. Inside, the patch matrix is (C·kh·kw, N·OH·OW), copied from a strided window view;
on NumPy it is built a cache-sized block of images at a time, each block multiplied at once into
its columns of the output, and elsewhere whole (one GEMM, one per group). Outputs are NCHW views
of channel-major (C, N, H, W) arrays, the layout the next convolution's patch copy reads fastest.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..autograd.function import Function


@dataclass(frozen=True)
class Geometry:
    """Where a 2-D convolution's windows lie: input size, output size, kernel, stride, pads, dilation, groups."""

    size: tuple  # (H, W) of the unpadded input
    out: tuple  # (OH, OW)
    kernel: tuple
    stride: tuple
    pads: tuple  # ((top, bottom), (left, right))
    dilation: tuple
    groups: int

    @property
    def padded(self) -> tuple:
        """The input's spatial size with the padding added: size + pad before + pad after, per axis."""
        return tuple(n + lo + hi for n, (lo, hi) in zip(self.size, self.pads))


# ---- argument handling ------------------------------------------------------------------
def pair(op: str, name: str, value, n: int = 2, minimum: int = 1) -> tuple:
    """`value` as an n-tuple of ints >= minimum, or an error naming the op and the parameter."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(items) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in items):
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return tuple(int(v) for v in items)


def check_input(op: str, x, spatial: int) -> None:
    """Raise unless x is batched channels-first with `spatial` spatial axes."""
    if x.ndim != spatial + 2:
        expected = "(N, C, L)" if spatial == 1 else "(N, C, H, W)"
        raise ValueError(f"{op}: expected a {spatial + 2}-D input {expected}, got shape {tuple(x.shape)}")


def conv_pads(op: str, padding, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """Padding as ((lo, hi), ...) per axis: an int, a tuple, 'valid' or 'same' (as PyTorch: stride 1 only)."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in pair(op, "padding", padding, n, minimum=0))


def make_geometry(op: str, size: tuple, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple,
                  groups: int, out: tuple | None = None) -> Geometry:
    """The geometry of a convolution of an input of spatial `size`, checking the kernel fits."""
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(size, pads))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(r > p for r, p in zip(reach, padded)):
        raise ValueError(
            f"{op}: kernel size {kernel} (dilated to {reach}) is larger than the padded input {padded} "
            f"(input {size}, padding {tuple(lo for lo, _ in pads)}); use a smaller kernel or more padding"
        )
    if out is None:
        out = tuple((p - r) // s + 1 for p, r, s in zip(padded, reach, stride))
    return Geometry(tuple(size), tuple(out), tuple(kernel), tuple(stride), tuple(pads), tuple(dilation), groups)


def as_2d(g: Geometry) -> Geometry:
    """A 1-D geometry as the 2-D one over a height-1 image."""
    if len(g.kernel) == 2:
        return g
    return Geometry((1,) + g.size, (1,) + g.out, (1,) + g.kernel, (1,) + g.stride, ((0, 0),) + g.pads,
                    (1,) + g.dilation, g.groups)


# ---- the array kernels ------------------------------------------------------------------
def channel_major_zeros(xp, shape: tuple, like):
    """Zeros of NCHW `shape` stored channel-major (C, N, ...) for NumPy; plain zeros elsewhere."""
    if type(like) is np.ndarray:
        return np.zeros((shape[1], shape[0]) + tuple(shape[2:]), dtype=like.dtype).swapaxes(0, 1)
    return xp.zeros(shape, dtype=like.dtype, like=like)


def pad_zeros(xp, x, pads: tuple):
    """x (N, C, H, W) with zeros around its spatial axes (x itself when there is no padding)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = tuple(x.shape[:2]) + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    out = channel_major_zeros(xp, shape, x)
    out[(slice(None), slice(None)) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], pads))] = x
    return out


def windows_of(xp, x, g: Geometry):
    """The (N, C, OH, OW, kh, kw) windows of x (N, C, H, W) padded with zeros (a view on NumPy)."""
    win = xp.windows(pad_zeros(xp, x, g.pads), (2, 3), g.kernel, g.stride, g.dilation)
    return win[:, :, :g.out[0], :g.out[1], ...]


def patches(xp, win):
    """The patch matrix (C·kh·kw, N·OH·OW) of windows (N, C, OH, OW, kh, kw): column (n, i, j) is one window."""
    c, kh, kw = win.shape[1], win.shape[4], win.shape[5]
    return xp.reshape(xp.permute_dims(win, (1, 4, 5, 0, 2, 3)), (c * kh * kw, -1))


def im2col(xp, x, g: Geometry):
    """The patch matrix (C·kh·kw, N·OH·OW) of x (N, C, H, W): column (n, i, j) is the window at (i, j)."""
    return patches(xp, windows_of(xp, x, g))


# The NumPy kernels build the patch matrix in blocks of images of about this size, each used by its
# GEMM while still in cache: measured 0.64x the time of one whole-batch patch matrix and GEMM
# (16->16 channels, 28x28, batch 100, one thread), and the whole matrix (45 MB there) never exists.
PATCH_BLOCK_BYTES = 2 << 20


def blocks(n: int, item_bytes: int, budget: int = PATCH_BLOCK_BYTES) -> list:
    """Slices of n items (images, rows) of item_bytes each, about `budget` bytes a slice."""
    step = max(1, budget // max(1, item_bytes))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def blocked(x, g: Geometry) -> bool:
    """True where the NumPy block kernels apply: NumPy arrays, one group."""
    return type(x) is np.ndarray and g.groups == 1


def col2im(xp, col, g: Geometry, n: int, c: int, like):
    """The adjoint of im2col: the patch matrix's entries added back onto an (N, C, H, W) image."""
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = g.kernel, g.out, g.stride, g.dilation
    cols = xp.reshape(col, (c, kh, kw, n, oh, ow))
    out = channel_major_zeros(xp, (n, c) + g.padded, like)
    numpy = type(out) is np.ndarray
    for i in range(kh):
        for j in range(kw):
            index = (slice(None), slice(None), slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
                     slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))
            patch = xp.permute_dims(cols[:, i, j, ...], (1, 0, 2, 3))
            if numpy:
                out[index] += patch
            else:
                out[index] = out[index] + patch
    (top, _), (left, _) = g.pads
    return out[:, :, top:top + g.size[0], left:left + g.size[1]]


def _rows_of(xp, y):
    """y (N, O, OH, OW) as the (O, N·OH·OW) matrix the GEMMs use (free for a channel-major y)."""
    return xp.reshape(xp.permute_dims(y, (1, 0, 2, 3)), (y.shape[1], -1))


def _as_image(xp, rows, n: int, out: tuple):
    """The inverse of _rows_of: (O, N·OH·OW) as an (N, O, OH, OW) view."""
    return xp.permute_dims(xp.reshape(rows, (rows.shape[0], n) + tuple(out)), (1, 0, 2, 3))


def face_y(xp, x, w, g: Geometry, bias=None):
    """conv2d: y (N, O, OH, OW) from x (N, C, H, W) and w (O, C/groups, kh, kw), plus a per-channel bias."""
    if blocked(x, g):
        return _face_y_blocks(xp, x, w, g, bias)
    col = im2col(xp, x, g)
    groups = g.groups
    if groups == 1:
        rows = xp.reshape(w, (w.shape[0], -1)) @ col
    else:
        wg = xp.reshape(w, (groups, w.shape[0] // groups, -1))
        rows = xp.reshape(xp.matmul(wg, xp.reshape(col, (groups, -1, col.shape[-1]))), (w.shape[0], -1))
    if bias is not None:
        if type(rows) is np.ndarray:
            rows += bias[:, None]  # rows is this call's fresh product
        else:
            rows = rows + xp.reshape(bias, (-1, 1))
    return _as_image(xp, rows, x.shape[0], g.out)


def _face_y_blocks(xp, x, w, g: Geometry, bias):
    """face_y on NumPy: each block's patch matrix times the kernel, written into a channel-major output."""
    n, o, hw = x.shape[0], w.shape[0], math.prod(g.out)
    wm = w.reshape(o, -1)
    win = windows_of(xp, x, g)
    rows = np.empty((o, n * hw), dtype=np.result_type(x.dtype, w.dtype))
    for part in blocks(n, wm.shape[1] * hw * x.dtype.itemsize):
        block = rows[:, part.start * hw:part.stop * hw]
        np.matmul(wm, patches(xp, win[part]), out=block)
        if bias is not None:
            block += bias[:, None]  # while the block is in cache
    return _as_image(xp, rows, n, g.out)


def face_x(xp, y, w, g: Geometry, like=None):
    """The adjoint in x (conv_transpose2d): x (N, C, H, W) from y (N, O, OH, OW) and w (O, C/groups, kh, kw)."""
    reach = [d * (k - 1) for k, d in zip(g.kernel, g.dilation)]
    exact = all(p - r == o for p, r, o in zip(g.padded, reach, g.out))  # stride 1 leaves no input row unread
    few_outputs = w.shape[0] <= 3 * w.shape[1] * g.groups  # O ≤ 3·C: the patch matrix of y is the smaller copy
    if g.stride == (1, 1) and exact and few_outputs and all(lo <= r and hi <= r for (lo, hi), r in zip(g.pads, reach)):
        # Stride 1: the adjoint is the convolution of y with the flipped, transposed kernel; its patch
        # matrix and a GEMM over O·kh·kw cost less than a GEMM over O and col2im's strided adds
        # (measured 16->16 channels at 28x28: 17 vs 44 ms), unless O is much larger than C (1->30
        # channels, 5x5: 41 vs 6 ms; the book's first layer, whose input gradient it computes).
        full = Geometry(g.out, g.size, g.kernel, (1, 1), tuple((r - lo, r - hi) for (lo, hi), r in zip(g.pads, reach)),
                        g.dilation, g.groups)
        return face_y(xp, y, flipped(xp, w, g.groups), full)
    groups, o = g.groups, w.shape[0]
    rows = _rows_of(xp, y)
    wm = xp.reshape(w, (o, -1))
    if groups == 1:
        col = wm.mT @ rows
    else:
        wg = xp.permute_dims(xp.reshape(wm, (groups, o // groups, -1)), (0, 2, 1))
        col = xp.reshape(xp.matmul(wg, xp.reshape(rows, (groups, o // groups, -1))), (-1, rows.shape[-1]))
    return col2im(xp, col, g, y.shape[0], w.shape[1] * groups, y if like is None else like)


def flipped(xp, w, groups: int):
    """w (O, C/groups, kh, kw) as the kernel of its adjoint convolution: (C, O/groups, kh, kw), rotated 180 degrees."""
    o, cg, kh, kw = w.shape
    wg = xp.permute_dims(xp.reshape(w, (groups, o // groups, cg, kh, kw)), (0, 2, 1, 3, 4))
    wg = xp.reshape(wg, (groups * cg, o // groups, kh, kw))
    return wg[:, :, ::-1, ::-1] if type(wg) is np.ndarray else xp.flip(wg, axis=(2, 3))


def face_w(xp, x, y, g: Geometry):
    """The adjoint in w: w (O, C/groups, kh, kw) from x (N, C, H, W) and y (N, O, OH, OW)."""
    rows = _rows_of(xp, y)
    groups, o, c = g.groups, y.shape[1], x.shape[1]
    if blocked(x, g):  # the sum over the batch of each block's product, its patch matrix still in cache
        win, hw = windows_of(xp, x, g), math.prod(g.out)
        wm = np.zeros((o, c * g.kernel[0] * g.kernel[1]), dtype=np.result_type(x.dtype, y.dtype))
        for part in blocks(x.shape[0], wm.shape[1] * hw * x.dtype.itemsize):
            wm += rows[:, part.start * hw:part.stop * hw] @ patches(xp, win[part]).T
        return wm.reshape((o, c) + tuple(g.kernel))
    col = im2col(xp, x, g)
    if groups == 1:
        wm = rows @ col.mT
    else:
        r = xp.reshape(rows, (groups, o // groups, -1))
        cg = xp.permute_dims(xp.reshape(col, (groups, -1, col.shape[-1])), (0, 2, 1))
        wm = xp.reshape(xp.matmul(r, cg), (o, -1))
    return xp.reshape(wm, (o, c // groups) + tuple(g.kernel))


FACES = {"y": face_y, "x": face_x, "w": face_w}


def face(xp, role: str, g: Geometry, a, b):
    """One face of the convolution of arrays, or (on tensors) the differentiable ConvFace op."""
    if getattr(xp, "differentiable", False):
        return ConvFace(g, role)(a, b)
    return FACES[role](xp, a, b, g)


class ConvFace(Function):
    """One face of a 2-D convolution (role 'y': conv(x, w); 'x': its adjoint in x; 'w': in w).

    The gradients of each face are the other two faces, so derivatives of any order stay convolutions.
    """

    symbol = "conv·"

    def __init__(self, geometry: Geometry, role: str):
        """The face `role` ('y', 'x' or 'w') of the convolution laid out by `geometry`."""
        self.geometry, self.role = geometry, role

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return FACES[self.role](self.xp, a, b, self.geometry)

    def backward(self, gz):
        a, b = self.saved
        xp, g, need = self.xp, self.geometry, self.needs_input_grad
        if self.role == "y":  # a = x, b = w
            return (face(xp, "x", g, gz, b) if need[0] else None), (face(xp, "w", g, a, gz) if need[1] else None)
        if self.role == "x":  # a = y, b = w; gz lives in x's space
            return (face(xp, "y", g, gz, b) if need[0] else None), (face(xp, "w", g, gz, a) if need[1] else None)
        # role "w": a = x, b = y; gz lives in w's space
        return (face(xp, "x", g, b, gz) if need[0] else None), (face(xp, "y", g, a, gz) if need[1] else None)


def _bias_shape(op: str, b, channels: int) -> None:
    if b is not None and tuple(b.shape) != (channels,):
        raise ValueError(f"{op}: bias of shape {tuple(b.shape)} must be ({channels},)")


def _add_bias(y, b):
    """y (N, C, ...) + b per channel."""
    return y + b.reshape((-1,) + (1,) * (y.ndim - 2))


def _to_2d(xp, a, spatial: int):
    """A 1-D op's (N, C, L) array or tensor as (N, C, 1, L)."""
    return a if spatial == 2 else xp.reshape(a, tuple(a.shape[:2]) + (1,) + tuple(a.shape[2:]))


def _from_2d(xp, a, spatial: int):
    return a if spatial == 2 or a is None else xp.reshape(a, tuple(a.shape[:2]) + tuple(a.shape[3:]))


class Conv2d(Function):
    """y = the cross-correlation of x (N, C, H, W) with w (O, C/groups, kh, kw), plus bias (PyTorch's conv2d).

    dy/dx·g = conv_transpose2d(g, w);  dy/dw·g = the correlation of x with g;  dy/db·g = Σ g.
    """

    name, symbol, spatial = "conv2d", "conv2d", 2

    def __init__(self, stride=1, padding=0, dilation=1, groups=1):
        """A 2-D convolution with PyTorch's `stride`, `padding`, `dilation` and `groups` (an int or a pair each)."""
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def forward(self, x, weight, bias=None):
        op, n = self.name, self.spatial
        check_input(op, x, n)
        if weight.ndim != n + 2:
            raise ValueError(f"{op}: weight must be {n + 2}-D (out_channels, in_channels/groups, *kernel), "
                             f"got shape {tuple(weight.shape)}")
        stride, dilation = pair(op, "stride", self.stride, n), pair(op, "dilation", self.dilation, n)
        groups = self.groups
        if not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
        c, o = x.shape[1], weight.shape[0]
        if c % groups or o % groups:
            raise ValueError(f"{op}: in_channels {c} and out_channels {o} must both be divisible by groups={groups} "
                             f"(input {tuple(x.shape)}, weight {tuple(weight.shape)})")
        if weight.shape[1] * groups != c:
            raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} expects {weight.shape[1] * groups} input "
                             f"channels (groups={groups}), but the input {tuple(x.shape)} has {c}")
        _bias_shape(op, bias, o)
        kernel = tuple(weight.shape[2:])
        pads = conv_pads(op, self.padding, kernel, stride, dilation)
        self.geometry = as_2d(make_geometry(op, tuple(x.shape[2:]), kernel, stride, pads, dilation, groups))
        self.has_bias = bias is not None
        xp = self.xp
        x2, w2 = _to_2d(xp, x, n), _to_2d(xp, weight, n)
        self.save_for_backward(x, weight)  # the patch matrix is rebuilt in backward: memory stays the activations'
        return _from_2d(xp, face_y(xp, x2, w2, self.geometry, bias), n)

    def backward(self, gy):
        x, w = self.saved
        xp, g, n, need = self.xp, self.geometry, self.spatial, self.needs_input_grad
        g2 = _to_2d(xp, gy, n)
        gx = gw = None
        if need[0]:
            gx = _from_2d(xp, face(xp, "x", g, g2, _to_2d(xp, w, n)), n)
        if need[1]:
            gw = xp.reshape(face(xp, "w", g, _to_2d(xp, x, n), g2), tuple(w.shape))
        if not self.has_bias:
            return gx, gw
        gb = xp.sum(gy, axis=(0,) + tuple(range(2, gy.ndim))) if need[2] else None
        return gx, gw, gb


class Conv1d(Conv2d):
    """y = the cross-correlation of x (N, C, L) with w (O, C/groups, k), plus bias (PyTorch's conv1d)."""

    name, symbol, spatial = "conv1d", "conv1d", 1


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w) (PyTorch's): the gradient of conv2d w.r.t. its input, as a layer.

    x is (N, C_in, H, W), w is (C_in, C_out/groups, kh, kw); output size
    (H - 1)·stride - 2·padding + dilation·(kh - 1) + output_padding + 1.
    dy/dx·g = conv2d(g, w);  dy/dw·g = the correlation of g with x;  dy/db·g = Σ g.
    """

    name, symbol = "conv_transpose2d", "convᵀ2d"

    def __init__(self, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        """A 2-D transposed convolution with PyTorch's `stride`, `padding`, `output_padding`, `groups` and `dilation`."""
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        self.groups, self.dilation = groups, dilation

    def forward(self, x, weight, bias=None):
        op = self.name
        check_input(op, x, 2)
        if weight.ndim != 4:
            raise ValueError(f"{op}: weight must be 4-D (in_channels, out_channels/groups, kh, kw), "
                             f"got shape {tuple(weight.shape)}")
        stride, dilation = pair(op, "stride", self.stride), pair(op, "dilation", self.dilation)
        padding = pair(op, "padding", self.padding, minimum=0)
        extra = pair(op, "output_padding", self.output_padding, minimum=0)
        groups = self.groups
        if not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
        c = x.shape[1]
        if c != weight.shape[0] or c % groups:
            raise ValueError(f"{op}: input of shape {tuple(x.shape)} has {c} channels; the weight "
                             f"{tuple(weight.shape)} needs {weight.shape[0]}, divisible by groups={groups}")
        if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
            raise ValueError(f"{op}: output_padding {extra} must be smaller than stride {stride} or dilation {dilation}")
        _bias_shape(op, bias, weight.shape[1] * groups)
        kernel = tuple(weight.shape[2:])
        size = tuple((h - 1) * s - 2 * p + d * (k - 1) + e + 1
                     for h, s, p, d, k, e in zip(x.shape[2:], stride, padding, dilation, kernel, extra))
        if any(n < 1 for n in size):
            raise ValueError(f"{op}: input {tuple(x.shape)} with kernel {kernel}, stride {stride} and padding "
                             f"{padding} gives an empty output {size}; use less padding")
        self.geometry = Geometry(size, tuple(x.shape[2:]), kernel, stride, tuple((p, p) for p in padding),
                                 dilation, groups)
        self.has_bias = bias is not None
        self.save_for_backward(x, weight)
        y = face_x(self.xp, x, weight, self.geometry)
        return _add_bias(y, bias) if bias is not None else y

    def backward(self, gy):
        x, w = self.saved
        xp, g, need = self.xp, self.geometry, self.needs_input_grad
        gx = face(xp, "y", g, gy, w) if need[0] else None
        gw = face(xp, "w", g, gy, x) if need[1] else None
        if not self.has_bias:
            return gx, gw
        return gx, gw, (xp.sum(gy, axis=(0, 2, 3)) if need[2] else None)


class Unfold(Function):
    """PyTorch's unfold (im2col): (N, C, H, W) -> (N, C·kh·kw, L), each column one sliding window.  dy/dx·g = fold(g)."""

    name, symbol = "unfold", "im2col"

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        """Unfold windows of `kernel_size` with PyTorch's `dilation`, `padding` and `stride`."""
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, x):
        op = self.name
        check_input(op, x, 2)
        kernel, dilation = pair(op, "kernel_size", self.kernel_size), pair(op, "dilation", self.dilation)
        stride, padding = pair(op, "stride", self.stride), pair(op, "padding", self.padding, minimum=0)
        self.geometry = make_geometry(op, tuple(x.shape[2:]), kernel, stride, tuple((p, p) for p in padding),
                                      dilation, 1)
        self.in_shape = tuple(x.shape)
        return patches_of(self.xp, x, self.geometry)

    def backward(self, gy):
        return fold_patches(self.xp, gy, self.geometry, self.in_shape)


class Fold(Function):
    """PyTorch's fold (col2im): (N, C·kh·kw, L) -> (N, C, H, W), overlapping entries summed.  dy/dx·g = unfold(g)."""

    name, symbol = "fold", "col2im"

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        """Fold columns back into an image of `output_size`, windows as Unfold's (`kernel_size`, `dilation`, `padding`, `stride`)."""
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, x):
        op = self.name
        if x.ndim != 3:
            raise ValueError(f"{op}: expected a 3-D input (N, C·kh·kw, L), got shape {tuple(x.shape)}")
        size, kernel = pair(op, "output_size", self.output_size), pair(op, "kernel_size", self.kernel_size)
        dilation, stride = pair(op, "dilation", self.dilation), pair(op, "stride", self.stride)
        padding = pair(op, "padding", self.padding, minimum=0)
        g = make_geometry(op, size, kernel, stride, tuple((p, p) for p in padding), dilation, 1)
        k = kernel[0] * kernel[1]
        if x.shape[1] % k or x.shape[2] != g.out[0] * g.out[1]:
            raise ValueError(f"{op}: input of shape {tuple(x.shape)} does not fit kernel {kernel} over output "
                             f"{size}: expected (N, C·{k}, {g.out[0] * g.out[1]})")
        self.geometry, self.out_shape = g, (x.shape[0], x.shape[1] // k) + size
        return fold_patches(self.xp, x, g, self.out_shape)

    def backward(self, gy):
        return patches_of(self.xp, gy, self.geometry)


def patches_of(xp, x, g: Geometry):
    """unfold's result: (N, C·kh·kw, L) (on tensors, the differentiable Unfold op)."""
    if getattr(xp, "differentiable", False):
        (p, _), (q, _) = g.pads
        return Unfold(g.kernel, g.dilation, (p, q), g.stride)(x)
    n = x.shape[0]
    col = im2col(xp, x, g)
    return xp.permute_dims(xp.reshape(col, (col.shape[0], n, -1)), (1, 0, 2))


def fold_patches(xp, x, g: Geometry, shape: tuple):
    """fold's result: (N, C, H, W) (on tensors, the differentiable Fold op)."""
    if getattr(xp, "differentiable", False):
        (p, _), (q, _) = g.pads
        return Fold(g.size, g.kernel, g.dilation, (p, q), g.stride)(x)
    n, c = shape[:2]
    col = xp.reshape(xp.permute_dims(x, (1, 0, 2)), (x.shape[1], -1))
    return col2im(xp, col, g, n, c, x)
