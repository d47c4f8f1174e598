"""Reading and writing files: atomic writes, output checks, file fingerprints, safe pickles.

The trajectory format has its own package, :mod:`physode.trajectories`.
"""

from physode.io.atomic import atomic_path, atomic_write_text
from physode.io.fingerprint import file_fingerprint
from physode.io.outputs import check_input_file, check_output, check_run_dir
from physode.io.safe_pickle import load_array_pickle

__all__ = ["atomic_path", "atomic_write_text", "check_input_file", "check_output", "check_run_dir", "file_fingerprint",
           "load_array_pickle"]
