"""Static (define-then-run) computational graphs on graphgrad's own ops, as in the seed text.

    import graphgrad.graph as gg
    with gg.Graph() as g:
        x = gg.Variable((None, 784), trainable=False)        # None: any batch size
        w = gg.Variable((784, 10), init=True)
        loss = gg.CrossEntropyWithSoftMax(x @ w, gg.Variable((None,), trainable=False))
    x.set_value(batch)                                     # downstream values are forgotten
    loss.forward()                                          # computes only what is missing
    w.backward(loss)                                        # dense Jacobian (the text's backward)
    gg.Adam(g, loss, 0.01).one_step()                       # training: batched VJPs, no Jacobians

Nodes for drawing: `graph.nodes` in creation order; each has `name`, `op_name`, `parents`,
`children`, `value` and `jacobi`; `graph.describe()` lists them as text.
"""
from . import ops
from .backprop import gradients
from .graph import Graph, default_graph, get_default_graph, name_scope
from .node import Constant, Node, Operation, Variable
globals().update(ops.PUBLIC)  # every op of the library, as a node builder, and the text's names
from .optimizers import AdaGrad, Adam, GradientDescent, Momentum, Optimizer, RMSProp
from .serialize import load, register_function, save
