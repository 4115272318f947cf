"""Function: one operation with a forward and a backward, used by hand or recorded in a graph.

A Function is the textbook's layer: `forward(*xs)` computes from arrays, naming what backward
needs with `save_for_backward`; `backward(*gys)` turns the gradient of the final result with
respect to each output into the gradient with respect to each input (local derivative times
upstream gradient). Calling a Function on tensors runs the same forward and records it for the
engine; calling it on static-graph nodes builds an Operation node instead.

A subclass declares what the rest of graphgrad derives from it: its public `name` (and
`aliases`), whether it is also a tensor `method` or an `operator`, its drawing `symbol`, and
whether it is `elementwise`. Its configuration is its `__init__` arguments, kept as attributes of
the same names. Every subclass is registered by name in `Function.registry`.
"""
from __future__ import annotations

import inspect
import weakref

import numpy as np

from . import mode
from ..backend import as_array, numpy_ops

_new = object.__new__
_EVERY_INPUT = (True,) * 16  # driven by hand, every input's gradient is wanted
_state = mode.state  # this thread's autograd modes
NODE_TYPES: list = []  # classes whose instances build static-graph nodes (graphgrad.graph registers Node)
NEW_OP_HOOKS: list = []  # called with each Function subclass defined after graphgrad.ops was built
_HOST = {np.ndarray}  # NumPy array types the fast paths take (inplace.py adds its Storage subclass)
inplace_writes = 0  # in-place writes so far (autograd/inplace.py counts them); recorded ops note it as `epoch`


class Function:
    """Base class of every operation; subclass it with `forward` and `backward` to add your own."""

    # ---- declarations (read by graphgrad.ops' surface builder, the graph, the visualiser) -----
    name: str | None = None  # public function name: graphgrad.<name>, graphgrad.graph.<name>
    aliases: tuple = ()  # more public names for the same function
    method: bool | str = False  # also a Tensor / Node method (True: under `name`)
    operator: str | None = None  # "add" gives __add__ and __radd__; a unary op "neg" gives __neg__
    symbol: str | None = None  # how the visualiser draws it (default: the class name)
    elementwise = False  # output element k depends on input element k only
    registry: dict = {}  # every Function subclass, by registry key (graphgrad's own: the class name)

    # ---- per-call state --------------------------------------------------------------------
    xp = numpy_ops  # the array namespace forward and backward compute with (set per call)
    saved: tuple | None = ()  # what forward saved for backward; None once released
    inputs: tuple = ()  # the Tensors it was called on, once recorded
    outputs: tuple = ()  # weak references to the Tensors it made
    needs_input_grad: tuple = _EVERY_INPUT  # which inputs want a gradient
    released = False  # True once backward has freed what forward saved
    epoch = 0  # `inplace_writes` when recorded: backward checks saved values only if a write came later

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Function.registry[registry_key(cls)] = cls
        for hook in NEW_OP_HOOKS:
            hook(cls)

    def forward(self, *xs):
        """Compute the output array (or a tuple of arrays) from the input arrays `xs`.

        Computes with `self.xp`, the inputs' array namespace, and keeps what backward needs with
        `save_for_backward`. What an op computes is stated in its class's docstring.
        """
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def backward(self, *gys):
        """The gradient of the final result w.r.t. each input, from `gys`, its gradient w.r.t. each output.

        Each is the op's local derivative (stated in its class's docstring) applied to the upstream
        gradient. Returns a tuple, one entry per input (None where `needs_input_grad` says it is
        not wanted; a gradient of a broadcast input's shape is summed back to it), or one value for
        an op of one input. Under create_graph `gys` and the saved values are Tensors and `self.xp`
        is graphgrad's own ops, so the gradient is recorded and can be differentiated again.
        """
        raise NotImplementedError(f"{type(self).__name__} must define backward()")

    def save_for_backward(self, *values) -> None:
        """Keep `values` (inputs, outputs or constants such as masks) for backward, as `self.saved`.

        Under create_graph the engine shows backward the recorded Tensors in place of saved inputs
        and outputs (so the gradient is differentiable through them); release frees them.
        """
        self.saved = values

    def config(self) -> dict:
        """The op's configuration: its `__init__` arguments, read back from the attributes of the same name."""
        out = {}
        for p in init_parameters(type(self)):
            try:
                out[p] = getattr(self, p)
            except AttributeError:
                raise TypeError(
                    f"{type(self).__name__}: __init__ argument {p!r} must be kept as self.{p} "
                    f"(graphgrad reads an op's configuration back from its attributes)"
                ) from None
        return out

    def __call__(self, *inputs):
        for x in inputs:
            if not isinstance(x, Tensor):
                if NODE_TYPES and any(isinstance(i, tuple(NODE_TYPES)) for i in inputs):
                    return _to_node(self, inputs)
                inputs = _wrap_constants(inputs)
                break
        n = len(inputs)  # the usual arities unrolled: comprehensions would cost more than the bookkeeping
        if n == 1:
            (a,) = inputs
            da = a.data
            if type(da) is not np.ndarray:
                (da,) = self._arrays(inputs)
            ys, needs = self.forward(da), (a.requires_grad,)
        elif n == 2:
            a, b = inputs
            da, db = a.data, b.data
            if type(da) is not np.ndarray or type(db) is not np.ndarray:
                da, db = self._arrays(inputs)
            ys, needs = self.forward(da, db), (a.requires_grad, b.requires_grad)
        else:
            arrays = [t.data for t in inputs]
            if any(type(d) is not np.ndarray for d in arrays):
                arrays = self._arrays(inputs)
            ys = self.forward(*arrays)
            needs = tuple([t.requires_grad for t in inputs])
        if type(ys) is tuple:
            return self._record(inputs, needs, tuple([Tensor(self._as_output(y)) for y in ys]))
        out = _new(Tensor)  # Tensor(ys) without __init__'s checks: ys is this op's own fresh array
        out.data = ys if type(ys) in _HOST else self._as_output(ys)
        if _state.anomaly:
            check_finite(self, "forward", (out,))
        if True in needs and _state.grad_enabled:  # the one-output case of _record, inlined
            self.inputs, self.needs_input_grad, self.outputs = inputs, needs, (weakref.ref(out),)
            out.creator, out.requires_grad = self, True
            if inplace_writes:
                self.epoch = inplace_writes
        return out

    def _arrays(self, inputs) -> list:
        """The inputs' arrays for forward: a leaf's Storage as a plain ndarray view (so NumPy fast paths
        take it; views share its version counter), and another library's arrays with `self.xp` set."""
        arrays, storage, foreign = [], False, False
        for t in inputs:
            d = t.data
            if type(d) is not np.ndarray:
                if type(d) in _HOST:
                    plain = d.__dict__.get("plain")  # one view per Storage, made on first use
                    if plain is None:
                        plain = d.plain = d.view(np.ndarray)
                    d, storage = plain, True
                else:
                    foreign = True
            arrays.append(d)
        if storage:
            self.input_views = arrays  # create_graph finds the inputs behind what forward saved
        if foreign:
            self.xp = _namespace(inputs, self)
        return arrays

    def _record(self, inputs: tuple, needs: tuple, outs: tuple) -> tuple:
        """Remember inputs and (weakly) outputs for backward, if any input requires grad."""
        if _state.anomaly:
            check_finite(self, "forward", outs)
        if True in needs and _state.grad_enabled:
            self.inputs, self.needs_input_grad = inputs, needs
            self.outputs = tuple([weakref.ref(o) for o in outs])
            self.epoch = inplace_writes
            for o in outs:
                o.creator, o.requires_grad = self, True
        return outs

    def _as_output(self, y):
        """Outputs must be arrays; a NumPy scalar (also one in `saved`) is replaced by the same 0-d array."""
        if type(y) is np.ndarray or (hasattr(y, "__array_namespace__") and not isinstance(y, np.generic)):
            return y
        arr = np.asarray(y) if isinstance(y, np.generic) else as_array(y)
        if self.saved:
            self.saved = tuple([arr if s is y else s for s in self.saved])
        return arr

    def release(self) -> None:
        """Free what forward saved, keeping the graph's structure and the op's configuration."""
        self.saved, self.released = None, True

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def registry_key(cls: type) -> str:
    """The name an op is saved under: the class name for graphgrad's own, module.qualname for others."""
    if cls.__module__.startswith("graphgrad."):
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


_PARAMS: dict = {}


def init_parameters(cls: type) -> tuple:
    """Names of `cls.__init__`'s arguments (its configuration)."""
    params = _PARAMS.get(cls)
    if params is None:
        sig = inspect.signature(cls.__init__) if cls.__init__ is not object.__init__ else None
        params = () if sig is None else tuple(
            p.name for p in list(sig.parameters.values())[1:] if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )
        _PARAMS[cls] = params
    return params


def _namespace(inputs, fn=None):
    """The array namespace of the inputs; every array must come from one library and one device."""
    from ..backend import namespace

    spaces = {id(namespace(t.data)): namespace(t.data) for t in inputs}
    xp = next(iter(spaces.values()))
    if len(spaces) > 1 or (xp is not numpy_ops and len({str(xp.device(t.data)) for t in inputs}) > 1):
        raise _mixed_devices(inputs, fn)
    return xp


def _mixed_devices(inputs, fn) -> RuntimeError:
    """PyTorch's error for inputs on different devices (or from different array libraries)."""
    from ..backend.devices import device_of

    names = list(dict.fromkeys(str(device_of(t.data)) for t in inputs))
    op = f"{type(fn).__name__}: " if fn is not None else ""
    if len(names) > 1:
        return RuntimeError(
            f"{op}Expected all tensors to be on the same device, but found at least two devices, "
            f"{names[0]} and {names[1]}! Move them to one device first (tensor.to(device))"
        )
    kinds = ", ".join(dict.fromkeys(f"{type(t.data).__module__}.{type(t.data).__name__}" for t in inputs))
    return RuntimeError(f"{op}inputs on {names[0]} come from different array libraries ({kinds}); convert them to one first")


def _to_node(fn: Function, inputs: tuple):
    """The static-graph node computing `fn` of `inputs` (graphgrad.graph's Node does the work)."""
    node_type = next(type(x) for x in inputs if isinstance(x, tuple(NODE_TYPES)))
    return node_type.__graphgrad_function__(fn, inputs)


def _wrap_constants(inputs) -> tuple:
    """Wrap non-tensor inputs as constants. Python numbers follow PyTorch's promotion: they take the
    dtype of the tensors beside them unless they are of a higher kind (a float beside an int or bool
    tensor gives the default float dtype, float32; an int beside a bool tensor gives int64)."""
    tensors = [x.data for x in inputs if isinstance(x, Tensor)]
    ref = max(tensors, key=_kind_rank) if tensors else None
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            out.append(x)
        elif isinstance(x, (int, float, bool)) and ref is not None:
            dtype = _scalar_dtype(ref.dtype, x)
            if type(ref) in _HOST:
                out.append(Tensor(np.asarray(x, dtype=dtype)))
            else:
                from ..backend import namespace

                xp = namespace(ref)
                out.append(Tensor(xp.asarray(x, dtype=xp.dtype(dtype), device=xp.device(ref))))
        elif isinstance(x, (list, tuple)) and any(isinstance(i, Tensor) for i in x):
            raise TypeError(
                f"{type(x).__name__} of tensors given where one tensor was expected; "
                f"stack them first (graphgrad.stack)"
            )
        else:
            arr = as_array(x)
            if arr.dtype == object:
                raise TypeError(f"cannot make a tensor from {type(x).__name__} {x!r:.60}: not numeric data")
            out.append(Tensor(arr))
    if ref is not None and any(isinstance(x, float) for x in inputs) and _kind_rank(ref) < 2:
        # an int tensor with a Python float computes in the default float dtype (NumPy would give float64)
        out = [Tensor(t.data.astype(np.float32)) if isinstance(t.data, np.ndarray) and t.data.dtype.kind in "iub"
               else t for t in out]
    return tuple(out)


_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _kind_rank(a) -> int:
    return _RANK.get(getattr(a.dtype, "kind", "f"), 2)


def _scalar_dtype(dtype, x):
    """The dtype a Python number takes beside tensors of `dtype` (PyTorch's rule for "wrapped numbers")."""
    kind = getattr(dtype, "kind", "f")
    rank = _RANK.get(kind, 2)
    if isinstance(x, bool):
        return dtype
    if isinstance(x, int):
        return dtype if rank >= 1 else np.int64
    if isinstance(x, float):
        return dtype if rank >= 2 else np.float32
    return np.result_type(dtype, x)


def check_finite(fn: Function, phase: str, arrays) -> None:
    """Raise FloatingPointError naming `fn` if any array holds NaN or Inf (anomaly mode)."""
    from ..backend import is_floating, to_numpy

    for i, a in enumerate(arrays):
        a = a.data if isinstance(a, Tensor) else a
        if a is None or not is_floating(a.dtype):
            continue
        if not np.isfinite(to_numpy(a)).all():
            what = "output" if phase == "forward" else "gradient for input"
            raise FloatingPointError(
                f"detect_anomaly: {type(fn).__name__}.{phase} produced NaN or Inf in its {what} {i} "
                f"(shape {tuple(a.shape)})"
            )


from .tensor import Tensor  # noqa: E402  (tensor.py needs Function defined first)
