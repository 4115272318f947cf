"""MatrixSlow's evaluation metrics: accumulators over samples, fed one sample per `forward()`.

Each takes (prediction node, label node): the prediction is a column of class probabilities
(its largest entry is the predicted class) or a 1 x 1 probability of the positive class
(>= 0.5 is class 1, else -1); labels are one-hot columns or 1 x 1 values of 1 / -1, as in
MatrixSlow. `reset()` starts over; `value` is the metric so far; `value_str()` prints it.
ROC and ROC_AUC are not supported.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Accuracy", "Precision", "Recall", "F1Score", "ROC", "ROC_AUC"]


class Metrics:
    """Base: reads the two nodes' values at each forward() and accumulates counts."""

    def __init__(self, prediction, label, **kargs):
        """MatrixSlow's constructor arguments (see the class docstring)."""
        self.parents = (prediction, label)
        self.name = kargs.get("name", type(self).__name__)
        self.reset()

    def reset(self) -> None:
        """Forget every sample counted so far."""
        self.counts = dict.fromkeys(("correct", "total", "true_pos", "pred_pos", "label_pos"), 0)
        self.value = 0.0

    def forward(self) -> None:
        """Count the current sample (computing the prediction if needed)."""
        prediction, label = (np.asarray(p.forward(), dtype=float) for p in self.parents)
        if prediction.shape[0] > 1:  # a column of class probabilities against a one-hot column
            hit = int(np.argmax(prediction[:, 0]) == np.argmax(label[:, 0]))
            self.counts["correct"] += hit
            self.counts["total"] += 1
        else:
            pred = np.where(prediction >= 0.5, 1, -1)
            self.counts["correct"] += int(np.sum(pred == label))
            self.counts["total"] += pred.size
            self.counts["pred_pos"] += int(np.sum(pred == 1))
            self.counts["label_pos"] += int(np.sum(label == 1))
            self.counts["true_pos"] += int(np.sum((pred == 1) & (label == 1)))
        self.value = self._metric()

    def _metric(self) -> float:
        raise NotImplementedError

    def value_str(self) -> str:
        """'Name: value ' as MatrixSlow prints it."""
        return f"{type(self).__name__}: {self.value:.4f} "


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


class Accuracy(Metrics):
    """(TP + TN) / all samples."""

    def _metric(self):
        return _ratio(self.counts["correct"], self.counts["total"])


class Precision(Metrics):
    """TP / (TP + FP), for a 1 x 1 probability against labels 1 / -1."""

    def _metric(self):
        return _ratio(self.counts["true_pos"], self.counts["pred_pos"])


class Recall(Metrics):
    """TP / (TP + FN), for a 1 x 1 probability against labels 1 / -1."""

    def _metric(self):
        return _ratio(self.counts["true_pos"], self.counts["label_pos"])


class F1Score(Metrics):
    """2·precision·recall / (precision + recall)."""

    def _metric(self):
        p = _ratio(self.counts["true_pos"], self.counts["pred_pos"])
        r = _ratio(self.counts["true_pos"], self.counts["label_pos"])
        return _ratio(2 * p * r, p + r) if p + r else 0.0


def _unsupported(name: str):
    def build(*args, **kargs):
        raise NotImplementedError(f"ops.metrics.{name} is not supported; compute it from the predictions "
                                  f"(e.g. with scikit-learn) after forward()")
    build.__name__ = name
    build.__doc__ = f"Not supported: MatrixSlow's {name}."
    return build


ROC, ROC_AUC = _unsupported("ROC"), _unsupported("ROC_AUC")
