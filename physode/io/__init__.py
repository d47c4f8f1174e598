"""Reading and writing files: atomic writes, output checks, trajectory datasets (HDF5), safe pickles."""

from physode.io.atomic import atomic_path, atomic_write_text
from physode.io.fingerprint import file_fingerprint
from physode.io.outputs import check_output, check_run_dir
from physode.io.safe_pickle import load_array_pickle
from physode.io.trajectory_file import TrajectoryFile
from physode.io.trajectories import (
    FORMAT_NAME,
    FORMAT_VERSION,
    TrajectoryWriter,
    make_test_mask,
    trajectory_writer,
    write_trajectories,
)

__all__ = [
    "FORMAT_NAME", "FORMAT_VERSION", "TrajectoryFile", "TrajectoryWriter", "atomic_path", "atomic_write_text",
    "check_output", "check_run_dir", "file_fingerprint", "load_array_pickle", "make_test_mask",
    "trajectory_writer", "write_trajectories",
]
