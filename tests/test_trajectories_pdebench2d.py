"""PDEBench's 2-D layouts, written here with h5py only (as PDEBench's own scripts write them) and read
lazily by TrajectoryFile: one file (``tensor``, or density/pressure/Vx/Vy as channels) and a group
per sample (``"0000"/data`` with ``grid/x``, ``grid/y``, ``grid/t``)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from physode.errors import InputError
from physode.trajectories import TrajectoryFile

N, T, NX, NY = 6, 5, 8, 4
RNG = np.random.default_rng(7)
X = ((np.arange(NX) + 0.5) / NX).astype(np.float32)
Y = ((np.arange(NY) + 0.5) / NY).astype(np.float32)


def _coordinates(f: h5py.File) -> None:
    f["x-coordinate"], f["y-coordinate"] = X, Y
    f["t-coordinate"] = (np.arange(T + 1) * 0.05).astype(np.float32)  # PDEBench: one more than the snapshots


def test_tensor_reads_as_one_channel_in_pdebench_axis_order(tmp_path: Path) -> None:
    tensor = RNG.standard_normal((N, T, NX, NY)).astype(np.float32)
    tensor[2, 1, 0, 0] = np.nan  # never read unless sample 2 is asked for
    with h5py.File(tmp_path / "2D_tensor.hdf5", "w") as f:
        f.create_dataset("tensor", data=tensor, chunks=(1, T, NX, NY))
        _coordinates(f)
    with TrajectoryFile(tmp_path / "2D_tensor.hdf5", pdebench_test_fraction=0.34) as f:
        assert (f.layout, f.channels, list(f.space), f.space_shape) == ("pdebench", ("u",), ["x", "y"], (NX, NY))
        np.testing.assert_allclose(f.t, np.arange(T) * 0.05, rtol=1e-6)
        np.testing.assert_array_equal(f.space["y"], Y)
        assert list(f.test) == [0, 1]  # int(6 * 0.34) = 2: PDEBench's single-file loader tests the first ones
        np.testing.assert_array_equal(f[[5, 0]], tensor[[5, 0]][:, :, None])
        with pytest.raises(InputError, match="NaN or Inf in sample 2"):
            f[2]


def test_fluid_fields_read_as_channels(tmp_path: Path) -> None:
    fields = {name: RNG.standard_normal((N, T, NX, NY)).astype(np.float32) for name in ("Vy", "density", "Vx", "pressure")}
    with h5py.File(tmp_path / "2D_CFD.hdf5", "w") as f:
        for name, values in fields.items():
            f[name] = values
        _coordinates(f)
        f.attrs["M"] = 0.1
    with TrajectoryFile(tmp_path / "2D_CFD.hdf5", pdebench_test_fraction=0.5) as f:
        assert f.channels == ("density", "pressure", "Vx", "Vy") and f.attrs["M"] == 0.1
        assert list(f.test) == [0, 1, 2]
        block = f[1:3]
        assert block.shape == (2, T, 4, NX, NY)
        for channel, name in enumerate(f.channels):
            np.testing.assert_array_equal(block[:, :, channel], fields[name][1:3])
        f.validate()
        assert sum(len(part) for part in f.iter_batches(4)) == N


def _groups(path: Path, n: int, shape: tuple[int, ...] = (T, NX, NY, 2)) -> np.ndarray:
    data = RNG.standard_normal((n, *shape)).astype(np.float32)
    with h5py.File(path, "w") as f:
        for i in RNG.permutation(n):  # created out of order: the reader sorts the names
            group = f.create_group(f"{i:04d}")
            group["data"] = data[i]
            group["grid/x"], group["grid/y"] = X, Y
            group["grid/t"] = np.linspace(0, 1, T).astype(np.float32)
    return data


def test_group_per_sample_reads_lazily_with_pdebenchs_split(tmp_path: Path) -> None:
    path = tmp_path / "2D_diff-react_NA_NA.h5"
    data = _groups(path, 20)
    with h5py.File(path, "r+") as f:
        f["0003/data"][0, 0, 0, 0] = np.inf  # never read unless sample 3 is asked for
    with TrajectoryFile(path) as f:
        assert (f.layout, f.channels, f.n_samples, f.sample_shape) == ("pdebench-groups", ("u0", "u1"), 20,
                                                                      (T, 2, NX, NY))
        assert list(f.test) == [18, 19]  # the last 10% of the sorted groups, as PDEBench's loader splits
        np.testing.assert_allclose(f.t, np.linspace(0, 1, T), rtol=1e-6)
        np.testing.assert_array_equal(f[[19, 0]], np.moveaxis(data[[19, 0]], -1, 2))
        with pytest.raises(InputError, match="NaN or Inf in sample 3"):
            f[2:5]


def test_one_dimensional_groups_read_too(tmp_path: Path) -> None:
    path = tmp_path / "1D_diff-sorp.h5"
    data = RNG.standard_normal((3, T, NX, 1)).astype(np.float32)
    with h5py.File(path, "w") as f:
        for i in range(3):
            f[f"{i:04d}/data"], f[f"{i:04d}/grid/x"], f[f"{i:04d}/grid/t"] = data[i], X, np.arange(T + 1.0)
    with TrajectoryFile(path) as f:
        assert list(f.space) == ["x"] and f.channels == ("u",) and f[1].shape == (T, 1, NX)
        np.testing.assert_array_equal(f[:], np.moveaxis(data, -1, 2))
        f.validate()


@pytest.mark.parametrize("break_it, message", [
    (lambda f: f.__delitem__("0004/data"), "group '0004' has no dataset 'data'"),
    (lambda f: (f.__delitem__("0004/data"), f.create_dataset("0004/data", data=np.zeros((T, NX, NY, 1), np.float32))),
     "sample '0004' has shape"),
    (lambda f: f.__delitem__("0000/grid/y"), "missing coordinate dataset '0000/grid/y'"),
    (lambda f: f["0000/grid"].__setitem__("t_", 0) or f["0000/grid"].move("t", "tt"), "'0000/grid/t'"),
])
def test_broken_group_files_are_refused(tmp_path: Path, break_it, message: str) -> None:
    path = tmp_path / "groups.h5"
    _groups(path, 5)
    with h5py.File(path, "r+") as f:
        break_it(f)
    with pytest.raises(InputError, match=message):
        TrajectoryFile(path)


def test_mismatched_fluid_fields_and_3d_data_are_refused(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "cfd.h5", "w") as f:
        f["density"] = np.zeros((N, T, NX, NY), np.float32)
        f["Vx"] = np.zeros((N, T, NX, NX), np.float32)
        _coordinates(f)
    with pytest.raises(InputError, match="must have one shape"):
        TrajectoryFile(tmp_path / "cfd.h5")
    with h5py.File(tmp_path / "cfd.h5", "r+") as f:
        f["Vz"] = np.zeros(1, np.float32)
    with pytest.raises(InputError, match="3-D PDEBench data"):
        TrajectoryFile(tmp_path / "cfd.h5")
