"""Reading pickled NumPy data without running code from the file.

Some public datasets (the python version of CIFAR-10) ship as pickles. ``pickle.load`` calls any
function a file names, so a doctored file runs whatever it likes. :func:`load_array_pickle` only
lets a file build dicts, lists, tuples, strings, bytes, numbers and NumPy arrays: the file may name
no function but the three NumPy uses to rebuild an array, and anything else is refused before it
is called.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

import numpy as np

try:  # NumPy 2 moved the array rebuilders to numpy._core; pickles name either module.
    from numpy._core.multiarray import _reconstruct
    from numpy._core.numeric import _frombuffer
except ImportError:  # NumPy 1
    from numpy.core.multiarray import _reconstruct
    from numpy.core.numeric import _frombuffer

from physode.errors import InputError, one_line


def _plain_dtype(*args: Any) -> np.dtype:
    """``numpy.dtype`` for anything but Python objects: no data file needs object arrays."""
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise InputError(f"an array of Python objects ({dtype}) is not data")
    return dtype


def _latin1_bytes(text: str, encoding: str) -> bytes:
    """``_codecs.encode`` as Python 3 pickles bytes for protocols 0-2: latin-1 only."""
    if encoding != "latin1" or not isinstance(text, str):
        raise InputError(f"_codecs.encode with {type(text).__name__} and {encoding!r} is not how bytes are pickled")
    return text.encode("latin1")


ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    # What the real CIFAR-10 batches name (Python 2, NumPy 1): an array is rebuilt from these.
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _plain_dtype,
    # The same data pickled again by Python 3 / NumPy 2: bytes in protocols 0-2, arrays in protocol 5.
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("_codecs", "encode"): _latin1_bytes,
    ("__builtin__", "bytes"): bytes,
    ("builtins", "bytes"): bytes,
}
"""Every global a file may name, and what it gets instead: array and bytes rebuilders only."""


class _ArrayUnpickler(pickle.Unpickler):
    def __init__(self, file: Any, path: str) -> None:
        super().__init__(file, encoding="bytes")  # Python 2 pickles: keep str payloads as bytes
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise InputError(
                f"{self._path} names {module}.{name}, which no data file needs (the file may be doctored "
                "to run code); refusing to unpickle it, replace it with an intact copy"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise InputError(f"{self._path} refers to an object outside the file; refusing to unpickle it, "
                         "replace it with an intact copy")


def load_array_pickle(path: str | os.PathLike[str]) -> Any:
    """Unpickle ``path`` allowing only plain containers, scalars, strings, bytes and NumPy arrays.

    Python 2 strings come back as ``bytes`` (as with ``encoding="bytes"``). Raises
    :class:`InputError` naming the file if it names any other global, or is not a readable pickle.
    Object arrays are refused too: their elements could only come from a pickle's own objects,
    but no data file needs them.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            value = _ArrayUnpickler(handle, path).load()
    except InputError as err:
        if str(err).startswith(path):
            raise
        raise InputError(f"{path}: {err}; refusing to read it (replace it with an intact copy)") from None
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    except Exception as err:  # noqa: BLE001 — a malformed pickle raises nearly anything
        raise InputError(f"{path} is not a readable pickle ({type(err).__name__}: {one_line(err, 200)}); "
                         "replace it with an intact copy") from None
    return value
