"""Shared ``train`` / ``evaluate`` commands whose first argument names the problem.

``physode train cifar10 ...`` and ``physode train transport ...`` live in different modules. Each
problem's ``register(subparsers)`` asks for the command's problem choices and adds its own::

    def register(subparsers):
        problems = problem_subparsers(subparsers, "train", help="train a model")
        parser = problems.add_parser("transport", help="...")
        parser.set_defaults(func=run_train)

The first caller creates ``physode train``; later callers get the same choices back, so adding a
problem never edits another problem's code.
"""

from __future__ import annotations

import argparse
import weakref

_PROBLEMS: weakref.WeakKeyDictionary[argparse.ArgumentParser, argparse._SubParsersAction] = (
    weakref.WeakKeyDictionary()
)


def problem_subparsers(subparsers: argparse._SubParsersAction, command: str, help: str) -> argparse._SubParsersAction:
    """The problem choices of ``physode COMMAND``, creating the command on first use."""
    parser = subparsers.choices.get(command)
    if parser is None:
        parser = subparsers.add_parser(command, help=help, description=f"{help}; the first argument names the problem.")
    if parser not in _PROBLEMS:
        _PROBLEMS[parser] = parser.add_subparsers(dest="problem", metavar="PROBLEM", required=True)
    return _PROBLEMS[parser]
