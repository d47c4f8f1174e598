"""The clock of the interleaved sections: the process's CPU time where that is the step's work.

On a CPU with one thread, the process's CPU time (user and system, page faults included) is what a
step costs, whatever else runs on the machine: the time spent waiting for a core while other jobs
run, which wall time counts, is left out. With several threads (CPU time would add them up,
spin-waits included) or on a GPU (kernels run asynchronously), wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def work_clock(device: torch.device) -> Callable[[], float]:
    """Seconds on the clock that times a step's work on ``device`` (see the module docstring)."""
    if device.type == "cpu" and torch.get_num_threads() == 1:
        return time.process_time
    return time.perf_counter
