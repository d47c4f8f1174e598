"""PDEBench-layout files written by other tools (h5py only): both ``t-coordinate`` conventions, and
uniform grids stored in float32 (py-pde's 64 cell-centred points on [0, 2 pi))."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from physode.errors import InputError
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import Grid, ModelConfig
from physode.trajectories import TrajectoryFile

N, T, NX = 12, 6, 64
PY_PDE_X = ((np.arange(NX) + 0.5) * 2 * np.pi / NX).astype(np.float32)  # cell centres, stored as float32


def _pdebench(path: Path, t_coordinate: np.ndarray, x_coordinate: np.ndarray = PY_PDE_X) -> Path:
    """A PDEBench-layout file of decaying sine waves, written with h5py as another tool would."""
    k = np.arange(1, N + 1)[:, None, None] % 4 + 1
    t = np.arange(T)[None, :, None] * 0.1
    tensor = np.sin(k * x_coordinate.astype(np.float64)[None, None]) * np.exp(-0.1 * k**2 * t)
    with h5py.File(path, "w") as f:
        f.create_dataset("tensor", data=tensor.astype(np.float32))
        f.create_dataset("x-coordinate", data=x_coordinate)
        f.create_dataset("t-coordinate", data=t_coordinate)
    return path


@pytest.mark.parametrize("entries", [T, T + 1])
def test_t_coordinate_with_one_entry_per_snapshot_or_pdebench_s_one_more(tmp_path: Path, entries: int) -> None:
    t_coordinate = (np.arange(entries) * 0.1).astype(np.float32)
    with TrajectoryFile(_pdebench(tmp_path / "u.h5", t_coordinate)) as data:
        np.testing.assert_array_equal(data.t, t_coordinate[:T])
        assert data.n_times == T


@pytest.mark.parametrize("entries", [T - 1, T + 2])
def test_other_t_coordinate_lengths_are_refused_naming_both_conventions(tmp_path: Path, entries: int) -> None:
    with pytest.raises(InputError, match=rf"expected \({T},\) \(one time per snapshot\) or \({T + 1},\)"):
        TrajectoryFile(_pdebench(tmp_path / "u.h5", np.arange(entries) * 0.1))


def test_a_float32_grid_is_uniform_at_float32_resolution(tmp_path: Path) -> None:
    spacing = np.diff(PY_PDE_X.astype(np.float64))
    assert np.ptp(spacing) > 1e-6 * spacing.mean()  # what the old check at rtol 1e-6 refused
    with TrajectoryFile(_pdebench(tmp_path / "u.h5", np.arange(T) * 0.1)) as data:
        assert data.x_dtype == np.float32
        grid = Grid.from_points(data.x, data.x_dtype)
    assert grid.shape == (NX,) and grid.spacing[0] == pytest.approx(2 * np.pi / NX, rel=1e-6)
    assert Grid.from_points(PY_PDE_X).shape == (NX,)  # a float32 array judges by its own dtype


def test_a_float64_grid_is_still_judged_at_1e_6(tmp_path: Path) -> None:
    jittered = PY_PDE_X.astype(np.float64)  # the float32 rounding, now claimed as float64 values
    with pytest.raises(InputError, match="not uniform .* float64 storage"):
        Grid.from_points(jittered)
    with pytest.raises(InputError, match="not uniform"):
        Grid.from_points(np.array([0.0, 0.1, 0.3, 0.4, 0.5], np.float32))  # float32 does not excuse a real gap
    with TrajectoryFile(_pdebench(tmp_path / "u.h5", np.arange(T) * 0.1, jittered)) as data:
        with pytest.raises(InputError, match="not uniform"):
            Grid.from_points(data.x, data.x_dtype)


def test_fit_trains_on_a_py_pde_style_file(tmp_path: Path) -> None:
    path = _pdebench(tmp_path / "u.h5", (np.arange(T) * 0.1).astype(np.float32))
    config = FitConfig(model=ModelConfig(variant="anode"), epochs=2, batch_size=4, polish=0, progress=False)
    summary = fit(path, tmp_path / "run", config, device="cpu")
    assert np.isfinite(summary["test_nrmse"])


def test_a_prediction_on_a_float32_grid_keeps_it_and_fits_again(tmp_path: Path) -> None:
    """`physode predict` writes the grid in the dtype it was stored in, so its output is a file
    `physode fit` takes (in float64 the float32 points would be refused as not uniform)."""
    from physode.problems.fitting.predict import predict_file

    path = _pdebench(tmp_path / "u.h5", (np.arange(T) * 0.1).astype(np.float32))
    config = FitConfig(model=ModelConfig(variant="anode"), epochs=2, batch_size=4, polish=0, progress=False)
    fit(path, tmp_path / "run", config, device="cpu")
    out = predict_file(tmp_path / "run", path, tmp_path / "predicted.h5")
    with TrajectoryFile(out) as predicted:
        assert predicted.x_dtype == np.float32 and np.array_equal(predicted.x, PY_PDE_X.astype(np.float64))
    summary = fit(out, tmp_path / "refit", config, device="cpu")
    assert np.isfinite(summary["test_nrmse"])
