"""Evolution operators: how a block's weights move in time, as continuous-time systems.

An operator evolves a state ``s(t)`` that starts from the weight (``s(0) = initial_state(w0)``),
by the ODE ``ds/dt = rate(s, t)``; the weight the block applies at time ``t`` is read out of it,
``w(t) = readout(s(t), t)``. A step of any length is the flow of that one ODE over the step,
exact (a propagator) or by a consistent stepper, so ``w(t)`` is defined for every
``t`` and does not depend on the weight grid beyond discretization error.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from physode.errors import InputError
from physode.gradients.reuse import PassReuse
from physode.steppers import Stepper


def group_shape(weight: Tensor, per_channel: bool, channel_axis: int) -> tuple[int, ...]:
    """The shape of an operator's coefficients, broadcast against ``weight``: one per entry of
    ``channel_axis`` with ``per_channel`` (all ones elsewhere), else one for the whole weight."""
    shape = [1] * weight.ndim
    if per_channel and weight.ndim:
        if not -weight.ndim <= channel_axis < weight.ndim:
            raise InputError(f"channel_axis {channel_axis} is out of range for a weight of shape "
                             f"{tuple(weight.shape)}")
        shape[channel_axis] = weight.shape[channel_axis]
    return tuple(shape)


class EvolutionOperator(nn.Module):
    """Base class of weight evolutions.

    Subclasses define the continuous rate :meth:`rate`; the discrete map :meth:`step` defaults to
    one step of the block's stepper and may be overridden by an exact propagator.
    The state defaults to the weight itself (:meth:`initial_state`, :meth:`readout` the
    identity); an operator may carry more (e.g. a latent state) and read the weight out of it.
    The block calls :meth:`bind` once with the weight the operator will evolve, so parameters can
    be sized for it (a copy of the operator is bound to each evolved weight).
    """

    #: Whether :meth:`step` is the (exact or consistently discretized) flow of :meth:`rate`.
    #: Without consistent dynamics the continuous adjoint refuses the operator.
    has_dynamics: bool = True
    #: Whether integrating the evolution backwards in time is well posed (the adjoint does).
    reverse_time_well_posed: bool = True
    #: Whether the weights stay constant (``q = 0``): lets the block skip all evolution work.
    is_static: bool = False
    #: Whether :meth:`weights_at` gives the weights at many times in one batched call (an exact
    #: propagator in closed form): a block then reads its weights' path from it instead of stepping it.
    has_weights_at: bool = False

    def bind(self, weight: Tensor) -> None:
        """Create parameters sized for ``weight``; called once, before the first step."""

    def initial_state(self, weight: Tensor) -> Tensor:
        """The state at the block's start, from the weight parameter ``w0``."""
        return weight

    def readout(self, state: Tensor, t: float) -> Tensor:
        """The weight ``w(t)`` the block applies, read out of the state at time ``t``."""
        return state

    def rate(self, state: Tensor, t: float) -> Tensor:
        """``ds/dt`` at time ``t``."""
        raise NotImplementedError

    def step(self, state: Tensor, t: float, dt: float, method: Stepper) -> Tensor:
        """Advance the state from ``t`` to ``t + dt`` (``dt`` may be a fraction of a grid step)."""
        return method.step(lambda s, x: self.rate(x, s), t, dt, state)

    def step_reusing(self, kept: PassReuse, state: Tensor, t: float, dt: float, method: Stepper) -> Tensor:
        """:meth:`step` within a pass of a solve over many steps: ``kept`` holds what the pass's
        earlier steps in the same grad mode computed from the parameters alone (e.g. a
        propagator), for the operator to reuse (``kept.get(key, build)``); the solve empties it
        when a pass starts (:meth:`DiscreteSolve.start_pass`), so nothing outlives a parameter
        update or reaches into another pass's graph."""
        return self.step(state, t, dt, method)

    def weights_at(self, state: Tensor, t: float, times: Sequence[float]) -> Tensor:
        """The weights ``w`` at each of ``times`` (at or after ``t``), stacked on a new dim 0, from the
        state at ``t``: the exact flow of :meth:`rate`, read out; only where ``has_weights_at``."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form weight path")


class Static(EvolutionOperator):
    """``q = 0``: static weights, i.e. a Neural ODE / ANODE block."""

    is_static = True

    def rate(self, state: Tensor, t: float) -> Tensor:
        return state.new_zeros(()).expand_as(state)

    def step(self, state: Tensor, t: float, dt: float, method: Stepper) -> Tensor:
        return state
