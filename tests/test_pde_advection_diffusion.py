"""Diffusion and advection-diffusion: exact in time, spectral in x, sign convention, coefficients."""

from __future__ import annotations

import numpy as np
import pytest

from physode.errors import InputError
from physode.problems.pde import coefficient, simulate_advection_diffusion, simulate_diffusion, simulate_transport

TIMES = np.array([0.0, 0.13, 0.4, 0.9])
RADIUS = 0.6  # Poisson-kernel initial state: Fourier coefficients RADIUS^|n|, not band-limited


def poisson_kernel_solution(x: np.ndarray, shifts: np.ndarray, spreads: np.ndarray) -> np.ndarray:
    """u = 1 + 2 sum_n a^n exp(-k_n^2 N) cos(k_n (x + C)) on [0, 1), summed directly (n <= 120)."""
    n = np.arange(1, 121)[:, None, None]
    k = 2 * np.pi * n
    terms = RADIUS**n * np.exp(-(k**2) * spreads[:, None]) * np.cos(k * (x[None, :] + shifts[:, None]))
    return 1 + 2 * terms.sum(axis=0)


def test_advection_diffusion_with_time_varying_coefficients_converges_spectrally_to_the_exact_solution() -> None:
    c0, amp, freq = 0.4, 0.9, 1.3  # c(t) reverses direction
    nu0, nu_amp = 2e-3, 1.5e-3
    omega = 2 * np.pi * freq
    shifts = c0 * TIMES + amp / omega * (1 - np.cos(omega * TIMES))  # C(t), by hand
    spreads = nu0 * TIMES + nu_amp / omega * (1 - np.cos(omega * TIMES))  # N(t), by hand
    errors = []
    for nx in (8, 16, 32, 64, 128):
        x = np.arange(nx) / nx
        data = simulate_advection_diffusion(
            1, nx, TIMES, f"sinusoidal:c0={c0},amp={amp},freq={freq}",
            f"sinusoidal:c0={nu0},amp={nu_amp},freq={freq}",
            initial=poisson_kernel_solution(x, np.zeros(1), np.zeros(1)),
        )
        errors.append(np.abs(data.u[0] - poisson_kernel_solution(x, shifts, spreads)).max())
    # Aliasing error ~ a^(nx/2): every doubling squares it until rounding; exact in time throughout.
    assert errors[0] > 1e-3 and errors[-1] < 1e-13, errors
    assert all(fine < coarse**1.5 for coarse, fine in zip(errors[:-2], errors[1:-1])), errors
    np.testing.assert_allclose(data.coefficients["c"], c0 + amp * np.sin(omega * TIMES), rtol=1e-14)
    np.testing.assert_allclose(data.coefficients["nu"], nu0 + nu_amp * np.sin(omega * TIMES), rtol=1e-14)


def test_diffusion_with_a_formula_nu_matches_the_closed_form_integral() -> None:
    nx = 64
    x = np.arange(nx) / nx
    data = simulate_diffusion(1, nx, TIMES, "expr:0.01*(1+t)", initial=poisson_kernel_solution(x, *np.zeros((2, 1))))
    spreads = 0.01 * (TIMES + TIMES**2 / 2)
    assert np.abs(data.u[0] - poisson_kernel_solution(x, np.zeros_like(TIMES), spreads)).max() < 1e-11
    assert data.equation == "u_t = nu(t) u_xx" and set(data.coefficients) == {"nu"}
    assert data.settings["nu"] == "expr:0.01*(1+t)" and "velocity" not in data.settings


def test_heat_equation_conserves_the_mean_and_decays_each_mode_at_rate_nu_k2() -> None:
    data = simulate_diffusion(16, 64, TIMES, 0.02, initial="fourier", seed=3)
    np.testing.assert_allclose(data.u.mean(axis=-1), data.u[:, :1].mean(axis=-1).repeat(len(TIMES), 1), atol=1e-14)
    spectrum = np.abs(np.fft.rfft(data.u, axis=-1))
    k = 2 * np.pi * np.arange(33)
    live = spectrum[:, 0] > 1e-3  # the drawn modes (wavenumbers 1 .. 8)
    ratio = spectrum[:, 1][live] / spectrum[:, 0][live]
    np.testing.assert_allclose(ratio, np.exp(-0.02 * k**2 * TIMES[1])[np.nonzero(live)[1]], rtol=1e-9)


def test_zero_diffusion_reproduces_transport_and_positive_c_moves_profiles_left() -> None:
    ours = simulate_advection_diffusion(4, 64, TIMES, "exponential:c0=0.5,a=1.5", 0.0, initial="gaussian", seed=7)
    theirs = simulate_transport(4, 64, TIMES, "exponential:c0=0.5,a=1.5", initial="gaussian", seed=7).u
    np.testing.assert_allclose(ours.u, theirs, atol=1e-14)
    x = np.arange(64) / 64
    bump = np.exp(-0.5 * ((x - 0.5) / 0.05) ** 2)[None]
    moved = simulate_advection_diffusion(1, 64, [0.0, 0.25], 1.0, 0.0, initial=bump).u[0, -1]
    assert x[np.argmax(moved)] == pytest.approx(0.25)  # u(x, t) = u0(x + c t): the peak went left


@pytest.mark.parametrize(
    ("nu", "message"),
    [
        ("-0.1", "negative at t=0"),
        ("sinusoidal:c0=0.01,amp=0.02", "must stay >= 0"),
        ("bogus:1", r"nu\(t\) = 'bogus:1': unknown coefficient"),
        ("expr:import os", "not valid syntax"),
        ("expr:sqrt(0.5-t)", "NaN or infinite at t=0.9"),
    ],
)
@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")  # quad meeting the NaN
def test_bad_diffusivities_raise_one_input_error(nu: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        simulate_diffusion(2, 16, TIMES, nu)


def test_coefficients_accept_numbers_specs_and_functions() -> None:
    t = np.array([0.0, 1.0, 2.0])
    assert coefficient("nu", 0.5).C(t).tolist() == [0.0, 0.5, 1.0]
    assert coefficient("nu", "0.5").spec == "constant:c0=0.5"
    np.testing.assert_allclose(coefficient("c", np.cos).C(t), np.sin(t), atol=1e-12)
