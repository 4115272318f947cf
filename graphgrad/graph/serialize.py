"""Saving and loading static graphs: one file, `graph.npz`, written by `graphgrad.save`.

The structure (nodes, ops, wiring) is the file's JSON part and the variables' values are its
arrays, so a graph is written atomically by the same encoder and writer as every graphgrad file,
and no pickle is involved: operations are stored by the registry key of their Function class (its
name for graphgrad's own, module.qualname for yours), looked up on load in `Function.registry`, and
their constructor arguments as JSON (tuples, slices and small index arrays are tagged). `load`
checks every entry, so a damaged or hostile file is one CheckpointError naming the file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import io
from .. import ops  # noqa: F401  (defines and so registers every built-in op)
from ..autograd.function import Function, registry_key
from .graph import Graph
from .node import Constant, Operation, Variable

FORMAT, VERSION = "graphgrad.graph", 2
FILE = "graph.npz"
LEGACY = "graph.json"  # version 1: graph.json + values.npz

def register_function(cls: type) -> type:
    """Kept for old code: every Function subclass is registered when it is defined (Function.registry)."""
    if not (isinstance(cls, type) and issubclass(cls, Function)):
        raise TypeError(f"register_function: expected a Function subclass, got {cls!r}")
    return cls


def graph_path(location) -> Path:
    """The graph file: `location` itself if it ends in .npz, else `location/graph.npz`."""
    location = Path(location)
    return location if location.suffix == ".npz" else location / FILE


def save(graph: Graph, location) -> Path:
    """Write `graph` (nodes, ops, wiring and variable values) to `location/graph.npz` (or `location` if .npz)."""
    path = graph_path(location)
    path.parent.mkdir(parents=True, exist_ok=True)
    index = {id(n): i for i, n in enumerate(graph.nodes)}
    nodes, values = [], {}
    for i, n in enumerate(graph.nodes):
        entry = {"name": n.name, "parents": [index[id(p)] for p in n.parents]}
        if n.matrix_api:
            entry["matrix"] = True  # the article's column-vector API (Variable(n)), MatrixSlow's: values are np.matrix
        if isinstance(n, Operation):
            key = registry_key(n.function_class)
            if Function.registry.get(key) is not n.function_class:
                raise ValueError(
                    f"save: node {n.name!r} uses Function {n.function_class.__qualname__}, which another "
                    f"class of the same name replaced in the registry; give one of them another name"
                )
            entry.update(kind="operation", op=key, config={k: _encode(v) for k, v in n.function.config().items()})
        else:
            entry.update(kind="constant" if isinstance(n, Constant) else "variable",
                         shape=list(n.declared_shape), trainable=n.trainable)
            if isinstance(n, Constant) and n.number is not None:
                entry["number"] = n.number  # stays a Python number for the ops (see Constant)
            elif n._value is not None:
                values[f"node{i}"] = n._value
        nodes.append(entry)
    io.save({"format": FORMAT, "version": VERSION, "nodes": nodes, "values": values}, path)
    return path


def load(location) -> Graph:
    """A new Graph with the saved nodes, names and variable values; CheckpointError if the file is damaged."""
    path = graph_path(location)
    if not path.exists() and (path.parent / LEGACY).exists():
        raise io.CheckpointError(
            f"graphgrad.graph.load: {path.parent} holds a graph in the format of an earlier graphgrad "
            f"(graph.json + values.npz); load it with that version and save it again"
        )
    saved = io.load(path)

    def bad(message: str):
        return io.CheckpointError(f"graphgrad.graph.load: {path}: {message}")

    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise bad(f"not a graphgrad graph (format {FORMAT!r} expected)")
    if saved.get("version") != VERSION:
        raise bad(f"format version {saved.get('version')!r:.20}; this graphgrad reads version {VERSION}")
    nodes, values = saved.get("nodes"), saved.get("values")
    if not isinstance(nodes, list) or not isinstance(values, dict):
        raise bad("'nodes' must be a list and 'values' a dict")
    graph, made = Graph(), []
    for i, entry in enumerate(nodes):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise bad(f"node {i} is not an entry with a name")
        name, parents = entry["name"], entry.get("parents")
        if not (isinstance(parents, list) and all(_is_index(p, i) for p in parents)):
            raise bad(f"node {i} ({name!r}): parents {parents!r:.60} must be indices of earlier nodes")
        value = values.get(f"node{i}")
        try:
            node = _build(entry, [made[p] for p in parents], value, graph, bad, i)
        except io.CheckpointError:
            raise
        except Exception as err:  # a config the op refuses, a value of the wrong shape, ...
            raise bad(f"node {i} ({name!r}) cannot be rebuilt: {type(err).__name__}: {err}") from None
        if entry.get("matrix", False) is not False:
            if entry["matrix"] is not True:
                raise bad(f"node {i} ({name!r}): matrix must be true or absent, got {entry['matrix']!r:.20}")
            node.matrix_api = True
        made.append(node)
    return graph


def _is_index(p, i: int) -> bool:
    return isinstance(p, int) and not isinstance(p, bool) and 0 <= p < i


def _build(entry: dict, parents: list, value, graph: Graph, bad, i: int):
    name, kind = entry["name"], entry.get("kind")
    if kind == "operation":
        cls = Function.registry.get(entry.get("op")) if isinstance(entry.get("op"), str) else None
        if cls is None:
            raise bad(
                f"node {name!r} uses Function {entry.get('op')!r:.60}, which is not defined; "
                f"import the module that defines it before loading"
            )
        config = entry.get("config")
        if not isinstance(config, dict):
            raise bad(f"node {i} ({name!r}): config must be a dict")
        return Operation(cls, *parents, config={k: _decode(v) for k, v in config.items()}, graph=graph, name=name)
    if kind not in ("constant", "variable"):
        raise bad(f"node {i} ({name!r}) has unknown kind {kind!r:.40}")
    shape = entry.get("shape")
    if not (isinstance(shape, list) and all(n is None or (isinstance(n, int) and not isinstance(n, bool) and n >= 0)
                                            for n in shape)):
        raise bad(f"node {i} ({name!r}): shape {shape!r:.60} must be a list of sizes >= 0 (or null)")
    if parents:
        raise bad(f"node {i} ({name!r}): a {kind} has no parents")
    if kind == "constant":
        number = entry.get("number")
        if number is not None:
            if not isinstance(number, (int, float)) or isinstance(number, bool):
                raise bad(f"node {i} ({name!r}): number {number!r:.40} must be a number")
            return Constant(float(number), graph=graph, name=name)
        if value is None:
            raise bad(f"node {i} ({name!r}): a constant without a value")
        return Constant(value, graph=graph, name=name)
    trainable = entry.get("trainable")
    if not isinstance(trainable, bool):
        raise bad(f"node {i} ({name!r}): trainable must be true or false")
    return Variable(tuple(shape), init=False if value is None else value, trainable=trainable, graph=graph, name=name)


def _encode(x):
    """JSON form of a Function's constructor arguments."""
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, list):
        return [_encode(v) for v in x]
    if isinstance(x, tuple):
        return {"tuple": [_encode(v) for v in x]}
    if isinstance(x, slice):
        return {"slice": [_encode(x.start), _encode(x.stop), _encode(x.step)]}
    if x is Ellipsis:
        return {"ellipsis": True}
    if isinstance(x, np.ndarray):
        return {"array": x.tolist(), "dtype": x.dtype.name}
    if isinstance(x, np.dtype):
        return {"dtype_of": x.name}
    raise TypeError(f"save: cannot store an operation argument of type {type(x).__name__} ({x!r}) as JSON")


def _decode(x):
    if isinstance(x, list):
        return [_decode(v) for v in x]
    if not isinstance(x, dict):
        return x
    if "tuple" in x:
        return tuple(_decode(v) for v in x["tuple"])
    if "slice" in x:
        return slice(*x["slice"])
    if "ellipsis" in x:
        return Ellipsis
    if "array" in x:
        return np.asarray(x["array"], dtype=x["dtype"])
    if "dtype_of" in x:
        return np.dtype(x["dtype_of"])
    raise ValueError(f"load: unknown tagged value {x!r} in an operation's arguments")
