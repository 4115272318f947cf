"""Seconds per 1,000 samples, one sample per step: the article's neuron-by-neuron MNIST network vs the
same 784-90-10 network in graphgrad.graph's own (batch-first) API. CPU time, interleaved rounds.

Run: python examples/article/speed.py [--samples 500] [--rounds 3]
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

import graphgrad.graph as G

sys.path.insert(0, str(Path(__file__).parent))
from mnist_neurons import build  # noqa: E402


def article(samples, x, t):
    graph, X, label, _, loss = build()
    opt = G.Adam(graph, loss, 0.005)
    def run():
        for i in range(samples):
            X.set_value(np.asmatrix(x[i]).T)
            label.set_value(np.asmatrix(t[i]).T)
            opt.one_step()
            if (i + 1) % 16 == 0:
                opt.update()
    return run


def own_api(samples, x, t):
    with G.Graph() as graph:
        X = G.Variable((None, 784), trainable=False)
        label = G.Variable((None, 10), trainable=False)
        h = G.ReLU(G.Add(G.Dot(X, G.Variable((784, 90), init=True)), G.Variable((90,), init=True)))
        loss = G.CrossEntropyWithSoftMax(G.Add(G.Dot(h, G.Variable((90, 10), init=True)), G.Variable((10,), init=True)), label)
    opt = G.Adam(graph, loss, 0.005)
    def run():
        for i in range(samples):
            X.set_value(x[i:i + 1])
            label.set_value(t[i:i + 1])
            opt.one_step()
            if (i + 1) % 16 == 0:
                opt.update()
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 784)).astype(np.float32)
    t = np.eye(10, dtype=np.float32)[rng.integers(0, 10, args.samples)]
    runs = {"article's listing (neurons)": article(args.samples, x, t), "graphgrad.graph, own API": own_api(args.samples, x, t)}
    times = {k: [] for k in runs}
    for _ in range(args.rounds):
        for k, run in runs.items():
            start = time.process_time()
            run()
            times[k].append((time.process_time() - start) / args.samples * 1000)
    for k, v in times.items():
        print(f"{k}: {np.median(v):.2f} s per 1,000 samples (median of {args.rounds})")


if __name__ == "__main__":
    main()
