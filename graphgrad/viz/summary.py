"""How a value or a gradient is written on a picture: numbers for small arrays, a picture and
statistics for big ones.

A picture is a heatmap of a matrix (a row for a vector) or a grid of images for image-shaped
data: (N, H, W) stacks, (N, C, H, W) feature maps and filters, and (N, s²) rows such as MNIST's
flattened 28x28 digits. Values are quantised to one byte per cell against one colour scale per
array: diverging (symmetric around 0) when the array has negative values, sequential from 0
otherwise. Big arrays are downsampled (block means) so that a page stays small.
"""
from __future__ import annotations

import base64
import math

import numpy as np

SMALL = 6  # arrays up to this many elements are written out in full
HEAD = 8  # how many leading elements the explorer's detail panel lists for a big array
HEAT_SIDE = 64  # a heatmap has at most this many rows and columns (block means beyond)
MAX_TILES = 16  # an image grid shows at most this many images
TILE_GRID = 8  # images per row of a grid; (N, C, H, W) shows at most this many samples and channels
TILE_CELLS = 16384  # all images of one grid together hold at most this many pixels
MIN_IMAGE_SIDE = 5  # a trailing (H, W) at least this big is drawn as images, smaller as a heatmap


def fmt(v: float, digits: int = 4) -> str:
    """A number in at most `digits` significant digits, without a trailing '.0' (2.2, 110, -0.25)."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    v = float(v)
    if v == 0:
        return "0"  # also turns -0.0 into 0
    return f"{v:.{digits}g}"


def shape_text(shape) -> str:
    """(2, 3) -> '(2, 3)'; a scalar's () stays '()'."""
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def summarize(a) -> dict:
    """A JSON-ready description of an array: shape, dtype, a short label, the detail text and,
    for an array of more than `SMALL` numbers, its picture (see `picture`)."""
    a = np.asarray(a)
    out = {"shape": list(a.shape), "dtype": str(a.dtype)}
    if a.size == 0:
        out["label"] = out["stats"] = f"empty {shape_text(a.shape)}"
        return out
    numeric = a.astype(np.float64) if a.dtype != np.float64 else a
    if a.size == 1:
        out["label"] = fmt(numeric.reshape(()))
        out["full"] = fmt(numeric.reshape(()), 10)
    elif a.size <= SMALL:
        out["label"] = "[" + ", ".join(fmt(v) for v in numeric.ravel()) + "]"
        out["full"] = np.array2string(numeric, precision=6, separator=", ")
        if a.ndim > 1:  # a matrix is written one row per line: a 2x3 weight is two lines of three
            rows = numeric.reshape(-1, a.shape[-1])
            out["lines"] = ["[" + ", ".join(fmt(v) for v in row) + "]" for row in rows]
    else:
        out["label"] = shape_text(a.shape)
        out["head"] = [fmt(v, 6) for v in numeric.ravel()[:HEAD]]
        out["pic"] = picture(numeric)
    if a.size > 1:
        with np.errstate(all="ignore"):
            lo, mean, hi = numeric.min(), numeric.mean(), numeric.max()
        out["min"], out["mean"], out["max"] = fmt(lo, 6), fmt(mean, 6), fmt(hi, 6)
        out["stats"] = f"min {fmt(lo)} mean {fmt(mean)} max {fmt(hi)}"
    return out


def long_label(s: dict) -> str:
    """The label plus statistics for a big array: what DOT writes on an edge."""
    if "head" in s:
        return f"{s['label']} {s['stats']}"
    if len(s["shape"]) > 1:  # a small matrix, flattened: say its shape
        return f"{shape_text(s['shape'])} {s['label']}"
    return s["label"]


# ---- pictures -------------------------------------------------------------------------------
def picture(a: np.ndarray) -> dict:
    """A small picture of `a` for the explorer, as JSON.

    ``kind`` is "heat" (one matrix: ``rows`` x ``cols`` cells) or "tiles" (``count`` images of
    ``tile`` = [h, w] pixels, laid out ``grid`` = [rows, cols]); ``data`` holds one byte per cell
    (base64, row-major, the tiles one after another); ``scale`` is "diverging" (byte 128 is 0,
    1 and 255 are -``hi`` and +``hi``) or "sequential" (0 is ``lo`` = 0, 255 is ``hi``);
    ``note`` says what was left out or averaged.
    """
    a = np.asarray(a, dtype=np.float64)
    tiles = _as_tiles(a)
    if tiles is not None:
        return _tiles(*tiles, a)
    m = a.reshape(1, -1) if a.ndim == 1 else a.reshape(-1, a.shape[-1])
    small, note = _downsample(m, HEAT_SIDE, HEAT_SIDE)
    pic = {"kind": "heat", "rows": small.shape[0], "cols": small.shape[1]}
    if note:
        pic["note"] = f"{shape_text(m.shape)} shown as {small.shape[0]}x{small.shape[1]} block means"
    return {**pic, **_quantise(small, a)}


def _as_tiles(a: np.ndarray):
    """(images (T, h, w), grid (rows, cols), what was left out) if `a` is image-shaped, else None."""
    if a.ndim == 2 and a.shape[1] >= MIN_IMAGE_SIDE ** 2 and math.isqrt(a.shape[1]) ** 2 == a.shape[1]:
        side = math.isqrt(a.shape[1])  # rows of flattened square images: MNIST's 784 = 28x28
        a = a.reshape(a.shape[0], side, side)
    if a.ndim < 3 or min(a.shape[-2:]) < MIN_IMAGE_SIDE:
        return None
    if a.ndim == 4 and a.shape[1] == 1:  # one channel (MNIST images, a first layer's filters): a stack
        a = a[:, 0]
    if a.ndim == 3:  # (N, H, W): the first MAX_TILES images, TILE_GRID a row
        n = min(a.shape[0], MAX_TILES)
        left = f"the first {n} of {a.shape[0]} images" if n < a.shape[0] else ""
        return a[:n], (math.ceil(n / TILE_GRID), min(n, TILE_GRID)), left
    # (N, C, H, W), and anything with more leading axes folded into C: one row per sample or filter
    a = a.reshape(a.shape[0], -1, *a.shape[-2:])
    rows, cols = min(a.shape[0], TILE_GRID), min(a.shape[1], TILE_GRID)
    left = " and ".join(f"the first {k} of {n} along axis {axis}"
                        for axis, (k, n) in enumerate(zip((rows, cols), a.shape[:2])) if k < n)
    return a[:rows, :cols].reshape(rows * cols, *a.shape[-2:]), (rows, cols), left


def _tiles(images: np.ndarray, grid: tuple[int, int], left: str, full: np.ndarray) -> dict:
    """The grid of `images` (the shown part of `full`) against `full`'s colour scale."""
    count, h, w = images.shape
    side = max(1, math.isqrt(TILE_CELLS // count))  # the biggest square tile the budget allows
    small = [_downsample(img, side, side) for img in images]
    th, tw = small[0][0].shape
    notes = [left] if left else []
    if small[0][1]:
        notes.append(f"each {h}x{w} image shown as {th}x{tw} block means")
    pic = {"kind": "tiles", "count": count, "tile": [th, tw], "grid": list(grid)}
    if notes:
        pic["note"] = "; ".join(notes)
    return {**pic, **_quantise(np.stack([s for s, _ in small]), full)}


def _downsample(m: np.ndarray, max_rows: int, max_cols: int) -> tuple[np.ndarray, bool]:
    """`m` averaged over blocks so that it has at most max_rows x max_cols cells; True if it was."""
    shrunk = False
    for axis, limit in ((0, max_rows), (1, max_cols)):
        n = m.shape[axis]
        if n > limit:
            starts = np.linspace(0, n, limit + 1).astype(int)
            sizes = np.diff(starts).reshape((-1, 1) if axis == 0 else (1, -1))
            m = np.add.reduceat(m, starts[:-1], axis=axis) / sizes
            shrunk = True
    return m, shrunk


def _quantise(cells: np.ndarray, full: np.ndarray) -> dict:
    """One byte per cell against the colour scale of the whole array `full`."""
    finite = full[np.isfinite(full)]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 0.0
    cells = np.nan_to_num(cells, nan=0.0, posinf=hi, neginf=lo)
    if lo < 0:
        top = max(-lo, hi) or 1.0
        q = np.rint(128 + 127 * np.clip(cells / top, -1, 1))
        scale = {"scale": "diverging", "lo": fmt(-top), "hi": fmt(top)}
    else:
        top = hi or 1.0
        q = np.rint(255 * np.clip(cells / top, 0, 1))
        scale = {"scale": "sequential", "lo": "0", "hi": fmt(hi)}
    data = base64.b64encode(q.astype(np.uint8).tobytes()).decode("ascii")
    return {**scale, "data": data}
