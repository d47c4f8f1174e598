"""``TrajectoryDataset``: a torch Dataset of windows of a trajectory file, read per item."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from physode.errors import InputError
from physode.trajectories import TrajectoryDataset, TrajectoryFile, write_trajectories

N, T, NX = 10, 5, 8


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    mask = np.zeros(N, bool)
    mask[[1, 4, 8]] = True
    return write_trajectories(tmp_path_factory.mktemp("ds") / "data.h5", rng.standard_normal((N, T, NX)),
                              np.linspace(0.0, 1.0, T), np.arange(NX) / NX, equation="test", test_mask=mask)


def test_whole_trajectories_of_a_split(path: Path) -> None:
    dataset = TrajectoryDataset(path, split="test")
    assert len(dataset) == 3
    with TrajectoryFile(path) as file:
        for item, sample in zip(dataset, [1, 4, 8]):
            np.testing.assert_array_equal(item.u, file[sample])
            np.testing.assert_array_equal(item.u0, file[sample][0])
            np.testing.assert_array_equal(item.t, file.t)
        np.testing.assert_array_equal(dataset[-1].u, file[8])


def test_windows_enumerate_every_start_of_every_sample(path: Path) -> None:
    dataset = TrajectoryDataset(path, split="train", window=2)
    assert len(dataset) == 7 * (T - 1)
    with TrajectoryFile(path) as file:
        train = file.train
        u0, t, u = dataset[2 * (T - 1) + 3]  # the third training sample, start 3: the pair (u(t3), u(t4))
        np.testing.assert_array_equal(u, file[train[2]][3:5])
        np.testing.assert_array_equal(t, file.t[3:5])
        assert u0.dtype == torch.float32 and t.dtype == torch.float64
    with pytest.raises(IndexError):
        dataset[len(dataset)]


def test_a_data_loader_with_workers_reads_the_same_items(path: Path) -> None:
    dataset = TrajectoryDataset(path, split="all", window=3)
    dataset[0]  # the parent holds an open file when the workers fork: each must open its own
    batches = list(DataLoader(dataset, batch_size=4, num_workers=2))
    assert torch.equal(torch.cat([b.u for b in batches]), torch.stack([item.u for item in dataset]))
    assert batches[0].u0.shape == (4, NX) and batches[0].t.shape == (4, 3)
    copy = pickle.loads(pickle.dumps(dataset))  # spawned workers get a copy without the handle
    assert torch.equal(copy[5].u, dataset[5].u)
    dataset.close()


@pytest.mark.parametrize(("options", "message"), [
    ({"split": "validation"}, "split must be one of train, test, all"),
    ({"window": 0}, "window must be an integer from 1 to the 5 stored times"),
    ({"window": 6}, "window must be an integer from 1"),
    ({"window": 2.0}, "window must be an integer"),
])
def test_bad_options_are_input_errors(path: Path, options: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        TrajectoryDataset(path, **options)
