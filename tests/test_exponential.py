"""The integrating-factor RK4 stepper: exact on the linear part, fourth order, wired by name, refused
where a combination cannot be right."""

from __future__ import annotations

import math

import pytest
import torch

import physode
from physode.errors import InputError
from physode.steppers import IFRK4, SemilinearField, Stepper, get_method

F64 = torch.float64


def bernoulli(a: torch.Tensor, b: float, y0: torch.Tensor, t: float) -> torch.Tensor:
    """The closed form of ``dy/dt = a y + b y^2``."""
    grow = torch.exp(a * t)
    return a * y0 * grow / (a + b * y0 * (1 - grow))


def test_is_a_stepper_registered_by_name() -> None:
    assert isinstance(IFRK4, Stepper) and get_method("ifrk4") is IFRK4
    assert (IFRK4.order, IFRK4.evaluations, IFRK4.embedded, IFRK4.semilinear) == (4, 4, False, True)


def test_exact_on_the_linear_part_at_any_step() -> None:
    # N = 0: one step is exp(L dt) whatever dt, even where explicit RK4 is unstable (|L dt| = 300).
    linear = torch.tensor([-1000.0, -1.0, 0.5], dtype=F64)
    field = SemilinearField(linear, lambda t, y: torch.zeros_like(y))
    y0 = torch.tensor([1.0, 2.0, -3.0], dtype=F64)
    y = physode.odeint(field, y0, [0.0, 0.3], method="ifrk4")[-1]
    torch.testing.assert_close(y, y0 * torch.exp(0.3 * linear), rtol=1e-15, atol=0.0)


def test_fourth_order_on_a_closed_form_nonlinear_equation() -> None:
    # dy/dt = a y + y^2: halving the step divides the error by 2^4. The stiff mode (a = -50,
    # |a dt| = 5 at 10 steps) makes explicit RK4 blow up at the same steps.
    a = torch.tensor([-2.0, -50.0], dtype=F64)
    y0 = torch.tensor([0.5, 0.8], dtype=F64)
    field = SemilinearField(a, lambda t, y: y * y)
    exact = bernoulli(a, 1.0, y0, 1.0)
    errors = []
    for steps in (10, 20, 40, 80):
        y = physode.odeint(field, y0, [0.0, 1.0], method="ifrk4", step_size=1.0 / steps)[-1]
        errors.append((y - exact).abs().max().item())
    for coarse, fine in zip(errors, errors[1:]):
        assert math.log2(coarse / fine) == pytest.approx(4.0, abs=0.3)
    assert errors[-1] < 1e-8
    explicit = physode.odeint(field, y0, [0.0, 1.0], method="rk4", step_size=0.1)[-1]
    assert (explicit - exact).abs().max().item() > 1e3 * errors[0]


def test_time_dependent_forcing_against_the_closed_form() -> None:
    # dy/dt = lambda y + cos t: y = (y0 - p(0)) e^(lambda t) + p(t), p = (sin t - lambda cos t) / (1 + lambda^2).
    lam = torch.tensor([-3.0], dtype=F64)
    y0 = torch.tensor([1.0], dtype=F64)
    field = SemilinearField(lam, lambda t, y: torch.full_like(y, math.cos(t)))
    particular = lambda t: (math.sin(t) - lam * math.cos(t)) / (1 + lam * lam)  # noqa: E731
    exact = (y0 - particular(0.0)) * torch.exp(2.0 * lam) + particular(2.0)
    y = physode.odeint(field, y0, [0.0, 2.0], method="ifrk4", step_size=0.01)[-1]
    torch.testing.assert_close(y, exact, rtol=1e-8, atol=0.0)  # 3e-9 measured


@pytest.mark.parametrize("grad", ["backprop", "checkpoint", "recursive"])
def test_gradients_in_float64(grad: str) -> None:
    def solve(linear: torch.Tensor, y0: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        field = SemilinearField(linear, lambda t, y: scale * torch.sin(y) * math.cos(t))
        return physode.odeint(field, y0, [0.0, 0.5, 1.0], method="ifrk4", grad=grad, step_size=0.25,
                              params=[linear, scale])

    torch.manual_seed(0)
    inputs = (-torch.rand(3, dtype=F64) * 4, torch.randn(3, dtype=F64), torch.rand(3, dtype=F64))
    inputs = tuple(x.requires_grad_() for x in inputs)
    assert torch.autograd.gradcheck(solve, inputs)


def test_statistics_count_evaluations_of_the_nonlinear_part() -> None:
    calls = []
    field = SemilinearField(torch.tensor([-1.0], dtype=F64), lambda t, y: calls.append(t) or y * 0)
    solution = physode.odesolve(field, torch.ones(1, dtype=F64), [0.0, 1.0], method="ifrk4", step_size=0.25)
    assert solution.nfe == len(calls) == 16


def test_adjoint_with_a_runge_kutta_reverse_solve() -> None:
    # The adjoint's equations are one vector field: it steps them with the method it is given.
    linear = torch.tensor([-1.0, -2.0], dtype=F64, requires_grad=True)
    y0 = torch.tensor([0.3, -0.4], dtype=F64)
    field = SemilinearField(linear, lambda t, y: 0.5 * y * y)

    def gradient(grad) -> torch.Tensor:
        ys = physode.odeint(field, y0, [0.0, 1.0], method="ifrk4", grad=grad, step_size=0.01, params=[linear])
        return torch.autograd.grad(ys[-1].sum(), linear)[0]

    torch.testing.assert_close(gradient(physode.Adjoint(method="rk4")), gradient("checkpoint"), rtol=1e-6, atol=0.0)


def test_refused_where_the_field_is_not_split() -> None:
    field = SemilinearField(torch.tensor([-1.0], dtype=F64), lambda t, y: y * 0)
    y0 = torch.ones(1, dtype=F64)
    with pytest.raises(InputError, match=r"pass the field as physode.steppers.SemilinearField"):
        physode.odeint(lambda t, y: -y, y0, [0.0, 1.0], method="ifrk4")
    with pytest.raises(InputError, match=r"a block's f is one vector field: use a Runge-Kutta method"):
        physode.ODEBlock(torch.nn.Linear(2, 2), method="ifrk4")
    with pytest.raises(InputError, match=r"grad='adjoint' .* pass physode.Adjoint\(method='rk4'\)"):
        physode.odeint(field, y0, [0.0, 1.0], method="ifrk4", grad="adjoint")
    with pytest.raises(InputError, match=r"method 'ifrk4' only steps fields split"):
        physode.Adjoint(method="ifrk4")
    with pytest.raises(InputError, match=r"'ifrk4' has no error estimate"):
        physode.odeint(field, y0, [0.0, 1.0], method="ifrk4", rtol=1e-6)
