"""CIFAR-10 kept whole on the training device, augmented there in batches.

The 60,000 images are one uint8 tensor (N, 3, 32, 32) (180 MB) on the device; random crops,
flips and normalisation are done per batch with a seeded :class:`torch.Generator`, so there are no
loader workers, no host-to-device copies per step, and a run is reproducible from its seed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from physode.errors import InputError
from physode.io import file_fingerprint, load_array_pickle
from physode.problems.cifar10.config import default_data_root

TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
NUM_CLASSES = 10
FOLDER = "cifar-10-batches-py"
# Per-channel statistics of the training images (ANODE's public recipe).
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2023, 0.1994, 0.2010)


def locate(root: str | os.PathLike[str]) -> Path:
    """The ``cifar-10-batches-py`` folder meant by ``root``: ``root`` itself or its subfolder of that name.

    ``--data-root`` and ``$PHYSODE_DATA`` may name the folder holding the batches (``test_batch``,
    ``data_batch_1`` ...) or a folder containing ``cifar-10-batches-py``.
    """
    root = Path(root)
    if not (root / TEST_FILE).exists() and (root / FOLDER).is_dir():
        return root / FOLDER
    return root


def data_fingerprints(root: str | os.PathLike[str]) -> dict[str, str]:
    """Content fingerprints of the batch files present in ``root`` (see :func:`locate`), by file name.

    A checkpoint records them, so ``--resume`` notices when the data under the same path changed.
    """
    folder = locate(root)
    return {name: file_fingerprint(folder / name) for name in (*TRAIN_FILES, TEST_FILE)
            if (folder / name).is_file()}


@dataclass(frozen=True)
class Split:
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64, on one device."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return self.labels.numel()

    def to(self, device: torch.device | str) -> Split:
        return Split(self.images.to(device), self.labels.to(device))

    def head(self, n: int | None) -> Split:
        """The first ``n`` examples (all if ``n`` is None), e.g. for short test runs."""
        return self if n is None else Split(self.images[:n], self.labels[:n])


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    fix = "re-download it (--download) or copy an intact cifar-10-batches-py"
    if not path.is_file():
        raise InputError(f"CIFAR-10 file {path} is missing; {fix}")
    batch = load_array_pickle(path)  # never runs code from the file; its errors name the file
    try:
        data, labels = batch[b"data"], np.asarray(batch[b"labels"])
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise InputError(f"CIFAR-10 file {path} is truncated or corrupt ({type(err).__name__}); {fix}") from err
    # Labels are a list of ints: an int, bytes, or floats (NaN among them) are damage.
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise InputError(f"CIFAR-10 file {path} has labels of type {labels.dtype} and shape {labels.shape}, "
                         f"expected a list of integers; {fix}")
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.shape == (10000, 3072)):
        shape = getattr(data, "shape", None)
        raise InputError(f"CIFAR-10 file {path} holds data of shape {shape}, expected (10000, 3072) uint8; {fix}")
    if labels.shape != (10000,) or labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise InputError(f"CIFAR-10 file {path} has {labels.shape[0]} labels or labels outside 0..9; {fix}")
    return data, labels


def _read_split(root: Path, files: tuple[str, ...], per_class: int) -> Split:
    parts = [_read_batch(root / name) for name in files]
    images = np.concatenate([p[0] for p in parts]).reshape(-1, 3, 32, 32)
    labels = np.concatenate([p[1] for p in parts]).astype(np.int64)
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    if not (counts == per_class).all():
        raise InputError(
            f"CIFAR-10 files {', '.join(files)} in {root} have per-class counts {counts.tolist()}, "
            f"expected {per_class} each; replace them with an intact cifar-10-batches-py"
        )
    return Split(torch.from_numpy(images), torch.from_numpy(labels))


def _download(root: Path) -> Path:
    """Download into ``root`` (named cifar-10-batches-py) or into its subfolder of that name."""
    from torchvision.datasets import CIFAR10

    folder = root if root.name == FOLDER else root / FOLDER
    try:
        CIFAR10(str(folder.parent), train=True, download=True)  # torchvision extracts to parent/FOLDER
    except (OSError, RuntimeError) as err:  # URLError is an OSError; RuntimeError: bad archive
        raise InputError(f"downloading CIFAR-10 into {folder.parent} failed ({err}); check the network or "
                         f"copy {FOLDER} there by hand") from err
    return folder


def load_cifar10(root: str | os.PathLike[str], download: bool = False) -> tuple[Split, Split]:
    """Read and validate the python-pickle CIFAR-10 in ``root``; returns (train, test) on the CPU.

    ``root`` is the ``cifar-10-batches-py`` folder or a folder containing it (:func:`locate`).

    Checks every batch's shape, dtype and labels, and the 5,000 / 1,000 per-class counts, so a
    wrong directory or a damaged file fails here with one message naming the file.
    """
    root = locate(root)
    if download and not (root / TEST_FILE).exists():
        root = _download(root)
    if not root.is_dir() or not (root / TEST_FILE).exists():
        raise InputError(
            f"{root} is not a CIFAR-10 directory (no {TEST_FILE}); pass --data-root pointing at "
            f"{FOLDER} or the folder containing it, set PHYSODE_DATA, or add --download"
        )
    return _read_split(root, TRAIN_FILES, 5000), _read_split(root, (TEST_FILE,), 1000)


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> float32 standardised with :data:`MEAN` / :data:`STD`."""
    mean = images.new_tensor(MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = images.new_tensor(STD, dtype=torch.float32).view(1, 3, 1, 1)
    return (images.float() / 255 - mean) / std


def augment(images: torch.Tensor, generator: torch.Generator, padding: int = 4) -> torch.Tensor:
    """Random crop (zero padding ``padding``) and horizontal flip of a uint8 batch, on its device.

    One gather does all crops; the random offsets come from ``generator`` (on the same device).
    """
    b, _, h, w = images.shape
    device = images.device
    shifts = torch.randint(0, 2 * padding + 1, (2, b), generator=generator, device=device)
    flips = torch.rand(b, generator=generator, device=device) < 0.5
    padded = F.pad(images, (padding,) * 4)
    rows = (shifts[0, :, None] + torch.arange(h, device=device))[:, None, :, None]
    cols = shifts[1, :, None] + torch.arange(w, device=device)
    cols = torch.where(flips[:, None], cols.flip(1), cols)[:, None, None, :]
    batch = torch.arange(b, device=device)[:, None, None, None]
    channel = torch.arange(images.shape[1], device=device)[None, :, None, None]
    return padded[batch, channel, rows, cols]


def train_batches(
    split: Split,
    global_batch: int,
    generator: torch.Generator,
    rank: int = 0,
    world_size: int = 1,
    augmentation: bool = True,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of shuffled, augmented, normalised batches: this rank's shard of each global batch.

    Every rank draws the same permutation and augmentation parameters for the whole global batch
    (a few integers per image) and keeps its contiguous shard, so the union over ranks is exactly
    the single-process batch. The last incomplete global batch is dropped so each step sees the
    full global batch and every rank an equal shard.
    """
    if global_batch % world_size:
        raise InputError(f"batch size {global_batch} is not divisible by {world_size} processes; "
                         "choose a multiple of the process count")
    if global_batch > len(split):
        raise InputError(f"batch size {global_batch} exceeds the {len(split)} training images; lower --batch-size")
    shard = global_batch // world_size
    order = torch.randperm(len(split), generator=generator, device=generator.device)
    for start in range(0, len(split) - global_batch + 1, global_batch):
        index = order[start:start + global_batch]
        images = split.images[index]
        if augmentation:
            images = augment(images, generator)
        mine = slice(rank * shard, (rank + 1) * shard)
        yield normalize(images[mine]), split.labels[index[mine]]


def eval_batches(
    split: Split, batch_size: int, rank: int = 0, world_size: int = 1
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """This rank's strided share (examples rank, rank + world_size, ...) in normalised batches."""
    mine = torch.arange(rank, len(split), world_size, device=split.labels.device)
    for start in range(0, mine.numel(), batch_size):
        index = mine[start:start + batch_size]
        yield normalize(split.images[index]), split.labels[index]
