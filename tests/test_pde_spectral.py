"""Pseudo-spectral helpers: wavenumbers, 2/3 dealiasing, ETDRK4 coefficients and steps, resolution."""

from __future__ import annotations

import numpy as np
import pytest

from physode.errors import InputError
from physode.problems.pde.spectral import (
    dealias_mask,
    derivative_wavenumbers,
    etdrk4_coefficients,
    integrate_etdrk4,
    spectral_tail,
    substeps,
    wavenumbers,
)


def test_wavenumbers_differentiate_a_resolved_mode() -> None:
    nx, length = 32, 3.0
    x = np.arange(nx) * length / nx
    u = np.sin(2 * np.pi * 5 * x / length)
    du = np.fft.irfft(1j * derivative_wavenumbers(nx, length) * np.fft.rfft(u), n=nx)
    np.testing.assert_allclose(du, 2 * np.pi * 5 / length * np.cos(2 * np.pi * 5 * x / length), atol=1e-12)
    assert derivative_wavenumbers(nx, length)[-1] == 0.0 and wavenumbers(nx, length)[-1] > 0


@pytest.mark.parametrize("nx", [12, 13, 64, 99])
def test_two_thirds_rule_leaves_kept_modes_of_a_product_unaliased(nx: int) -> None:
    kept = dealias_mask(nx)
    rng = np.random.default_rng(0)
    spectrum = (rng.standard_normal(nx // 2 + 1) + 1j * rng.standard_normal(nx // 2 + 1)) * kept
    spectrum[0] = spectrum[0].real
    u = np.fft.irfft(spectrum, n=nx)
    # The square on a 3x finer grid is alias-free; its kept modes must equal those on the coarse grid.
    fine = np.fft.irfft(np.concatenate([spectrum, np.zeros(nx)]), n=3 * nx) * 3
    exact = np.fft.rfft(fine**2)[: nx // 2 + 1] / 3
    np.testing.assert_allclose((np.fft.rfft(u**2) * kept), exact * kept, atol=1e-12)
    assert not kept[-1] and kept[(nx - 1) // 3]


def test_contour_coefficients_match_the_direct_formulas_and_their_small_z_limits() -> None:
    h = 0.1
    linear = np.array([-200.0, -3.0, -1e-3, 0.0, 1e-9, 2.0])
    c = etdrk4_coefficients(linear, h)
    big = slice(0, 2)  # where the direct formulas are accurate
    z = h * linear[big]
    np.testing.assert_allclose(c.Q[big], h * (np.exp(z / 2) - 1) / z, rtol=1e-12)
    np.testing.assert_allclose(c.f1[big], h * (-4 - z + np.exp(z) * (4 - 3 * z + z**2)) / z**3, rtol=1e-10)
    np.testing.assert_allclose(c.f2[big], h * (2 + z + np.exp(z) * (z - 2)) / z**3, rtol=1e-10)
    np.testing.assert_allclose(c.f3[big], h * (-4 - 3 * z - z**2 + np.exp(z) * (4 - z)) / z**3, rtol=1e-10)
    # z -> 0: Q -> h/2, f1 -> h/6, f2 -> h/6, f3 -> h/6 (the RK4 weights), with no cancellation.
    for value, limit in ((c.Q, h / 2), (c.f1, h / 6), (c.f2, h / 6), (c.f3, h / 6)):
        np.testing.assert_allclose(value[3:5], limit, rtol=1e-8)


def test_etdrk4_is_exact_for_linear_problems_and_fourth_order_for_a_scalar_ode() -> None:
    # u' = L u exactly; then u' = -u + u^2 (logistic-like, closed form) at fourth order.
    times = np.array([0.0, 0.7, 1.5])
    u0 = np.array([[0.3, -0.2, 0.1, 0.05]])
    linear = -(np.arange(3) ** 2) * 4.0
    out = integrate_etdrk4(u0, linear, lambda v: np.zeros_like(v), times, 0.5)
    expected = np.fft.irfft(np.fft.rfft(u0)[:, None] * np.exp(np.multiply.outer(times, linear)), n=4)
    np.testing.assert_allclose(out, expected, atol=1e-15)

    def exact(t: float, y0: float = 0.5) -> float:  # y' = -y + y^2
        return y0 / (y0 + (1 - y0) * np.exp(t))

    def square(v: np.ndarray) -> np.ndarray:
        return np.fft.rfft(np.fft.irfft(v, n=4) ** 2)

    errors = []
    for step in (0.2, 0.1, 0.05):  # a constant field: only the mean (k = 0) mode moves
        u = integrate_etdrk4(np.full((1, 4), 0.5), np.array([-1.0, -1.0, -1.0]), square, np.array([0.0, 2.0]), step)
        errors.append(abs(u[0, -1, 0] - exact(2.0)))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 4) < 0.5), orders


def test_substeps_hit_every_output_time_with_steps_no_longer_than_asked() -> None:
    times = np.array([0.0, 0.1, 0.35, 1.0])
    counts = substeps(times, 0.05)
    np.testing.assert_array_equal(counts, [2, 5, 13])
    assert np.all(np.diff(times) / counts <= 0.05 + 1e-15)
    with pytest.raises(InputError, match="positive and finite"):
        substeps(times, 0.0)


def test_blow_up_is_reported_instead_of_written() -> None:
    with pytest.raises(InputError, match="NaN/Inf before t=1"):
        integrate_etdrk4(np.ones((1, 4)), np.zeros(3), lambda v: v**3 * 1e3, np.array([0.0, 1.0]), 0.5)


def test_spectral_tail_tells_resolved_from_under_resolved() -> None:
    x = np.arange(64) / 64
    smooth = np.exp(np.sin(2 * np.pi * x))[None]
    rough = np.where(x < 0.5, 1.0, 0.0)[None]
    assert spectral_tail(smooth) < 1e-12 < 1e-3 < spectral_tail(rough)
    assert spectral_tail(np.ones((1, 64))) == 0.0
