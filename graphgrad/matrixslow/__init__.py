"""MatrixSlow's API on graphgrad.graph: its examples run with `import matrixslow as ms` replaced by
`import graphgrad.matrixslow as ms` (and `np.mat` by `np.asmatrix`).

Every value is a matrix (`np.matrix`, vectors as columns), every node is a graphgrad.graph node
computed by graphgrad's ops: training is graphgrad's reverse sweep (no dense per-sample Jacobians),
while `Variable.backward(result)` / `jacobi` still give the framework's dense Jacobians.
`ops.Welding` re-wires its parent after construction (the RNN examples); the optimizers train every
trainable Variable of the graph, as MatrixSlow's do. Not supported: the distributed trainers (parameter
server, ring all-reduce over gRPC; see graphgrad.distributed for data-parallel training) and the model
serving.
"""
from . import core, layer, ops, optimizer, trainer
from .core import Variable, default_graph, get_node_from_graph, name_scope

__all__ = ["core", "ops", "layer", "optimizer", "trainer", "Variable", "default_graph", "get_node_from_graph",
           "name_scope"]
