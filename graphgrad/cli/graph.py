"""`graphgrad graph`: draw a shipped example, or a user's function, as HTML, SVG/PNG or DOT."""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from . import UsageError, os_error_message


def register(subparsers) -> None:
    """Add the `graph` sub-command."""
    from ..viz.examples import EXAMPLES

    p = subparsers.add_parser(
        "graph",
        help="draw a computational graph (values and gradients) as HTML, SVG or DOT",
        description=(
            "Draw the graph of a shipped example or of path/to/file.py:function (a function taking no "
            f"arguments and returning a tensor). Examples: {', '.join(EXAMPLES)}."
        ),
    )
    p.add_argument("source", metavar="NAME|FILE.py:FUNCTION", help="an example name or file.py:function")
    p.add_argument("--html", type=Path, help="write the interactive explorer here")
    p.add_argument("--svg", type=Path, help="write SVG (or .png/.pdf by suffix) through Graphviz's dot")
    p.add_argument("--dot", type=Path, help="write DOT text here ('-' for standard output)")
    p.add_argument("--no-grads", action="store_true", help="draw forward values only")
    p.add_argument("--max-nodes", type=int, default=None, help="refuse graphs with more boxes than this")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the graph of `args.source` and write the HTML, SVG and DOT files asked for."""
    from .. import viz
    from ..io import atomic_write

    if not (args.html or args.svg or args.dot):
        raise UsageError("say what to write: --html out.html, --svg out.svg or --dot out.dot")
    if args.max_nodes is not None and args.max_nodes < 1:
        raise UsageError(f"--max-nodes must be at least 1, got {args.max_nodes}")
    output = _load(args.source)
    limit = {"max_nodes": args.max_nodes} if args.max_nodes is not None else {}
    try:
        graph = viz.build(output, not args.no_grads, what="graphgrad graph", **limit)
        if args.dot:
            text = viz.to_dot(graph)
            if str(args.dot) == "-":
                sys.stdout.write(text)
            else:
                atomic_write(args.dot, text)
                print(f"wrote {args.dot}")
        if args.svg:
            viz.render(graph, args.svg)
            print(f"wrote {args.svg}")
        if args.html:
            viz.to_html(graph, args.html, title=Path(args.source.split(":")[-1]).stem)
            print(f"wrote {args.html}")
    except (ValueError, RuntimeError) as err:  # too large, no Graphviz, unknown suffix: the user can fix it
        raise UsageError(str(err)) from None
    except OSError as err:  # a missing folder, a folder given as the file, no permission
        raise UsageError(os_error_message(err)) from None
    return 0


def _load(source: str):
    """The output of a shipped example, or of calling FUNCTION from FILE.py."""
    from ..autograd.tensor import Tensor
    from ..viz.examples import EXAMPLES

    if source in EXAMPLES:
        return EXAMPLES[source]()
    if ":" not in source:
        raise UsageError(f"unknown example {source!r}; choose one of {', '.join(EXAMPLES)} or give FILE.py:FUNCTION")
    file, _, name = source.rpartition(":")
    path = Path(file)
    if not path.is_file():
        raise UsageError(f"{file}: no such file (expected FILE.py:FUNCTION)")
    if path.suffix != ".py":
        raise UsageError(f"{file} is not a Python file (expected FILE.py:FUNCTION)")
    if not name.isidentifier():
        raise UsageError(f"{name!r} is not a function name (expected FILE.py:FUNCTION)")
    spec = importlib.util.spec_from_file_location(f"graphgrad_user_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # the user's file: its own error, in one line
        raise UsageError(f"running {file} failed: {type(err).__name__}: {err}") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise UsageError(f"{file} has no function {name!r}")
    try:
        out = fn()
    except Exception as err:
        raise UsageError(f"{source} raised {type(err).__name__}: {err}") from None
    tensors = out if isinstance(out, (list, tuple)) else [out]
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise UsageError(
            f"{source} returned {type(out).__name__}; it must return a graphgrad Tensor (or a list of them)")
    return out
