"""Fisher-KPP and Allen-Cahn (ETDRK4): spectral in x and fourth order in t against finer references."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from physode.errors import InputError
from physode.problems.pde import simulate_allen_cahn, simulate_fisher_kpp

TIMES = np.array([0.0, 0.5, 1.0])
CASES = {  # simulator, its parameters, the interval of its initial state
    "fisher-kpp": (simulate_fisher_kpp, {"diffusivity": 0.002, "rate": 5.0}, (0.0, 1.0)),
    "allen-cahn": (simulate_allen_cahn, {"epsilon": 0.05}, (-1.0, 1.0)),
}


def smooth_bump(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """An entire periodic bump exp(2 cos(2 pi x) - 2): every Fourier mode present, decaying fast."""
    return low + (high - low) * np.exp(-2 * (1 - np.cos(2 * np.pi * (x - 0.3))))


def solve(case: str, nx: int, dt: float) -> np.ndarray:
    simulate, params, interval = CASES[case]
    x = np.arange(nx) / nx
    return simulate(1, nx, TIMES, initial=smooth_bump(x, *interval)[None], dt=dt, **params).u[0]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.filterwarnings("ignore:.* the solution is under-resolved")  # nx = 16 is, on purpose
def test_error_against_a_finer_grid_drops_spectrally(case: str) -> None:
    reference = solve(case, 256, 1e-3)
    errors = [np.abs(solve(case, nx, 1e-3) - reference[:, :: 256 // nx]).max() for nx in (16, 32, 64)]
    assert errors[0] > 1e-7 and errors[-1] < 1e-10, errors
    assert errors[1] < errors[0] / 1e3 and errors[2] < errors[1] / 1e3, errors


@pytest.mark.parametrize("case", CASES)
def test_etdrk4_is_fourth_order_in_time(case: str) -> None:
    reference = solve(case, 64, TIMES[-1] / 640)
    errors = np.array([np.abs(solve(case, 64, TIMES[-1] / steps) - reference).max() for steps in (10, 20, 40, 80)])
    orders = np.log2(errors[:-1] / errors[1:])
    assert np.all(np.abs(orders - 4) < 0.5), (errors, orders)


def test_fisher_kpp_stays_in_the_unit_interval_and_invades_at_the_front_speed() -> None:
    data = simulate_fisher_kpp(8, 128, np.linspace(0, 2, 5), initial="fourier", seed=2)
    assert data.u[:, 0].min() == 0.0 and data.u[:, 0].max() == 1.0  # rescaled draws
    assert -1e-9 < data.u.min() and data.u.max() < 1 + 1e-9
    # A lone seed in a long domain: two fronts at Bramson's speed sqrt(D/r) (2 r - 3/2 d(log t)/dt).
    diffusivity, rate, length, nx = 4e-3, 1.0, 8.0, 512
    x = np.arange(nx) * length / nx
    times = np.array([0.0, 10.0, 20.0])
    u = simulate_fisher_kpp(
        1, nx, times, diffusivity, rate, initial=np.exp(-0.5 * ((x - 4) / 0.1) ** 2)[None], length=length
    ).u[0]
    widths = (u > 0.5).sum(axis=-1) * length / nx
    speed = (widths[2] - widths[1]) / 2 / (times[2] - times[1])
    bramson = np.sqrt(diffusivity / rate) * (2 * rate - 1.5 * np.log(times[2] / times[1]) / (times[2] - times[1]))
    assert speed == pytest.approx(bramson, rel=0.02)
    assert speed < 2 * np.sqrt(diffusivity * rate)  # the KPP speed is approached from below


def free_energy(u: np.ndarray, epsilon: float) -> np.ndarray:
    """Allen-Cahn's Lyapunov functional int eps^2/2 u_x^2 + (1 - u^2)^2 / 4 dx on [0, 1) per state."""
    nx = u.shape[-1]
    k = 2 * np.pi * np.fft.rfftfreq(nx, d=1 / nx)
    u_x = np.fft.irfft(1j * k * np.fft.rfft(u, axis=-1), n=nx, axis=-1)
    return (epsilon**2 / 2 * u_x**2 + (1 - u**2) ** 2 / 4).mean(axis=-1)


def test_allen_cahn_is_a_gradient_flow_that_separates_into_plus_and_minus_one() -> None:
    energy = free_energy(simulate_allen_cahn(8, 128, np.linspace(0, 2, 9), initial="fourier", seed=5).u, 0.02)
    assert np.all(np.diff(energy, axis=-1) < 0), energy
    data = simulate_allen_cahn(4, 128, [0.0, 6.0], initial="gaussian", seed=5)
    assert data.u[:, 0].min() == -1.0 and data.u[:, 0].max() == 1.0  # rescaled draws
    assert np.mean(np.abs(np.abs(data.u[:, -1]) - 1) < 1e-2) > 0.6  # bulk phases, thin interfaces
    assert data.equation == "u_t = eps^2 u_xx + u - u^3" and data.parameters["epsilon"] == 0.02


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: simulate_fisher_kpp(1, 16, TIMES, diffusivity=-1.0), "diffusivity D must be positive"),
        (lambda: simulate_fisher_kpp(1, 16, TIMES, rate=0.0), "rate r must be positive"),
        (lambda: simulate_fisher_kpp(1, 16, [0.0, 10.0], rate=4.0), "r t_final = 40 > 30"),
        (lambda: simulate_allen_cahn(1, 16, TIMES, epsilon=float("inf")), "epsilon must be positive"),
        (lambda: simulate_allen_cahn(0, 16, TIMES), "n_samples must be a positive integer"),
        (lambda: simulate_allen_cahn(1, 16, [0.5, 1.0]), "times must start at 0"),
        (lambda: simulate_allen_cahn(1, 16, TIMES, initial="square"), "unknown initial condition"),
        (lambda: simulate_allen_cahn(1, 16, TIMES, dt=0.0), "dt must be positive"),
        (lambda: simulate_allen_cahn(1, 16, TIMES, initial=np.zeros((2, 16))), "initial array must be"),
    ],
)
def test_bad_input_raises_one_input_error(call: Callable[[], object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        call()
