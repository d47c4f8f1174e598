"""Transport simulator: exactness against closed-form solutions, velocities, inputs and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

from physode.cli import main
from physode.errors import InputError
from physode.problems.pde import (
    COEFFICIENT_FAMILIES,
    INITIAL_CONDITIONS,
    Constant,
    Exponential,
    FourierSeries,
    Linear,
    PiecewiseConstant,
    QuadratureCoefficient,
    Sinusoidal,
    coefficient_from_formula,
    coefficient_from_spec,
    simulate_transport,
)

TIMES = np.linspace(0.0, 1.3, 7)


def periodic_gaussian(points: np.ndarray, centre: float, width: float, length: float) -> np.ndarray:
    points = np.mod(points, length)
    return sum(np.exp(-0.5 * ((points - centre + m * length) / width) ** 2) for m in range(-3, 4))


def test_single_mode_under_exponential_velocity_is_exact() -> None:
    length, nx, m, c0, a = 2.0, 64, 3, 0.7, 1.5
    x = np.arange(nx) * length / nx
    z0 = np.sin(2 * np.pi * m * x / length)
    data = simulate_transport(1, nx, TIMES, Exponential(c0=c0, a=a), initial=z0[None], length=length)
    u, x_out, t, c = data.u, data.x, data.t, data.coefficients["c"]
    shift = c0 * (np.exp(a * TIMES) - 1) / a
    assert not np.allclose(np.mod(shift[1:] * m / length, 1.0), 0.0)  # not whole periods
    expected = np.sin(2 * np.pi * m * (x[None, :] + shift[:, None]) / length)
    np.testing.assert_array_equal(x_out, x)
    np.testing.assert_array_equal(t, TIMES)
    np.testing.assert_allclose(c, c0 * np.exp(a * TIMES), rtol=1e-15)
    assert u.dtype == np.float64 and u.shape == (1, len(TIMES), nx)
    assert np.max(np.abs(u[0] - expected)) < 1e-12


def test_gaussian_initial_condition_moves_along_characteristics() -> None:
    nx, length = 128, 1.0
    x = np.arange(nx) * length / nx
    centres, widths = (0.2, 0.9), (0.05, 0.08)
    z0 = np.stack([periodic_gaussian(x, c, w, length) for c, w in zip(centres, widths)])
    velocity = Sinusoidal(c0=0.3, amp=1.1, freq=0.7, phase=0.4)
    u = simulate_transport(2, nx, TIMES, velocity, initial=z0).u
    shifted = x[None, :] + velocity.C(TIMES)[:, None]
    for sample, (c, w) in enumerate(zip(centres, widths)):
        assert np.max(np.abs(u[sample] - periodic_gaussian(shifted, c, w, length))) < 1e-12


@pytest.mark.parametrize("name", list(INITIAL_CONDITIONS))
def test_builtin_initial_conditions_are_resolved_so_the_shift_is_exact(name: str) -> None:
    nx, length, seed = 96, 1.5, 4
    velocity = Linear(c0=-0.4, slope=2.3)
    data = simulate_transport(5, nx, TIMES, velocity, initial=name, seed=seed, length=length)
    u, x, t = data.u, data.x, data.t
    profile = INITIAL_CONDITIONS[name].draw(np.random.default_rng(seed), 5, length, nx)
    exact = profile(x[None, :] + velocity.C(t)[:, None])
    assert np.max(np.abs(u - exact)) < 1e-12
    assert np.ptp(u[:, 0], axis=-1).min() > 0.1  # non-trivial profiles


def test_same_seed_same_data_other_seed_other_data() -> None:
    first = simulate_transport(4, 32, TIMES, "constant:c0=1", initial="windowed", seed=7).u
    np.testing.assert_array_equal(first, simulate_transport(4, 32, TIMES, "constant:c0=1", "windowed", 7).u)
    assert not np.allclose(first, simulate_transport(4, 32, TIMES, "constant:c0=1", "windowed", 8).u)


@pytest.mark.parametrize(
    "velocity",
    [
        Constant(c0=-0.8),
        Linear(c0=0.5, slope=-1.2),
        Exponential(c0=0.5, a=1.5),
        Exponential(c0=0.5, a=0.0),
        Sinusoidal(c0=0.1, amp=1.0, freq=1.3, phase=0.5),
        Sinusoidal(c0=0.1, amp=1.0, freq=0.0, phase=0.5),
        PiecewiseConstant(times=(0.3, 0.6), values=(1.0, -1.0, 0.5)),
    ],
    ids=lambda v: v.spec,
)
def test_closed_form_C_is_the_integral_of_c(velocity) -> None:  # noqa: N802
    t = np.array([0.0, 0.1, 0.3, 0.45, 0.6, 1.0, 1.7])
    by_quadrature = QuadratureCoefficient(lambda s: float(velocity.c(np.array(s)))).C(t)
    np.testing.assert_allclose(velocity.C(t), by_quadrature, rtol=1e-11, atol=1e-12)
    assert coefficient_from_spec(velocity.spec) == velocity


def test_piecewise_velocity_values_and_breakpoints() -> None:
    velocity = coefficient_from_spec("piecewise:times=0.3|0.6,values=1|-1|0.5")
    np.testing.assert_array_equal(velocity.c(np.array([0.0, 0.3, 0.59, 0.6, 2.0])), [1, -1, -1, 0.5, 0.5])
    np.testing.assert_allclose(velocity.C(np.array([0.3, 0.6, 1.0])), [0.3, 0.0, 0.2], atol=1e-15)


def test_formula_velocity_matches_its_closed_form() -> None:
    velocity = coefficient_from_spec("expr:0.5+sin(3*t)")
    t = np.array([0.0, 0.4, 1.0, 2.5])
    np.testing.assert_allclose(velocity.c(t), 0.5 + np.sin(3 * t), rtol=1e-15)
    np.testing.assert_allclose(velocity.C(t), 0.5 * t + (1 - np.cos(3 * t)) / 3, rtol=1e-12, atol=1e-14)
    assert coefficient_from_formula("maximum(t, 0.5) * pi").c(np.array([0.0]))[0] == 0.5 * math.pi


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("__import__('os')", "unknown name '__import__'"),
        ("().__class__", "Attribute is not allowed"),
        ("t.real", "Attribute is not allowed"),
        ("[t][0]", "not allowed"),
        ("sin(", "not valid syntax"),
        ("foo(t)", "unknown name 'foo'"),
        ("sin(t, out=t)", "positional arguments"),
        ("'a' + t", "is not a number"),
        ("lambda: 1", "Lambda is not allowed"),
    ],
)
def test_unsafe_or_invalid_formulas_are_rejected(formula: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        coefficient_from_formula(formula)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("warp:c0=1", "unknown coefficient"),
        ("exponential:b=1", "not key=value with key in c0, a"),
        ("exponential:c0=fast", "is not a number"),
        ("constant:c0=nan", "must be finite"),
        ("piecewise:times=0.3", "missing values"),
        ("piecewise:times=0.6|0.3,values=1|2|3", "strictly increasing"),
        ("piecewise:times=0.3,values=1", "need 2 values"),
        ("expr:9**9**9", "failed"),
        ("expr:log(t)", "NaN or infinite at t=0"),
    ],
)
def test_bad_velocities_raise_input_error(spec: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        simulate_transport(2, 8, TIMES, spec)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nx": 3}, "nx must be an integer >= 4"),
        ({"times": [0.1, 0.5]}, "must start at 0"),
        ({"times": [0.0, 0.5, 0.5]}, "strictly increasing"),
        ({"times": [0.0, np.nan]}, "NaN or Inf"),
        ({"n_samples": 0}, "positive integer"),
        ({"initial": "checkerboard"}, "unknown initial condition"),
        ({"initial": np.zeros((3, 8))}, "shape"),
        ({"length": -1.0}, "positive and finite"),
    ],
)
def test_bad_simulation_inputs_raise_input_error(kwargs: dict, message: str) -> None:
    arguments = {"n_samples": 2, "nx": 8, "times": TIMES, "velocity": "constant"} | kwargs
    with pytest.raises(InputError, match=message):
        simulate_transport(**arguments)


def test_fourier_modes_must_stay_below_nyquist() -> None:

    with pytest.raises(InputError, match="Nyquist"):
        simulate_transport(2, 8, TIMES, "constant", initial=FourierSeries(max_wavenumber=4))
    assert simulate_transport(2, 4, TIMES, "constant").u.shape == (2, len(TIMES), 4)  # default adapts


def test_velocity_families_are_listed_for_the_cli() -> None:
    assert set(COEFFICIENT_FAMILIES) == {"constant", "linear", "exponential", "sinusoidal", "piecewise"}


def test_cli_writes_a_file_that_xarray_opens(tmp_path, capsys) -> None:
    out = tmp_path / "data" / "transport.h5"
    velocity = "sinusoidal:c0=0.2,amp=1,freq=0.5"
    argv = ["simulate", "transport", "--out", str(out), "--samples", "6", "--nx", "16",
            "--nt", "5", "--t-final", "0.8", "--velocity", velocity, "--seed", "3",
            "--test-fraction", "0.5"]
    assert main(argv) == 0
    assert "wrote" in capsys.readouterr().out
    data = simulate_transport(6, 16, np.linspace(0, 0.8, 5), velocity, seed=3)
    u, x, t, c = data.u, data.x, data.t, data.coefficients["c"]
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds["u"].dims == ("sample", "t", "x")
        np.testing.assert_array_equal(ds["u"].values, u.astype(np.float32))
        np.testing.assert_array_equal(ds["t"].values, t)
        np.testing.assert_array_equal(ds["x"].values, x)
        np.testing.assert_allclose(ds["c"].values, c)
        assert int(ds["split"].sum()) == 3
        generator = json.loads(ds.attrs["generator"])
        assert generator["velocity"] == "sinusoidal:c0=0.2,amp=1.0,freq=0.5,phase=0.0"
        assert ds.attrs["seed"] == 3

    assert main(argv) == 2  # refuses to overwrite without --overwrite
    assert "--overwrite" in capsys.readouterr().err


def test_cli_reports_bad_input_in_one_line_and_writes_nothing(tmp_path, capsys) -> None:
    out = tmp_path / "bad.h5"
    assert main(["simulate", "transport", "--out", str(out), "--velocity", "expr:foo(t)"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown name 'foo'" in err
    assert list(tmp_path.iterdir()) == []
