"""Reading and writing files: atomic writes, trajectory datasets (HDF5)."""

from physode.io.atomic import atomic_path, atomic_write_text

__all__ = ["atomic_path", "atomic_write_text"]
from physode.io.trajectories import (  # noqa: E402
    FORMAT_NAME,
    FORMAT_VERSION,
    TrajectoryFile,
    make_test_mask,
    write_trajectories,
)

__all__ += ["FORMAT_NAME", "FORMAT_VERSION", "TrajectoryFile", "make_test_mask", "write_trajectories"]
