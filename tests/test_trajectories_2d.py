"""Trajectory files over two spatial axes (format version 3): u (sample, t, channel, y, x)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr

from physode.errors import InputError
from physode.trajectories import TrajectoryFile, trajectory_writer, write_trajectories

Y, X = np.arange(6) / 6, np.arange(8) / 8


def _plane(tmp_path: Path, channels: list[str] | None = None) -> tuple[Path, np.ndarray]:
    u = np.random.default_rng(3).standard_normal((5, 4, 2 if channels else 1, 6, 8))
    path = write_trajectories(tmp_path / "plane.h5", u, np.linspace(0, 1, 4), {"y": Y, "x": X},
                              equation="u_t = c(t) . grad u", channels=channels,
                              coefficients={"cx": np.ones(4), "cy": np.zeros(4)}, test_mask=[0, 0, 1, 0, 1])
    return path, u.astype(np.float32)


def test_a_2d_field_round_trips_with_named_axes(tmp_path: Path) -> None:
    path, u = _plane(tmp_path, ["u", "v"])
    with TrajectoryFile(path) as f:
        assert f.attrs["format_version"] == 3 and f.channels == ("u", "v")
        assert list(f.space) == ["y", "x"] and f.space_shape == (6, 8)
        np.testing.assert_array_equal(f.space["y"], Y)
        np.testing.assert_array_equal(f.x, X)
        assert (f.n_x, f.sample_shape) == (8, (4, 2, 6, 8))
        np.testing.assert_array_equal(f[[4, 1, 4]], u[[4, 1, 4]])
        np.testing.assert_array_equal(f.batch(f.test).numpy(), u[[2, 4]])
        assert set(f.coefficients) == {"cx", "cy"}
        f.validate()


def test_a_single_2d_field_gets_a_channel_axis(tmp_path: Path) -> None:
    path, u = _plane(tmp_path)
    with TrajectoryFile(path) as f:
        assert f.channels == ("u",) and f[0].shape == (4, 1, 6, 8)


def test_xarray_shows_named_dimensions(tmp_path: Path) -> None:
    path, u = _plane(tmp_path, ["u", "v"])
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["u"].dims == ("sample", "t", "channel", "y", "x")
        np.testing.assert_array_equal(ds["y"].values, Y)
        np.testing.assert_array_equal(ds["u"].sel(channel="v").isel(y=2).values, u[:, :, 1, 2])
        ds.to_netcdf(tmp_path / "back.h5", engine="h5netcdf")
    with TrajectoryFile(tmp_path / "back.h5") as f:  # written back by xarray: still reads
        np.testing.assert_array_equal(f[:], u)


def test_streamed_2d_file_equals_the_one_written_at_once(tmp_path: Path) -> None:
    path, u = _plane(tmp_path, ["u", "v"])
    with trajectory_writer(tmp_path / "streamed.h5", 5, np.linspace(0, 1, 4), {"y": Y, "x": X},
                           equation="u_t = c(t) . grad u", channels=["u", "v"], test_mask=[0, 0, 1, 0, 1],
                           coefficients={"cx": np.ones(4), "cy": np.zeros(4)}) as writer:
        writer.write(u[:2])
        writer.write(u[2:])
    assert (tmp_path / "streamed.h5").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("space, message", [
    ({"x": X, "y": Y}, "must be named"), ({"a": Y, "x": X}, "must be named"),
    ({"y": Y[::-1], "x": X}, "coordinate y is not strictly increasing"),
])
def test_bad_spatial_axes_are_refused(tmp_path: Path, space: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        write_trajectories(tmp_path / "bad.h5", np.zeros((1, 2, 1, 6, 8)), [0, 1], space, equation="e")
    assert not list(tmp_path.iterdir())


def test_wrong_shapes_and_axis_names_as_coefficients_are_refused(tmp_path: Path) -> None:
    space = {"y": Y, "x": X}
    with pytest.raises(InputError, match=r"\(sample, t, channel, y, x\) array"):
        write_trajectories(tmp_path / "bad.h5", np.zeros((1, 2, 6, 8)), [0, 1], space, equation="e")
    with pytest.raises(InputError, match="coordinate y has shape"):
        write_trajectories(tmp_path / "bad.h5", np.zeros((1, 2, 1, 5, 8)), [0, 1], space, equation="e")
    with pytest.raises(InputError, match="other than .* y"):
        write_trajectories(tmp_path / "bad.h5", np.zeros((1, 2, 1, 6, 8)), [0, 1], space, equation="e",
                           coefficients={"y": [1.0, 2.0]})


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.attrs.__setitem__("format_version", 2), "2 spatial axes, .* came with version 3"),
    (lambda f: f.attrs.__setitem__("format_version", 5), "newer than this physode reads"),
    (lambda f: f.__delitem__("y"), "missing coordinate dataset 'y'"),
    (lambda f: f.__delitem__("channel"), "'channel' must be a 1-D string dataset"),
])
def test_files_the_reader_cannot_handle_are_refused(tmp_path: Path, mutate, message: str) -> None:
    path, _ = _plane(tmp_path)
    with h5py.File(path, "r+") as f:
        mutate(f)
    with pytest.raises(InputError, match=message):
        TrajectoryFile(path)


def test_a_field_over_four_spatial_axes_is_refused(tmp_path: Path) -> None:
    path, _ = _plane(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["u"]
        f.create_dataset("u", data=np.zeros((5, 4, 1, 2, 2, 6, 8), np.float32))
    with pytest.raises(InputError, match="field 'u' must be a"):
        TrajectoryFile(path)
