import math

import pytest
import torch

import physode
from physode.errors import InputError
from physode.grids import step_grid, subdivide
from physode.steppers import TABLEAUS, get_method


@pytest.mark.parametrize("name", sorted(TABLEAUS))
def test_order_of_convergence(name: str) -> None:
    # y' = cos(t) y, y(0) = 1: y(t) = exp(sin t). Halving the step divides the error by 2^order.
    tableau = TABLEAUS[name]
    y0 = torch.ones((), dtype=torch.float64)
    exact = math.exp(math.sin(2.0))
    errors = []
    for steps in (40, 80, 160):
        y = physode.odeint(lambda t, y: math.cos(t) * y, y0, [0.0, 2.0], method=name, step_size=2.0 / steps)
        errors.append(abs(y[-1].item() - exact))
    for coarse, fine in zip(errors, errors[1:]):
        assert math.log2(coarse / fine) == pytest.approx(tableau.order, abs=0.2)


def test_tableau_rows_consistent() -> None:
    for tableau in TABLEAUS.values():
        assert sum(tableau.b) == pytest.approx(1.0)
        for row, c in zip(tableau.a, tableau.c):
            assert sum(row) == pytest.approx(c)


def test_tuple_states_step_together() -> None:
    # A rotation as a pair of tensors: rk4 keeps the radius to high accuracy.
    state = (torch.tensor(1.0, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64))
    rk4 = get_method("rk4")
    for n in range(100):
        state = rk4.step(lambda t, s: (-s[1], s[0]), n * 0.01, 0.01, state)
    assert state[0].item() == pytest.approx(math.cos(1.0), abs=1e-10)
    assert state[1].item() == pytest.approx(math.sin(1.0), abs=1e-10)


def test_unknown_method_is_one_clear_error() -> None:
    with pytest.raises(InputError, match="unknown method 'rk45'.*euler"):
        physode.odeint(lambda t, y: y, torch.ones(2), [0.0, 1.0], method="rk45")


def test_custom_tableau_is_accepted() -> None:
    ralston = physode.ButcherTableau("ralston", 2, a=((), (2 / 3,)), b=(0.25, 0.75), c=(0.0, 2 / 3))
    y = physode.odeint(lambda t, y: -y, torch.ones((), dtype=torch.float64), [0.0, 1.0], method=ralston, step_size=0.01)
    assert y[-1].item() == pytest.approx(math.exp(-1.0), rel=1e-4)


def test_weight_groups_sum_equal_weights_before_scaling() -> None:
    from physode.steppers import DOPRI5, HEUN, RK4
    from physode.steppers.stepper import combine_groups

    assert HEUN.update_groups == ((0.5, (0, 1)),)
    assert RK4.update_groups == ((1 / 6, (0, 3)), (1 / 3, (1, 2)))
    torch.manual_seed(0)
    y, slopes, dt = torch.randn(5, dtype=torch.float64), list(torch.randn(7, 5, dtype=torch.float64)), 0.3
    for tableau in (HEUN, RK4, DOPRI5):
        k = slopes[: tableau.stages]
        expected = y + dt * sum(b * k_i for b, k_i in zip(tableau.b, k))
        torch.testing.assert_close(combine_groups(y, dt, tableau.update_groups, k), expected, rtol=1e-15, atol=1e-15)
    # First same as last: dopri5's last stage is evaluated at exactly (bitwise) the update.
    last_stage = combine_groups(y, dt, DOPRI5.stage_groups[-1], slopes[:6])
    assert torch.equal(last_stage, combine_groups(y, dt, DOPRI5.update_groups, slopes))


def test_steps_take_a_grids_nominal_step_sizes() -> None:
    # Each interval's 7 steps take one float, (b - a) / 7; the rounded grid's differences do not.
    grid = step_grid([0.0, 0.3, 1.0], 7)
    assert grid.times == subdivide([0.0, 0.3, 1.0], 7)[0]
    assert set(grid.sizes[:7]) == {0.3 / 7} and set(grid.sizes[7:]) == {0.7 / 7}
    assert len({b - a for a, b in zip(grid.times, grid.times[1:])}) > 2

    def field(t: float, y: torch.Tensor) -> torch.Tensor:
        return -(1.0 + t) * y

    rk4, y0 = get_method("rk4"), torch.tensor([0.5, 1.0, 1.5], dtype=torch.float64)
    y, expected = y0, []
    for t, dt in zip(grid.times, grid.sizes):
        y = rk4.step(field, t, dt, y)
        expected.append(y)
    states = rk4.steps(field, grid.times, y0, grid.sizes)
    assert len(states) == 14
    assert all(torch.equal(a, b) for a, b in zip(states, expected))
