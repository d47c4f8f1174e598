"""Evolution operators ``q(w; p)``: how a block's weights move in time, ``dw/dt = q(w; p)``."""

from __future__ import annotations

from torch import Tensor, nn

from physode.steppers import ButcherTableau


class EvolutionOperator(nn.Module):
    """Base class of weight evolutions.

    Subclasses define the continuous rate :meth:`rate`; the discrete map :meth:`step` defaults to
    one step of the block's Runge-Kutta method and may be overridden by an exact propagator.
    The block calls :meth:`bind` once with the weight the operator will evolve, so parameters can
    be sized for it (a copy of the operator is bound to each evolved weight).
    """

    #: Whether integrating the evolution backwards in time is well posed (the adjoint does).
    reverse_time_well_posed: bool = True
    #: Whether the weights stay constant (``q = 0``): lets the block skip all evolution work.
    is_static: bool = False

    def bind(self, weight: Tensor) -> None:
        """Create parameters sized for ``weight``; called once, before the first step."""

    def rate(self, w: Tensor, t: float) -> Tensor:
        """``q(w; p)`` at time ``t``."""
        raise NotImplementedError

    def step(self, w: Tensor, t: float, dt: float, method: ButcherTableau) -> Tensor:
        """Advance ``w`` from ``t`` to ``t + dt`` (``dt`` may be a fraction of a grid step)."""
        return method.step(lambda s, x: self.rate(x, s), t, dt, w)


class Static(EvolutionOperator):
    """``q = 0``: static weights, i.e. a Neural ODE / ANODE block."""

    is_static = True

    def rate(self, w: Tensor, t: float) -> Tensor:
        return w.new_zeros(()).expand_as(w)

    def step(self, w: Tensor, t: float, dt: float, method: ButcherTableau) -> Tensor:
        return w
