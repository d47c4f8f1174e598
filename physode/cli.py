"""The ``physode`` command line.

Each sub-command lives in the module that owns its work and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable taking the parsed arguments and returning an
exit code. This file only lists those modules in ``COMMANDS``, imported by name so that a reader
and a tool see every import.

Building the parser imports no torch (``physode --help`` takes under a second, not ten): those
modules import the work they run inside ``func`` (``tests/test_startup.py`` checks). The global
options (``--quiet``, ``--verbose``, ``--no-progress``, ``--debug``) are accepted before the
command and after it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

from physode.cli_types import ArgumentParser
from physode.errors import InputError, RunError, is_out_of_memory, one_line, os_error_message
from physode.log import NORMAL, QUIET, VERBOSE, configure_logging
from physode.plugins import load_plugins
from physode.problems.cifar10 import cli as cifar10_cli
from physode.problems.compare import cli as compare_cli
from physode.problems.pde import cli as pde_cli
from physode.problems.fitting import cli as fitting_cli
from physode.version import __version__

DEBUG_ENV = "PHYSODE_DEBUG"
"""Environment variable that, set to 1, shows tracebacks like ``--debug``."""

OUT_OF_MEMORY = "out of memory; lower the sizes asked for (samples, grid points, widths, modes, blocks, batch size)"
INTERRUPTED = 130
"""Exit status after Ctrl-C: 128 + SIGINT, as a shell reports a process killed by it."""

# Modules that register sub-commands, in the order `physode --help` lists them.
COMMANDS: tuple[ModuleType, ...] = (pde_cli, cifar10_cli, fitting_cli, compare_cli)


def _add_global_options(parser: argparse.ArgumentParser) -> None:
    """The options every command takes, before or after its name: unset unless given (``SUPPRESS``),
    so that a command's parser does not overwrite what was given before it; their defaults are the
    main parser's."""
    group = parser.add_argument_group("global options (before or after the command)")
    group.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="print warnings and errors only, no progress bars (results are in the files written)")
    group.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="print debugging details too")
    group.add_argument("--no-progress", dest="progress", action="store_false", default=argparse.SUPPRESS,
                       help="hide the progress bars (results and summaries are still printed)")
    group.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help=f"show the traceback of an error instead of one line (or set {DEBUG_ENV}=1)")


def _command_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """The parsers of every command below ``parser`` (``train``, ``train cifar10``, ``fit``...)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases share a parser
                yield child
                yield from _command_parsers(child)


def build_parser() -> argparse.ArgumentParser:
    load_plugins()  # a user's variants and model families join the choices below
    parser = ArgumentParser(
        prog="physode",
        description="Coupled neural ODEs (ANODEV2) for learning physics. "
        "Run `physode quickstart` for the end-to-end demo.",
    )
    parser.add_argument("--version", action="version", version=f"physode {__version__}")
    _add_global_options(parser)
    parser.set_defaults(quiet=False, verbose=False, progress=True, debug=False)  # the commands' options leave them
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    for command_parser in _command_parsers(parser):
        _add_global_options(command_parser)
    return parser


def _global_settings(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Check the global options and configure the console (``--quiet`` hides the bars too)."""
    if args.quiet and args.verbose:
        parser.error("--quiet and --verbose contradict each other; pass one")
    args.progress = args.progress and not args.quiet
    verbosity = QUIET if args.quiet else VERBOSE if args.verbose else NORMAL
    rank = os.environ.get("RANK", "0")  # set by torchrun: only rank 0 prints results
    configure_logging(verbosity, rank=int(rank) if rank.isdigit() else 0)


@contextlib.contextmanager
def _runtime_warnings_held() -> Iterator[Callable[[], None]]:
    """Hold back RuntimeWarnings (NumPy's overflow and invalid-value notes) until the command ends.

    They precede the NaN or overflow that a check then reports in its one-line error, so a failed
    command drops them; a command that succeeds shows them when it calls the function yielded.
    Other warnings (physode's own notes on the data) are shown at once.
    """
    held: list[tuple[Any, ...]] = []
    with warnings.catch_warnings():
        show = warnings.showwarning

        def hold(message: Warning | str, category: type[Warning], *where: Any) -> None:
            if issubclass(category, RuntimeWarning):
                held.append((message, category, *where))
            else:
                show(message, category, *where)

        def show_held() -> None:
            for warning in held:
                show(*warning)

        warnings.showwarning = hold
        yield show_held


@contextlib.contextmanager
def _interrupts_kept() -> Iterator[None]:
    """Ctrl-C that lands in a destructor or weakref callback is not lost.

    Python reports a KeyboardInterrupt raised there as "Exception ignored in ..." (a traceback on
    stderr) and carries on, so the command would run to its end. Such an interrupt is raised again
    in the command's own code instead: SIGINT is sent once more from another thread, so that it
    arrives after the callback has returned (raised inside the hook, it would be ignored again).
    """
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            threading.Timer(0.01, os.kill, (os.getpid(), signal.SIGINT)).start()
        else:
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            # No sub-command: run the main job on its embedded default.
            args = parser.parse_args(["quickstart", *(argv if argv is not None else sys.argv[1:])])
        _global_settings(parser, args)
    except SystemExit as stop:  # a bad argument, already reported in one line: return its status
        if stop.code in (0, None):  # --help, --version
            raise
        return int(stop.code)
    except KeyboardInterrupt:  # while the parser is built: nothing was written yet
        print("physode: interrupted", file=sys.stderr)
        return INTERRUPTED
    if args.debug or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        return int(args.func(args) or 0)
    # Anything a user can fix is one line, no traceback: bad input (InputError, which covers
    # malformed checkpoints and data files), a run that could not finish (RunError: a diverged
    # training, a failed solve), and what the operating system refused (a missing or unwritable
    # directory, a full disk). Ctrl-C is one line too: every write in flight was rolled back as the
    # stack unwound, and a run directory keeps its last checkpoint.
    try:
        with _runtime_warnings_held() as shown_if_done, _interrupts_kept():
            code = int(args.func(args) or 0)
            shown_if_done()
            return code
    except (InputError, RunError) as err:
        message = str(err)
    except OSError as err:
        message = os_error_message(err)
    except MemoryError:
        message = OUT_OF_MEMORY
    except RuntimeError as err:  # torch reports a failed allocation as a RuntimeError
        if not is_out_of_memory(err):
            raise
        message = f"{OUT_OF_MEMORY} ({one_line(err, 200)})"
    except KeyboardInterrupt:
        print(f"physode {args.command}: interrupted; nothing half-written was kept (a run directory keeps its "
              "last checkpoint)", file=sys.stderr)
        return INTERRUPTED
    # one_line: a path with a newline in it must not split the message.
    print(f"physode {args.command}: error: {one_line(message, limit=2000)} (--debug shows the traceback)",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
