"""Graph: the container of a static (define-then-run) computation, its default and its name scopes.

A graph is built once from nodes and evaluated many times. It owns the nodes in creation order,
their unique names, and two caches that make re-running cheap: the evaluation order of each node
it was asked to compute (topological, found once per structure) and the version counter of its
values, which tells a memoised Jacobian whether it is still current.
"""
from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from .node import Node


class Graph:
    """A static computational graph; `with Graph() as g:` makes it the default for new nodes."""

    def __init__(self) -> None:
        """An empty graph; `with graph:` makes it the default for new nodes."""
        self.nodes: list[Node] = []
        self._by_name: dict[str, Node] = {}
        self._scopes: list[str] = []
        self._orders: dict[int, list] = {}  # id(node) -> its ancestors, parents first
        self.value_version = 0  # bumped by every set_value: memoised Jacobians older than it are stale

    # ---- default graph ----------------------------------------------------------------
    def __enter__(self) -> "Graph":
        _stack.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _stack.remove(self)

    # ---- nodes ------------------------------------------------------------------------
    def add_node(self, node: "Node", name: str | None) -> str:
        """Register `node` under a unique name (its op name and a counter when none is given)."""
        if name is None:
            name = f"{node.op_name}:{len(self.nodes)}"
        if self._scopes:
            name = "/".join(self._scopes) + "/" + name
        if name in self._by_name:
            raise ValueError(
                f"Graph: a node named {name!r} already exists in this graph; pick another name "
                f"or leave name=None for an automatic one"
            )
        self.nodes.append(node)
        self._by_name[name] = node
        self._orders.clear()  # the structure changed: evaluation orders are found again
        return name

    def node_count(self) -> int:
        """Number of nodes in the graph."""
        return len(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator["Node"]:
        return iter(self.nodes)

    def __getitem__(self, name: str) -> "Node":
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"Graph: no node named {name!r}; names are listed by graph.describe()") from None

    def __contains__(self, node) -> bool:
        return getattr(node, "graph", None) is self

    @property
    def variables(self) -> list:
        """Every Variable of the graph (inputs, parameters and constants), in creation order."""
        from .node import Variable

        return [n for n in self.nodes if isinstance(n, Variable)]

    @property
    def trainable_variables(self) -> list:
        """The Variables an optimizer updates, in creation order."""
        from .node import Variable

        return [n for n in self.nodes if isinstance(n, Variable) and n.trainable]

    # ---- values -----------------------------------------------------------------------
    def reset_value(self) -> None:
        """Forget every computed value (operations only: variables keep what set_value gave them)."""
        from .node import Operation

        for n in self.nodes:
            if isinstance(n, Operation):
                n._value = None
        self.value_version += 1

    def clear_jacobi(self) -> None:
        """Forget every memoised Jacobian."""
        for n in self.nodes:
            n._jacobi = None

    def structure_changed(self) -> None:
        """Forget the cached evaluation orders: call it after re-wiring a node's parents."""
        self._orders.clear()

    def order(self, node: "Node") -> list:
        """`node` and everything it depends on, each after its parents (cached per structure)."""
        order = self._orders.get(id(node))
        if order is None:
            order = self._orders[id(node)] = _topological(node)
        return order

    # ---- names ------------------------------------------------------------------------
    @contextlib.contextmanager
    def name_scope(self, scope: str):
        """Prefix the names of nodes created inside the block with `scope/` (scopes nest)."""
        self._scopes.append(scope)
        try:
            yield
        finally:
            self._scopes.pop()

    # ---- listing ----------------------------------------------------------------------
    def describe(self) -> str:
        """A plain-text listing of the nodes: name, op, parents and value shape, one per line."""
        lines = [f"Graph with {len(self.nodes)} nodes"]
        width = max((len(n.name) for n in self.nodes), default=4)
        for n in self.nodes:
            parents = ", ".join(p.name for p in n.parents) or "-"
            value = n._value
            shape = "no value" if value is None else f"{tuple(value.shape)} {value.dtype}"
            lines.append(f"  {n.name:<{width}}  {n.op_name:<20} <- {parents:<30} {shape}")
        return "\n".join(lines)

    def draw(self, path="graph.html", target=None, **options):
        """Picture the graph through graphgrad.viz: `.html` (the explorer, needs nothing), `.svg`/`.png`/`.pdf`
        (Graphviz). `target` defaults to the last node nothing else uses (the loss). Returns the path."""
        from .. import viz

        if target is None:
            sinks = [n for n in self.nodes if not n.children and n.parents]
            if not sinks:
                raise ValueError("draw: the graph has no operation to draw; build one first")
            target = sinks[-1]
        if str(path).lower().endswith(".html"):
            viz.to_html(target, path, **options)
            return path
        return viz.render(target, path, **options)

    def __repr__(self) -> str:
        return f"<Graph: {len(self.nodes)} nodes>"

    # ---- persistence ------------------------------------------------------------------
    def save(self, directory) -> None:
        """Write the structure and the variables' values to `directory/graph.npz` (one file, atomically)."""
        from .serialize import save

        save(self, directory)

    @staticmethod
    def load(directory) -> "Graph":
        """A new Graph rebuilt from what `save` wrote (no pickle anywhere)."""
        from .serialize import load

        return load(directory)


def _topological(root: "Node") -> list:
    """Iterative depth-first ordering of `root`'s ancestors (no recursion: deep graphs are fine)."""
    order, expanded, placed, stack = [], set(), set(), [root]
    while stack:
        node = stack[-1]
        if id(node) in expanded:
            stack.pop()
            if id(node) not in placed:  # second visit: all its parents are placed already
                placed.add(id(node))
                order.append(node)
            continue
        expanded.add(id(node))
        for p in node.parents:
            if id(p) not in expanded:
                stack.append(p)
    return order


_stack: list[Graph] = [Graph()]
default_graph = _stack[0]


def get_default_graph() -> Graph:
    """The graph new nodes join: the innermost `with Graph()` block's, else the global default."""
    return _stack[-1]


def name_scope(scope: str):
    """`with name_scope("hidden"):` prefixes names of nodes created in the default graph."""
    return get_default_graph().name_scope(scope)
