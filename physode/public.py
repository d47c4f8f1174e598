"""physode's public names (what ``physode.X`` resolves to), imported on first use.

:mod:`physode` itself imports only its version, so that ``physode --help`` and ``physode
--version`` need no torch; its module ``__getattr__`` hands out the names below.
"""

from __future__ import annotations

import os

import torch

from physode.evolution import (
    Dirac,
    EvolutionOperator,
    ExponentialMemory,
    Galerkin,
    LinearLatent,
    Neural,
    SpectralRDA,
    Static,
)
from physode.gradients import (
    Adjoint,
    Backprop,
    Checkpoint,
    GradientStrategy,
    Recursive,
)
from physode.integrate import ODESolution, odeint, odesolve
from physode.nn import CoupledODEBlock, ODEBlock
from physode.steppers import ButcherTableau, Stepper, StepSizeController


def load(run: str | os.PathLike[str], device: str = "cpu") -> torch.nn.Module:
    """The fitted model of a ``physode fit`` run directory (or its ``checkpoint.pt``): a
    ``torch.nn.Module`` with ``predict(u0, times)``, ``u0`` the states at the run's ``t0`` (see
    :class:`physode.problems.fitting.predict.FittedModel`)."""
    # Imported here: the fitting problem (its model families, data files, plots) is not part of
    # what `import physode` loads.
    from physode.problems.fitting.predict import load as load_fitted

    return load_fitted(run, device)
