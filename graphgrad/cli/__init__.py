"""The `graphgrad` command: one sub-command per module in this package, each with `register(subparsers)`."""
from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = ("train", "graph", "export")  # graphgrad.cli.<name> modules that add sub-commands


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2, no traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphgrad", description="graphgrad command-line tools")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except UsageError as err:
        print(f"graphgrad {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
