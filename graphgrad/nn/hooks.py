"""Forward hooks on modules: functions run before or after a module's forward, removable by handle.

A module without hooks pays one class-attribute read per call (`Module._has_hooks`); registering
a hook gives the module its own hook tables and switches it to `call_with_hooks`.
"""
from __future__ import annotations

import itertools
from collections import OrderedDict
from typing import Any, Callable

_ids = itertools.count()


class RemovableHandle:
    """What `register_forward_hook` returns: `.remove()` unregisters the hook (also as a context manager)."""

    def __init__(self, table: OrderedDict, key: int, module):
        """The hook table of `module` and the hook's key in it."""
        self.table, self.id, self.module = table, key, module

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        self.table.pop(self.id, None)
        module = self.module
        module._has_hooks = bool(module._forward_pre_hooks or module._forward_hooks)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def register(module, kind: str, hook: Callable, prepend: bool, with_kwargs: bool) -> RemovableHandle:
    """Add `hook` to `module`'s pre- or post-forward table (kind 'pre' or 'post')."""
    if not callable(hook):
        raise TypeError(f"register_forward_{'pre_' if kind == 'pre' else ''}hook: hook must be callable, got {hook!r}")
    if "_forward_hooks" not in module.__dict__:
        object.__setattr__(module, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(module, "_forward_hooks", OrderedDict())
    table = module._forward_pre_hooks if kind == "pre" else module._forward_hooks
    key = next(_ids)
    table[key] = (hook, with_kwargs)
    if prepend:
        table.move_to_end(key, last=False)
    object.__setattr__(module, "_has_hooks", True)
    return RemovableHandle(table, key, module)


def call_with_hooks(module, args: tuple, kwargs: dict) -> Any:
    """module.forward(*args, **kwargs) with its pre-hooks before and its forward hooks after, in order."""
    for hook, with_kwargs in list(module._forward_pre_hooks.values()):
        if with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"forward pre-hook {hook!r} with with_kwargs=True must return None or (args, kwargs), "
                        f"got {result!r:.80}"
                    )
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    output = module.forward(*args, **kwargs)
    for hook, with_kwargs in list(module._forward_hooks.values()):
        result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
        if result is not None:
            output = result
    return output
