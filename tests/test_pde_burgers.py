"""Viscous Burgers: spectral in x and fourth order in t against the exact Cole-Hopf solution."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from physode.errors import InputError
from physode.problems.pde import simulate_burgers

NU, FINAL = 0.05, 0.5
MODES = ((1, 0.9, 0.3), (2, 0.3, 1.0))  # (wavenumber n, amplitude, phase) of phi


def cole_hopf(x: np.ndarray, t: float) -> np.ndarray:
    """u = -2 nu phi_x / phi with phi = 1 + sum a e^(-nu k^2 t) cos(k x + p) solving phi_t = nu phi_xx."""
    phi, dphi = np.ones_like(x), np.zeros_like(x)
    for n, amplitude, phase in MODES:
        k = 2 * np.pi * n
        decay = amplitude * np.exp(-NU * k**2 * t)
        phi += decay * np.cos(k * x + phase)
        dphi -= decay * k * np.sin(k * x + phase)
    return -2 * NU * dphi / phi


def burgers_error(nx: int, dt: float) -> float:
    x = np.arange(nx) / nx
    data = simulate_burgers(1, nx, [0.0, FINAL], NU, initial=cole_hopf(x, 0.0)[None], dt=dt)
    return float(np.abs(data.u[0, -1] - cole_hopf(x, FINAL)).max())


def test_cole_hopf_solution_is_nonlinear_enough_to_matter() -> None:
    x = np.arange(256) / 256
    assert np.abs(cole_hopf(x, 0.0)).max() > 1.0  # Reynolds number max|u| L / nu > 20


@pytest.mark.filterwarnings("ignore:burgers. the solution is under-resolved")  # nx = 16 is, on purpose
def test_error_drops_spectrally_with_nx() -> None:
    errors = [burgers_error(nx, 1e-3) for nx in (16, 24, 32, 48)]
    assert errors[0] > 1e-5 and errors[-1] < 1e-10, errors
    assert all(fine < coarse / 80 for coarse, fine in zip(errors, errors[1:])), errors


def test_etdrk4_is_fourth_order_in_time() -> None:
    errors = np.array([burgers_error(64, FINAL / steps) for steps in (10, 20, 40, 80)])
    orders = np.log2(errors[:-1] / errors[1:])
    assert np.all(np.abs(orders - 4) < 0.5), (errors, orders)


def test_default_step_is_accurate_for_random_initial_states() -> None:
    times = np.linspace(0.0, 0.5, 6)
    data = simulate_burgers(4, 128, times, 0.03, initial="fourier", seed=1)
    finer = simulate_burgers(4, 128, times, 0.03, initial="fourier", seed=1, dt=data.settings["dt"] / 4)
    assert np.abs(data.u - finer.u).max() < 1e-8
    assert data.parameters["spectral_tail"] < 1e-4 and data.parameters["nu"] == 0.03
    assert np.abs(data.u).max() <= np.abs(data.u[:, 0]).max() + 1e-12  # maximum principle


def test_under_resolution_warns_and_bad_input_raises() -> None:
    with pytest.warns(UserWarning, match="under-resolved"):
        simulate_burgers(2, 32, [0.0, 0.5], 1e-3, initial="fourier")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        simulate_burgers(2, 64, [0.0, 0.5], 0.1, initial="gaussian")
    for bad in (0.0, -1.0, float("nan"), "sinusoidal:c0=1"):
        with pytest.raises(InputError, match="nu must be"):
            simulate_burgers(1, 16, [0.0, 1.0], bad)
