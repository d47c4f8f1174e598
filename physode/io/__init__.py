"""Reading and writing files: atomic writes, trajectory datasets (HDF5)."""

from physode.io.atomic import atomic_path, atomic_write_text

__all__ = ["atomic_path", "atomic_write_text"]
