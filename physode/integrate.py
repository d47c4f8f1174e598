"""``odeint``: the torchdiffeq-familiar functional entry point."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import Tensor, nn

from physode.errors import InputError
from physode.gradients import GradientStrategy, get_gradient
from physode.gradients.base import ContinuousDynamics, DiscreteSolve, State
from physode.grids import as_times, grid_with_step_size
from physode.steppers import ButcherTableau, get_method


class _FunctionSolve(DiscreteSolve, ContinuousDynamics):
    """``dy/dt = func(t, y)`` on a fixed grid with an explicit Runge-Kutta method (a solve that
    is also its own continuous dynamics)."""

    def __init__(
        self,
        func: Callable[[float, Tensor], Tensor],
        grid: Sequence[float],
        outputs: Sequence[int],
        tableau: ButcherTableau,
    ) -> None:
        self.func = func
        self.times = grid
        self.outputs = outputs
        self.tableau = tableau

    def step(self, n: int, state: State) -> State:
        t = self.times[n]
        return (self.tableau.step(self.func, t, self.times[n + 1] - t, state[0]),)

    def dynamics(self) -> ContinuousDynamics:
        return self

    def vector_field(self, t: float, state: State) -> State:
        return (self.func(t, state[0]),)

    def reverse_grid(self, n: int) -> Sequence[float]:
        return (self.times[n], self.times[n + 1])

    def buffers(self) -> Sequence[Tensor]:
        return tuple(self.func.buffers()) if isinstance(self.func, nn.Module) else ()

    def training_modes(self) -> tuple[bool, ...]:
        return tuple(m.training for m in self.func.modules()) if isinstance(self.func, nn.Module) else ()


def odeint(
    func: Callable[[float, Tensor], Tensor],
    y0: Tensor,
    t: Tensor | Sequence[float],
    *,
    method: str | ButcherTableau = "rk4",
    grad: str | GradientStrategy = "backprop",
    step_size: float | None = None,
    params: Sequence[Tensor] | None = None,
) -> Tensor:
    """Solve ``dy/dt = func(t, y)``, ``y(t[0]) = y0`` on a fixed grid; return ``y`` at each ``t``.

    Args:
        func: the vector field, called as ``func(t, y)`` with ``t`` a Python float.
        y0: initial state, any shape, dtype and device.
        t: strictly increasing output times; the first is the initial time.
        method: ``"euler"``, ``"midpoint"``, ``"heun"``, ``"rk4"`` or a ``ButcherTableau``.
        grad: ``"backprop"``, ``"checkpoint"``, ``"adjoint"`` or a ``GradientStrategy``.
        step_size: largest step; by default one step per interval of ``t``.
        params: tensors to differentiate with respect to under ``checkpoint``/``adjoint``;
            defaults to ``func.parameters()`` when ``func`` is an ``nn.Module``. (``backprop``
            reaches every tensor ``func`` uses.)

    Returns:
        A tensor of shape ``(len(t), *y0.shape)``.
    """
    if not isinstance(y0, Tensor):
        raise InputError(f"y0 must be a torch.Tensor, got {type(y0).__name__}")
    if not y0.is_floating_point():
        raise InputError(f"y0 must be floating point, got dtype {y0.dtype}")
    times = as_times(t)
    grid, outputs = grid_with_step_size(times, step_size) if step_size else (times, range(len(times)))
    strategy = get_gradient(grad)
    if params is None:
        params = tuple(func.parameters()) if isinstance(func, nn.Module) else ()
    params = tuple(p for p in params if p.requires_grad)
    solve = _FunctionSolve(func, grid, list(outputs), get_method(method))
    strategy.check(solve)
    return strategy.integrate(solve, (y0,), params)[0]


__all__ = ["odeint"]
