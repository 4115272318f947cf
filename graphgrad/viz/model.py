"""The picture's model: a computation as operation nodes and value-carrying edges, in textbook form.

Every drawing (DOT, the HTML explorer) is made from a `VizGraph`. Operations are nodes; a tensor
flowing into an operation is an edge carrying its forward value and, below it, the gradient that
flows back along that edge (the consumer's local gradient times its upstream gradient). Leaf
tensors and the outputs are nodes of their own. Scalar constants folded into an operation's
label (``+1``, ``×-1``, ``1/x``) keep small graphs looking like the book's.

Gradients are computed here, without touching any `.grad`: one backward pass with
`retain_graph=True` captures every tensor's gradient, then each operation's `backward` is run
again on its upstream gradient to split that flow per edge.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..backend import sum_to
from ..autograd.engine import run_backward, topological_order
from ..autograd.function import Function
from ..ops.linear import Linear as LinearOp
from ..autograd.tensor import Tensor
from .groups import group_of, label_of
from .labels import op_label
from .summary import fmt, summarize

MAX_NODES = 2000  # beyond this a browser (or Graphviz) takes too long to lay the graph out

# The fused Linear op drawn as the book's two steps; each rule is what the op's backward computes.
MATMUL_RULE = "z = x @ Wᵀ.  dz/dx·g = g @ W,  dz/dW·g = gᵀ @ x."
ADD_RULE = "y = z + b.  dy/dz·g = g,  dy/db·g = Σₙ g."

class GraphTooLargeError(ValueError):
    """The graph has more nodes than a drawing can show quickly."""


@dataclass
class Node:
    """An operation, a leaf tensor (input or constant) or an output of the drawn computation."""

    id: str
    kind: str  # "op" | "input" | "const" | "output"
    label: str
    title: str
    group: str | None = None
    value: dict | None = None
    grad: dict | None = None
    detail: dict = field(default_factory=dict)


@dataclass
class Edge:
    """A tensor flowing from `src` into input `index` of `dst`, with its value and its gradient."""

    id: str
    src: str
    dst: str
    index: int
    name: str
    value: dict
    grad: dict | None
    fwd_step: int = 0
    bwd_step: int = -1


@dataclass
class Step:
    """One step of the explorer: forward or backward at one node, with the lines it explains."""

    phase: str  # "forward" | "backward"
    node: str
    title: str
    lines: list[str]


@dataclass
class VizGraph:
    """Nodes, edges and the forward-then-backward steps of one computation."""

    nodes: list[Node]
    edges: list[Edge]
    steps: list[Step]
    note: str | None = None

    def node(self, node_id: str) -> Node:
        """The node with id `node_id`."""
        return next(n for n in self.nodes if n.id == node_id)

    def visible_count(self) -> int:
        """How many boxes the picture has with every group folded: ungrouped nodes plus groups."""
        return sum(1 for n in self.nodes if n.group is None) + len({n.group for n in self.nodes} - {None})


def build(output, show_grads: bool = True, max_nodes: int = MAX_NODES, what: str = "viz") -> VizGraph:
    """The VizGraph of an eager tensor (or a list of them: the seed is then d(sum of outputs)),
    or of a static graph's node (graphgrad.graph)."""
    from .static import build_static, is_static

    if is_static(output):
        return build_static(output, show_grads, max_nodes, what)
    roots = list(output) if isinstance(output, (list, tuple)) else [output]
    for r in roots:
        if not isinstance(r, Tensor):
            raise TypeError(f"{what}: expected a graphgrad Tensor (or a list of them), got {type(r).__name__}")
    fns = topological_order(roots)
    check_size(fns, len(roots), max_nodes, what)
    return _Builder(roots, fns, show_grads).run()


def check_size(fns: list, n_roots: int, max_nodes: int, what: str, group=group_of) -> None:
    """Refuse a graph with more boxes than `max_nodes` even when every group is folded."""
    groups = [group(fn) for fn in fns]
    visible = groups.count(None) + len(set(groups) - {None}) + n_roots
    if visible > max_nodes:
        raise GraphTooLargeError(
            f"{what}: the graph has {len(fns)} operations ({visible} boxes even with every group folded), "
            f"more than max_nodes={max_nodes}; drawing it would take minutes. Draw a subgraph instead "
            f"(pass an intermediate tensor as the output, or detach() an input to cut the graph there), "
            f"or group operations with graphgrad.viz.group / record_modules, or raise max_nodes"
        )


class _Builder:
    """Walks an eager graph once and writes nodes, edges and steps."""

    def __init__(self, roots: list[Tensor], fns: list[Function], show_grads: bool):
        self.roots, self.fns, self.show_grads = roots, fns, show_grads
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.leaf_node: dict[int, str] = {}
        # a fused Linear with a bias is drawn as two nodes, `@` then `+`; the `+` carries its output
        self.op_node = {fn: f"op{i}_add" if self._split(fn) else f"op{i}" for i, fn in enumerate(fns)}
        self.boxes = self._linear_boxes()
        self.matmul: dict[Function, tuple[str, np.ndarray]] = {}  # a Linear's `@` node and its value z
        self.grads: dict[int, np.ndarray] = {}
        self.flows: dict[Function, tuple] = {}  # per-edge gradients: backward(upstream)
        self.locals: dict[Function, tuple] = {}  # local derivatives of scalar ops: backward(1)
        self.note: str | None = None

    # what a static graph's builder answers differently (see static.py)
    op_class = staticmethod(type)
    group = staticmethod(group_of)

    def _split(self, fn: Function) -> bool:
        """True for a fused Linear call with a bias: it is drawn as matmul + add."""
        return self.op_class(fn) is LinearOp and len(fn.inputs) == 3

    def _linear_boxes(self) -> dict:
        """The group of each split Linear: its own (a module's box), else a new box named after the op."""
        taken = {self.group(fn) for fn in self.fns} - {None}
        boxes = {}
        for fn in self.fns:
            if not self._split(fn):
                continue
            name = self.group(fn)
            if name is None:  # several unclaimed Linear calls: Linear, Linear 2, ...
                name, k = "Linear", 1
                while name in taken:
                    k += 1
                    name = f"Linear {k}"
                taken.add(name)
            boxes[fn] = name
        return boxes

    def run(self) -> VizGraph:
        if self.show_grads:
            self._gradients()
        for i, fn in enumerate(self.fns):
            self._add_op(i, fn)
        for k, r in enumerate(self.roots):
            node = Node(f"out{k}", "output", r.name or "output", r.name or "output",
                        value=summarize(r.data), grad=self._grad_of(r))
            self.nodes.append(node)
            src = self.op_node[r.creator] if r.creator is not None else self._leaf(r)
            seed = summarize(np.ones_like(r.data)) if self.show_grads and r.requires_grad else None
            self.edges.append(Edge(f"e{len(self.edges)}", src, node.id, 0, r.name or "", summarize(r.data), seed))
        return VizGraph(self.nodes, self.edges, self._steps(), self.note)

    # ---- gradients ------------------------------------------------------------------------
    def _gradients(self) -> None:
        roots = [r for r in self.roots if r.requires_grad]
        if not roots:
            return
        if any(fn.released for fn in self.fns):
            # backward() already freed the saved arrays: show only the gradients it stored
            self.note = ("backward() already freed this graph, so only .grad of leaves (and of tensors "
                         "that called retain_grad()) is shown; draw before backward(), or call "
                         "backward(retain_graph=True), to see every gradient")
            for t in self._tensors():
                if t.grad is not None:
                    self.grads[id(t)] = t.grad.data
            return
        wanted = [t for t in self._tensors() if t.requires_grad]
        seeds = [np.ones_like(r.data) for r in roots]
        found = run_backward(roots, seeds, retain_graph=True, capture=wanted, observe=self._observe)
        self.grads = {id(t): _array(g) for t, g in zip(wanted, found) if g is not None}
        self._local_derivatives()

    def _observe(self, fn, gys, gxs) -> None:
        """The engine's backward step of `fn`: the gradient flowing along each of its input edges."""
        self.flows[fn] = _flows(fn.inputs, gxs, fn.needs_input_grad)

    def _local_derivatives(self) -> None:
        """backward(1) of every scalar op the sweep reached: the textbook's local gradients."""
        for fn in self.flows:
            outs = [ref() for ref in fn.outputs]
            if all(t.data.size == 1 for t in fn.inputs) and all(o is not None and o.data.size == 1 for o in outs):
                self.locals[fn] = self._backward(fn, [np.ones_like(o.data) for o in outs])

    @staticmethod
    def _backward(fn: Function, gys: list) -> tuple:
        """fn.backward on `gys`, each input's gradient summed back to the input's shape."""
        gxs = fn.backward(*gys)
        return _flows(fn.inputs, gxs if isinstance(gxs, tuple) else (gxs,), fn.needs_input_grad)

    def _tensors(self) -> list[Tensor]:
        seen, out = set(), []
        for t in [t for fn in self.fns for t in fn.inputs] + self.roots:
            if id(t) not in seen:
                seen.add(id(t))
                out.append(t)
        return out

    def _grad_of(self, t: Tensor) -> dict | None:
        g = self.grads.get(id(t))
        return summarize(g) if g is not None else None

    # ---- nodes and edges ----------------------------------------------------------------------
    def _leaf(self, t: Tensor) -> str:
        if id(t) not in self.leaf_node:
            name = label_of(t)
            kind = "input" if t.requires_grad or name else "const"
            label = name or (summarize(t.data)["label"] if kind == "const" else f"input {len(self.leaf_node)}")
            node = Node(f"in{len(self.leaf_node)}", kind, label, name or kind,
                        value=summarize(t.data), grad=self._grad_of(t))
            self.leaf_node[id(t)] = node.id
            self.nodes.append(node)
        return self.leaf_node[id(t)]

    def _add_op(self, i: int, fn: Function) -> None:
        if self.op_class(fn) is LinearOp:
            self._add_linear(i, fn)
            return
        cls = self.op_class(fn)
        name = cls.__name__
        label, folded = op_label(fn, cls)
        outs = [ref() for ref in fn.outputs]
        out = outs[0] if outs and outs[0] is not None else None
        detail = {
            "op": name,
            "rule": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
            "inputs": [summarize(t.data) for t in fn.inputs],
        }
        node = Node(self.op_node[fn], "op", label, name, self.group(fn),
                    value=summarize(out.data) if out is not None else None,
                    grad=self._grad_of(out) if out is not None else None, detail=detail)
        self.nodes.append(node)
        flows = self.flows.get(fn, (None,) * len(fn.inputs))
        for j, t in enumerate(fn.inputs):
            if j not in folded:
                self._edge_in(t, node.id, j, flows[j])

    def _edge_in(self, t: Tensor, dst: str, index: int, flow) -> None:
        """The edge carrying tensor `t` into input `index` of node `dst`, with the gradient `flow`."""
        src = self.op_node[t.creator] if t.creator is not None else self._leaf(t)
        grad = summarize(flow) if flow is not None else None
        self.edges.append(Edge(f"e{len(self.edges)}", src, dst, index, t.name or "", summarize(t.data), grad))

    def _add_linear(self, i: int, fn: Function) -> None:
        """A fused Linear as the book draws it: `@` (x @ Wᵀ), then `+` (the bias) in the layer's box.

        The intermediate z = x @ Wᵀ was never stored, so it is recomputed from the recorded inputs;
        its gradient is the output's, since the add passes the gradient through unchanged.
        """
        x, w = fn.inputs[0], fn.inputs[1]
        out = _output(fn)
        flows = self.flows.get(fn, (None,) * len(fn.inputs))
        split = self._split(fn)
        # without a bias the op's output is z itself, so only a split op pays for a second matmul
        z = out.data if out is not None and not split else x.data @ w.data.T
        g = self.grads.get(id(out)) if out is not None else None
        box = self.boxes.get(fn, self.group(fn))
        self.matmul[fn] = (f"op{i}_matmul" if split else self.op_node[fn], z)
        mm = Node(self.matmul[fn][0], "op", "@", "Linear: x @ Wᵀ", box,
                  value=summarize(z), grad=summarize(g) if g is not None else None,
                  detail={"op": "Linear, step 1: x @ Wᵀ", "rule": MATMUL_RULE,
                          "inputs": [summarize(x.data), summarize(w.data)]})
        self.nodes.append(mm)
        self._edge_in(x, mm.id, 0, flows[0])
        self._edge_in(w, mm.id, 1, flows[1])  # the weight as stored, (out, in): the node applies Wᵀ
        if not split:
            return
        b = fn.inputs[2]
        add = Node(self.op_node[fn], "op", "+", "Linear: z + b", box,
                   value=summarize(out.data), grad=summarize(g) if g is not None else None,
                   detail={"op": "Linear, step 2: z + b", "rule": ADD_RULE,
                           "inputs": [summarize(z), summarize(b.data)]})
        self.nodes.append(add)
        z_grad = summarize(g) if fn in self.flows and g is not None else None
        self.edges.append(Edge(f"e{len(self.edges)}", mm.id, add.id, 0, "", summarize(z), z_grad))
        self._edge_in(b, add.id, 1, flows[2])

    # ---- steps --------------------------------------------------------------------------------
    def _steps(self) -> list[Step]:
        """Forward: the inputs, then each node in topological order; backward: the seed, then reversed.

        A node is one step each way; a split Linear is two nodes, so `@` comes before `+` going
        forward and after it going backward.
        """
        parts = [self._op_steps(fn) for fn in self.fns]
        steps = [Step("forward", "inputs", "inputs", [
            f"{n.label} = {n.value['label']}" if n.label != n.value["label"] else f"constant {n.label}"
            for n in self.nodes if n.kind in ("input", "const")])]
        forward_step = {}
        for fwd, _ in (p for ps in parts for p in ps):
            forward_step[fwd.node] = len(steps)
            steps.append(fwd)
        for e in self.edges:
            e.fwd_step = 0 if e.src.startswith("in") else forward_step[e.src]
        if not self.show_grads or not any(r.requires_grad for r in self.roots):
            return steps
        seed_step = len(steps)
        steps.append(Step("backward", "outputs", "backward: seed",
                          ["∂out/∂out = 1 (every output starts the backward pass with ones)"]))
        for e in self.edges:
            if e.dst.startswith("out") and e.grad is not None:
                e.bwd_step = seed_step
        by_dst: dict[str, list[Edge]] = {}
        for e in self.edges:
            by_dst.setdefault(e.dst, []).append(e)
        for _, bwd in (p for ps in reversed(parts) for p in reversed(ps)):
            step = len(steps)
            steps.append(bwd)
            for e in by_dst.get(bwd.node, []):
                if e.grad is not None:
                    e.bwd_step = step
        return steps

    def _op_steps(self, fn: Function) -> list[tuple[Step, Step]]:
        """(forward step, backward step) for each node that draws `fn`, in forward order."""
        if self.op_class(fn) is LinearOp:
            return self._linear_steps(fn)
        node = self.op_node[fn]
        name = self.op_class(fn).__name__
        ins = [summarize(t.data)["label"] for t in fn.inputs]
        out = _output(fn)
        value = summarize(out.data)["label"] if out is not None else "?"
        forward = Step("forward", node, f"forward {name}", [f"inputs: {', '.join(ins)}", f"output: {value}"])
        return [(forward, Step("backward", node, f"backward {name}", self._backward_lines(fn)))]

    def _backward_lines(self, fn: Function) -> list[str]:
        outs = [ref() for ref in fn.outputs]
        up = [self.grads.get(id(o)) if o is not None else None for o in outs]
        if fn not in self.flows:
            return [self._unknown()]
        lines = ["upstream gradient: " + ", ".join(summarize(g)["label"] if g is not None else "0" for g in up)]
        local = self.locals.get(fn)
        for j, flow in enumerate(self.flows[fn]):
            if flow is not None:
                lines.append(_flow_line(label_of(fn.inputs[j]) or f"input {j}", flow, up[0],
                                        local[j] if local is not None else None))
        return lines

    def _unknown(self) -> str:
        return "gradient unknown here (" + (self.note or "no gradient reaches this operation") + ")"

    def _linear_steps(self, fn: Function) -> list[tuple[Step, Step]]:
        """The steps of a fused Linear's `@` node and, with a bias, its `+` node."""
        x, w = fn.inputs[0], fn.inputs[1]
        out = _output(fn)
        split = self._split(fn)
        mm_id, z = self.matmul[fn]
        g = self.grads.get(id(out)) if out is not None else None
        flows = self.flows.get(fn)
        names = [label_of(t) or default for t, default in zip(fn.inputs, ("x", "W", "b"))]
        parts = [(Step("forward", mm_id, "forward Linear: z = x @ Wᵀ",
                       [f"inputs: {summarize(x.data)['label']}, {summarize(w.data)['label']}",
                        f"output: {summarize(z)['label']}"]),
                  Step("backward", mm_id, "backward Linear: z = x @ Wᵀ",
                       self._linear_lines(flows, g, [(0, names[0], w.data, "g @ W"),
                                                          (1, names[1], x.data, "gᵀ @ x")])))]
        if split:
            b = fn.inputs[2]
            ones = np.ones(1)
            parts.append((Step("forward", self.op_node[fn], "forward Linear: y = z + b",
                               [f"inputs: {summarize(z)['label']}, {summarize(b.data)['label']}",
                                f"output: {summarize(out.data)['label']}"]),
                          Step("backward", self.op_node[fn], "backward Linear: y = z + b",
                               self._linear_lines(flows, g, [(None, "z", ones, "g"),
                                                                  (2, names[2], ones, "Σₙ g")]))))
        return parts

    def _linear_lines(self, flows, g, wanted: list) -> list[str]:
        """Backward lines of one Linear step; `wanted` is (input index, or None for z; name; local
        derivative, used when everything is a scalar; the rule that gives the gradient)."""
        if flows is None or g is None:
            return [self._unknown()]
        lines = [f"upstream gradient: {summarize(g)['label']}"]
        for j, name, local, rule in wanted:
            flow = g if j is None else flows[j]  # z's gradient is the output's: the add passes it on
            if flow is not None:
                lines.append(_flow_line(name, flow, g, local if local.size == 1 else None, rule))
        return lines


def _flows(inputs, gxs, needs) -> tuple:
    """Each input's gradient from one backward step, summed back to the input's shape (None if unused)."""
    return tuple(
        None if g is None or not need else sum_to(_array(g), t.data.shape)
        for t, g, need in zip(inputs, gxs, needs)
    )


def _output(fn: Function):
    """The first output of `fn` still alive, or None."""
    return next((o for o in (ref() for ref in fn.outputs) if o is not None), None)


def _flow_line(arg: str, flow: np.ndarray, up, local=None, rule: str = "") -> str:
    """One input's gradient: *local × upstream = gradient* for scalars, else the value and its statistics."""
    if local is not None and flow.size == 1 and up is not None and np.asarray(up).size == 1:
        return (f"∂/∂{arg}: local {fmt(np.asarray(local).reshape(()))} × upstream "
                f"{fmt(np.asarray(up).reshape(()))} = {fmt(flow.reshape(()))}")
    s = summarize(flow)
    return f"∂/∂{arg}{' = ' + rule if rule else ''}: {s['label']}" + (f" ({s['stats']})" if flow.size > 1 else "")


def _array(g) -> np.ndarray:
    """A gradient as an ndarray (the engine may hand back Tensors or arrays)."""
    return g.data if isinstance(g, Tensor) else np.asarray(g)
