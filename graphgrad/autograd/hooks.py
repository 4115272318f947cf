"""Post-accumulate-grad hooks: `hook(leaf)` once a backward pass has put a leaf's final gradient in `.grad`.

`Tensor.register_post_accumulate_grad_hook(hook)` (PyTorch's name) adds one; `run_backward` calls
these helpers. A leaf's gradient is final when every function of the pass that takes it as an input
has run (or was skipped because no gradient reached it): the engine counts those edges down, and a
hook fires once per pass, right after the last contribution, and only if the leaf received one. Data-
parallel training starts the all-reduce of a bucket of gradients from such hooks, while backward
goes on through the earlier layers.
"""
from __future__ import annotations

from typing import Callable

registered = 0  # hooks alive anywhere: with none, the engine does not look for hooked leaves at all


class RemovableHandle:
    """What `register_post_accumulate_grad_hook` returns: `remove()` unregisters the hook (twice is harmless)."""

    def __init__(self, hooks: dict, key: int):
        """The handle of `hooks[key]`."""
        self.hooks, self.key = hooks, key

    def remove(self) -> None:
        """Unregister the hook; later backward passes no longer call it."""
        global registered
        if self.hooks.pop(self.key, None) is not None:
            registered -= 1

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_post_accumulate_grad_hook(leaf, hook: Callable) -> RemovableHandle:
    """Register `hook(leaf)` on a leaf tensor that requires grad; see Tensor.register_post_accumulate_grad_hook."""
    global registered
    if leaf.creator is not None:
        raise RuntimeError("register_post_accumulate_grad_hook: a non-leaf tensor accumulates no gradient; "
                           "register the hook on a leaf (a parameter)")
    if not leaf.requires_grad:
        raise RuntimeError("register_post_accumulate_grad_hook: this tensor does not require grad, so it never "
                           "gets a gradient; call requires_grad_() first")
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, got {type(hook).__name__}")
    if leaf.post_accumulate_grad_hooks is None:
        leaf.post_accumulate_grad_hooks = {}
    key = max(leaf.post_accumulate_grad_hooks, default=-1) + 1
    leaf.post_accumulate_grad_hooks[key] = hook
    registered += 1
    return RemovableHandle(leaf.post_accumulate_grad_hooks, key)


def hooked_leaves(roots, order) -> dict:
    """{id(leaf): [leaf, edges still to come, its .grad before the pass]} for the pass's leaves with hooks."""
    hooked: dict = {}
    for t in roots:
        if t.creator is None and t.post_accumulate_grad_hooks:
            hooked.setdefault(id(t), [t, 0, t.grad])
    for fn in order:
        for t in fn.inputs:
            if t.creator is None and t.post_accumulate_grad_hooks:
                hooked.setdefault(id(t), [t, 0, t.grad])[1] += 1
    return hooked


def count_down(fn, hooked: dict) -> None:
    """`fn` has given its inputs their gradients (or had none to give): fire the leaves now final."""
    for t in fn.inputs:
        entry = hooked.get(id(t))
        if entry is not None:
            entry[1] -= 1
            if entry[1] == 0:
                _fire(hooked.pop(id(t)))


def fire_remaining(hooked: dict) -> None:
    """At the end of the pass: the leaves no function feeds (a root that is a leaf)."""
    for entry in list(hooked.values()):
        _fire(entry)
    hooked.clear()


def _fire(entry: list) -> None:
    leaf, _, before = entry
    if leaf.grad is not before:  # gradients are never modified in place: a new .grad means one arrived
        for hook in list(leaf.post_accumulate_grad_hooks.values()):
            hook(leaf)
