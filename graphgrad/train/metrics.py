"""Evaluation: loss, accuracy and the confusion matrix over a whole dataset, in large batches."""
from __future__ import annotations

import numpy as np

from ..autograd.mode import no_grad
from ..autograd.tensor import Tensor
from ..backend import to_numpy
from ..backend.devices import CPU, device_of, move
from ..autograd.tensor import unwrap


def accuracy(logits, labels) -> float:
    """Fraction of rows whose largest logit is at the label (labels as class numbers or one-hot rows)."""
    logits, labels = np.asarray(unwrap(logits)), np.asarray(unwrap(labels))
    if labels.ndim == logits.ndim:
        labels = labels.argmax(axis=-1)
    return float((logits.argmax(axis=-1) == labels).mean())


def confusion_matrix(predicted, labels, num_classes: int | None = None) -> np.ndarray:
    """counts[i, j] = how many samples of true class i were predicted as class j (one bincount)."""
    predicted, labels = np.asarray(predicted, dtype=np.int64), np.asarray(labels, dtype=np.int64)
    k = num_classes or int(max(predicted.max(initial=0), labels.max(initial=0)) + 1)
    return np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)


def predict(model, inputs, batch_size: int = 10000) -> np.ndarray:
    """The model's outputs for every row of `inputs`, computed without recording a graph."""
    inputs = to_numpy(unwrap(inputs))
    first = next(iter(model.parameters()), None) if hasattr(model, "parameters") else None
    where = CPU if first is None else device_of(first.data)  # batches go to the model's device, outputs come back
    was_training = getattr(model, "training", None)
    if was_training:
        model.eval()
    try:
        with no_grad():
            outs = [to_numpy(model(move(Tensor(inputs[i:i + batch_size]), where)).data)
                    for i in range(0, len(inputs), batch_size)]
    finally:
        if was_training:
            model.train()
    return np.concatenate(outs)


def evaluate(model, data, loss_fn=None, batch_size: int = 10000) -> dict:
    """{'loss', 'accuracy'} of `model` on `data`: an (inputs, labels) pair or a TensorDataset."""
    inputs, labels = data.arrays[:2] if hasattr(data, "arrays") else data
    labels = np.asarray(unwrap(labels))
    logits = predict(model, inputs, batch_size)
    result = {"accuracy": accuracy(logits, labels)}
    if loss_fn is not None:
        with no_grad():
            result["loss"] = float(loss_fn(Tensor(logits), Tensor(labels)).item())
    return result
