"""MatrixSlow's ROC and ROC_AUC metrics (graphgrad.matrixslow.ops.metrics): fed one 1 x 1 sample per forward(),
checked against counts worked out by hand and against brute force over every (positive, negative) pair."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphgrad as gg
import graphgrad.matrixslow as ms

# probabilities away from the 0.01 grid, so that each threshold's count is unambiguous
PROBS = [0.905, 0.805, 0.355, 0.605, 0.205, 0.055]
LABELS = [1, 1, 1, -1, -1, -1]


def feed(metric, prob_node, label_node, probs, labels):
    for p, t in zip(probs, labels):
        prob_node.set_value(np.asmatrix([[p]]))
        label_node.set_value(np.asmatrix([[t]]))
        metric.forward()


def nodes():
    g = gg.graph.Graph()
    return (ms.core.Variable(dim=(1, 1), trainable=False, graph=g),
            ms.core.Variable(dim=(1, 1), trainable=False, graph=g))


def test_roc_counts_true_and_false_positives_at_matrixslows_99_thresholds():
    prob, label = nodes()
    roc = ms.ops.metrics.ROC(prob, label)
    assert ms.ops.ROC is ms.ops.metrics.ROC  # MatrixSlow's ops offers the metrics too
    feed(roc, prob, label, PROBS, LABELS)
    assert len(roc.thresholds) == 99 and roc.thresholds[0] == pytest.approx(0.01) and roc.thresholds[-1] == pytest.approx(0.99)
    assert (roc.gt_pos_num, roc.gt_neg_num) == (3, 3)
    # by hand: threshold -> (positives with p >= t, negatives with p >= t)
    by_hand = {0.01: (3, 3), 0.06: (3, 2), 0.21: (3, 1), 0.36: (2, 1), 0.61: (2, 0), 0.81: (1, 0), 0.91: (0, 0)}
    for t, (tp, fp) in by_hand.items():
        k = int(round(t * 100)) - 1
        assert (roc.true_pos_num[k], roc.false_pos_num[k]) == (tp, fp), t
        assert (roc.tpr[k], roc.fpr[k]) == (tp / 3, fp / 3)
    # both curves only fall as the threshold rises
    assert np.all(np.diff(roc.tpr) <= 0) and np.all(np.diff(roc.fpr) <= 0)
    assert roc.value_str() == "" and roc.value is None  # MatrixSlow prints nothing for the curve


def test_roc_waits_for_both_classes_and_reset_starts_over():
    prob, label = nodes()
    roc = ms.ops.metrics.ROC(prob, label)
    feed(roc, prob, label, [0.9, 0.8], [1, 1])
    assert roc.true_pos_num[0] == 2 and not roc.tpr.any()  # no negative seen yet: the rates stay at 0
    feed(roc, prob, label, [0.3], [-1])
    assert roc.tpr[0] == 1.0 and roc.fpr[0] == 1.0 and roc.fpr[50] == 0.0
    roc.reset()
    assert roc.gt_pos_num == 0 and not roc.true_pos_num.any() and not roc.tpr.any()


def test_roc_auc_is_the_fraction_of_ordered_pairs_ties_counting_zero():
    prob, label = nodes()
    auc = ms.ops.metrics.ROC_AUC(prob, label)
    feed(auc, prob, label, PROBS, LABELS)
    assert auc.value == pytest.approx(8 / 9)  # 0.905 and 0.805 beat all three negatives, 0.355 beats two
    assert auc.value_str() == "ROC_AUC: 0.8889 "
    feed(auc, prob, label, [0.205], [1])  # ties with the negative 0.205: MatrixSlow counts a tie as 0
    assert auc.value == pytest.approx(9 / 12)
    auc.reset()
    feed(auc, prob, label, PROBS[::-1], LABELS[::-1])  # the order of the samples does not matter
    assert auc.value == pytest.approx(8 / 9)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.sampled_from([1, -1])), min_size=1, max_size=40))
def test_roc_auc_matches_brute_force_over_every_pair(samples):
    probs = [k / 20 for k, _ in samples]  # a coarse grid: many ties
    labels = [t for _, t in samples]
    prob, label = nodes()
    auc = ms.ops.metrics.ROC_AUC(prob, label)
    feed(auc, prob, label, probs, labels)
    pos = [p for p, t in zip(probs, labels) if t == 1]
    neg = [p for p, t in zip(probs, labels) if t != 1]
    pairs = len(pos) * len(neg)
    expected = sum(p > q for p in pos for q in neg) / pairs if pairs else 0.0
    assert auc.value == pytest.approx(expected) and auc.total == pairs


def test_roc_metrics_name_mismatched_shapes():
    g = gg.graph.Graph()
    prob = ms.core.Variable(dim=(2, 1), trainable=False, graph=g)
    label = ms.core.Variable(dim=(1, 1), trainable=False, graph=g)
    prob.set_value(np.asmatrix([[0.2], [0.8]]))
    label.set_value(np.asmatrix([[1.0]]))
    with pytest.raises(ValueError, match=r"ROC_AUC: the prediction has shape \(2, 1\) but the label \(1, 1\)"):
        ms.ops.metrics.ROC_AUC(prob, label).forward()
