"""Multi-channel trajectory files (format version 2) and the unchanged single-field layout (version 1)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr

from physode.errors import InputError
from physode.trajectories import TrajectoryFile, trajectory_writer, write_trajectories

OLD_FILE = Path(__file__).parent / "data" / "version1_transport.h5"  # written by physode before channels


def _wave_like(tmp_path: Path) -> tuple[Path, np.ndarray]:
    u = np.random.default_rng(1).standard_normal((5, 4, 2, 8))
    path = write_trajectories(tmp_path / "wave.h5", u, np.linspace(0, 1, 4), np.arange(8) / 8,
                              equation="u_tt = c(t)^2 u_xx", channels=["u", "u_t"],
                              coefficients={"c": np.full(4, 0.5)}, test_mask=[0, 1, 0, 0, 1])
    return path, u.astype(np.float32)


def test_channels_round_trip_and_lazy_reads(tmp_path: Path) -> None:
    path, u = _wave_like(tmp_path)
    with TrajectoryFile(path) as f:
        assert f.channels == ("u", "u_t") and f.n_channels == 2
        assert (f.n_samples, f.n_times, f.n_x, f.sample_shape) == (5, 4, 8, (4, 2, 8))
        assert f.attrs["format_version"] == 2
        np.testing.assert_array_equal(f[3], u[3])
        np.testing.assert_array_equal(f[[4, 0, 4]], u[[4, 0, 4]])
        np.testing.assert_array_equal(f.batch(f.test).numpy(), u[[1, 4]])
        assert f[[]].shape == (0, 4, 2, 8)
        f.validate()


def test_xarray_shows_the_channel_dimension_with_its_names(tmp_path: Path) -> None:
    path, u = _wave_like(tmp_path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["u"].dims == ("sample", "t", "channel", "x")
        assert list(ds["channel"].values) == ["u", "u_t"]
        np.testing.assert_array_equal(ds["u"].sel(channel="u_t").values, u[:, :, 1])
        ds.to_netcdf(tmp_path / "back.h5", engine="h5netcdf")
    with TrajectoryFile(tmp_path / "back.h5") as f:  # written back by xarray: still reads
        assert f.channels == ("u", "u_t")
        np.testing.assert_array_equal(f[:], u)


def test_single_field_files_keep_version_1(tmp_path: Path) -> None:
    u = np.random.default_rng(2).standard_normal((3, 4, 8))
    path = write_trajectories(tmp_path / "one.h5", u, np.linspace(0, 1, 4), np.arange(8) / 8, equation="e")
    with h5py.File(path) as raw:
        assert raw.attrs["format_version"] == 1 and "channel" not in raw and raw["u"].ndim == 3
    with TrajectoryFile(path) as f:
        assert f.channels == ("u",) and f[0].shape == (4, 8)


def test_a_file_written_before_channels_existed_reads_as_before() -> None:
    expected = np.random.default_rng(0).standard_normal((3, 4, 8)).astype(np.float32)  # how it was made
    with TrajectoryFile(OLD_FILE) as f:
        assert (f.channels, f.sample_shape, f.attrs["format_version"]) == (("u",), (4, 8), 1)
        np.testing.assert_array_equal(f[:], expected)
        np.testing.assert_array_equal(f[1], expected[1])
        np.testing.assert_array_equal(f.coefficients["c"], [0.5, 0.7, 1.1, 1.6])
        np.testing.assert_array_equal(f.test, [1])


def test_streamed_channel_blocks(tmp_path: Path) -> None:
    u = np.random.default_rng(3).standard_normal((4, 3, 2, 6)).astype(np.float32)
    with trajectory_writer(tmp_path / "s.h5", 4, np.arange(3.0), np.arange(6.0), equation="e",
                           channels=["a", "b"]) as writer:
        writer.write(u[:3])
        with pytest.raises(InputError, match=r"shape \(n, 3, 2, 6\)"):
            writer.write(u[3, :, 0])
        writer.write(u[3:])
    with TrajectoryFile(tmp_path / "s.h5") as f:
        np.testing.assert_array_equal(f[:], u)


@pytest.mark.parametrize("channels, message", [
    (["u", "u"], "distinct identifiers"), (["u", "1x"], "distinct identifiers"), ([], "2 channels but 0"),
    (["u"], "2 channels but 1 channel names"),
])
def test_bad_channel_names_are_refused(tmp_path: Path, channels: list, message: str) -> None:
    with pytest.raises(InputError, match=message):
        write_trajectories(tmp_path / "bad.h5", np.zeros((1, 2, 2, 4)), [0.0, 1.0], np.arange(4.0),
                           equation="e", channels=channels)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.attrs.__setitem__("format_version", 1), "channels came with version 2"),
    (lambda f: f.__delitem__("channel"), "'channel' must be a 1-D string dataset"),
])
def test_damaged_channel_files_raise_one_input_error(tmp_path: Path, mutate, message: str) -> None:
    path, _ = _wave_like(tmp_path)
    with h5py.File(path, "r+") as f:
        mutate(f)
    with pytest.raises(InputError, match=message):
        TrajectoryFile(path)
