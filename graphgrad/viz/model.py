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
from ..engine import run_backward, topological_order
from ..function import Function
from ..tensor import Tensor
from .groups import group_of, label_of
from .labels import op_label
from .summary import fmt, summarize

MAX_NODES = 2000  # beyond this a browser (or Graphviz) takes too long to lay the graph out



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
        self.op_node = {fn: f"op{i}" for i, fn in enumerate(fns)}
        self.grads: dict[int, np.ndarray] = {}
        self.flows: dict[Function, tuple] = {}  # per-edge gradients: backward(upstream)
        self.locals: dict[Function, tuple] = {}  # local derivatives of scalar ops: backward(1)
        self.note: str | None = None

    # what a static graph's builder answers differently (see static.py)
    op_class = staticmethod(type)
    group = staticmethod(group_of)

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
        found = run_backward(roots, seeds, retain_graph=True, capture=wanted)
        self.grads = {id(t): _array(g) for t, g in zip(wanted, found) if g is not None}
        for fn in self.fns:
            outs = [ref() for ref in fn.outputs]
            gys = [self.grads.get(id(o)) if o is not None else None for o in outs]
            if all(g is None for g in gys):
                continue
            gys = [np.zeros_like(o.data) if g is None else g for o, g in zip(outs, gys)]
            self.flows[fn] = self._backward(fn, gys)
            if all(t.data.size == 1 for t in fn.inputs) and all(o is not None and o.data.size == 1 for o in outs):
                self.locals[fn] = self._backward(fn, [np.ones_like(o.data) for o in outs])

    @staticmethod
    def _backward(fn: Function, gys: list) -> tuple:
        """fn.backward on `gys`, each input's gradient summed back to the input's shape."""
        gxs = fn.backward(*gys)
        gxs = gxs if isinstance(gxs, tuple) else (gxs,)
        return tuple(
            None if g is None or not need else sum_to(_array(g), t.data.shape)
            for t, g, need in zip(fn.inputs, gxs, fn.needs_input_grad)
        )

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
            if j in folded:
                continue
            src = self.op_node[t.creator] if t.creator is not None else self._leaf(t)
            grad = summarize(flows[j]) if flows[j] is not None else None
            self.edges.append(Edge(f"e{len(self.edges)}", src, node.id, j, t.name or "", summarize(t.data), grad))

    # ---- steps --------------------------------------------------------------------------------
    def _steps(self) -> list[Step]:
        """Forward: the inputs, then each op in topological order; backward: the seed, then reversed."""
        index = {fn: i for i, fn in enumerate(self.fns)}
        steps = [Step("forward", "inputs", "inputs", [
            f"{n.label} = {n.value['label']}" if n.label != n.value["label"] else f"constant {n.label}"
            for n in self.nodes if n.kind in ("input", "const")])]
        for e in self.edges:
            e.fwd_step = 0 if e.src.startswith("in") else index[self._fn(e.src)] + 1
        for fn in self.fns:
            node = self.op_node[fn]
            ins = [summarize(t.data)["label"] for t in fn.inputs]
            out = next((o for o in (ref() for ref in fn.outputs) if o is not None), None)
            value = summarize(out.data)["label"] if out is not None else "?"
            steps.append(Step("forward", node, f"forward {self.op_class(fn).__name__}",
                              [f"inputs: {', '.join(ins)}", f"output: {value}"]))
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
        for fn in reversed(self.fns):
            node = self.op_node[fn]
            step = len(steps)
            steps.append(Step("backward", node, f"backward {self.op_class(fn).__name__}", self._backward_lines(fn)))
            for e in by_dst.get(node, []):
                if e.grad is not None:
                    e.bwd_step = step
        return steps

    def _fn(self, node_id: str) -> Function:
        return self.fns[int(node_id[2:])]

    def _backward_lines(self, fn: Function) -> list[str]:
        outs = [ref() for ref in fn.outputs]
        up = [self.grads.get(id(o)) if o is not None else None for o in outs]
        if fn not in self.flows:
            return ["gradient unknown here (" + (self.note or "no gradient reaches this operation") + ")"]
        lines = ["upstream gradient: " + ", ".join(summarize(g)["label"] if g is not None else "0" for g in up)]
        local = self.locals.get(fn)
        for j, flow in enumerate(self.flows[fn]):
            if flow is None:
                continue
            arg = fn.inputs[j].name or f"input {j}"
            if local is not None and local[j] is not None:
                lines.append(f"∂/∂{arg}: local {fmt(local[j].reshape(()))} × upstream "
                             f"{fmt(np.asarray(up[0]).reshape(()))} = {fmt(flow.reshape(()))}")
            else:
                lines.append(f"∂/∂{arg}: {summarize(flow)['label']}" +
                             (f" ({summarize(flow)['stats']})" if flow.size > 1 else ""))
        return lines


def _array(g) -> np.ndarray:
    """A gradient as an ndarray (the engine may hand back Tensors or arrays)."""
    return g.data if isinstance(g, Tensor) else np.asarray(g)
