"""MNIST and Fashion-MNIST as datasets, in torchvision's form and in graphgrad's vectorised one.

torchvision's form, `MNIST(root, train=True, download=True, transform=None, target_transform=None)`:
`ds[i]` is `(transform(image), target_transform(label))`, the image a read-only (28, 28) uint8
array (torchvision gives a PIL image; `ToTensor` accepts either) and the label an int. An index
array or slice (what `DataLoader` asks for) gives the samples stacked.

graphgrad's form, `MNIST("train" | "test", root=None, flatten=True, dtype="float32")`: whole
batches gathered in one vectorised step, images as floats in [0, 1] (784 values, or (1, 28, 28)
with `flatten=False`) and int64 labels. It is the fast path for training without augmentation.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from ..data.collate import default_collate
from ..data.dataset import TensorDataset
from .mnist import IDX_NAMES, DatasetUnavailable, load_arrays

SPLITS = tuple(IDX_NAMES)  # "train", "test"


class MNIST(TensorDataset):
    """The MNIST digits (60,000 training and 10,000 test images of 28 x 28), in either form above.

    root: a directory holding the four IDX files (gzipped or not), also found in torchvision's
    layout `root/MNIST/raw`. Without it, or when the files are not there and `download=True`,
    the files come from `$GRAPHGRAD_DATA`, the verified cache or the SHA-256-checked downloads
    (nothing is written into `root`). Attributes: `data` (uint8 images), `targets` (int64),
    `classes`, `train`; `images` is `data`.
    """

    name, folder = "mnist", "MNIST"
    origin = ""  # where the official files are published, for datasets that cannot be downloaded
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, split: str | os.PathLike | None = None, root: str | os.PathLike | None = None,
                 flatten: bool = True, dtype="float32", download: bool = True, quiet: bool = False, *,
                 train: bool | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None):
        """The split from `root` (or the cache, or a verified download); see the class docstring."""
        kind = type(self).__name__
        self.per_sample = split not in SPLITS  # MNIST(root, train=...) rather than MNIST("train")
        if self.per_sample:
            if split is not None and root is not None:
                raise ValueError(f"{kind}: split must be 'train' or 'test', got {split!r} (with root={root!r}); "
                                 f"torchvision's form names the directory once: {kind}(root, train=...)")
            self.root = split if split is not None else root
            self.train = True if train is None else bool(train)
            arrays = self._load(self.root, download, quiet)
        else:
            if train is not None or transform is not None or target_transform is not None:
                raise ValueError(
                    f"{kind}({split!r}) is graphgrad's vectorised form; for train=, transform= and "
                    f"target_transform= use torchvision's: {kind}(root, train={split == 'train'}, transform=...)")
            self.root, self.train = root, split == "train"
            arrays = load_arrays(self.name, root=root, download=download, quiet=quiet)
        split = "train" if self.train else "test"
        self.data = arrays[f"x_{split}"]
        self.data.flags.writeable = False  # samples are views: a transform must not edit the dataset
        self.images = self.data
        self.targets = arrays[f"t_{split}"].astype(np.int64)
        self.transform, self.target_transform = transform, target_transform
        if self.per_sample:
            super().__init__(self.data, self.targets)
        else:
            x = self.data.reshape(len(self.data), -1) if flatten else self.data[:, None]
            super().__init__((x / np.asarray(255.0, dtype=dtype)).astype(dtype, copy=False), self.targets)

    def _load(self, root, download: bool, quiet: bool) -> dict:
        if root is None:
            return load_arrays(self.name, download=download, quiet=quiet)
        candidates = [Path(root), Path(root) / self.folder / "raw"]
        for directory in candidates:
            try:
                return load_arrays(self.name, root=directory, quiet=quiet)
            except DatasetUnavailable:
                continue
        where = f"{candidates[0]} or {candidates[1]}"
        if download and self.name == "mnist":
            return load_arrays(self.name, download=True, quiet=quiet)
        raise DatasetUnavailable(
            f"{type(self).__name__}: no IDX files in {where}. Put train-images-idx3-ubyte.gz, "
            f"train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz "
            f"(gzipped or not) in one of them" + (f" ({self.origin})" if self.origin else "")
            + ("" if self.name != "mnist" else ", or pass download=True"))

    @property
    def class_to_idx(self) -> dict[str, int]:
        """Class name -> label, as torchvision's."""
        return {name: i for i, name in enumerate(self.classes)}

    def __getitem__(self, index):
        if not self.per_sample:
            return super().__getitem__(index)
        if isinstance(index, (int, np.integer)):
            return self._sample(int(index))
        rows = np.arange(len(self))[index]  # an index array or a slice: the samples, stacked
        if self.batched:
            return self.data[rows], self.targets[rows]
        return default_collate([self._sample(int(i)) for i in rows])

    @property
    def batched(self) -> bool:
        """Whether `ds[indices]` gathers a batch at once: graphgrad's form, or torchvision's without transforms."""
        return not self.per_sample or (self.transform is None and self.target_transform is None)

    def _sample(self, index: int):
        if not -len(self) <= index < len(self):
            raise IndexError(f"{type(self).__name__}: index {index} out of range for {len(self)} samples")
        image, label = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __repr__(self) -> str:
        form = f"root={self.root!r}, train={self.train}" if self.per_sample else f"{'train' if self.train else 'test'!r}"
        extra = f", transform={self.transform!r}" if self.transform is not None else ""
        return f"{type(self).__name__}({form}{extra}) with {len(self)} samples"


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando's clothes, the same sizes and IDX layout): from `root`
    (or `root/FashionMNIST/raw`), `$GRAPHGRAD_DATA` or the cache; no verified download exists."""

    name, folder = "fashion-mnist", "FashionMNIST"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
               "Bag", "Ankle boot"]
    origin = "the official files are published in the zalandoresearch/fashion-mnist repository, data/fashion"

