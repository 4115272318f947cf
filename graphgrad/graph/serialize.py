"""Saving and loading static graphs: the structure as JSON, the variables' values as `.npz`.

No pickle is involved: operations are stored by the registry key of their Function class (its
name for graphgrad's own, module.qualname for yours), looked up on load in `Function.registry`, and their
constructor arguments as JSON (tuples, slices and small index arrays are tagged).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .. import ops  # noqa: F401  (defines and so registers every built-in op)
from ..autograd.function import Function, registry_key
from .graph import Graph
from .node import Constant, Operation, Variable

FORMAT, VERSION = "graphgrad.graph", 1
STRUCTURE, VALUES = "graph.json", "values.npz"

def register_function(cls: type) -> type:
    """Kept for old code: every Function subclass is registered when it is defined (Function.registry)."""
    if not (isinstance(cls, type) and issubclass(cls, Function)):
        raise TypeError(f"register_function: expected a Function subclass, got {cls!r}")
    return cls


def save(graph: Graph, directory) -> None:
    """Write `directory/graph.json` (nodes, ops, wiring) and `directory/values.npz` (variable values)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    index = {id(n): i for i, n in enumerate(graph.nodes)}
    nodes, values = [], {}
    for i, n in enumerate(graph.nodes):
        entry = {"name": n.name, "parents": [index[id(p)] for p in n.parents]}
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
            if n._value is not None:
                values[f"node{i}"] = n._value
        nodes.append(entry)
    _write_atomic(directory / STRUCTURE, json.dumps({"format": FORMAT, "version": VERSION, "nodes": nodes}, indent=1).encode())
    tmp = directory / (VALUES + ".tmp.npz")
    np.savez(tmp, **values)
    os.replace(tmp, directory / VALUES)


def load(directory) -> Graph:
    """A new Graph with the saved nodes, names and variable values."""
    directory = Path(directory)
    meta = json.loads((directory / STRUCTURE).read_text())
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ValueError(f"load: {directory / STRUCTURE} is not a graphgrad graph (format {FORMAT} v{VERSION})")
    with np.load(directory / VALUES, allow_pickle=False) as archive:
        values = {k: archive[k] for k in archive.files}
    graph, made = Graph(), []
    for i, entry in enumerate(meta["nodes"]):
        parents = [made[p] for p in entry["parents"]]
        value = values.get(f"node{i}")
        if entry["kind"] == "operation":
            cls = Function.registry.get(entry["op"])
            if cls is None:
                raise ValueError(
                    f"load: node {entry['name']!r} uses Function {entry['op']!r}, which is not defined; "
                    f"import the module that defines it before loading"
                )
            node = Operation(cls, *parents, config={k: _decode(v) for k, v in entry["config"].items()}, graph=graph, name=entry["name"])
        elif entry["kind"] == "constant":
            node = Constant(value, graph=graph, name=entry["name"])
        else:
            shape = tuple(entry["shape"])
            node = Variable(shape, init=False if value is None else value, trainable=entry["trainable"],
                            graph=graph, name=entry["name"])
        made.append(node)
    return graph


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


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
