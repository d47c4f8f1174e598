import math

import pytest
import torch
from torch import nn

import physode
from physode.errors import InputError


def test_returns_states_at_requested_times_batched() -> None:
    y0 = torch.randn(5, 3, dtype=torch.float64)
    t = torch.tensor([0.0, 0.3, 1.0], dtype=torch.float64)
    ys = physode.odeint(lambda t, y: -2.0 * y, y0, t, method="rk4", step_size=1e-3)
    assert ys.shape == (3, 5, 3)
    for i, ti in enumerate(t.tolist()):
        torch.testing.assert_close(ys[i], y0 * math.exp(-2 * ti), rtol=1e-11, atol=0)


def test_float32_and_dtype_preserved() -> None:
    y0 = torch.randn(4)
    ys = physode.odeint(lambda t, y: torch.sin(y), y0, [0.0, 0.5, 1.0], method="midpoint")
    assert ys.dtype == torch.float32 and ys.shape == (3, 4)


@pytest.mark.parametrize("grad", ["backprop", "checkpoint", "adjoint"])
def test_module_parameters_receive_gradients(grad: str) -> None:
    func = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    wrapped = _TimeIgnoring(func)
    y0 = torch.randn(2, 3, dtype=torch.float64)
    physode.odeint(wrapped, y0, [0.0, 1.0], grad=grad, step_size=0.05).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in func.parameters())


class _TimeIgnoring(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, t: float, y: torch.Tensor) -> torch.Tensor:
        return self.net(y)


@pytest.mark.parametrize(
    "t, message",
    [
        ([0.0, 1.0, 1.0], "strictly increasing"),
        ([1.0, 0.0], "strictly increasing"),
        ([0.0], "at least two"),
        ([0.0, float("nan")], "NaN"),
        (torch.zeros(2, 2), "1-D"),
    ],
)
def test_bad_time_grid_is_one_clear_error(t, message: str) -> None:
    with pytest.raises(InputError, match=message):
        physode.odeint(lambda t, y: y, torch.ones(2), t)


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="unknown gradient strategy"):
        physode.odeint(lambda t, y: y, torch.ones(2), [0.0, 1.0], grad="magic")
    with pytest.raises(InputError, match="step_size"):
        physode.odeint(lambda t, y: y, torch.ones(2), [0.0, 1.0], step_size=-0.1)
    with pytest.raises(InputError, match="floating point"):
        physode.odeint(lambda t, y: y, torch.ones(2, dtype=torch.long), [0.0, 1.0])
