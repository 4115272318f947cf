"""Chapter 6: a 7-layer net on 300 MNIST images overfits; dropout narrows the train/test gap (figure 6-23).

Run: python examples/book/overfit_dropout.py [--epochs 301] [--no-dropout]
"""
import argparse

import numpy as np

from graphgrad.book.common.multi_layer_net_extend import MultiLayerNetExtend
from graphgrad.book.common.trainer import Trainer
from graphgrad.book.dataset.mnist import load_mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=301)
parser.add_argument("--dropout-ratio", type=float, default=0.2)
parser.add_argument("--no-dropout", action="store_true")
args = parser.parse_args()

np.random.seed(0)
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
x_train, t_train = x_train[:300], t_train[:300]  # few samples, to overfit

network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100, 100], output_size=10,
                              use_dropout=not args.no_dropout, dropout_ration=args.dropout_ratio)
trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=args.epochs, mini_batch_size=100,
                  optimizer="sgd", optimizer_param={"lr": 0.01}, verbose=True)
trainer.train()
print(f"last epoch: train acc {trainer.train_acc_list[-1]:.3f}, test acc {trainer.test_acc_list[-1]:.3f}")
