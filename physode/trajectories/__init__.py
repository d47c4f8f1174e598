"""Trajectory files: solutions u(sample, t, x) of a PDE in HDF5 (format ``physode-trajectories``,
specified in ``datasets/README.md``; u(sample, t, channel, y, x) in 2-D), PDEBench's 1D and 2-D
layouts, and the errors of predicted trajectories.

- :mod:`.schema`: the format's names and version, the checks writer and reader share.
- :mod:`.in_memory`: :class:`Trajectories`, simulated data and what its file records.
- :mod:`.writer`: :func:`write_trajectories`, streamed :func:`trajectory_writer`, :func:`write`
  (simulated data with a seeded split), :func:`make_test_mask`, :func:`file_size_bound`.
- :mod:`.arguments`: the checks of what the writer is given.
- :mod:`.reader`: :class:`TrajectoryFile`, lazy validated reading of every layout.
- :mod:`.physode_layout`: the checks of physode's own layout.
- :mod:`.stored`: the checked HDF5 access the readers share.
- :mod:`.pdebench`: PDEBench's 1D layout, read and written.
- :mod:`.pdebench2d`: PDEBench's 2-D layouts (one file, or a group per sample), read lazily.
- :mod:`.dataset`: :class:`TrajectoryDataset`, a torch ``Dataset`` of windows of a file's samples.
- :mod:`.metrics`: the one :func:`nrmse`, what fits and benchmarks report from it
  (:func:`rollout_errors`), and :func:`pdebench_metrics`.
"""

from physode.trajectories.dataset import TrajectoryDataset, Window
from physode.trajectories.in_memory import Trajectories
from physode.trajectories.metrics import (
    PDEBENCH_HIGH,
    PDEBENCH_LOW,
    ErrorSums,
    PDEBenchMetrics,
    RolloutErrors,
    nrmse,
    pdebench_metrics,
    rollout_errors,
)
from physode.trajectories.pdebench import write_pdebench
from physode.trajectories.reader import TrajectoryFile
from physode.trajectories.schema import FORMAT_NAME, FORMAT_VERSION
from physode.trajectories.writer import (
    TrajectoryWriter,
    file_size_bound,
    make_test_mask,
    trajectory_writer,
    write,
    write_trajectories,
)

__all__ = [
    "FORMAT_NAME", "FORMAT_VERSION", "PDEBENCH_HIGH", "PDEBENCH_LOW", "ErrorSums", "PDEBenchMetrics",
    "RolloutErrors", "TrajectoryDataset", "TrajectoryFile", "TrajectoryWriter", "Trajectories", "Window",
    "file_size_bound", "make_test_mask", "nrmse", "pdebench_metrics", "rollout_errors", "trajectory_writer", "write",
    "write_pdebench", "write_trajectories",
]
