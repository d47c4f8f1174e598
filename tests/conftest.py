"""Shared fixtures: thread count, seeds, where the real CIFAR-10 is, and a small CIFAR-10 written here.

The real CIFAR-10 is looked up in this order: ``pytest --data-root=DIR``, then ``$PHYSODE_DATA``,
then ``../shared/data`` beside the repository when present. Each may be the ``cifar-10-batches-py``
folder itself or a folder containing it. Tests that need the real data skip, saying so, when none
of these holds it; a fresh clone therefore passes without it.
"""

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from physode.problems.cifar10.data import FOLDER, TEST_FILE, TRAIN_FILES, locate

SIBLING_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# The suite shares two cores: keep torch from oversubscribing them.
torch.set_num_threads(int(os.environ.get("PHYSODE_TEST_THREADS", "1")))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--data-root", default=None,
        help=f"the real CIFAR-10: {FOLDER} or a folder containing it (default: $PHYSODE_DATA, "
        "then ../shared/data beside the repository)",
    )


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def cifar10_root(request: pytest.FixtureRequest) -> Path:
    """The real ``cifar-10-batches-py`` folder; skips the test when none is found."""
    candidates = [
        ("--data-root", request.config.getoption("--data-root")),
        ("$PHYSODE_DATA", os.environ.get("PHYSODE_DATA")),
        ("../shared/data beside the repository", SIBLING_DATA if SIBLING_DATA.is_dir() else None),
    ]
    source, root = next(((s, r) for s, r in candidates if r), (None, None))
    if root is None:
        pytest.skip(f"needs the real CIFAR-10: pass --data-root=DIR or set PHYSODE_DATA ({FOLDER} or "
                    "its parent folder)")
    folder = locate(root)
    if not (folder / TEST_FILE).is_file():
        pytest.skip(f"needs the real CIFAR-10: {source} = {root} holds no {FOLDER} (no {TEST_FILE})")
    return folder


@pytest.fixture
def small_cifar10(tmp_path: Path) -> Path:
    """A ``cifar-10-batches-py`` folder in the python-pickle layout with 20 random images per batch.

    Right format, wrong size: a loader must read it and refuse it for its shape.
    """
    root = tmp_path / FOLDER
    root.mkdir()
    rng = np.random.default_rng(0)
    for name in (*TRAIN_FILES, TEST_FILE):
        batch = {b"batch_label": name.encode(), b"labels": [i % 10 for i in range(20)],
                 b"data": rng.integers(0, 256, size=(20, 3072), dtype=np.uint8),
                 b"filenames": [f"{name}_{i}.png".encode() for i in range(20)]}
        with open(root / name, "wb") as handle:
            pickle.dump(batch, handle)
    return root
