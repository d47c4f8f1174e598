"""Progress bars: one policy for every loop of physode's commands.

On a terminal a bar redraws like tqdm's default (up to ten times a second). Redirected to a file
or a pipe every redraw is kept, so there it redraws at most once every :data:`FILE_INTERVAL`
seconds: a log stays short and still shows the rate. ``--no-progress`` and ``--quiet`` (global
options of the command line, :mod:`physode.cli`) hide the bars.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")

TERMINAL_INTERVAL = 0.1
"""Seconds between redraws on a terminal (tqdm's default)."""
FILE_INTERVAL = 1.0
"""Seconds between redraws when stderr is a file or a pipe."""


def progress_bar(iterable: Iterable[T] | None = None, *, enabled: bool = True, **options: Any) -> tqdm:
    """A tqdm bar over ``iterable`` (or with ``total=``), hidden unless ``enabled``.

    Redraws at most every :data:`FILE_INTERVAL` seconds when stderr is not a terminal; other
    ``options`` (``desc``, ``unit``, ``leave`` ...) go to tqdm.
    """
    interval = TERMINAL_INTERVAL if sys.stderr.isatty() else FILE_INTERVAL
    return tqdm(iterable, disable=not enabled, mininterval=interval, **options)
