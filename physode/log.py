"""What physode's commands report: records of the standard ``logging`` logger ``physode``.

Results and summaries (a fit's table, "wrote FILE", a CIFAR-10 epoch's losses) are INFO records;
the command line writes them to stdout as plain lines, warnings and errors to stderr
(:func:`configure_logging`). ``--quiet`` keeps warnings and errors only (the results are in the
files each command writes), ``--verbose`` adds DEBUG records. Under ``torchrun`` only rank 0
writes INFO records; the other ranks write warnings and errors. Used as a library, physode
configures nothing: its records go wherever the application's logging sends them.
"""

from __future__ import annotations

import logging
import sys

LOGGER = logging.getLogger("physode")
QUIET, NORMAL, VERBOSE = -1, 0, 1
_LEVELS = {QUIET: logging.WARNING, NORMAL: logging.INFO, VERBOSE: logging.DEBUG}


class _ConsoleHandler(logging.Handler):
    """INFO and below to stdout, warnings and errors to stderr: the streams as they are when a record
    is written (a test's captured ones included), each line written past any open progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            stream = sys.stdout if record.levelno < logging.WARNING else sys.stderr
            from tqdm import tqdm  # here: only a command that reports anything needs tqdm

            tqdm.write(message, file=stream)  # clears an open bar, writes, redraws it
            stream.flush()
        except Exception:  # noqa: BLE001 - logging's own contract: a failed write is reported, not raised
            self.handleError(record)


def configure_logging(verbosity: int = NORMAL, rank: int = 0) -> None:
    """Send the ``physode`` logger's records to the console at ``verbosity`` (:data:`QUIET`,
    :data:`NORMAL` or :data:`VERBOSE`); a ``rank`` other than 0 writes warnings and errors only."""
    level = _LEVELS[verbosity] if rank == 0 else max(_LEVELS[verbosity], logging.WARNING)
    for handler in [h for h in LOGGER.handlers if isinstance(h, _ConsoleHandler)]:
        LOGGER.removeHandler(handler)  # one handler however often a process runs a command
    handler = _ConsoleHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(level)
    LOGGER.propagate = False  # the command line owns the console: no second copy through the root logger
