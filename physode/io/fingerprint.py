"""Cheap content fingerprints of data files, so a resumed run can tell that its data changed.

A run records the fingerprint of each data file it reads; ``--resume`` recomputes it and refuses
on a mismatch. Paths and shapes are not enough: data regenerated with another seed has both the
same. The fingerprint hashes the file's bytes (never its modification time, which copies change):
all of them for files up to :data:`FULL_HASH_BYTES`, otherwise the size and
:data:`SAMPLE_BLOCKS` evenly spaced blocks including the first and the last, which any
regeneration or rewrite changes while reading a bounded amount of a large file.
"""

from __future__ import annotations

import hashlib
import os

FULL_HASH_BYTES = 64 * 2**20
"""Files up to this size are hashed whole."""
SAMPLE_BLOCKS = 64
"""Blocks hashed in a larger file."""
BLOCK_BYTES = 2**20
"""Bytes per block read."""


def file_fingerprint(path: str | os.PathLike[str]) -> str:
    """``"<size>:<sha256 hex>"`` of the file's content (whole, or sampled if over 64 MiB).

    Equal content gives an equal fingerprint wherever the file lives and whenever it was touched;
    a different size, or a change in any hashed block, gives a different one.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size <= FULL_HASH_BYTES:
            while block := handle.read(BLOCK_BYTES):
                digest.update(block)
        else:
            last = size - BLOCK_BYTES
            for i in range(SAMPLE_BLOCKS):
                handle.seek(last * i // (SAMPLE_BLOCKS - 1))
                digest.update(handle.read(BLOCK_BYTES))
    return f"{size}:{digest.hexdigest()}"
