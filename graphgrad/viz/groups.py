"""Groups: named boxes of operations (a module, a layer) that a picture can fold into one node.

An operation belongs to the innermost group that claimed it. A group is the set of operations
that compute its outputs from its inputs; `record_modules` claims them for every sub-module of a
model while it runs, so that a `Linear` shows as one box that expands to matmul + add.
"""
from __future__ import annotations

import contextlib
import weakref
from typing import Iterable, Iterator

from ..autograd.function import Function
from ..autograd.tensor import Tensor

# Function -> group name; weak so that tagging a graph never keeps it alive.
_MISSING = object()
_GROUP_OF: "weakref.WeakKeyDictionary[Function, str]" = weakref.WeakKeyDictionary()
# id(parameter) -> (weak reference, its dotted name "fc1.weight"), for labels; the tensor's own name
# wins. Keyed by identity: a Tensor's == compares values, so it cannot key a WeakKeyDictionary.
_PARAM_NAME: dict = {}


def _name_param(t: Tensor, name: str) -> None:
    key = id(t)
    _PARAM_NAME[key] = (weakref.ref(t, lambda _, key=key: _PARAM_NAME.pop(key, None)), name)


def group_of(fn: Function) -> str | None:
    """The name of the innermost group that claimed `fn`, or None."""
    return _GROUP_OF.get(fn)


def label_of(t: Tensor) -> str | None:
    """A tensor's name, or the dotted name `record_modules` found for a parameter, or None."""
    entry = _PARAM_NAME.get(id(t))
    return t.name or (entry[1] if entry is not None and entry[0]() is t else None)


def group(name: str, outputs, inputs: Iterable = ()) -> None:
    """Claim, as group `name`, every not-yet-claimed operation between `inputs` and `outputs`."""
    outs = [t for t in _tensors(outputs)]
    stop = {id(t) for t in _tensors(inputs)}
    stack = [t.creator for t in outs if t.creator is not None and id(t) not in stop]
    seen = set()
    while stack:  # iterative walk back from the outputs, stopping at the group's inputs
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        _GROUP_OF.setdefault(fn, name)
        for t in fn.inputs:
            if t.creator is not None and id(t) not in stop:
                stack.append(t.creator)


@contextlib.contextmanager
def record_modules(model, prefix: str | None = None) -> Iterator[None]:
    """While inside, every forward of `model`'s sub-modules claims its operations as a group.

    The group is named after the module path and class, e.g. ``fc1 (Linear)``; the model itself
    is named by `prefix` (its class name by default).
    """
    patched = []
    root_name = prefix or type(model).__name__
    for name, param in model.named_parameters():
        _name_param(param, name)
    for path, module in model.named_modules():
        label = f"{path} ({type(module).__name__})" if path else root_name
        own = vars(module).get("forward", _MISSING)  # a forward set on the instance is put back
        object.__setattr__(module, "forward", _claiming(module.forward, label))
        patched.append((module, own))
    try:
        yield
    finally:
        for module, own in patched:
            if own is _MISSING:
                object.__delattr__(module, "forward")
            else:
                object.__setattr__(module, "forward", own)


def _claiming(forward, label: str):
    """Wrap a module's bound forward so that the operations it records join group `label`."""

    def wrapper(*args, **kwargs):
        out = forward(*args, **kwargs)
        group(label, out, list(args) + list(kwargs.values()))
        return out

    wrapper.__wrapped__ = forward
    return wrapper


def _tensors(x) -> list[Tensor]:
    """The tensors inside `x` (a tensor, or lists/tuples/dicts of them); other values are ignored."""
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, dict):
        x = list(x.values())
    if isinstance(x, (list, tuple)):
        return [t for item in x for t in _tensors(item)]
    return []
