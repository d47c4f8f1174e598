"""Trajectory files: round trip, xarray view, schema errors, atomic writes, PDEBench layout.

Every file here is real HDF5 written to tmp_path; malformed files are made with h5py directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
import xarray as xr

import physode
from physode.errors import InputError
from physode.trajectories import TrajectoryFile, make_test_mask, trajectory_writer, write_trajectories

N, NT, NX = 5, 4, 8


@pytest.fixture
def data() -> dict:
    rng = np.random.default_rng(0)
    return {
        "u": rng.standard_normal((N, NT, NX)),
        "t": np.linspace(0.0, 1.0, NT),
        "x": np.arange(NX) / NX,
        "c": np.array([0.5, 0.7, 1.1, 1.6]),
        "test_mask": np.array([False, True, False, False, True]),
    }


def write(path: Path, data: dict, **kwargs) -> Path:
    return write_trajectories(
        path, data["u"], data["t"], data["x"], equation="dz/dt = c(t) dz/dx",
        coefficients={"c": data["c"]}, test_mask=data["test_mask"],
        generator={"velocity": "exponential:c0=0.5,a=1.5"}, seed=11, **kwargs,
    )


def test_round_trip(tmp_path: Path, data: dict) -> None:
    path = write(tmp_path / "traj.h5", data)
    u32 = data["u"].astype(np.float32)
    with TrajectoryFile(path) as f:
        assert (f.layout, f.n_samples, f.n_times, f.n_x, len(f)) == ("physode", N, NT, NX, N)
        np.testing.assert_array_equal(f.t, data["t"])
        np.testing.assert_array_equal(f.x, data["x"])
        np.testing.assert_array_equal(f.coefficients["c"], data["c"])
        np.testing.assert_array_equal(f.train, [0, 2, 3])
        np.testing.assert_array_equal(f.test, [1, 4])
        assert f.attrs["equation"] == "dz/dt = c(t) dz/dx"
        assert f.attrs["boundary_condition"] == "periodic"
        assert f.attrs["seed"] == 11
        assert f.attrs["physode_version"] == physode.__version__
        assert json.loads(f.attrs["generator"]) == {"velocity": "exponential:c0=0.5,a=1.5"}
        np.testing.assert_array_equal(f[:], u32)
        np.testing.assert_array_equal(f[-1], u32[-1])
        np.testing.assert_array_equal(f[1:4], u32[1:4])
        np.testing.assert_array_equal(f[::2], u32[::2])
        np.testing.assert_array_equal(f[[4, 0, 4]], u32[[4, 0, 4]])  # any order, repeats
        batch = f.batch(f.test)
        assert batch.dtype == torch.float32 and batch.shape == (2, NT, NX)
        np.testing.assert_array_equal(batch.numpy(), u32[[1, 4]])
        blocks = list(f.iter_batches(2, f.train))
        assert [len(b) for b in blocks] == [2, 1]
        np.testing.assert_array_equal(np.concatenate(blocks), u32[[0, 2, 3]])
        f.validate()
        with pytest.raises(IndexError):
            f[N]
    with h5py.File(path, "r") as raw:
        assert raw["u"].dtype == np.float32
        assert raw["u"].chunks == (1, NT, NX) and raw["u"].compression is None


def test_xarray_sees_named_dimensions_and_coordinates(tmp_path: Path, data: dict) -> None:
    path = write(tmp_path / "traj.h5", data, compression="gzip")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["u"].dims == ("sample", "t", "x")
        assert dict(ds.sizes) == {"sample": N, "t": NT, "x": NX}
        assert not any(str(dim).startswith("phony_dim") for dim in ds.dims)
        np.testing.assert_array_equal(ds["sample"].values, np.arange(N))
        np.testing.assert_array_equal(ds["t"].values, data["t"])
        np.testing.assert_array_equal(ds["x"].values, data["x"])
        assert ds["c"].dims == ("t",)
        np.testing.assert_array_equal(ds["c"].values, data["c"])
        assert ds["split"].dims == ("sample",)
        np.testing.assert_array_equal(ds["split"].values.astype(bool), data["test_mask"])
        assert ds.attrs["format"] == "physode-trajectories"
        np.testing.assert_allclose(ds["u"].sel(sample=3, t=1.0).values, data["u"][3, -1], rtol=1e-6)


def _replace(name: str, values: np.ndarray) -> Callable[[h5py.File], None]:
    def mutate(f: h5py.File) -> None:
        del f[name]
        f.create_dataset(name, data=values)

    return mutate


def _assign(name: str, index: tuple, value: float) -> Callable[[h5py.File], None]:
    def mutate(f: h5py.File) -> None:
        f[name][index] = value

    return mutate


def _elsewhere(kind: str, name: str) -> Callable[[h5py.File], None]:
    """Make ``name`` take its values from another local file (``secret.h5``/``.bin`` beside it)."""
    def mutate(f: h5py.File) -> None:
        folder = Path(f.filename).parent
        values = f[name][()]
        with h5py.File(folder / "secret.h5", "w") as other:
            other.create_dataset("d", data=values)
        del f[name]
        if kind == "external link":
            f[name] = h5py.ExternalLink(str(folder / "secret.h5"), "/d")
        elif kind == "soft link into a linked group":
            f["g"] = h5py.ExternalLink(str(folder / "secret.h5"), "/")
            f[name] = h5py.SoftLink("/g/d")
        elif kind == "external storage":
            (folder / "secret.bin").write_bytes(values.tobytes())
            f.create_dataset(name, shape=values.shape, dtype=values.dtype,
                             external=[(str(folder / "secret.bin"), 0, values.nbytes)])
        elif kind == "virtual":
            layout = h5py.VirtualLayout(shape=values.shape, dtype=values.dtype)
            layout[...] = h5py.VirtualSource(str(folder / "secret.h5"), "d", shape=values.shape)
            f.create_virtual_dataset(name, layout)

    return mutate


MALFORMED = {
    "missing field": (lambda f: f.__delitem__("u"), "missing field 'u'"),
    "wrong rank": (_replace("u", np.zeros((N, NT), np.float32)), "must be a \\(sample, t, x\\) or"),
    "wrong dtype": (_replace("u", np.zeros((N, NT, NX), np.int32)), "dtype int32"),
    "t too long": (_replace("t", np.linspace(0, 1, NT + 1)), "coordinate 't' has shape"),
    "x too short": (_replace("x", np.arange(NX - 1) / NX), "coordinate 'x' has shape"),
    "t not increasing": (_assign("t", (2,), 0.1), "'t' is not strictly increasing"),
    "t has NaN": (_assign("t", (1,), np.nan), "'t' contains NaN"),
    "integer x": (_replace("x", np.arange(NX)), "dtype int64"),
    "missing format": (lambda f: f.attrs.__delitem__("format"), "not a physode-trajectories file"),
    "future version": (lambda f: f.attrs.__setitem__("format_version", 99), "upgrade physode"),
    "bad split": (_replace("split", np.full(N, 2, np.int8)), r"only 0 \(train\) and 1 \(test\)"),
    "split length": (_replace("split", np.zeros(N + 1, np.int8)), "'split' must be a 1-D integer"),
    "coefficient length": (_replace("c", np.ones(NT + 2)), "unexpected entry 'c'"),
    "coefficient NaN": (_assign("c", (0,), np.nan), "unexpected entry 'c'"),
    "array format": (lambda f: f.attrs.__setitem__("format", ["physode-trajectories"] * 2), "not a physode-traj"),
    "numeric format": (lambda f: f.attrs.__setitem__("format", 1), "not a physode-trajectories file"),
    "array version": (lambda f: f.attrs.__setitem__("format_version", [1, 2]), "format_version is .*damaged"),
    "text version": (lambda f: f.attrs.__setitem__("format_version", "1"), "format_version is '1', not a version"),
    "zero version": (lambda f: f.attrs.__setitem__("format_version", 0), "format_version is 0, not a version"),
    "external link field": (_elsewhere("external link", "u"), "'u' is an external link to .*secret.h5"),
    "external link coordinate": (_elsewhere("external link", "x"), "'x' is an external link"),
    "external link coefficient": (_elsewhere("external link", "c"), "'c' is an external link"),
    "linked group": (_elsewhere("soft link into a linked group", "c"), "'c' resolves to another file"),
    "external storage": (_elsewhere("external storage", "u"), "'u' keeps its values in external files"),
    "external storage split": (_elsewhere("external storage", "split"), "'split' keeps its values in external"),
    "virtual dataset": (_elsewhere("virtual", "u"), "'u' is a virtual dataset"),
    "dangling soft link": (lambda f: f.__setitem__("c2", h5py.SoftLink("/nowhere")), "'c2' is a link to a missing"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_files_raise_one_clear_input_error(tmp_path: Path, data: dict, case: str) -> None:
    mutate, message = MALFORMED[case]
    path = write(tmp_path / "bad.h5", data)
    with h5py.File(path, "r+") as f:
        mutate(f)
    with pytest.raises(InputError, match=message) as err:
        TrajectoryFile(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_a_file_written_back_by_xarray_reads_again(tmp_path: Path, data: dict) -> None:
    """xarray stores scalar attributes as one-element arrays: the round trip must still read."""
    path = write(tmp_path / "traj.h5", data)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds.to_netcdf(tmp_path / "again.h5", engine="h5netcdf")
    with h5py.File(tmp_path / "again.h5") as f:
        assert f.attrs["format_version"].shape == (1,)  # what made it fail before
    with TrajectoryFile(path) as original, TrajectoryFile(tmp_path / "again.h5") as again:
        np.testing.assert_array_equal(again[:], original[:])
        np.testing.assert_array_equal(again.t, original.t)
        np.testing.assert_array_equal(again.test, original.test)
        np.testing.assert_array_equal(again.coefficients["c"], original.coefficients["c"])
        assert again.attrs["seed"] == original.attrs["seed"] == 11


def test_missing_and_non_hdf5_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        TrajectoryFile(tmp_path / "absent.h5")
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5")
    with pytest.raises(InputError, match="not an HDF5 file"):
        TrajectoryFile(text)


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_nan_values_are_caught_on_read_and_by_validate(tmp_path: Path, data: dict, bad_value: float) -> None:
    path = write(tmp_path / "nan.h5", data)
    with h5py.File(path, "r+") as f:
        f["u"][3, 2, 5] = bad_value
    with TrajectoryFile(path) as f:  # the schema is fine, so opening succeeds
        np.testing.assert_array_equal(f[:3], data["u"][:3].astype(np.float32))
        for selection in (3, slice(2, 5), [4, 3]):
            with pytest.raises(InputError, match="NaN or Inf in sample 3"):
                f[selection]
        with pytest.raises(InputError, match="NaN or Inf in sample 3"):
            f.validate()
        f.validate(check_values=False)


def test_failed_writes_leave_nothing_behind(tmp_path: Path, data: dict) -> None:
    path = tmp_path / "out" / "traj.h5"
    bad_u = data | {"u": np.where(np.arange(NX) == 2, np.nan, data["u"])}
    with pytest.raises(InputError, match="NaN or Inf"):
        write(path, bad_u)
    with pytest.raises(TypeError):  # h5py cannot store the attribute: fails after the file is open
        write(path, data, attrs={"note": object()})
    assert list(path.parent.iterdir()) == []

    write(path, data)  # an existing file survives a failed overwrite untouched
    before = path.read_bytes()
    with pytest.raises(TypeError):
        write(path, data, attrs={"note": object()})
    assert path.read_bytes() == before
    assert list(path.parent.iterdir()) == [path]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"u": np.zeros((N, NT))}, "sample, t, x"),
        ({"t": np.linspace(1, 0, NT)}, "coordinate t is not strictly increasing"),
        ({"x": np.arange(NX + 1) / NX}, "coordinate x has shape"),
        ({"c": np.ones(NT + 1)}, "coefficient c must be finite with shape"),
        ({"test_mask": np.ones(N - 1, bool)}, "test_mask must be 5 booleans"),
        ({"u": np.full((N, NT, NX), 1e39)}, "after conversion to float32"),
    ],
)
def test_writer_rejects_bad_input(tmp_path: Path, data: dict, change: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        write(tmp_path / "traj.h5", data | change)
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_reserved_names_and_attrs(tmp_path: Path, data: dict) -> None:
    with pytest.raises(InputError, match="coefficient name 'x'"):
        write_trajectories(tmp_path / "a.h5", data["u"], data["t"], data["x"], equation="e",
                           coefficients={"x": data["c"]})
    with pytest.raises(InputError, match="may not override seed"):
        write(tmp_path / "a.h5", data, attrs={"seed": 3})


def test_pdebench_layout_reads_through_the_same_interface(tmp_path: Path) -> None:
    n, nt, nx, beta = 20, 6, 16, 0.4
    rng = np.random.default_rng(1)
    tensor = rng.standard_normal((n, nt, nx)).astype(np.float32)
    t_coordinate = np.linspace(0.0, 2.0, nt + 1)
    path = tmp_path / "1D_Advection_Sols_beta0.4.hdf5"
    with h5py.File(path, "w") as f:
        f.create_dataset("tensor", data=tensor)
        f.create_dataset("x-coordinate", data=(np.arange(nx) + 0.5) / nx)
        f.create_dataset("t-coordinate", data=t_coordinate)
        f.attrs["beta"] = beta
    with TrajectoryFile(path) as f:
        assert f.layout == "pdebench" and (f.n_samples, f.n_times, f.n_x) == (n, nt, nx)
        np.testing.assert_array_equal(f.t, t_coordinate[:-1])
        np.testing.assert_array_equal(f[[7, 2]], tensor[[7, 2]])
        np.testing.assert_array_equal(f.coefficients["c"], np.full(nt, -beta))
        np.testing.assert_array_equal(f.test, [0, 1])  # PDEBench: the first 10% are the test set
        f.validate()
    with h5py.File(path, "r+") as f:
        del f["t-coordinate"]
        f.create_dataset("t-coordinate", data=t_coordinate[:-2])
    with pytest.raises(InputError, match="'t-coordinate' has shape"):
        TrajectoryFile(path)


@pytest.mark.parametrize("beta", ["fast", np.array([0.1, 0.2]), np.nan, True])
def test_pdebench_beta_must_be_a_number(tmp_path: Path, beta: object) -> None:
    path = tmp_path / "1D_Advection.hdf5"
    with h5py.File(path, "w") as f:
        f.create_dataset("tensor", data=np.zeros((2, 3, 4), np.float32))
        f.create_dataset("x-coordinate", data=np.arange(4.0))
        f.create_dataset("t-coordinate", data=np.arange(4.0))
        f.attrs["beta"] = beta
    with pytest.raises(InputError, match="beta .* expected a finite number") as err:
        TrajectoryFile(path)
    assert "\n" not in str(err.value)


def test_make_test_mask_is_reproducible() -> None:
    mask = make_test_mask(50, 0.2, seed=3)
    assert mask.dtype == bool and mask.sum() == 10
    np.testing.assert_array_equal(mask, make_test_mask(50, 0.2, seed=3))
    assert not np.array_equal(mask, make_test_mask(50, 0.2, seed=4))
    assert not make_test_mask(5, 0.0).any()
    for bad in (-0.1, 1.0):
        with pytest.raises(InputError, match="test fraction"):
            make_test_mask(5, bad)


def test_streamed_writes_equal_a_whole_write(tmp_path: Path, data: dict) -> None:
    whole = write(tmp_path / "whole.h5", data)
    with trajectory_writer(
        tmp_path / "streamed.h5", N, data["t"], data["x"], equation="dz/dt = c(t) dz/dx",
        coefficients={"c": data["c"]}, test_mask=data["test_mask"],
        generator={"velocity": "exponential:c0=0.5,a=1.5"}, seed=11,
    ) as writer:
        for start in range(0, N, 2):
            assert not (tmp_path / "streamed.h5").exists()  # nothing visible until complete
            writer.write(data["u"][start : start + 2])
    with TrajectoryFile(whole) as a, TrajectoryFile(tmp_path / "streamed.h5") as b:
        np.testing.assert_array_equal(a[:], b[:])
        np.testing.assert_array_equal(a.test, b.test)
        assert a.attrs == b.attrs


def _with_nan(u: np.ndarray) -> np.ndarray:
    u = u.copy()
    u[0, 0, 0] = np.nan
    return u


@pytest.mark.parametrize("blocks, message", [
    (lambda u: [u[:2]], "only 2 of 5 samples were written"),
    (lambda u: [u[:4], u[:2]], "6 samples written to a file declared with 5"),
    (lambda u: [u[:2], _with_nan(u[3:])], "NaN or Inf .* in sample 2"),
    (lambda u: [np.zeros((1, NT, NX + 1))], r"must have shape \(n, 4, 8\)"),
])
def test_incomplete_or_bad_streams_leave_nothing(tmp_path: Path, data: dict, blocks: Callable, message: str) -> None:
    with pytest.raises(InputError, match=message):
        with trajectory_writer(tmp_path / "out.h5", N, data["t"], data["x"], equation="e") as writer:
            for block in blocks(data["u"]):
                writer.write(block)
    assert list(tmp_path.iterdir()) == []
