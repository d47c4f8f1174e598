"""`physode simulate <pde>` for every PDE: files xarray opens, regeneration, PDEBench layout, errors."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import xarray as xr

from physode.cli import main
from physode.trajectories import TrajectoryFile
from physode.problems.pde import (
    simulate_advection,
    simulate_advection_diffusion,
    simulate_allen_cahn,
    simulate_burgers,
    simulate_diffusion,
    simulate_fisher_kpp,
)

SIZES = ["--samples", "5", "--nx", "64", "--nt", "4", "--t-final", "0.3", "--seed", "4"]
TIMES = np.linspace(0.0, 0.3, 4)
CASES = {  # pde: (its options, the same data from Python, coefficients over t, root attributes)
    "diffusion": (["--nu", "sinusoidal:c0=0.01,amp=0.005"],
                  lambda: simulate_diffusion(5, 64, TIMES, "sinusoidal:c0=0.01,amp=0.005", seed=4),
                  {"nu"}, set()),
    "advection-diffusion": (["--velocity", "constant:c0=-0.7", "--nu", "0.02", "--initial", "gaussian"],
                            lambda: simulate_advection_diffusion(5, 64, TIMES, -0.7, 0.02, "gaussian", seed=4),
                            {"c", "nu"}, set()),
    "advection": (["--beta", "1.0"], lambda: simulate_advection(5, 64, TIMES, 1.0, seed=4), {"c"}, {"beta"}),
    "burgers": (["--nu", "0.05", "--dt", "2e-3"], lambda: simulate_burgers(5, 64, TIMES, 0.05, seed=4, dt=2e-3),
                set(), {"nu", "spectral_tail"}),
    "fisher-kpp": (["--diffusivity", "0.01", "--rate", "2", "--initial", "windowed"],
                   lambda: simulate_fisher_kpp(5, 64, TIMES, 0.01, 2.0, "windowed", seed=4),
                   set(), {"D", "r", "spectral_tail"}),
    "allen-cahn": (["--epsilon", "0.05", "--initial", "gaussian"],
                   lambda: simulate_allen_cahn(5, 64, TIMES, 0.05, "gaussian", seed=4),
                   set(), {"epsilon", "spectral_tail"}),
}


@pytest.mark.parametrize("pde", CASES)
# These small files are about layout; some decay (diffusion, burgers) and simulate says so, which
# tests/test_pde_decay.py checks.
@pytest.mark.filterwarnings("ignore:.*near-zero target:UserWarning")
def test_simulate_writes_a_file_xarray_opens_with_named_dims(pde: str, tmp_path, capsys) -> None:
    options, same_in_python, coefficients, parameters = CASES[pde]
    out = tmp_path / f"{pde}.h5"
    assert main(["simulate", pde, "--out", str(out), *SIZES, "--test-fraction", "0.4", *options]) == 0
    assert f"wrote {out}: {pde}" in capsys.readouterr().out
    expected = same_in_python()
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds["u"].dims == ("sample", "t", "x") and ds["u"].shape == (5, 4, 64)
        np.testing.assert_array_equal(ds["u"].values, expected.u.astype(np.float32))
        np.testing.assert_array_equal(ds["t"].values, TIMES)
        assert {name for name in ds.data_vars if name not in ("u", "split")} == coefficients
        for name in coefficients:
            assert ds[name].dims == ("t",)
            np.testing.assert_allclose(ds[name].values, expected.coefficients[name], rtol=1e-15)
        assert parameters <= set(ds.attrs) and ds.attrs["equation"] == expected.equation
        generator = json.loads(ds.attrs["generator"])
        assert generator["pde"] == pde and generator["seed"] == 4 and generator["nx"] == 64
        assert int(ds["split"].sum()) == 2
    with TrajectoryFile(out) as f:
        f.validate()


def test_pdebench_advection_layout_round_trips_through_the_pdebench_reader(tmp_path) -> None:
    # PDEBench's settings (sums of sines, nx 1024, t in [0, 2], beta 0.1 / 0.4 / 1.0), few samples.
    for beta in (0.1, 0.4, 1.0):
        out = tmp_path / f"1D_Advection_Sols_beta{beta}.hdf5"
        argv = ["simulate", "advection", "--layout", "pdebench", "--beta", str(beta), "--out", str(out),
                "--samples", "3", "--nx", "1024", "--nt", "21", "--t-final", "2", "--seed", "1"]
        assert main(argv) == 0
        with h5py.File(out, "r") as raw:
            assert sorted(raw) == ["t-coordinate", "tensor", "x-coordinate"]
            assert raw["tensor"].shape == (3, 21, 1024) and raw["tensor"].dtype == np.float32
            assert raw["t-coordinate"].shape == (22,) and raw.attrs["beta"] == beta
        with TrajectoryFile(out) as f:
            assert f.layout == "pdebench"
            np.testing.assert_allclose(f.t, np.linspace(0, 2, 21), atol=1e-6)
            np.testing.assert_allclose(f.x, (np.arange(1024) + 0.5) / 1024, atol=1e-7)
            np.testing.assert_array_equal(f.coefficients["c"], np.full(21, -beta))
            u = f[:]
    # u_t + beta u_x = 0: the last state is the first shifted right by beta t_final = 2 (one period).
    x = (np.arange(1024) + 0.5) / 1024
    expected = simulate_advection(3, 1024, np.linspace(0, 2, 21), 1.0, seed=1, cell_centred=True)
    np.testing.assert_allclose(u, expected.u.astype(np.float32), atol=1e-6)
    np.testing.assert_allclose(u[:, -1], u[:, 0], atol=1e-5)
    half = simulate_advection(1, 1024, [0.0, 0.25], 1.0, initial=np.sin(2 * np.pi * x)[None]).u[0, -1]
    np.testing.assert_allclose(half, np.sin(2 * np.pi * (x - 0.25)), atol=1e-12)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diffusion", "--nu", "linear:c0=0.01,slope=-1"], "nu(t) = linear:c0=0.01,slope=-1.0 is negative"),
        (["burgers", "--nu", "sinusoidal:c0=1"], "nu must be a number"),
        (["burgers", "--dt", "-1"], "--dt: expected a finite number > 0, got -1"),
        (["allen-cahn", "--epsilon", "0"], "--epsilon: expected a finite number > 0, got 0"),
        (["fisher-kpp", "--rate", "50"], "r t_final = 50 > 30"),
        (["advection", "--beta", "nan"], "--beta: expected a finite number, got 'nan'"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(argv: list[str], message: str, tmp_path, capsys) -> None:
    assert main(["simulate", *argv, "--out", str(tmp_path / "bad.h5"), "--samples", "2", "--nx", "16"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []


def test_help_lists_every_pde_and_option(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = capsys.readouterr().out
    for word in ("diffusion", "advection-diffusion", "burgers", "fisher-kpp", "allen-cahn", "--nu",
                 "--dt", "--diffusivity", "--rate", "--epsilon", "--beta", "--layout", "transport"):
        assert word in text
