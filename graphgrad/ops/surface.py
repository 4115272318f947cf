"""The public surface derived from the op declarations: functions, tensor methods and operators.

Every op class that declares a `name` becomes a function (`graphgrad.exp`, `graphgrad.sum`, ...)
whose signature is the op's inputs (its `forward` arguments) followed by its configuration (its
`__init__` arguments); an op may instead give a hand-written `function` (a staticmethod).
`method` adds the same function as a method of every class passed to `install_methods`
(Tensor and the static graph's Node), `operator` its Python operators. Functions and methods
are compiled with exact signatures, so they cost what a hand-written wrapper costs.
"""
from __future__ import annotations

import inspect

from ..autograd.function import Function, init_parameters

_EMPTY = inspect.Parameter.empty
UNARY_OPERATORS = {"neg", "abs", "pos", "invert"}
# NumPy's and PyTorch's spellings of the same argument: a function taking one also accepts the other.
ALIASES = {"axis": "dim", "keepdims": "keepdim", "dim": "axis", "keepdim": "keepdims"}


class _Unset:
    """The default of an argument that its other spelling may give (shown as `unset` in signatures)."""

    def __repr__(self) -> str:
        return "unset"


_UNSET = _Unset()


def _alias_lines(names: list, required=(), fname: str = "") -> tuple[list, list]:
    """Keyword-only parameters for the other spelling of each aliased argument, and the lines using them
    (a required argument given by its other name is checked for)."""
    params, lines = [], []
    for name in names:
        other = ALIASES.get(name)
        if other and other not in names:
            params.append(f"{other}=_UNSET")
            lines.append(f"    if {other} is not _UNSET:\n        {name} = {other}\n")
            if name in required:
                lines.append(f"    if {name} is _UNSET:\n        raise TypeError(\"{fname}() missing required "
                             f"argument '{name}' (or '{other}')\")\n")
    return params, lines


def _optional_if_aliased(params: list, required: set) -> list:
    """Required aliased parameters get the default _UNSET (the alias may give them); later ones follow suit."""
    out, after = [], False
    for p in params:
        bare = p.split("=")[0]
        if bare in required or (after and "=" not in p and not p.startswith("*")):
            out.append(f"{bare}=_UNSET")
            after = True
        else:
            out.append(p)
    return out


def with_aliases(f):
    """`f`, or a wrapper of the same signature that also takes the other spelling of `axis`/`dim`, `keepdims`/`keepdim`."""
    sig = inspect.signature(f)
    names = list(sig.parameters)
    required = {n for n, p in sig.parameters.items() if p.default is _EMPTY and n in ALIASES
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    extra, lines = _alias_lines(names, required, f.__name__)
    if not extra:
        return f
    params, call, env, star = [], [], {"_f": f, "_UNSET": _UNSET}, False
    for i, p in enumerate(sig.parameters.values()):
        if p.kind is p.VAR_POSITIONAL:
            params.append(f"*{p.name}")
            call.append(f"*{p.name}")
            star = True
        elif p.kind is p.VAR_KEYWORD:
            raise TypeError(f"{f.__name__}: **kwargs cannot take argument aliases")
        else:
            if p.kind is p.KEYWORD_ONLY and not star:
                params.append("*")
                star = True
            default = "" if p.default is _EMPTY else f"=_d{i}"
            env[f"_d{i}"] = p.default
            params.append(p.name + default)
            call.append(f"{p.name}={p.name}" if p.kind is p.KEYWORD_ONLY else p.name)
    if not star:
        params.append("*")
    params = _optional_if_aliased(params, required)
    src = (f"def {f.__name__}({', '.join(params + extra)}):\n" + "".join(lines)
           + f"    return _f({', '.join(call)})\n")
    exec(compile(src, f"<graphgrad.ops {f.__name__}>", "exec"), env)
    g = env[f.__name__]
    g.__doc__, g.__module__ = f.__doc__, "graphgrad"
    return g


def public_ops() -> list[type]:
    """Op classes that declare a public name, in definition order."""
    return [cls for cls in Function.registry.values() if cls.__dict__.get("name")]


def make_function(cls: type):
    """The functional form of op `cls`: inputs, then configuration, building and calling the op."""
    own = cls.__dict__.get("function")
    if own is not None:
        f = own.__func__ if isinstance(own, staticmethod) else own
        f.__name__ = cls.name
        f.__qualname__ = cls.name
        if not f.__doc__ and cls.__doc__:  # a lambda declared as the function: the class says what it does
            f.__doc__ = cls.__doc__.strip().splitlines()[0]
        return with_aliases(f)
    fwd = list(inspect.signature(cls.forward).parameters.values())[1:]
    params, inputs, optional, env = [], [], [], {"_cls": cls}
    variadic = any(p.kind is p.VAR_POSITIONAL for p in fwd)
    for p in fwd:
        if p.kind is p.VAR_POSITIONAL:
            params.append(p.name)  # a sequence of inputs: concatenate(xs, axis)
        elif p.default is _EMPTY:
            params.append(p.name)
            inputs.append(p.name)
        else:
            params.append(f"{p.name}=None")
            optional.append(p.name)
    init = inspect.signature(cls.__init__) if cls.__init__ is not object.__init__ else None
    config = []
    for i, name in enumerate(init_parameters(cls)):
        default = init.parameters[name].default
        if default is _EMPTY:
            params.append(name)
        else:
            env[f"_d{i}"] = default
            params.append(f"{name}=_d{i}")
        config.append(name)
    make = f"_cls({', '.join(config)})"
    if variadic:
        call = f"{make}(*{fwd[0].name})"
    elif optional:
        present = " + ".join(f"(({o},) if {o} is not None else ())" for o in optional)
        call = f"{make}(*(({', '.join(inputs)},) + {present}))"
    else:
        call = f"{make}({', '.join(inputs)})"
    doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else cls.name
    names = [p.split("=")[0] for p in params]
    required = {p for p in params if "=" not in p and p in ALIASES}
    extra, lines = _alias_lines(names, required, cls.name)
    params = _optional_if_aliased(params, required) if extra else params
    env["_UNSET"] = _UNSET
    star = ["*"] if extra else []
    src = f"def {cls.name}({', '.join(params + star + extra)}):\n{''.join(lines)}    return {call}\n"
    exec(compile(src, f"<graphgrad.ops {cls.name}>", "exec"), env)
    f = env[cls.name]
    f.__doc__ = doc
    f.__module__ = "graphgrad"
    return f


def make_method(name: str, f):
    """A method calling `f(self, ...)` with f's signature minus its first argument."""
    sig = inspect.signature(f)
    params, call, env = [], [], {"_f": f}
    star = False
    for i, p in enumerate(list(sig.parameters.values())[1:]):
        if p.kind is p.VAR_POSITIONAL:
            params.append(f"*{p.name}")
            call.append(f"*{p.name}")
            star = True
        elif p.kind is p.VAR_KEYWORD:
            params.append(f"**{p.name}")
            call.append(f"**{p.name}")
        else:
            if p.kind is p.KEYWORD_ONLY and not star:
                params.append("*")
                star = True
            if p.default is _EMPTY:
                params.append(p.name)
            else:
                env[f"_d{i}"] = p.default
                params.append(f"{p.name}=_d{i}")
            call.append(f"{p.name}={p.name}" if p.kind is p.KEYWORD_ONLY else p.name)
    src = f"def {name}(self{''.join(', ' + p for p in params)}):\n    return _f(self{''.join(', ' + c for c in call)})\n"
    exec(compile(src, f"<graphgrad.ops method {name}>", "exec"), env)
    m = env[name]
    m.__doc__ = f.__doc__
    return m


def make_operators(cls: type, f) -> dict:
    """Python operators of op `cls`: __op__ and the reflected __rop__, or the unary __op__."""
    op = cls.operator
    if op in UNARY_OPERATORS:
        return {f"__{op}__": _compile(f"def __{op}__(self):\n    return _f(self)\n", f)}
    if op == "getitem":
        return {"__getitem__": _compile("def __getitem__(self, index):\n    return _f(self, index)\n", f)}
    return {
        f"__{op}__": _compile(f"def __{op}__(self, other):\n    return _f(self, other)\n", f),
        f"__r{op}__": _compile(f"def __r{op}__(self, other):\n    return _f(other, self)\n", f),
    }


def _compile(src: str, f):
    env = {"_f": f}
    exec(compile(src, "<graphgrad.ops operator>", "exec"), env)
    return next(v for k, v in env.items() if k != "_f" and callable(v) and not k.startswith("__builtins"))


def build() -> tuple[dict, dict]:
    """(functions by public name, methods and operators by attribute name) for every public op."""
    functions, members, owners = {}, {}, {}
    for cls in public_ops():
        f = make_function(cls)
        for name in (cls.name, *cls.aliases):
            if name in owners:  # two definitions of one name: the later would silently replace the earlier
                raise TypeError(f"op name {name!r} is declared by both {owners[name].__qualname__} and {cls.__qualname__}")
            functions[name], owners[name] = f, cls
        if cls.method:
            for name in ((cls.name if cls.method is True else cls.method), *cls.aliases):
                members[name] = make_method(name, f)
        if cls.operator:
            members.update(make_operators(cls, f))
    return functions, members
