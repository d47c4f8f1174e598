"""The wave equation u_tt = c(t)^2 u_xx (float64): exact for constant c, conservative, fourth order otherwise."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from physode.cli import main
from physode.errors import InputError
from physode.trajectories import TrajectoryFile
from physode.problems.pde import simulate_transport
from physode.problems.pde.initial_conditions import initial_profile
from physode.problems.pde.spectral import derivative_wavenumbers, wavenumbers
from physode.problems.pde.wave import energy, exact_propagator, magnus_step, simulate_wave

TIMES = np.linspace(0.0, 1.0, 6)


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.mark.parametrize("initial", ["fourier", "gaussian"])
def test_constant_speed_matches_dalembert(initial: str) -> None:
    """From rest, u = (u0(x - c t) + u0(x + c t)) / 2, with u0 the closed-form profile itself."""
    speed, nx = 0.7, 128
    data = simulate_wave(4, nx, TIMES, f"constant:c0={speed}", initial, seed=3)
    profile = initial_profile(initial, 4, nx, 3)
    h = 1e-5

    def slope(points: np.ndarray) -> np.ndarray:  # u0' by a fourth-order difference (error ~1e-11)
        return (8 * (profile(points + h) - profile(points - h)) - profile(points + 2 * h)
                + profile(points - 2 * h)) / (12 * h)

    x = data.x
    for i, t in enumerate(TIMES):
        dalembert = (profile(x - speed * t) + profile(x + speed * t)) / 2
        assert _relative(data.u[:, i, 0], dalembert) < 1e-10
        if i > 0:
            rate = speed / 2 * (slope(x + speed * t) - slope(x - speed * t))
            assert _relative(data.u[:, i, 1], rate) < 1e-8


def test_transport_start_is_transport_for_constant_speed() -> None:
    """u_t(0) = c u_x(0) makes the wave a left-moving transport u0(x + c t) for constant c."""
    wave = simulate_wave(4, 64, TIMES, "constant:c0=-1.3", "gaussian", seed=1, initial_rate="transport")
    transport = simulate_transport(4, 64, TIMES, "constant:c0=-1.3", "gaussian", seed=1)
    assert _relative(wave.u[:, :, 0], transport.u) < 1e-12
    k = 1j * derivative_wavenumbers(64, 1.0)
    u_x = np.fft.irfft(k * np.fft.rfft(transport.u, axis=-1), n=64, axis=-1)
    assert _relative(wave.u[:, :, 1], -1.3 * u_x) < 1e-12


@pytest.mark.parametrize("rate", ["rest", "transport"])
def test_energy_is_conserved_to_rounding_for_constant_speed(rate: str) -> None:
    data = simulate_wave(6, 128, np.linspace(0, 5, 26), "constant:c0=0.9", "windowed", initial_rate=rate)
    e = energy(data.u, 0.9)
    assert np.abs(e / e[:, :1] - 1).max() < 1e-13


def test_magnus_step_is_exact_for_frozen_speed() -> None:
    k = wavenumbers(32, 1.0)
    a = (0.8 * k) ** 2
    np.testing.assert_allclose(magnus_step(a, a, 0.01), exact_propagator(0.8, k, 0.01), rtol=0, atol=1e-13)


@pytest.mark.parametrize("velocity", ["sinusoidal:c0=1,amp=0.5,freq=2", "exponential:c0=0.5,a=1.5"])
def test_time_varying_speed_converges_with_fourth_order(velocity: str) -> None:
    times = np.linspace(0.0, 1.0, 3)
    reference = simulate_wave(3, 64, times, velocity, "gaussian", dt=1e-4).u
    errors = [_relative(simulate_wave(3, 64, times, velocity, "gaussian", dt=dt).u, reference)
              for dt in (4e-3, 2e-3, 1e-3)]
    orders = [math.log2(a / b) for a, b in zip(errors, errors[1:])]
    assert all(3.5 < order < 4.5 for order in orders), (errors, orders)
    default = simulate_wave(3, 64, times, velocity, "gaussian")
    assert _relative(default.u, reference) < 1e-10


def test_cli_writes_two_named_channels(tmp_path) -> None:
    out = tmp_path / "wave.h5"
    main(["simulate", "wave", "--out", str(out), "--samples", "5", "--nx", "32", "--nt", "4", "--t-final",
          "0.3", "--velocity", "sinusoidal:c0=1,amp=0.5,freq=2", "--initial-rate", "transport", "--seed", "2"])
    expected = simulate_wave(5, 32, np.linspace(0, 0.3, 4), "sinusoidal:c0=1,amp=0.5,freq=2", seed=2,
                             initial_rate="transport")
    with TrajectoryFile(out) as f:
        assert f.channels == ("u", "u_t") and f.sample_shape == (4, 2, 32)
        np.testing.assert_allclose(f[:], expected.u.astype(np.float32), rtol=0, atol=1e-6)
        np.testing.assert_allclose(f.coefficients["c"], expected.coefficients["c"])
        settings = json.loads(f.attrs["generator"])
        assert settings["pde"] == "wave" and settings["initial_rate"] == "transport"


def test_bad_initial_rate_is_refused() -> None:
    with pytest.raises(InputError, match="initial rate 'moving' is unknown"):
        simulate_wave(2, 16, TIMES, 1.0, initial_rate="moving")
