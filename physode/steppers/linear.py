"""Explicit Runge-Kutta steps of a linear field ``dy/dt = L(t) y`` as matrices.

For a field linear in ``y`` every stage slope is a matrix times ``y``: ``k_s = K_s y`` with
``K_s = L_s (I + dt sum_j a_sj K_j)``, ``L_s = L(t + c_s dt)``, so the step is ``y -> P y`` with
``P = I + dt sum_s b_s K_s``. For a constant ``L`` this is the method's stability polynomial
``R(dt L)`` (RK4: ``I + Z + Z^2/2 + Z^3/6 + Z^4/24``, ``Z = dt L``). The same discrete solution
as :meth:`ButcherTableau.step` (up to round-off), whose stages need not be evaluated one by one:
when ``L`` is diagonal in some basis (a translation-invariant layer in Fourier space, one small
matrix per mode), ``P`` costs a few small matrix products per step, independent of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from physode.steppers.tableau import ButcherTableau


def stage_times(tableau: ButcherTableau, grid: Sequence[float]) -> list[float]:
    """The times every stage of every step on ``grid`` evaluates the field at, step-major, as
    :meth:`ButcherTableau.slopes` computes them (``t + c_s dt``), so a lookup by time matches."""
    return [t0 + c * (t1 - t0) for t0, t1 in zip(grid, grid[1:]) for c in tableau.c]


def step_increments(tableau: ButcherTableau, grid: Sequence[float], generators: Tensor) -> Tensor:
    """``P_n - I`` ``(steps, ..., n, n)`` for the step matrices ``P_n`` of ``dy/dt = L(t) y`` on ``grid``.

    ``generators``: ``L`` at :func:`stage_times`, shaped ``(steps, stages, ..., n, n)`` (any
    batch of independent systems, e.g. Fourier modes, in between). Increments, not ``P``: like the
    stage loop's ``y + dt sum_s b_s k_s``, a small change is not rounded against the identity.
    """
    eye = torch.eye(generators.shape[-1], dtype=generators.dtype, device=generators.device)
    steps = torch.tensor([t1 - t0 for t0, t1 in zip(grid, grid[1:])], device=generators.device,
                         dtype=generators.real.dtype)
    dt = steps.reshape(-1, *[1] * (generators.ndim - 2))
    slopes: list[Tensor] = []
    for s, row in enumerate(tableau.a):
        stage = eye + dt * _weighted(row, slopes) if any(row) else eye
        slopes.append(_product(generators[:, s], stage))
    return dt * _weighted(tableau.b, slopes)


def _weighted(weights: Sequence[float], slopes: Sequence[Tensor]) -> Tensor:
    """``sum_i w_i K_i`` over the nonzero weights (as :func:`~physode.steppers.stepper.combine`)."""
    return sum(w * k for w, k in zip(weights, slopes) if w != 0.0)


def _product(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b``; for 1 x 1 matrices (one field) the elementwise product, several times faster."""
    return a * b if a.shape[-1] == 1 and b.shape[-2] == 1 else a @ b


def propagator_increments(increments: Tensor, outputs: Sequence[int]) -> Tensor:
    """``P_{i-1} ... P_0 - I`` at the grid indices ``outputs``, from :func:`step_increments`:
    ``(len(outputs), ..., n, n)``, so ``y_i = y_0 + D_i y_0`` (zero at index 0).

    A prefix scan (Hillis-Steele): ``log2(steps)`` batched products instead of one per step, the
    per-step Python and autograd overhead being what a small field costs.
    """
    products = increments  # entry i: the product of the steps up to i, over a window doubling per pass
    offset = 1
    while offset < len(products):
        later, earlier = products[offset:], products[:-offset]
        # (I + L)(I + E) - I: the later window after the earlier one
        products = torch.cat([products[:offset], later + earlier + _product(later, earlier)])
        offset *= 2
    return torch.cat([torch.zeros_like(increments[:1]), products])[list(outputs)]
