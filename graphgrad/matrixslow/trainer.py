"""MatrixSlow's trainers and Saver: the sample-by-sample training loop, evaluation with metrics, and
saving through graphgrad's safe graph format. The distributed trainers are not supported."""
from __future__ import annotations

import os
import time

import numpy as np

from .. import graph as G
from .core import default_graph

__all__ = ["Trainer", "SimpleTrainer", "Saver", "DistTrainerParameterServer", "DistTrainerRingAllReduce"]


class Trainer:
    """Train with one sample per `optimizer.one_step()` and an update every batch_size samples.

    input_x: the input Variables; train_x / test_x given to train_and_eval are dicts from those
    Variables' names to arrays of samples (each sample becomes a column); input_y the label Variable.
    """

    def __init__(self, input_x, input_y, loss_op, optimizer, epoches: int, batch_size: int = 8,
                 eval_on_train: bool = False, metrics_ops=None, *args, **kargs):
        """MatrixSlow's constructor arguments (see the class docstring)."""
        self.inputs, self.input_y, self.loss_op, self.optimizer = list(input_x), input_y, loss_op, optimizer
        self.epoches, self.batch_size, self.epoch = epoches, batch_size, 0
        self.eval_on_train, self.metrics_ops = eval_on_train, list(metrics_ops or [])
        self.print_iteration_interval = kargs.get("print_iteration_interval", 100)

    def train_and_eval(self, train_x: dict, train_y, test_x: dict | None = None, test_y=None) -> None:
        """Every epoch: train on train_x, then (eval_on_train) print the metrics on test_x."""
        for data in (train_x, test_x):
            if data is not None and set(data) != {v.name for v in self.inputs}:
                raise ValueError(f"train_and_eval: the data's keys {sorted(data)} must be the input variables' "
                                 f"names {sorted(v.name for v in self.inputs)}")
        self._variable_weights_init()
        print("[INIT] Variable weights init finished")
        for self.epoch in range(self.epoches):
            self.train(train_x, train_y)
            if self.eval_on_train and test_x is not None and test_y is not None:
                self.eval(test_x, test_y)

    def train(self, train_x: dict, train_y) -> None:
        """One epoch over the training samples."""
        n = len(train_y)
        print(f"- Epoch [{self.epoch + 1}] train start, batch size: {self.batch_size}, train data size: {n}")
        start = last = time.time()
        for i in range(n):
            self._feed(train_x, train_y, i)
            self.optimizer.one_step()
            if (i + 1) % self.print_iteration_interval == 0:
                print(f"-- iteration [{i}] finished, time cost: {time.time() - last:.2f}  and loss value: "
                      f"{float(np.asarray(self.loss_op.value).reshape(-1)[0]):4f}")
                last = time.time()
            if (i + 1) % self.batch_size == 0:
                self._optimizer_update()
        print(f"- Epoch [{self.epoch + 1}] train finished, time cost: {time.time() - start:.2f}")

    def eval(self, test_x: dict, test_y) -> None:
        """Run the metrics over the test samples and print them."""
        for m in self.metrics_ops:
            m.reset()
        for i in range(len(test_y)):
            self._feed(test_x, test_y, i)
            for m in self.metrics_ops:
                m.forward()
        print(f"Epoch [{self.epoch + 1}] evaluation metrics " + "".join(m.value_str() for m in self.metrics_ops))

    def _feed(self, data_x: dict, data_y, i: int) -> None:
        for v in self.inputs:
            v.set_value(np.asarray(data_x[v.name][i], dtype=float).reshape(v.dim[0], -1))
        self.input_y.set_value(np.asarray(data_y[i], dtype=float).reshape(self.input_y.dim[0], -1))

    def _variable_weights_init(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _variable_weights_init()")

    def _optimizer_update(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _optimizer_update()")


class SimpleTrainer(Trainer):
    """The single-process trainer: weights as initialised, the optimizer's own update."""

    def _variable_weights_init(self) -> None:
        pass

    def _optimizer_update(self) -> None:
        self.optimizer.update()


class Saver:
    """Save and load a graph's structure and Variables under root_dir in graphgrad's graph format (one npz file with
    a JSON part, no pickle), named weights_file_name: MatrixSlow's model JSON and weights npz in one file."""

    def __init__(self, root_dir: str = ""):
        """MatrixSlow's constructor arguments (see the class docstring)."""
        self.root_dir = root_dir

    def save(self, graph=None, meta=None, service_signature=None, model_file_name: str = "model.json",
             weights_file_name: str = "weights.npz") -> None:
        """Write the graph to root_dir/weights_file_name (meta, service_signature and model_file_name are not kept)."""
        G.save(default_graph if graph is None else graph, self._path(weights_file_name))

    def load(self, to_graph=None, model_file_name: str = "model.json", weights_file_name: str = "weights.npz"):
        """Restore the saved graph into to_graph (default: the default graph), as MatrixSlow does: into a graph that
        holds none of the saved nodes, they are rebuilt (find them with get_node_from_graph); into one holding all of
        them (by name), the saved Variables' values are copied."""
        saved = G.load(self._path(weights_file_name))
        target = default_graph if to_graph is None else to_graph
        names = [n.name for n in saved.nodes]
        mine = {n.name: n for n in target.nodes}
        present = [name for name in names if name in mine]
        if not present:
            for node in saved.nodes:
                node.graph = target
                node.name = target.add_node(node, node.name)
                if not isinstance(node, G.Constant):
                    node.matrix_api = True  # MatrixSlow's values are matrices
            return
        if len(present) != len(names):
            missing = sorted(set(names) - set(present))
            raise ValueError(f"Saver.load: the graph holds {len(present)} of the {len(names)} saved nodes (missing: "
                             f"{', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}); load into the graph "
                             f"the model was built in, or into an empty one")
        for node in saved.nodes:
            if isinstance(node, G.Variable) and not isinstance(node, G.Constant) and node.value is not None:
                mine[node.name].set_value(np.asarray(node.value))

    def _path(self, file_name: str) -> str:
        return os.path.join(self.root_dir, file_name if file_name.endswith(".npz") else file_name + ".npz")


def _unsupported(name: str):
    class Unsupported:
        def __init__(self, *args, **kargs):
            """Always raises NotImplementedError, pointing to graphgrad.distributed."""
            raise NotImplementedError(
                f"trainer.{name}: MatrixSlow's distributed training (parameter server / ring all-reduce over "
                f"gRPC) is not supported; use graphgrad.distributed for data-parallel training")
    Unsupported.__name__ = Unsupported.__qualname__ = name
    Unsupported.__doc__ = "Not supported: MatrixSlow's distributed training."
    return Unsupported


DistTrainerParameterServer = _unsupported("DistTrainerParameterServer")
DistTrainerRingAllReduce = _unsupported("DistTrainerRingAllReduce")
