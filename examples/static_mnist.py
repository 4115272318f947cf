"""The seed text's MNIST multilayer network as a static graph: 784 inputs, a ReLU hidden layer, softmax
cross-entropy, Adam, mini-batches.

The graph is built once and drawn: a text listing of its nodes, and with --html graphgrad.viz's
explorer of it. Each training step only sets the input Variables; the
optimizer replays forward and backward over the same nodes with batched vector-Jacobian products.

    python examples/static_mnist.py [--epochs 10] [--hidden 100] [--batch-size 100] [--lr 0.001]
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import graphgrad.graph as gg
from graphgrad.cli.train import add_threads, blas_threads


def build(hidden: int, seed: int):
    """The graph: returns (graph, images, labels, logits, loss)."""
    rng = np.random.default_rng(seed)
    with gg.Graph() as graph:
        x = gg.Variable((None, 784), trainable=False, name="images")
        t = gg.Variable((None,), trainable=False, name="labels")
        with gg.name_scope("hidden"):
            w1 = gg.Variable((784, hidden), init=rng.normal(0, np.sqrt(2 / 784), (784, hidden)).astype(np.float32), name="W")
            b1 = gg.Variable((hidden,), init=np.zeros(hidden, np.float32), name="b")
            h = gg.ReLU(gg.Add(gg.Dot(x, w1), b1))
        with gg.name_scope("output"):
            w2 = gg.Variable((hidden, 10), init=rng.normal(0, np.sqrt(1 / hidden), (hidden, 10)).astype(np.float32), name="W")
            b2 = gg.Variable((10,), init=np.zeros(10, np.float32), name="b")
            logits = gg.Add(gg.Dot(h, w2), b2, name="logits")
        loss = gg.CrossEntropyWithSoftMax(logits, t, name="loss")
    return graph, x, t, logits, loss


def accuracy(x, logits, images, labels, batch: int = 2000) -> float:
    correct = 0
    for i in range(0, len(images), batch):
        x.set_value(images[i:i + batch])
        correct += int((logits.forward().argmax(axis=1) == labels[i:i + batch]).sum())
    return correct / len(images)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--epochs", type=int, default=10, help="passes over the training images")
    ap.add_argument("--hidden", type=int, default=100, help="size of the hidden layer")
    ap.add_argument("--batch-size", type=int, default=100, help="images per Adam step")
    ap.add_argument("--lr", type=float, default=0.001, help="Adam's learning rate")
    ap.add_argument("--seed", type=int, default=0, help="seed of the initial weights and the shuffling")
    ap.add_argument("--limit", type=int, default=None, help="train on the first N images only (a quick run)")
    ap.add_argument("--html", default=None, help="also write graphgrad.viz's HTML explorer of the graph here")
    add_threads(ap)
    args = ap.parse_args()
    with blas_threads(args.threads):  # one BLAS thread: these small products run fastest so
        run(args)


def run(args) -> None:
    """Train and report, as the command line asked."""
    try:
        from graphgrad.book.mnist import load_mnist
    except ImportError:
        sys.exit("static_mnist: graphgrad.book.load_mnist (issue 4) is not available in this checkout")
    (train_x, train_t), (test_x, test_t) = load_mnist()
    if args.limit:
        train_x, train_t = train_x[:args.limit], train_t[:args.limit]
    train_t, test_t = train_t.astype(np.int64), test_t.astype(np.int64)

    graph, x, t, logits, loss = build(args.hidden, args.seed)
    print(graph.describe())
    if args.html:
        draw_html(loss, x, t, train_x, train_t, args.html)
    optimizer = gg.Adam(graph, loss, learning_rate=args.lr, beta_2=0.999)
    rng = np.random.default_rng(args.seed)
    for epoch in range(args.epochs):
        start, total = time.perf_counter(), 0.0
        order = rng.permutation(len(train_x))
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            x.set_value(train_x[idx])
            t.set_value(train_t[idx])
            optimizer.one_step()
            total += float(loss.value) * len(idx)  # read before update(), which makes it stale
            optimizer.update()
        seconds = time.perf_counter() - start
        print(f"epoch {epoch + 1}: loss {total / len(order):.4f}, test accuracy "
              f"{accuracy(x, logits, test_x, test_t):.4f} ({seconds:.1f} s)")
    print(f"graph nodes after training: {graph.node_count()} (built once, reused for every batch)")


def draw_html(loss, x, t, images, labels, path: str) -> None:
    """graphgrad.viz's HTML explorer of the graph, its values those of a 4-image batch."""
    try:
        from graphgrad import viz
    except ImportError as err:
        print(f"(no HTML drawing, graphgrad.viz is unavailable: {err}); the listing above is the drawing")
        return
    x.set_value(images[:4])
    t.set_value(labels[:4])
    viz.to_html(loss, path)
    print(f"wrote {path}: the graph with a 4-image batch's values and gradients")


if __name__ == "__main__":
    main()
