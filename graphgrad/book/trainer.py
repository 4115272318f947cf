"""The textbook's Trainer (`common.trainer`): mini-batch training with the book's printed lines."""
from __future__ import annotations

import numpy as np

from .optimizer import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop

__all__ = ["Trainer"]

OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adagrad": AdaGrad, "rmsprop": RMSprop,
              "adam": Adam}


class Trainer:
    """Train `network` (with the book's `gradient`, `loss`, `accuracy`, `params`) for `epochs` epochs.

    Each step draws mini_batch_size samples with replacement (np.random.choice, as the book), takes
    one optimizer step and prints `train loss:...` (when verbose); at each epoch's start it measures
    train and test accuracy (on the first evaluate_sample_num_per_epoch samples, if given), keeps them
    in `train_acc_list` / `test_acc_list` and prints the book's `=== epoch:... ===` line.
    """

    def __init__(self, network, x_train, t_train, x_test, t_test, epochs: int = 20, mini_batch_size: int = 100,
                 optimizer: str = "SGD", optimizer_param: dict | None = None,
                 evaluate_sample_num_per_epoch: int | None = None, verbose: bool = True):
        """The book's constructor arguments (see the class docstring)."""
        kind = optimizer.lower()
        if kind not in OPTIMIZERS:
            raise ValueError(f"Trainer: unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        self.network, self.verbose = network, verbose
        self.x_train, self.t_train, self.x_test, self.t_test = x_train, t_train, x_test, t_test
        self.epochs, self.batch_size = epochs, mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        self.optimizer = OPTIMIZERS[kind](**({"lr": 0.01} if optimizer_param is None else optimizer_param))
        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = self.current_epoch = 0
        self.train_loss_list: list = []
        self.train_acc_list: list = []
        self.test_acc_list: list = []

    def train_step(self) -> None:
        """One mini-batch step (and, at an epoch's start, the accuracy measurements)."""
        batch = np.random.choice(self.train_size, self.batch_size)
        x, t = self.x_train[batch], self.t_train[batch]
        grads = self.network.gradient(x, t)
        self.optimizer.update(self.network.params, grads)
        loss = self.network.loss(x, t)
        self.train_loss_list.append(loss)
        if self.verbose:
            print("train loss:" + str(loss))
        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            k = self.evaluate_sample_num_per_epoch
            x_tr, t_tr, x_te, t_te = self.x_train, self.t_train, self.x_test, self.t_test
            if k is not None:
                x_tr, t_tr, x_te, t_te = x_tr[:k], t_tr[:k], x_te[:k], t_te[:k]
            train_acc, test_acc = self.network.accuracy(x_tr, t_tr), self.network.accuracy(x_te, t_te)
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)
            if self.verbose:
                print(f"=== epoch:{self.current_epoch}, train acc:{train_acc}, test acc:{test_acc} ===")
        self.current_iter += 1

    def train(self) -> None:
        """Every step, then the final accuracy on the whole test set."""
        for _ in range(self.max_iter):
            self.train_step()
        self.test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(self.test_acc))
