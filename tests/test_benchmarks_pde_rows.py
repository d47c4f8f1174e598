"""Issue 26's continuous-time rows (sparse times, between frames, small data) and the rows from files
physode did not make (KdV): what each row's fits may see, written without fitting anything."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from benchmarks.common.peers import fit_row_peer, load_split
from benchmarks.pde.pareto import row_family
from benchmarks.pde.rows import ROWS, write_row
from benchmarks.yourdata import kdv
from physode.trajectories import TrajectoryFile


def test_sparse_times_train_on_a_quarter_of_each_trajectory_and_score_every_frame(tmp_path: Path) -> None:
    train, full, info = write_row(tmp_path, "sparse-times", quick=True)
    with TrajectoryFile(train) as data, TrajectoryFile(full) as scored:
        observed = data.observed
        assert scored.observed is None and np.array_equal(data[:], scored[:])  # the same values, the mask apart
        assert observed[data.test].all() and observed[:, 0].all()
        later = observed[data.train, 1:]
        assert (later.sum(axis=1) == round(0.25 * (data.n_times - 1))).all()
        assert len({tuple(row) for row in later}) > len(later) // 2  # drawn per trajectory
    assert row_family(info) == "continuous-time"


def test_between_frames_trains_on_every_fourth_frame_and_the_direct_peers_cannot_score_it(tmp_path: Path) -> None:
    train, full, info = write_row(tmp_path, "between-frames", quick=True)
    split = load_split(train, full)
    assert split.train_times == split.times[::4] and info["train_nt"] == len(split.train_times) < len(split.times)
    for peer in ("fno", "fno-ar"):  # they answer only the stored times of their training file (no fit is made)
        assert fit_row_peer(peer, train, split, seed=0, modes=8) is None


def test_small_data_has_32_training_trajectories(tmp_path: Path) -> None:
    train, full, _ = write_row(tmp_path, "small-data", quick=True)
    assert train == full and len(load_split(train, full).train) == 32


def test_the_kdv_row_is_the_users_own_file_in_pdebenchs_layout(tmp_path: Path) -> None:
    train, full, info = write_row(tmp_path, "kdv")
    user = kdv.write_file(tmp_path / "user.hdf5")
    with TrajectoryFile(train) as row, h5py.File(user) as own:
        assert row.layout == "pdebench" and train == full and not info["continuous_time"]
        np.testing.assert_array_equal(row[:], own["tensor"][()])
        np.testing.assert_allclose(row.t, own["t-coordinate"][()], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["sparse-times", "between-frames", "small-data", "kdv", "ks"])
def test_the_new_rows_have_the_issues_targets(name: str) -> None:
    row = ROWS[name]
    assert row.target == (1.0 if name in ("kdv", "ks") else 3.0)
    assert ("fno-time" in row.fitted) == row.continuous_time
