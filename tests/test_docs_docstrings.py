"""Every public name has a docstring: the API reference (mkdocstrings) is generated from them.

Public: a module, or a function or class defined in it whose name has no leading underscore, and
each method, property and `__init__` a public class defines itself. Aliases (`Affine = Linear`)
are checked under their own name; a property's docstring is the property's own (`property(f,
doc=...)` counts). Generated code (a dataclass's `__init__`, the op surface's compiled functions,
which take their op class's docstring) is not audited here.

One rule lets a name be documented by its base: the `forward` and `backward` of an op class (a
subclass of graphgrad.autograd.function.Function) count as documented when a base class in the
MRO documents them, so that `inspect.getdoc` and `help()` show Function.forward's and
Function.backward's general description (test_inherited_docstrings_show_in_help checks that
inspect.getdoc really finds it). What is particular to the op, its derivative, is said in the op
class's own docstring ("dy/dx = ...", "dy/dx·g = ...", or in words, "no gradient" included),
which test_every_op_class_states_its_derivative checks (loosely, by pattern). Every other method,
`f`/`df` of the elementwise math ops included, needs its own docstring.

Only "graphgrad.backend.cuda_kernels" is left out (it imports CuPy).
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import graphgrad
from graphgrad.autograd.function import Function

INHERITED = ("forward", "backward")  # an op class's overrides of these may take Function's docstring
# How an op's docstring states its derivative: dy/dx = ..., dxⱼ = ..., or in words.
DERIVATIVE = re.compile(r"\bd\w*/d|\bd\w+ =|gradient|backward|adjoint|derivative", re.IGNORECASE)

# Exact module names: a module not listed here, a new one included, is covered.
NOT_COVERED = (
    "graphgrad.backend.cuda_kernels",  # imports CuPy: audited where CuPy is installed
)


def modules() -> list:
    """Every public module of graphgrad this audit covers (imported: modules left out are not, so a
    module that needs an optional extra, such as CuPy's kernels, is skipped by name, not by error)."""
    found = [graphgrad]
    for info in pkgutil.walk_packages(graphgrad.__path__, "graphgrad.", onerror=lambda name: None):
        if not any(part.startswith("_") for part in info.name.split(".")) and _covered_name(info.name):
            found.append(importlib.import_module(info.name))
    return found


def undocumented(module) -> list[str]:
    """The public names of `module` without a docstring, as dotted paths."""
    missing = [] if module.__doc__ else [module.__name__]
    for name, obj in vars(module).items():
        if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if obj.__module__ != module.__name__ or obj.__name__ != name:
            continue  # imported here, or an alias: checked where it is defined
        if obj.__doc__ is None:
            missing.append(f"{module.__name__}.{name}")
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                fn = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
                generated = inspect.isfunction(fn) and fn.__code__.co_filename.startswith("<")  # dataclass __init__
                doc = member.__doc__ if isinstance(member, property) else fn.__doc__
                if inspect.isfunction(fn) and doc is None and not generated and not _inherits_doc(obj, attr):
                    missing.append(f"{module.__name__}.{name}.{attr}")
    return missing


def _inherits_doc(cls: type, attr: str) -> bool:
    """Whether `cls.attr` is an op's forward/backward that a base class in the MRO documents (the
    docstring `inspect.getdoc` and `help()` then show for it: test_inherited_docstrings_show_in_help)."""
    return issubclass(cls, Function) and attr in INHERITED and any(
        vars(base)[attr].__doc__ for base in cls.__mro__[1:] if attr in vars(base))


def inherited(module) -> list[tuple]:
    """(class, attr) for each forward/backward in `module` documented by a base only."""
    return [(obj, attr) for name, obj in vars(module).items()
            if inspect.isclass(obj) and issubclass(obj, Function) and obj.__module__ == module.__name__
            for attr in INHERITED if attr in vars(obj) and vars(obj)[attr].__doc__ is None]


def op_classes_without_derivative(module) -> list[str]:
    """The op classes defined in `module` that define `backward` but whose docstring says nothing of
    their derivative (a d/d formula, or what the gradient or backward is, or that there is none)."""
    missing = []
    for name, obj in vars(module).items():
        if name.startswith("_") or not (inspect.isclass(obj) and issubclass(obj, Function)
                                        and obj.__module__ == module.__name__ and obj.__name__ == name):
            continue
        if "backward" not in vars(obj) and "forward" not in vars(obj):
            continue
        if not DERIVATIVE.search(obj.__doc__ or ""):
            missing.append(f"{module.__name__}.{name}")
    return missing


def _covered_name(name: str) -> bool:
    return name not in NOT_COVERED


def _covered(module) -> bool:
    return _covered_name(module.__name__)


def test_every_public_name_has_a_docstring():
    missing = [name for m in modules() if _covered(m) for name in undocumented(m)]
    assert missing == [], "public names without a docstring:\n" + "\n".join(missing)


def test_inherited_docstrings_show_in_help():
    found = [(cls, attr) for m in modules() if _covered(m) for cls, attr in inherited(m)]
    assert len(found) > 100  # most ops' forward and backward take Function's
    hidden = [f"{cls.__module__}.{cls.__qualname__}.{attr}" for cls, attr in found
              if inspect.getdoc(getattr(cls, attr)) is None]
    assert hidden == [], "inspect.getdoc finds no docstring for:\n" + "\n".join(hidden)


def test_every_op_class_states_its_derivative():
    missing = [name for m in modules() if _covered(m) for name in op_classes_without_derivative(m)]
    assert missing == [], "op classes whose docstring does not state their derivative:\n" + "\n".join(missing)


def test_the_audit_finds_missing_docstrings():
    class Documented:
        """A class."""

        def method(self):
            pass

    import types

    fake = types.ModuleType("fake", "A module.")
    Documented.__module__ = "fake"
    fake.Documented = Documented
    assert undocumented(fake) == ["fake.Documented.method"]



def test_an_op_class_forward_and_backward_inherit_functions_docstrings():
    import types

    fake = types.ModuleType("fake_ops", "A module.")

    class Twice(Function):
        """y = 2x.  dy/dx = 2."""

        def forward(self, x):
            return 2 * x

        def backward(self, gy):
            return 2 * gy

        def helper(self):
            pass

    class Plain:
        """Not an op: its forward needs its own docstring."""

        def forward(self, x):
            return x

    for cls in (Twice, Plain):
        cls.__module__ = "fake_ops"
        setattr(fake, cls.__name__, cls)
    Function.registry.pop("Twice", None)  # defined here only to be audited
    assert undocumented(fake) == ["fake_ops.Twice.helper", "fake_ops.Plain.forward"]
    assert op_classes_without_derivative(fake) == []
    Twice.__doc__ = "y = 2x."
    assert op_classes_without_derivative(fake) == ["fake_ops.Twice"]
