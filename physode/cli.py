"""The ``physode`` command line.

Each sub-command lives in the module that owns its work and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable taking the parsed arguments and returning an
exit code. This file only collects them, so adding a command never touches another's code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from physode.errors import InputError

# Modules that register sub-commands, in the order `physode --help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "physode.problems.transport.cli",
    "physode.problems.cifar10.cli",
    "physode.problems.pde1d.cli",
)


def build_parser() -> argparse.ArgumentParser:
    import physode

    parser = argparse.ArgumentParser(
        prog="physode",
        description="Coupled neural ODEs (ANODEV2) for learning physics. "
        "Run `physode quickstart` for the end-to-end demo.",
    )
    parser.add_argument("--version", action="version", version=f"physode {physode.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # No sub-command: run the main job on its embedded default.
        args = parser.parse_args(["quickstart", *(argv or [])])
    try:
        return int(args.func(args) or 0)
    except InputError as err:  # bad input: one line, no traceback
        print(f"physode {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
