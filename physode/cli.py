"""The ``physode`` command line.

Each sub-command lives in the module that owns its work and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable taking the parsed arguments and returning an
exit code. This file only lists those modules in ``COMMANDS``, imported by name so that a reader
and a tool see every import.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from physode.errors import InputError
from physode.problems.cifar10 import cli as cifar10_cli
from physode.problems.pde import cli as pde_cli
from physode.problems.pde1d import cli as pde1d_cli
from physode.version import __version__

# Modules that register sub-commands, in the order `physode --help` lists them.
COMMANDS: tuple[ModuleType, ...] = (pde_cli, cifar10_cli, pde1d_cli)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="physode",
        description="Coupled neural ODEs (ANODEV2) for learning physics. "
        "Run `physode quickstart` for the end-to-end demo.",
    )
    parser.add_argument("--version", action="version", version=f"physode {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
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
