"""The article's MNIST network, neuron by neuron, on graphgrad.graph's column-vector API.

Every hidden neuron is `Add(Dot(Variable(784, True), X), Variable(1, True))` through ReLU; their
1 x 1 outputs are joined by `Vectorize` into a column, and ten output neurons read it the same
way. Training feeds one sample at a time (`one_step()`), updating after each mini-batch, as the
article does. The listing is written for graphgrad in the article's style: only the imports (and
`np.mat` -> `np.asmatrix`) differ from what the article's readers type.

Run: python examples/article/mnist_neurons.py [--train 1000] [--epochs 1] [--hidden 90]
"""
import argparse
import time

import numpy as np

from graphgrad.book.dataset.mnist import load_mnist
from graphgrad.graph import Adam, Add, CrossEntropyWithSoftMax, Dot, Graph, ReLU, SoftMax, Variable, Vectorize


def build(hidden: int = 90, classes: int = 10):
    """(graph, X, label, predict, loss): the article's network, a fresh graph."""
    with Graph() as graph:
        X = Variable(784, trainable=False)
        label = Variable(classes, trainable=False)
        neurons = [ReLU(Add(Dot(Variable(784, True), X), Variable(1, True))) for _ in range(hidden)]
        h = Vectorize(*neurons)
        output = Vectorize(*[Add(Dot(Variable(hidden, True), h), Variable(1, True)) for _ in range(classes)])
        predict = SoftMax(output)
        loss = CrossEntropyWithSoftMax(output, label)
    return graph, X, label, predict, loss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=1000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=90)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--learning-rate", type=float, default=0.005)
    args = ap.parse_args()
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
    graph, X, label, predict, loss = build(args.hidden)
    optimizer = Adam(graph, loss, args.learning_rate)
    for epoch in range(args.epochs):
        start = time.perf_counter()
        for i in range(args.train):
            X.set_value(np.asmatrix(x_train[i]).T)
            label.set_value(np.asmatrix(t_train[i]).T)
            optimizer.one_step()
            if (i + 1) % args.batch_size == 0:
                optimizer.update()
        seconds = time.perf_counter() - start
        print(f"epoch: {epoch + 1}, loss: {loss.value[0, 0]:.3f}, {seconds / args.train * 1000:.2f} s per 1,000 samples")
        pred = []
        for i in range(args.test):
            X.set_value(np.asmatrix(x_test[i]).T)
            predict.forward()
            pred.append(predict.value.A1)
        accuracy = (np.array(pred).argmax(axis=1) == t_test[:args.test].argmax(axis=1)).mean()
        print(f"epoch: {epoch + 1}, accuracy: {accuracy:.3f}")


if __name__ == "__main__":
    main()
