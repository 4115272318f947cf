"""The `graphgrad` command: one sub-command per module in this package, each with `register(subparsers)`."""
from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = ("train", "graph", "export")  # graphgrad.cli.<name> modules that add sub-commands


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2, no traceback."""


class Parser(argparse.ArgumentParser):
    """argparse, but a command-line mistake is one line on stderr (and exit status 2), not the usage text."""

    def error(self, message: str):
        """Exit with status 2 and `message` on one line of stderr."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The `graphgrad` parser with every sub-command registered."""
    from .. import __version__

    parser = Parser(prog="graphgrad", description="graphgrad command-line tools")
    parser.add_argument("--version", action="version", version=f"graphgrad {__version__}")
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
    """Run one command; returns its exit status (2: bad input; 130 after Ctrl-C, 143 after SIGTERM)."""
    from ..train.interrupt import sigterm_raises

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error already printed in one line
        return done.code or 0
    try:
        with sigterm_raises():
            return args.run(args) or 0
    except UsageError as err:
        print(f"graphgrad {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM (an Interrupted, which knows its status)
        print(f"graphgrad {args.command}: {err or 'interrupted'}", file=sys.stderr)
        return getattr(err, "exit_status", 130)


def os_error_message(err: OSError) -> str:
    """An OSError as one readable line: what failed and on which file, without '[Errno 2]'."""
    text = err.strerror or str(err)
    return f"{text}: {err.filename}" if err.filename else text


if __name__ == "__main__":
    sys.exit(main())
