"""The convolutional networks `graphgrad train --model` builds: the textbook's SimpleConvNet and DeepConvNet.

Both take MNIST's flattened (N, 784) rows (an Unflatten layer makes them (N, 1, 28, 28) images),
so they train on the same data pipeline as the MLPs. Layers start with PyTorch's default
initialisation from the run's seed.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def simple_cnn(seed: int = 0, dtype="float32"):
    """SimpleConvNet: conv 30@5x5 (stride 1, no padding), ReLU, 2x2 max-pool, 4320-100 ReLU, 100-10."""
    from .. import nn

    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 30, 5, dtype=dtype, generator=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(30 * 12 * 12, 100, dtype=dtype, generator=rng), nn.ReLU(),
        nn.Linear(100, 10, dtype=dtype, generator=rng),
    )


def deep_cnn(seed: int = 0, dtype="float32"):
    """DeepConvNet: six 3x3 convolutions 16-16-32-32-64-64 with ReLU, a 2x2 max-pool after each pair,
    1024-50 ReLU, dropout 0.5, 50-10, dropout 0.5 (the textbook's; its 4th convolution pads 2, so the
    maps go 28-28-14-16-8-8 and the last pool leaves 64x4x4)."""
    from .. import nn

    rng = np.random.default_rng(seed)
    layers = [nn.Unflatten(1, (1, 28, 28))]
    for c_in, c_out, pad, pool in ((1, 16, 1, False), (16, 16, 1, True), (16, 32, 1, False), (32, 32, 2, True),
                                   (32, 64, 1, False), (64, 64, 1, True)):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=pad, dtype=dtype, generator=rng), nn.ReLU()]
        if pool:
            layers.append(nn.MaxPool2d(2))
    layers += [nn.Flatten(), nn.Linear(64 * 4 * 4, 50, dtype=dtype, generator=rng), nn.ReLU(),
               nn.Dropout(0.5, generator=rng.integers(2 ** 31)),
               nn.Linear(50, 10, dtype=dtype, generator=rng), nn.Dropout(0.5, generator=rng.integers(2 ** 31))]
    return nn.Sequential(*layers)


# name: (builder, the architecture recorded in checkpoints)
CNN_MODELS: dict[str, tuple[Callable, list]] = {
    "cnn": (simple_cnn, ["conv30x5x5", "pool2", 100, 10]),
    "deepcnn": (deep_cnn, ["conv16", "conv16", "pool2", "conv32", "conv32", "pool2", "conv64", "conv64", "pool2",
                           50, 10]),
}
