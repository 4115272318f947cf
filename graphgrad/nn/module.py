"""Module: the base of every layer and network; it owns parameters, buffers and sub-modules.

Assigning a Parameter or a Module to an attribute registers it, in declaration order, so
`parameters()` and `state_dict()` list the same things in the same order on every run.
Registered objects also stay ordinary attributes, so `self.fc.weight` costs a plain lookup.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np

from ..backend import devices, is_floating, to_numpy
from . import hooks
from .parameter import Parameter, zero_grads
from ..autograd.tensor import unwrap


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` could not match."""

    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class for layers and networks: subclass it, assign layers in `__init__`, define `forward`."""

    training: bool

    def __init__(self) -> None:
        """Start with no parameters, buffers or sub-modules, in training mode."""
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    _has_hooks = False  # one attribute read per call while no hook is registered (the training step's path)

    def __call__(self, *args, **kwargs):
        if self._has_hooks:
            return hooks.call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> "hooks.RemovableHandle":
        """Call `hook(module, args)` before every forward; a non-None result replaces the positional
        arguments (a tuple, or one value). with_kwargs: `hook(module, args, kwargs)` returns (args, kwargs)."""
        return hooks.register(self, "pre", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False) -> "hooks.RemovableHandle":
        """Call `hook(module, args, output)` after every forward; a non-None result replaces the output.
        with_kwargs: `hook(module, args, kwargs, output)`. `.remove()` on the returned handle unregisters it."""
        return hooks.register(self, "post", hook, prepend, with_kwargs)

    # ---- registration -----------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() ran: call super().__init__() "
                f"first in {type(self).__name__}.__init__"
            )
        if name in self._buffers and devices.is_array(value):
            self._buffers[name] = value  # replacing a buffer keeps it a buffer
            object.__setattr__(self, name, value)
            return
        target = (self._parameters if isinstance(value, Parameter)
                  else self._modules if isinstance(value, Module) else None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not target:
                registry.pop(name, None)
        if target is not None:
            target[name] = value  # a replaced entry keeps its place, as in PyTorch
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` under `name` (None keeps the attribute but registers nothing)."""
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, array: np.ndarray | None) -> None:
        """Register state that is saved in `state_dict()` but not trained (e.g. running statistics)."""
        self._buffers.pop(name, None)
        setattr(self, name, array)
        if array is not None:
            self._buffers[name] = array

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register `module` as a child called `name`."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} is of type {type(module).__name__}, not a Module")
        setattr(self, name, module)

    # ---- traversal --------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """This module and every descendant, with dotted names, depth first in registration order
        (a module reachable twice is listed once, unless remove_duplicate=False)."""
        stack, seen = [(prefix, self)], set() if memo is None else memo
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if module in seen:
                    continue
                seen.add(module)
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        """This module and every descendant."""
        return (m for _, m in self.named_modules())

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """The direct sub-modules with their names."""
        return ((k, m) for k, m in self._modules.items() if m is not None)

    def children(self) -> Iterator["Module"]:
        """The direct sub-modules."""
        return (m for _, m in self.named_children())

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs in declaration order; a shared parameter appears once."""
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The trainable parameters, in declaration order."""
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """(dotted name, array) pairs of the registered buffers."""
        for mod_name, module in self.named_modules(prefix=prefix):
            for name, b in module._buffers.items():
                yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self) -> Iterator[np.ndarray]:
        """The registered buffers."""
        return (b for _, b in self.named_buffers())

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call `fn` on every sub-module, children before their parent (PyTorch's order), then on this
        module; for custom initialisation: `model.apply(init_weights)`."""
        stack = [(self, iter(list(self.children())))]  # iterative post-order, as the engine's search
        while stack:
            module, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                fn(module)
            else:
                stack.append((child, iter(list(child.children()))))
        return self

    # ---- modes and gradients ----------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (dropout active, batch statistics) here and in every descendant."""
        if not isinstance(mode, bool):
            raise ValueError(f"{type(self).__name__}.train: training mode is expected to be boolean, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Set evaluation mode (dropout off, running statistics); same as `train(False)`."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (set it to None), or with set_to_none=False zero it, keeping
        the same grad Tensor objects."""
        zero_grads(self.parameters(), set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Turn gradient collection on or off for every parameter (freezing layers)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, *args, **kwargs) -> "Module":
        """Move parameters and buffers to a device and/or convert floating ones to a dtype, in place:
        `to('cuda')`, `to('float64')`, `to(device, dtype)`. Parameters stay the same objects, so an
        optimizer made before the move keeps working."""
        target, dtype = devices.parse_to_args(args, kwargs, f"{type(self).__name__}.to")
        for p in self.parameters():
            converted = devices.convert(p.data, target, dtype)
            if dtype is not None and is_floating(p.data.dtype):
                p.grad = None
            elif p.grad is not None and target is not None:
                p.grad.data = devices.to_device(p.grad.data, target)
            p.data = converted
        for module in self.modules():
            for name, b in list(module._buffers.items()):
                module.register_buffer(name, devices.convert(b, target, dtype))
        return self

    def cuda(self, device=None) -> "Module":
        """Move to GPU `device` (an index or 'cuda:N'; default the current GPU), in place."""
        return self.to(devices.device("cuda", device) if isinstance(device, int) or device is None else device)

    def cpu(self) -> "Module":
        """Move parameters and buffers to host memory (NumPy), in place."""
        return self.to("cpu")

    def double(self) -> "Module":
        """Convert to float64."""
        return self.to(np.float64)

    def float(self) -> "Module":
        """Convert to float32."""
        return self.to(np.float32)

    # ---- state ------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Parameters and buffers by dotted name; the arrays are shared with the module, not copied."""
        state = OrderedDict()
        for mod_name, module in self.named_modules():
            prefix = f"{mod_name}." if mod_name else ""
            for name, p in module._parameters.items():
                state[prefix + name] = p.data
            for name, b in module._buffers.items():
                state[prefix + name] = b
        return state

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy `state_dict`'s arrays into this module's parameters and buffers, in place."""
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for key, target in own.items():
            if key in state_dict:
                value = to_numpy(unwrap(state_dict[key]))
                if value.shape != target.shape:
                    mismatched.append(f"{key}: checkpoint {value.shape}, model {target.shape}")
        problems = []
        if mismatched:
            problems.append("shape mismatch for " + "; ".join(mismatched))
        if strict and missing:
            problems.append("missing keys " + ", ".join(repr(k) for k in missing))
        if strict and unexpected:
            problems.append("unexpected keys " + ", ".join(repr(k) for k in unexpected))
        if problems:
            raise RuntimeError(
                f"load_state_dict for {type(self).__name__}: " + "; ".join(problems)
                + ("" if mismatched else "; pass strict=False to load the keys that match")
            )
        for key, target in own.items():
            if key in state_dict:
                # In place (on the target's device), so optimizers and views holding these arrays see the loaded values.
                devices.copy_into(target, unwrap(state_dict[key]))
        return IncompatibleKeys(missing, unexpected)

    # ---- display ----------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (its settings)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, module in self.named_children():
            body = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"
