"""Command-line value checks: every number an option takes is finite and in its range.

``value <= 0`` lets NaN through, and ``int`` accepts seeds no generator takes; these argparse
``type=`` callables refuse both at parse time, so a command never starts on a bad number::

    parser.add_argument("--lr", type=positive_float, default=0.1)
    parser.add_argument("--epochs", type=int_in(1, 100_000), default=10)
    parser.add_argument("--seed", type=seed, default=0)

:class:`ArgumentParser` reports a bad argument as one line, without the usage block.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any, NoReturn

SEED_MAX = 2**63 - 1
"""The largest seed: torch and NumPy take seeds up to 64 bits, ``Generator.manual_seed`` signed."""


def _bounds(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    """E.g. ``">= 0 and < 1"``."""
    def show(bound: float) -> str:
        return f"{bound:g}" if isinstance(bound, float) else str(bound)

    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {show(low)}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {show(high)}")
    return " and ".join(parts)


def float_in(
    low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False
) -> Callable[[str], float]:
    """A ``type=`` that parses a finite float in [low, high] (``low_open``/``high_open``: strict)."""
    wanted = " ".join(["a finite number", _bounds(low, high, low_open, high_open)]).strip()

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        if not math.isfinite(value):  # also catches "1e999", which float() turns into inf
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and (value >= high if high_open else value > high)
        if too_low or too_high:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text}")
        return value

    parse.__name__ = wanted
    return parse


def int_in(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """A ``type=`` that parses a decimal integer in [low, high]."""
    wanted = " ".join(["an integer", _bounds(low, high, False, False)]).strip()

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text}")
        return value

    parse.__name__ = wanted
    return parse


positive_float = float_in(0.0, low_open=True)
"""A finite float > 0 (learning rates, step sizes, lengths)."""
nonneg_float = float_in(0.0)
"""A finite float >= 0 (weight decay, momentum's lower end, noise levels)."""
MAX_LEARNING_RATE = 10.0
"""Above this no optimizer here trains (SGD and Adam diverge at once); a typo like 1e30 is refused."""
learning_rate = float_in(0.0, MAX_LEARNING_RATE, low_open=True)
"""A learning rate: a finite float in (0, 10]."""
fraction = float_in(0.0, 1.0, high_open=True)
"""A finite float in [0, 1) (test fractions, momentum)."""
seed = int_in(0, SEED_MAX)
"""A seed: an integer in [0, 2**63 - 1]."""


def positive_int(cap: int) -> Callable[[str], int]:
    """An integer in [1, cap]: counts whose size costs memory or time are always capped."""
    return int_in(1, cap)


class DefaultsHelp(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows each option's default once: appended as "(default: ...)" unless the help
    already says it, the default is None (the help says what happens then) or a flag's False."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        # `is`, not `in (None, False)`: 0 == False, and a default of 0 (--seed) is shown.
        if action.default is None or action.default is False or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class ArgumentParser(argparse.ArgumentParser):
    """An ``argparse.ArgumentParser`` whose errors are one line on stderr: ``prog: error: ...``, and
    whose ``--help`` shows every default once (:class:`DefaultsHelp`).

    Sub-parsers made with ``add_subparsers`` are of this class too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelp)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")
