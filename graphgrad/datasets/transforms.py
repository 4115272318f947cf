"""Image transforms in torchvision's spelling and semantics, on NumPy arrays and graphgrad Tensors.

`Compose`, `ToTensor`, `Normalize`, `RandomCrop`, `RandomHorizontalFlip`. Images are arrays of
shape (..., H, W): the dataset's raw (H, W) uint8 digits before `ToTensor`, (C, H, W) floats
after it. A transform given a Tensor returns a Tensor; given an array, an array. The random
ones draw from their own `numpy.random.Generator`: pass `generator=` a Generator or an int
seed for reproducible augmentation (torchvision draws from torch's global generator). In a
DataLoader worker process each draws from a stream of that worker's own (seeded by the worker's
seed and the transform's generator), so workers never repeat each other's augmentations.
"""
from __future__ import annotations

import numbers
import os
from typing import Callable, Sequence

import numpy as np

from ..autograd import Tensor
from ..data.worker import get_worker_info

__all__ = ["Compose", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip"]


def _unwrap(img) -> tuple[np.ndarray, bool]:
    return (img.data, True) if isinstance(img, Tensor) else (np.asarray(img), False)


def _rewrap(array: np.ndarray, was_tensor: bool):
    return Tensor(array) if was_tensor else array


def _generator(generator) -> np.random.Generator:
    if generator is None or isinstance(generator, (int, np.integer)):
        return np.random.default_rng(generator)
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a numpy.random.Generator, an int seed or None, got {type(generator).__name__}")


class _RandomTransform:
    """Draws from `self.generator` in the main process, from a per-worker stream in a DataLoader worker."""

    generator: np.random.Generator

    def _rng(self) -> np.random.Generator:
        info = get_worker_info()
        if info is None:
            return self.generator
        pid, rng = getattr(self, "_worker_rng", (None, None))
        if pid != os.getpid():  # first draw in this worker: its seed mixed with this transform's generator
            rng = np.random.default_rng([info.seed, int(self.generator.integers(2 ** 63))])
            self._worker_rng = (os.getpid(), rng)
        return rng


class Compose:
    """Apply `transforms` one after another: `Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])`."""

    def __init__(self, transforms: Sequence[Callable]):
        """Apply `transforms` in order."""
        self.transforms = list(transforms)

    def __call__(self, img):
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class ToTensor:
    """(H, W) or (H, W, C) image -> Tensor (C, H, W); uint8 becomes float32 in [0, 1] (x / 255).

    As torchvision: arrays of other dtypes keep their dtype and values (only the axes move).
    """

    def __call__(self, pic) -> Tensor:
        array, _ = _unwrap(pic)
        if array.ndim not in (2, 3):
            raise ValueError(f"ToTensor: pic should be 2 or 3 dimensional (H, W[, C]), got shape {array.shape}")
        chw = np.ascontiguousarray((array[:, :, None] if array.ndim == 2 else array).transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            chw = chw.astype(np.float32) / np.float32(255)
        return Tensor(chw)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """(x - mean[c]) / std[c] for each channel c of a float (..., C, H, W) image, in its own dtype."""

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float, inplace: bool = False):
        """(x - mean) / std per channel."""
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        array, was_tensor = _unwrap(tensor)
        if not np.issubdtype(array.dtype, np.floating):
            raise TypeError(f"Normalize: input should be a float image, got dtype {array.dtype}; apply ToTensor() first")
        if array.ndim < 3:
            raise ValueError(f"Normalize: expected an image of shape (..., C, H, W), got shape {array.shape}")
        mean = np.atleast_1d(np.asarray(self.mean, dtype=array.dtype))
        std = np.atleast_1d(np.asarray(self.std, dtype=array.dtype))
        channels = array.shape[-3]
        for what, values in (("mean", mean), ("std", std)):
            if values.ndim != 1 or len(values) not in (1, channels):
                raise ValueError(f"Normalize: {what} has {values.size} values for an image of {channels} channels")
        if (std == 0).any():
            raise ValueError(f"Normalize: std {self.std} is zero after conversion to {array.dtype}; it would divide by zero")
        if self.inplace:
            array -= mean[:, None, None]
            array /= std[:, None, None]
            return tensor
        return _rewrap((array - mean[:, None, None]) / std[:, None, None], was_tensor)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


def _pair(size, what: str) -> tuple[int, int]:
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    size = tuple(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{what}: size must be an int or a sequence of 1 or 2 ints, got {size}")


def _padding(padding) -> tuple[int, int, int, int]:
    """torchvision's padding: int (all sides), (left/right, top/bottom) or (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    p = tuple(int(v) for v in padding)
    if len(p) == 1:
        return p * 4
    if len(p) == 2:
        return p[0], p[1], p[0], p[1]
    if len(p) == 4:
        return p
    raise ValueError(f"RandomCrop: padding must be an int or a sequence of 1, 2 or 4 ints, got {padding}")


_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


class RandomCrop(_RandomTransform):
    """Crop a random (h, w) window of an (..., H, W) image, after optional padding.

    padding: int, (left/right, top/bottom) or (left, top, right, bottom); padding_mode:
    constant (with `fill`), edge, reflect or symmetric; pad_if_needed pads an image smaller
    than `size` (both sides of a short dimension by the shortfall, as torchvision does).
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill: float = 0,
                 padding_mode: str = "constant", generator=None):
        """Crop a random `size` window, after optional padding (torchvision's arguments)."""
        self.size = _pair(size, "RandomCrop")
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {list(_PAD_MODES)}, got {padding_mode!r}")
        self.padding = None if padding is None else _padding(padding)
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode
        self.generator = _generator(generator)

    def _pad(self, array: np.ndarray, left: int, top: int, right: int, bottom: int) -> np.ndarray:
        widths = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
        extra = {"constant_values": self.fill} if self.padding_mode == "constant" else {}
        return np.pad(array, widths, mode=_PAD_MODES[self.padding_mode], **extra)

    def __call__(self, img):
        array, was_tensor = _unwrap(img)
        if array.ndim < 2:
            raise ValueError(f"RandomCrop: expected an image of shape (..., H, W), got shape {array.shape}")
        if self.padding is not None:
            array = self._pad(array, *self.padding)
        th, tw = self.size
        if self.pad_if_needed and array.shape[-1] < tw:
            short = tw - array.shape[-1]
            array = self._pad(array, short, 0, short, 0)
        if self.pad_if_needed and array.shape[-2] < th:
            short = th - array.shape[-2]
            array = self._pad(array, 0, short, 0, short)
        h, w = array.shape[-2:]
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the input image size {(h, w)}")
        rng = self._rng()
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        return _rewrap(np.ascontiguousarray(array[..., i:i + th, j:j + tw]), was_tensor)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip(_RandomTransform):
    """Mirror an (..., H, W) image left to right with probability `p`."""

    def __init__(self, p: float = 0.5, generator=None):
        """Flip left-right with probability `p`."""
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p must lie in [0, 1], got {p}")
        self.p = p
        self.generator = _generator(generator)

    def __call__(self, img):
        array, was_tensor = _unwrap(img)
        if array.ndim < 2:
            raise ValueError(f"RandomHorizontalFlip: expected an image of shape (..., H, W), got shape {array.shape}")
        if self._rng().random() < self.p:
            return _rewrap(np.ascontiguousarray(array[..., ::-1]), was_tensor)
        return img

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"
