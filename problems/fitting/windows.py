"""What one training sample of a fit covers (:class:`WindowPlan`), and the pushforward's start state
(:func:`pushed_forward`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from physode.problems.fitting.fit_config import FitConfig, pushforward_length, window_length


@dataclass(frozen=True)
class WindowPlan:
    """Training samples of ``windows`` stored intervals (0: whole trajectories from u(t0)) out of
    ``intervals``, whose trained part starts ``lead`` intervals after the stored state it is read from
    (the pushforward: ``FitConfig.pushforward - 1`` intervals rolled out without a gradient)."""

    windows: int
    lead: int
    intervals: int

    @classmethod
    def of(cls, config: FitConfig, state: dict[str, Any] | None, intervals: int) -> WindowPlan:
        """``config``'s plan, or the one a resumed run's checkpoint ``state`` recorded."""
        if state is None:
            return cls(window_length(config), pushforward_length(config) - 1, intervals)
        # A run from before windows (or the pushforward) existed trained without, and resumes so.
        return cls(state.get("windows", 0), state.get("pushforward", 1) - 1, intervals)

    @property
    def span(self) -> int:
        """Stored intervals of a training sample's trained part (its horizon once the curriculum is over)."""
        return self.windows or self.intervals

    @property
    def starts(self) -> int:
        """How many stored states (the first ones) a training sample is read from."""
        return self.intervals - self.windows - self.lead + 1 if self.windows else 1


def pushed_forward(model: nn.Module, state: torch.Tensor, times: list[float]) -> torch.Tensor:
    """``model``'s prediction at ``times[-1]`` from ``state`` at ``times[0]``, without a gradient: a window's
    start state under the pushforward, the kind of state a rollout meets, errors included."""
    with torch.no_grad():
        return model(state, times)[:, -1]
