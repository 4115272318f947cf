"""The textbook's `load_mnist`, with its signature and return values, on graphgrad's MNIST loader."""
from __future__ import annotations

import numpy as np

from ..datasets.mnist import load_arrays


def load_mnist(normalize: bool = True, flatten: bool = True, one_hot_label: bool = False,
               root=None, quiet: bool = False):
    """((x_train, t_train), (x_test, t_test)) as the book returns them: 60,000 and 10,000 rows.

    normalize: float32 pixels in [0, 1] (else uint8 0-255); flatten: rows of 784 (else
    (N, 1, 28, 28)); one_hot_label: labels as (N, 10) one-hot rows (else uint8 class numbers).
    """
    arrays = load_arrays("mnist", root=root, quiet=quiet)
    out = []
    for split in ("train", "test"):
        x, t = arrays[f"x_{split}"], arrays[f"t_{split}"]
        x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, 28, 28)
        if normalize:
            x = x.astype(np.float32) / np.float32(255.0)
        if one_hot_label:
            t = np.eye(10, dtype=np.float32)[t]
        out.append((x, t))
    return tuple(out)
