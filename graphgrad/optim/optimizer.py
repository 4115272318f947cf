"""Optimizer: parameter groups, per-parameter state, step / zero_grad / state_dict (PyTorch's interface).

Subclasses only name their defaults and which rule of `updates` they apply.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from ..autograd import mode
from ..backend import devices, to_numpy
from ..nn.parameter import zero_grads


class Optimizer:
    """Base class: holds `param_groups` (dicts of params and hyper-parameters) and `state` per parameter."""

    def __init__(self, params: Iterable, defaults: dict):
        """Parameters (or parameter groups as dicts) and the defaults every group starts from."""
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: dict = {}  # Parameter -> the dict its update rule keeps
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list; pass model.parameters()")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a group of parameters with its own hyper-parameters (the rest from the defaults)."""
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if hasattr(params, "data") else list(params)
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in group["params"]:
            if not hasattr(p, "data") or not hasattr(p, "grad"):
                raise TypeError(f"{type(self).__name__}: parameters must be Tensors, got {type(p).__name__}")
            if id(p) in seen:
                raise ValueError(f"{type(self).__name__}: a parameter appears in more than one group")
            seen.add(id(p))
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (set it to None), or with set_to_none=False zero it, keeping
        the same grad Tensor objects."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable | None = None):
        """Update every parameter that has a gradient, in place; `closure` re-computes and returns the loss."""
        loss = None
        if closure is not None:
            with mode.enable_grad():
                loss = closure()
        rule, state = self.rule, self.state
        for group in self.param_groups:
            hyper = self.rule_arguments(group)
            for p in group["params"]:
                if p.grad is None:
                    continue
                s = state.get(p)
                if s is None:
                    s = state[p] = {}
                (rule if type(p.data) is np.ndarray else _rule_for(rule, p.data))(p.data, p.grad.data, s, **hyper)
        return loss

    @staticmethod
    def rule(param: np.ndarray, grad: np.ndarray, state: dict, **hyper) -> None:
        """The update rule from `graphgrad.optim.updates` that subclasses set (e.g. `rule = staticmethod(sgd_step)`)."""
        raise NotImplementedError("an Optimizer subclass must set `rule` to a function of graphgrad.optim.updates")

    def rule_arguments(self, group: dict) -> dict:
        """The keyword arguments `rule` takes, from a parameter group (by default: the keys of the defaults)."""
        return {k: group[k] for k in self.defaults}

    def state_dict(self) -> dict:
        """{'state': {index: {...}}, 'param_groups': [...]} with parameters replaced by their index."""
        index, groups = {}, []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": [index[id(p)] for p in group["params"]]})
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and per-parameter state saved by `state_dict()` (arrays are copied)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state has {len(groups)} parameter groups, "
                f"this optimizer {len(self.param_groups)}"
            )
        by_index = {}
        for mine, saved in zip(self.param_groups, groups):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: a group has {len(saved['params'])} parameters "
                    f"in the state but {len(mine['params'])} here"
                )
            for p, i in zip(mine["params"], saved["params"]):
                by_index[int(i)] = p
            mine.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {}
        for i, s in state_dict["state"].items():
            p = by_index[int(i)]
            restored = {}
            for key, value in s.items():
                if devices.is_array(value) and value.ndim > 0:
                    if tuple(value.shape) != tuple(p.data.shape):
                        raise ValueError(
                            f"{type(self).__name__}.load_state_dict: state {key!r} of parameter {i} has shape "
                            f"{tuple(value.shape)}, the parameter {tuple(p.data.shape)}"
                        )
                    # a copy, on the parameter's device, in its namespace
                    value = devices.convert(value, devices.device_of(p.data), p.data.dtype, copy=True)
                elif devices.is_array(value):
                    value = to_numpy(value).item()
                restored[key] = value
            self.state[p] = restored

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in group.items() if k != "params"]
        return "\n".join(lines) + "\n)"


def _rule_for(rule: Callable, param) -> Callable:
    """The update rule for a parameter off NumPy: CuPy's fused kernel where one exists, else `rule` itself."""
    if devices.is_cupy(param):
        from ..backend import cuda_kernels

        return cuda_kernels.FUSED_RULES.get(rule.__name__, rule)
    return rule
