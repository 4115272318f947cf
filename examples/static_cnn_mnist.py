"""The textbook's SimpleConvNet on MNIST as a static graph: convolution 30@5x5 (one set of weights
shared over every 5x5 sub-array of the image), ReLU, 2x2 max-pooling, a 4320-100 ReLU layer and a
100-10 layer with softmax cross-entropy, trained with Adam on mini-batches.

The graph is built once; each step only sets the input Variables, and the optimizer replays forward
and backward over the same nodes (the convolution's gradients come from the conv op's own backward).

    python examples/static_cnn_mnist.py [--epochs 3] [--batch-size 100] [--lr 0.001] [--limit N]
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import graphgrad.graph as gg
from graphgrad.cli.train import add_threads, blas_threads


def uniform(rng, shape, fan_in: int):
    """PyTorch's default initialisation: U(±1/√fan_in)."""
    bound = 1 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def build(seed: int):
    """The graph: returns (graph, images, labels, logits, loss)."""
    rng = np.random.default_rng(seed)
    with gg.Graph() as graph:
        x = gg.Variable((None, 784), trainable=False, name="images")
        t = gg.Variable((None,), trainable=False, name="labels")
        with gg.name_scope("conv"):
            k = gg.Variable((30, 1, 5, 5), init=uniform(rng, (30, 1, 5, 5), 25), name="W")
            kb = gg.Variable((30,), init=uniform(rng, (30,), 25), name="b")
            maps = gg.relu(gg.conv2d(gg.reshape(x, (-1, 1, 28, 28)), k, kb))
            pooled = gg.max_pool2d(maps, 2)
        with gg.name_scope("hidden"):
            w1 = gg.Variable((4320, 100), init=uniform(rng, (4320, 100), 4320), name="W")
            b1 = gg.Variable((100,), init=uniform(rng, (100,), 4320), name="b")
            h = gg.relu(gg.Add(gg.Dot(gg.flatten(pooled, 1), w1), b1))
        with gg.name_scope("output"):
            w2 = gg.Variable((100, 10), init=uniform(rng, (100, 10), 100), name="W")
            b2 = gg.Variable((10,), init=uniform(rng, (10,), 100), name="b")
            logits = gg.Add(gg.Dot(h, w2), b2, name="logits")
        loss = gg.CrossEntropyWithSoftMax(logits, t, name="loss")
    return graph, x, t, logits, loss


def accuracy(x, logits, images, labels, batch: int = 500) -> float:
    correct = 0
    for i in range(0, len(images), batch):
        x.set_value(images[i:i + batch])
        correct += int((logits.forward().argmax(axis=1) == labels[i:i + batch]).sum())
    return correct / len(images)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--epochs", type=int, default=3, help="passes over the training images")
    ap.add_argument("--batch-size", type=int, default=100, help="images per Adam step")
    ap.add_argument("--lr", type=float, default=0.001, help="Adam's learning rate")
    ap.add_argument("--seed", type=int, default=0, help="seed of the initial weights and the shuffling")
    ap.add_argument("--limit", type=int, default=None, help="train on the first N images only (a quick run)")
    ap.add_argument("--test-limit", type=int, default=None, help="evaluate on the first N test images only")
    add_threads(ap)
    args = ap.parse_args()
    with blas_threads(args.threads):  # one BLAS thread: these small products run fastest so
        run(args)


def run(args) -> None:
    """Train and report, as the command line asked."""
    try:
        from graphgrad.book.mnist import load_mnist
    except ImportError:
        sys.exit("static_cnn_mnist: graphgrad.book.load_mnist is not available in this checkout")
    (train_x, train_t), (test_x, test_t) = load_mnist()
    if args.limit:
        train_x, train_t = train_x[:args.limit], train_t[:args.limit]
    if args.test_limit:
        test_x, test_t = test_x[:args.test_limit], test_t[:args.test_limit]
    train_x, test_x = train_x.astype(np.float32), test_x.astype(np.float32)
    train_t, test_t = train_t.astype(np.int64), test_t.astype(np.int64)

    graph, x, t, logits, loss = build(args.seed)
    print(graph.describe())
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


if __name__ == "__main__":
    main()
