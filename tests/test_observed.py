"""A trajectory file's optional ``observed`` mask (sparse, irregular frames per trajectory): written and
read back (also by xarray), a file without it unchanged, and ``physode fit`` ignoring the values of
unobserved frames: a poisoned unobserved frame leaves the fit exactly as it was."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from physode.errors import InputError
from physode.problems.fitting.evaluate import SUMMARY
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import ModelConfig
from physode.problems.fitting.samples import TrainSplit
from physode.problems.pde import simulate_transport
from physode.trajectories import TrajectoryFile, make_test_mask, write, write_trajectories
from physode.training import CHECKPOINT, load_checkpoint

POISON = 1e6  # NaN is refused in a file; a large value would dominate any loss that read it


def _sparse_mask(n_samples: int, n_times: int, test: np.ndarray, seed: int = 0) -> np.ndarray:
    """Training samples keep their first frame and a random half of the others; test samples every frame."""
    observed = np.random.default_rng(seed).random((n_samples, n_times)) < 0.5
    observed[:, 0] = True
    observed[test] = True
    return observed


@pytest.fixture(scope="module")
def transport(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray, Path]:
    """The same sparse file twice: as simulated, and with every unobserved frame poisoned; and the poisoned
    values without the mask."""
    folder = tmp_path_factory.mktemp("observed")
    data = simulate_transport(40, 16, np.linspace(0.0, 0.3, 7), "exponential:c0=0.5,a=1.5", seed=0)
    observed = _sparse_mask(40, 7, make_test_mask(40, 0.25, 0))
    clean = write(folder / "clean.h5", data, seed=0, test_fraction=0.25, observed=observed)
    poisoned_u = np.where(observed[:, :, None], data.u, POISON)
    poisoned = write(folder / "poisoned.h5", type(data)(**{**data.__dict__, "u": poisoned_u}), seed=0,
                     test_fraction=0.25, observed=observed)
    unmasked = write(folder / "unmasked.h5", type(data)(**{**data.__dict__, "u": poisoned_u}), seed=0,
                     test_fraction=0.25)
    return clean, poisoned, observed, unmasked


def test_the_mask_round_trips_and_xarray_reads_it(transport: tuple[Path, Path, np.ndarray, Path]) -> None:
    clean, _, observed, _ = transport
    with TrajectoryFile(clean) as data:
        assert np.array_equal(data.observed, observed) and data.attrs["format_version"] == 4
        assert data.coefficients.keys() == {"c"}  # the mask is not taken for a coefficient
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(clean, engine="h5netcdf") as ds:
        assert ds.observed.dims == ("sample", "t") and np.array_equal(ds.observed.values.astype(bool), observed)


def test_a_file_without_the_mask_is_written_as_before(tmp_path: Path) -> None:
    u, t, x = np.random.default_rng(0).random((3, 4, 8)), np.linspace(0, 1, 4), np.linspace(0, 1, 8)
    plain = write_trajectories(tmp_path / "plain.h5", u, t, x, equation="e")
    with h5py.File(plain) as f:
        assert "observed" not in f and f.attrs["format_version"] == 1
    with TrajectoryFile(plain) as data:
        assert data.observed is None


@pytest.mark.parametrize("observed, message", [
    (np.ones((3, 3), bool), r"observed must be \(3, 4\) booleans"),
    (np.full((3, 4), 2), r"observed must be \(3, 4\) booleans"),
])
def test_a_bad_mask_is_refused_before_anything_is_written(tmp_path: Path, observed: np.ndarray,
                                                           message: str) -> None:
    u, t, x = np.zeros((3, 4, 8)), np.linspace(0, 1, 4), np.linspace(0, 1, 8)
    with pytest.raises(InputError, match=message):
        write_trajectories(tmp_path / "bad.h5", u, t, x, equation="e", observed=observed)
    assert not list(tmp_path.iterdir())


def _fit(path: Path, out: Path, **changes: object) -> tuple[dict, dict]:
    config = FitConfig(**{"model": ModelConfig(variant="anode"), "epochs": 3, "batch_size": 8, "lr": 0.05,
                          "polish": 10, "progress": False, "dtype": "float64", **changes})
    fit(path, out, config, device="cpu")
    return json.loads((out / SUMMARY).read_text()), load_checkpoint(out / CHECKPOINT)["model"]


@pytest.mark.parametrize("changes", [{}, {"windows": 2, "loss": "relative"}], ids=["whole", "windows"])
def test_a_poisoned_unobserved_frame_cannot_change_the_fit(transport: tuple[Path, Path, np.ndarray, Path], tmp_path: Path,
                                                           changes: dict) -> None:
    """Adam (whole trajectories or windows from observed states), validation, early stopping and the
    polish alike: the same weights and metrics whatever the unobserved frames hold."""
    clean, poisoned = transport[:2]
    (first, weights), (second, again) = (_fit(path, tmp_path / path.stem, **changes) for path in (clean, poisoned))
    for key in ("test_nrmse", "validation_nrmse", "train_loss", "epochs_run"):
        assert first[key] == second[key], key
    for name, value in weights.items():
        torch.testing.assert_close(again[name], value, rtol=0, atol=0)
    _, unmasked = _fit(transport[3], tmp_path / "unmasked", **changes)  # the poison does change a fit that reads it
    assert any(not torch.equal(unmasked[name], value) for name, value in weights.items())


def test_windows_start_only_from_observed_states(transport: tuple[Path, Path, np.ndarray, Path]) -> None:
    with TrajectoryFile(transport[0]) as data:
        split = TrainSplit(data, 2**30)
        starts = [(start, split.observed_at(shard_positions)) for start, shard_positions in (
            (start, split.window_starters(start).numpy()) for start in range(6))]
        assert all(seen[:, start].all() for start, seen in starts)
        assert sum(len(seen) for _, seen in starts) == split.observed[:, :6].sum()


def test_a_training_trajectory_without_an_observed_start_is_refused(tmp_path: Path) -> None:
    data = simulate_transport(12, 16, np.linspace(0.0, 0.3, 4), "exponential:c0=0.5,a=1.5", seed=0)
    test = make_test_mask(12, 0.25, 0)
    observed = np.ones((12, 4), bool)
    observed[np.flatnonzero(~test)[0], 0] = False
    path = write(tmp_path / "late.h5", data, seed=0, test_fraction=0.25, observed=observed)
    with pytest.raises(InputError, match="first frame unobserved"):
        _fit(path, tmp_path / "run")
    observed[:, 0], observed[np.flatnonzero(test)[0], 2] = True, False
    path = write(tmp_path / "test.h5", data, seed=0, test_fraction=0.25, observed=observed)
    with pytest.raises(InputError, match="test sample .* has unobserved frames"):
        _fit(path, tmp_path / "run")


@pytest.mark.parametrize("name", ["fno", "fno-time", "fno-ar"])
def test_the_peers_ignore_unobserved_frames(transport: tuple[Path, Path, np.ndarray, Path], name: str) -> None:
    """Their losses, validation and early stopping: the same fit whatever the unobserved frames hold,
    another where the poisoned values are unmasked."""
    pytest.importorskip("neuralop")
    from physode.problems.peers import PeerData, fit_peer

    clean, poisoned, _, unmasked = transport
    datas = [PeerData.from_file(path, seed=0) for path in (clean, poisoned, unmasked)]
    assert datas[0].fit_observed is not None and datas[2].fit_observed is None
    fits = [fit_peer(name, data, seed=0, max_epochs=3, modes=4) for data in datas]
    u0, times = datas[0].fit[:4, 0], datas[0].times
    first, same, other = (fit.predict(u0, times) for fit in fits)
    assert torch.equal(first, same) and not torch.allclose(first, other)
    assert fits[0].epochs == fits[1].epochs == 3


def test_the_torch_dataset_refuses_a_split_with_unobserved_frames(
        transport: tuple[Path, Path, np.ndarray, Path]) -> None:
    from physode.trajectories import TrajectoryDataset

    with pytest.raises(InputError, match="the train split has unobserved frames"):
        TrajectoryDataset(transport[0], "train")
    assert len(TrajectoryDataset(transport[0], "test", window=2)) == 10 * 6  # fully observed: served
