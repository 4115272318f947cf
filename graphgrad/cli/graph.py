"""`graphgrad graph`: draw a shipped example, or a user's function, as HTML, SVG/PNG or DOT."""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from . import UsageError


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
    from .. import viz

    if not (args.html or args.svg or args.dot):
        raise UsageError("say what to write: --html out.html, --svg out.svg or --dot out.dot")
    output = _load(args.source)
    limit = {"max_nodes": args.max_nodes} if args.max_nodes else {}
    try:
        graph = viz.build(output, not args.no_grads, what="graphgrad graph", **limit)
        if args.dot:
            text = viz.to_dot(graph)
            if str(args.dot) == "-":
                sys.stdout.write(text)
            else:
                args.dot.write_text(text)
                print(f"wrote {args.dot}")
        if args.svg:
            viz.render(graph, args.svg)
            print(f"wrote {args.svg}")
        if args.html:
            viz.to_html(graph, args.html, title=Path(args.source.split(":")[-1]).stem)
            print(f"wrote {args.html}")
    except (ValueError, RuntimeError) as err:  # too large, no Graphviz, unknown suffix: the user can fix it
        raise UsageError(str(err)) from None
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
    spec = importlib.util.spec_from_file_location(f"graphgrad_user_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise UsageError(f"{file} has no function {name!r}")
    out = fn()
    tensors = out if isinstance(out, (list, tuple)) else [out]
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise UsageError(f"{source} returned {type(out).__name__}; it must return a graphgrad Tensor (or a list of them)")
    return out
