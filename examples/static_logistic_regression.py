"""The seed text's multi-class logistic regression, built once as a static graph and trained on 3 classes.

Ten features, three classes: one linear score per class (`Dot` of the features with that class's
weights, `Add` its bias), the three scores joined by `Vectorize`, `SoftMax` for the prediction,
`CrossEntropyWithSoftMax` for the loss. The graph is built once; training only calls `set_value`
on the input Variables and lets the optimizer run forward and backward over the same nodes.

    python examples/static_logistic_regression.py [--epochs 5] [--seed 0]
"""
from __future__ import annotations

import argparse

import numpy as np

import graphgrad.graph as gg
from graphgrad.cli.train import add_threads, blas_threads


def make_data(n: int, rng: np.random.Generator):
    """Three Gaussian clouds in 10 dimensions: (features float32 (n, 10), labels (n,))."""
    centers = rng.normal(scale=1.5, size=(3, 10))  # overlapping clouds: not every point is separable
    labels = rng.integers(0, 3, size=n)
    return (centers[labels] + rng.normal(size=(n, 10))).astype(np.float32), labels


def build(seed: int):
    """The graph: returns (graph, features, one-hot labels, prediction, loss)."""
    with gg.Graph() as graph:
        x = gg.Variable((None, 10), trainable=False, name="x")
        onehot = gg.Variable((None, 3), trainable=False, name="label")
        scores = []
        for k in range(3):
            with gg.name_scope(f"class{k}"):
                w = gg.Variable((10,), init=True, rng=seed + k, name="w")
                b = gg.Variable((), init=np.float32(0), name="b")
                scores.append(gg.Add(gg.Dot(x, w), b, name="score"))
        logits = gg.Vectorize(*scores, name="logits")
        predict = gg.SoftMax(logits, name="predict")
        loss = gg.CrossEntropyWithSoftMax(logits, onehot, name="loss")
    return graph, x, onehot, predict, loss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--epochs", type=int, default=5, help="passes over the 600 training points")
    ap.add_argument("--batch-size", type=int, default=32, help="points per Adam step")
    ap.add_argument("--seed", type=int, default=0, help="seed of the data, the initial weights and the shuffling")
    add_threads(ap)
    args = ap.parse_args()
    with blas_threads(args.threads):  # one BLAS thread: these small products run fastest so
        run(args)


def run(args) -> None:
    """Train and report, as the command line asked."""
    rng = np.random.default_rng(args.seed)
    features, labels = make_data(900, rng)
    train_x, train_t, test_x, test_t = features[:600], labels[:600], features[600:], labels[600:]
    graph, x, onehot, predict, loss = build(args.seed)
    print(graph.describe())
    optimizer = gg.Adam(graph, loss, learning_rate=0.05)
    eye = np.eye(3, dtype=np.float32)
    for epoch in range(args.epochs):
        order = rng.permutation(len(train_x))
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            x.set_value(train_x[idx])
            onehot.set_value(eye[train_t[idx]])
            optimizer.one_step()
            optimizer.update()
        x.set_value(test_x)
        accuracy = (predict.forward().argmax(axis=1) == test_t).mean()
        print(f"epoch {epoch + 1}: test accuracy {accuracy:.3f}")
    print(f"final test accuracy {accuracy:.3f} ({'>=' if accuracy >= 0.95 else '<'} 0.95)")


if __name__ == "__main__":
    main()
