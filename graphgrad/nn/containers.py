"""Containers that register what they hold: ModuleList, ModuleDict, ParameterList (PyTorch's).

Entries are registered under their index ('0', '1', ...) or key, so `parameters()`, `state_dict()`,
`to()` and `train()` reach them; they have no forward of their own.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Mapping

from .module import Module
from .parameter import Parameter


def _index(container: Module, index: int, what: str) -> int:
    """`index` as a position in [0, len), negative counting from the end; IndexError naming the container."""
    n = len(container)
    if not isinstance(index, int) or isinstance(index, bool):
        raise TypeError(f"{what} indices must be integers or slices, not {type(index).__name__}")
    if not -n <= index < n:
        raise IndexError(f"{what} index {index} is out of range for length {n}")
    return index % n


class ModuleList(Module):
    """A list of modules, each registered as a child ('0', '1', ...)."""

    def __init__(self, modules: Iterable[Module] | None = None):
        """Start with `modules` (any iterable of Modules), or empty."""
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _check(self, module) -> Module:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: {type(module).__name__} is not a Module")
        return module

    def _renumber(self, modules: list) -> None:
        for key in list(self._modules):
            delattr(self, key)
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def append(self, module: Module) -> "ModuleList":
        """Add `module` at the end."""
        self.add_module(str(len(self)), self._check(module))
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        """Add every module of `modules` at the end."""
        for m in list(modules):
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put `module` before position `index`."""
        items = list(self._modules.values())
        items.insert(index, self._check(module))
        self._renumber(items)

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at `index`."""
        items = list(self._modules.values())
        module = items.pop(_index(self, index, "ModuleList"))
        self._renumber(items)
        return module

    def __getitem__(self, index):
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[_index(self, index, "ModuleList")]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(str(_index(self, index, "ModuleList")), self._check(module))

    def __delitem__(self, index) -> None:
        items = list(self._modules.values())
        if isinstance(index, slice):
            del items[index]
        else:
            del items[_index(self, index, "ModuleList")]
        self._renumber(items)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __iadd__(self, modules: Iterable[Module]) -> "ModuleList":
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> "ModuleList":
        return ModuleList([*self, *other])

    def forward(self, *args, **kwargs):
        """A ModuleList only holds modules: iterate over it in your own forward."""
        raise NotImplementedError("ModuleList has no forward(): call its modules in your own forward")


class ModuleDict(Module):
    """An ordered dict of modules, each registered as a child under its key."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        """Start with `modules` (a mapping, or (key, module) pairs), or empty."""
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict has no module {key!r}; keys: {list(self._modules)}") from None

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict keys must be strings, got {type(key).__name__}")
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        self[key]  # the KeyError naming the keys
        delattr(self, key)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def keys(self):
        """The keys, in insertion order."""
        return self._modules.keys()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self):
        """(key, module) pairs, in insertion order."""
        return self._modules.items()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace the entries of `modules` (a mapping, or (key, module) pairs)."""
        for key, module in (modules.items() if isinstance(modules, Mapping) else modules):
            self[key] = module

    def pop(self, key: str) -> Module:
        """Remove and return the module under `key`."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every entry."""
        for key in list(self._modules):
            del self[key]

    def forward(self, *args, **kwargs):
        """A ModuleDict only holds modules: pick them in your own forward."""
        raise NotImplementedError("ModuleDict has no forward(): call its modules in your own forward")


class ParameterList(Module):
    """A list of parameters, each registered ('0', '1', ...), so `parameters()` and `state_dict()` see them."""

    def __init__(self, values: Iterable | None = None):
        """Start with `values` (Parameters, or arrays and tensors made into Parameters), or empty."""
        super().__init__()
        if values is not None:
            self.extend(values)

    def append(self, value) -> "ParameterList":
        """Add `value` at the end (made a Parameter if it is not one)."""
        self.register_parameter(str(len(self)), value if isinstance(value, Parameter) else Parameter(value))
        return self

    def extend(self, values: Iterable) -> "ParameterList":
        """Add every entry of `values` at the end."""
        for v in list(values):
            self.append(v)
        return self

    def __getitem__(self, index):
        items = list(self._parameters.values())
        if isinstance(index, slice):
            return ParameterList(items[index])
        return items[_index(self, index, "ParameterList")]

    def __setitem__(self, index: int, value) -> None:
        i = _index(self, index, "ParameterList")
        self.register_parameter(str(i), value if isinstance(value, Parameter) else Parameter(value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(list(self._parameters.values()))

    def __iadd__(self, values: Iterable) -> "ParameterList":
        return self.extend(values)

    def extra_repr(self) -> str:
        """Each parameter's shape and dtype, for repr()."""
        return ", ".join(f"({i}): Parameter of shape {p.shape}, {p.dtype}" for i, p in enumerate(self))

    def forward(self, *args, **kwargs):
        """A ParameterList only holds parameters: use them in your own forward."""
        raise NotImplementedError("ParameterList has no forward(): use its parameters in your own forward")
