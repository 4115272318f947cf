"""default_collate: a list of samples -> one batch, with PyTorch's rules.

Tensors and arrays are stacked along a new first axis into a Tensor; Python ints become an int64
Tensor, floats a float64 one, bools a bool one; strings stay as they are; a dict, a named tuple or a
sequence is collated field by field (a tuple or list of fields gives a list, as PyTorch's).
Strings come back as the sequence they were given in.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..autograd.tensor import Tensor


def default_collate(batch: list):
    """Stack a list of samples into a batch (see the module docstring for the rules)."""
    if not isinstance(batch, Sequence) or len(batch) == 0:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got {batch!r:.80}")
    elem = batch[0]
    if isinstance(elem, Tensor) or isinstance(elem, (np.ndarray, np.generic)) and elem.dtype.kind not in "OUSV":
        arrays = [x.data if isinstance(x, Tensor) else np.asarray(x) for x in batch]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"default_collate: samples of shapes {sorted(shapes)} cannot be stacked into one batch; "
                             f"give samples of one shape or a collate_fn that pads them")
        return Tensor(np.stack(arrays))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=bool))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        fields = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        return fields if type(elem) is dict else type(elem)(fields)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple keeps its type
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        sizes = {len(sample) for sample in batch}
        if len(sizes) > 1:
            raise ValueError(f"default_collate: every sample must have the same number of fields, got {sorted(sizes)}")
        return [default_collate(field) for field in zip(*batch)]
    raise TypeError(f"default_collate: samples must be Tensors, arrays, numbers, strings, dicts or sequences of "
                    f"them; found {type(elem).__name__}")
