"""The ``fourier`` family of ``physode fit --model``: a Fourier-operator vector field, for nonlinear PDEs.

``du/dt = f(u; theta(t))`` with ``f`` a :class:`physode.nn.FourierField` (lift to ``width``
channels, ``blocks`` Fourier blocks over the lowest ``modes`` modes with GELU, project back),
integrated by RK4 over the stored times in a variant of
:class:`physode.models.FourierODE`. Unlike the single linear layer of :mod:`.linear` it can
represent nonlinear PDEs (Burgers, Fisher-KPP, Allen-Cahn); it costs ~20k parameters and minutes
of CPU time where the linear layer costs dozens and seconds, so the linear layer stays the choice
for linear, constant- or time-varying-coefficient dynamics.

Defaults follow the phase-1 probe of issue 9 (width 32, 16 modes, 2 blocks, one-cycle Adam at 3e-3),
with one RK4 step per stored interval and backprop gradients (``grad``): together about 0.4x the time
of an Adam step with 2 steps and the checkpointed gradient (benchmarks/pde/windows.md compares the two
at the converged FNO's wall time). A variant with static weights is autonomous, so every stored state
is an initial condition: it trains on one-interval windows from all of them (``default_windows``,
``FitConfig.windows``); ANODEV2's weights evolve from t0, so it trains on whole trajectories from
u(t0) with the horizon curriculum of :mod:`.schedule`.

The optional linear term ``L u`` (``linear``) and the weight evolution's rates are velocities and
rates of order one, like the linear layer's weights; trained at the network's small learning rate
they barely move, which is why phase 1 could not fit time-varying coefficients without giving them
their own, larger one (:meth:`FourierTrajectoryModel.rate_parameters`, ``FitConfig.rate_lr``). The
linear term keeps only its lowest ``linear_modes`` modes (default :data:`LINEAR_MODES`): its rate at
mode ``k`` is ``2 pi k |W|``, and RK4 is stable only while that times the step stays below 2.8. With
``--method ifrk4`` the linear term is one rate per Fourier mode, propagated exactly (integrating-factor
RK4), and keeps every mode of the grid by default: stiff dispersion (KdV's ``u_xxx``) and
hyper-diffusion (Kuramoto-Sivashinsky's ``u_xxxx``) then cost no smaller steps.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from typing import Any
from dataclasses import dataclass

from torch import Tensor, nn

from physode.errors import InputError
from physode.gradients import STRATEGIES
from physode.models import FourierODE, FourierODEConfig
from physode.problems.fitting.models.family import Grid, ModelFamily
from physode.problems.fitting.models.fourier2d import PlaneFourierModel
from physode.steppers import get_method
from physode.variants import coupled_names, get_variant, is_coupled

LINEAR_MODES = 8  # default cap of the linear term's modes (RK4 stability, see the module docstring)


@dataclass(frozen=True)
class FourierModelConfig(FourierODEConfig, ModelFamily, family="fourier"):
    """A :class:`~physode.models.FourierODEConfig` for one solution field, with the fitting package's defaults.

    ``evolve`` (None): the projection, and the linear term when there is one.
    ``linear_modes`` (None with ``linear``): ``min(modes, LINEAR_MODES)``; with an exponential ``method``
    (``ifrk4``) every mode of the grid the model is built for.
    Its ``modes`` are the network's, its ``width`` the hidden channels (``--hidden-channels``).
    ``grad``: the gradient strategy (:mod:`physode.gradients`; None: ``"backprop"`` where the variant's
    own is ``"checkpoint"``, else the variant's own, e.g. neuralode's adjoint). Both are exact; the
    checkpointed one recomputes the solve in backward, and since this model is one ODE block that
    recomputation holds the whole graph at once, so its peak memory is backprop's (measured: 11.45 against
    11.39 GiB for 40 intervals of 2 steps, batch 128, 128 points) and its extra forward is pure cost.
    """

    variant: str = "anodev2"
    evolve: tuple[str, ...] | None = None  # type: ignore[assignment]  # resolved in __post_init__
    # One RK4 step per stored interval: at FNO's wall time on the PDE benchmark's Fisher-KPP and Burgers
    # rows it beat 2 (benchmarks/pde/windows.md at commit e3d1c54: 0.99x and 1.38x FNO's test nRMSE against
    # 1.35x and 2.66x), whose accuracy the fit cannot use within the time.
    steps_per_interval: int = 1
    grad: str | None = None  # resolved in __post_init__

    summary = "a Fourier-operator network as the vector field, for nonlinear PDEs"
    default_lr, default_rate_lr, default_polish = 3e-3, 0.03, 0
    # Static weights train on one-interval windows from every stored state (FitConfig.windows): in FNO's 148 s
    # on the PDE benchmark's Fisher-KPP row, 2.2e-3 test nRMSE against 1.5e-2 on whole trajectories
    # (benchmarks/pde/windows.md at commit e3d1c54).
    default_windows = 1
    options = {"--hidden-channels": "hidden_channels", "--blocks": "blocks", "--linear-term": "linear_term",
               "--linear-modes": "linear_modes", "--evolve": "evolve"}

    def __post_init__(self) -> None:
        default = ("projection", "linear") if self.linear else ("projection",)
        # A stored config carries the resolved default, also for the static variants.
        if self.evolve is not None and tuple(self.evolve) != default and not is_coupled(self.variant):
            raise InputError(f"variant {self.variant!r} has static weights; evolve applies to {coupled_names()}")
        if self.evolve is None:
            object.__setattr__(self, "evolve", default)
        if self.linear and self.linear_modes is None and not get_method(self.method).semilinear:
            object.__setattr__(self, "linear_modes", min(self.modes, LINEAR_MODES))
        if self.grad is None:  # recorded resolved: the stored config says which gradient the fit used
            own = get_variant(self.variant).grad
            object.__setattr__(self, "grad", "backprop" if own == "checkpoint" else own)
        if self.grad not in STRATEGIES:
            raise InputError(f"unknown gradient strategy {self.grad!r}; choose one of {', '.join(sorted(STRATEGIES))}")
        super().__post_init__()

    def build(self, grid: Grid, channels: int = 1) -> FourierTrajectoryModel | PlaneFourierModel:
        # The spectral convolutions need the grid uniform (Grid's), not its spacing.
        if len(grid.shape) == 2:
            return PlaneFourierModel(self, grid, channels, grad=self.grad)
        if len(grid.shape) != 1 or not grid.periodic:
            raise InputError(f"the fourier family fits periodic 1-D fields and 2-D ones; got a "
                             f"{'periodic' if grid.periodic else 'walled'} grid of shape {grid.shape}")
        if self.linear and self.linear_modes is None:  # an exponential method's linear term: the grid's every mode
            return FourierTrajectoryModel(dataclasses.replace(self, linear_modes=grid.shape[0] // 2 + 1), channels)
        return FourierTrajectoryModel(self, channels)

    def rate_parameters(self, model: nn.Module) -> list[nn.Parameter]:
        return model.rate_parameters()

    def shaping_settings(self) -> dict[str, Any]:
        """Less ``grad``: the same model and, to round-off, the same gradients either way (a run from
        before the default became backprop resumes)."""
        return {name: value for name, value in dataclasses.asdict(self).items() if name != "grad"}

    @classmethod
    def from_options(cls, args: argparse.Namespace) -> FourierModelConfig:
        if args.evolve is not None and not is_coupled(args.variant):
            raise InputError(f"--evolve: variant {args.variant!r} has static weights; evolve applies to "
                             f"{coupled_names()}")
        evolve = None if args.evolve is None else tuple(group.strip() for group in args.evolve.split(","))
        given = {"width": args.hidden_channels, "modes": args.modes, "blocks": args.blocks,
                 "linear_modes": args.linear_modes, "evolve": evolve}
        return cls(variant=args.variant, steps_per_interval=args.steps_per_interval, method=args.method,
                   hidden=args.hidden, linear=args.linear_term, **{k: v for k, v in given.items() if v is not None})


class FourierTrajectoryModel(nn.Module):
    """``u(t0) -> u(t0), u(t1), ...`` in the file's layout: one field ``(batch, Nx) -> (batch, times,
    Nx)``, C channels ``(batch, C, Nx) -> (batch, times, C, Nx)``."""

    def __init__(self, config: FourierModelConfig, channels: int = 1) -> None:
        super().__init__()
        self.config = config
        self.channels = channels
        self.ode = FourierODE(config, channels=channels, grad=config.grad)

    def forward(self, u0: Tensor, times: Sequence[float]) -> Tensor:
        """Predicted fields at every time; index 0 is ``u0`` itself."""
        if self.channels == 1:
            return self.ode(u0[:, None], times)[:, :, 0]
        return self.ode(u0, times)

    def rate_parameters(self) -> list[nn.Parameter]:
        """The linear term's multipliers and the weight evolution's parameters (own learning rate)."""
        linear = [] if self.ode.field.linear is None else list(self.ode.field.linear.parameters())
        return linear + list(self.ode.block.operators.parameters())
