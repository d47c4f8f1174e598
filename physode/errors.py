"""Errors physode raises for bad input.

Every check of user input raises :class:`InputError` with one message that says what is wrong and
how to fix it; the command line prints it as a single line without a traceback.
"""


class InputError(ValueError):
    """Bad user input (arguments, files, options): the message says what is wrong and the fix."""


class SolverError(InputError):
    """An adaptive solve could not reach the end of its span (step size underflow, too many
    steps): the message says at which ``t`` and what to change."""
