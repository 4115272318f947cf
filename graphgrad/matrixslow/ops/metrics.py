"""MatrixSlow's evaluation metrics: accumulators over samples, fed one sample per `forward()`.

Each takes (prediction node, label node): the prediction is a column of class probabilities
(its largest entry is the predicted class) or a 1 x 1 probability of the positive class
(>= 0.5 is class 1, else -1); labels are one-hot columns or 1 x 1 values of 1 / -1, as in
MatrixSlow. `reset()` starts over; `value` is the metric so far; `value_str()` prints it.
ROC and ROC_AUC read the prediction as a probability of class 1 against labels 1 / -1.
"""
from __future__ import annotations

import bisect

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
        self._count(prediction, label)
        self.value = self._metric()

    def _count(self, prediction: np.ndarray, label: np.ndarray) -> None:
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


class ROC(Metrics):
    """The ROC curve at MatrixSlow's 99 thresholds 0.01, 0.02, ..., 0.99: `tpr` and `fpr` after each sample.

    At threshold t a probability p >= t predicts class 1; tpr[k] = TP / positives and fpr[k] = FP / negatives
    at thresholds[k] (updated once both classes have been seen). MatrixSlow prints nothing for it (`value_str`
    is '' and `value` stays None); plot `fpr` against `tpr`. Its arrays have one more, always-zero, entry than thresholds; these do not.
    """

    thresholds = np.arange(0.01, 1.00, 0.01)  # MatrixSlow's own grid, float rounding included

    def reset(self) -> None:
        """Forget every sample counted so far."""
        n = len(self.thresholds)
        self.gt_pos_num = self.gt_neg_num = 0
        self.true_pos_num, self.false_pos_num = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        self.tpr, self.fpr = np.zeros(n), np.zeros(n)
        self.value = None

    def _count(self, prediction: np.ndarray, label: np.ndarray) -> None:
        prob, label = _probabilities_and_labels("ROC", prediction, label)
        self.gt_pos_num += int(np.sum(label == 1))
        self.gt_neg_num += int(np.sum(label == -1))
        predicted_pos = prob[:, None] >= self.thresholds[None, :]  # (samples, thresholds)
        self.true_pos_num += np.sum(predicted_pos & (label == 1)[:, None], axis=0)
        self.false_pos_num += np.sum(predicted_pos & (label == -1)[:, None], axis=0)
        if self.gt_pos_num and self.gt_neg_num:
            self.tpr = self.true_pos_num / self.gt_pos_num
            self.fpr = self.false_pos_num / self.gt_neg_num

    def _metric(self):
        return None

    def value_str(self) -> str:
        """'' (MatrixSlow prints no value for the curve)."""
        return ""


class ROC_AUC(Metrics):
    """The area under the ROC curve as MatrixSlow counts it: the fraction of (positive, negative) sample pairs whose
    positive sample has the strictly larger probability (a tie counts 0, not 1/2). Label 1 is positive, any other
    label negative. The pairs are counted as samples arrive (each in O(log n)), so `value` is always current."""

    def reset(self) -> None:
        """Forget every sample counted so far."""
        self.gt_pos_preds: list[float] = []  # kept sorted
        self.gt_neg_preds: list[float] = []
        self.ordered_pairs = 0  # pairs with the positive's probability above the negative's
        self.total = 0
        self.value = 0.0

    def _count(self, prediction: np.ndarray, label: np.ndarray) -> None:
        prob, label = _probabilities_and_labels("ROC_AUC", prediction, label)
        pos, neg = self.gt_pos_preds, self.gt_neg_preds
        for p, positive in zip(prob.tolist(), (label == 1).tolist()):
            if positive:
                self.ordered_pairs += bisect.bisect_left(neg, p)  # negatives below p
                bisect.insort(pos, p)
            else:
                self.ordered_pairs += len(pos) - bisect.bisect_right(pos, p)  # positives above p
                bisect.insort(neg, p)
        self.total = len(pos) * len(neg)

    def _metric(self):
        return _ratio(self.ordered_pairs, self.total)


def _probabilities_and_labels(metric: str, prediction: np.ndarray, label: np.ndarray) -> tuple:
    """The prediction's and the label's elements as two flat arrays (a 1 x 1 pair per sample in MatrixSlow)."""
    if prediction.shape != label.shape:
        raise ValueError(f"{metric}: the prediction has shape {prediction.shape} but the label {label.shape}; both "
                         f"are a probability of class 1 and its label (1 or -1) per sample, 1 x 1 in MatrixSlow")
    return prediction.reshape(-1), label.reshape(-1)
