"""Fit coupled neural ODEs to 1-D periodic trajectory files (any PDE written in the trajectory format).

Given u(t0), a model predicts u at every stored time: ``du/dt = f(u; theta(t))`` with ``f`` a
linear, translation-invariant layer (spectral multipliers or a periodic stencil; ``--model linear``)
or a Fourier-operator network (``--model fourier``), whose weights are static (ANODE, Neural ODE)
or evolve (ANODEV2). The code knows nothing about the PDE:
it reads the field, the times and the grid through :class:`physode.trajectories.TrajectoryFile`.

- :mod:`.models`: :class:`ModelConfig`, :func:`build_model` (one field or C channels).
- :mod:`.estimates`: the learned velocity ``c_hat(t)`` (transport) or wave speed (wave).
- :mod:`.fourier_model`: :class:`FourierModelConfig`, the nonlinear model.
- :mod:`.model_kinds`: building, storing and rebuilding either kind.
- :mod:`.fit_config`: :class:`FitConfig`, what a fit run is (budget, learning rates, polish).
- :mod:`.fit`: :func:`fit` (deterministic, resumable, checkpoints and JSON metrics).
- :mod:`.trainer`: :class:`Trainer`, a fit's phases (set-up, Adam, polish, summary).
- :mod:`.polish`: the full-batch L-BFGS after Adam.
- :mod:`.evaluate`: :func:`evaluate_run`, scored by :mod:`physode.trajectories.metrics`.
- :mod:`.plot`: :func:`plot_runs`, the Figure-2-style comparison.
- :mod:`.quickstart`: :func:`run_quickstart`, the end-to-end transport demo.

Command line: ``physode fit``, ``physode evaluate pde1d``, ``physode plot``, ``physode quickstart``.
"""

from physode.errors import TrainingDiverged
from physode.problems.fitting.evaluate import evaluate_model, evaluate_run, load_run
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.fourier_model import FourierModelConfig, FourierTrajectoryModel
from physode.problems.fitting.model_kinds import MODEL_KINDS
from physode.problems.fitting.models import (
    LAYERS,
    VARIANTS,
    ModelConfig,
    TrajectoryModel,
    build_model,
    parameter_count,
)
from physode.problems.fitting.estimates import velocity_estimate, wave_speed_estimate
from physode.problems.fitting.plot import plot_runs
from physode.problems.fitting.quickstart import run_quickstart

__all__ = [
    "LAYERS",
    "MODEL_KINDS",
    "VARIANTS",
    "FitConfig",
    "FourierModelConfig",
    "FourierTrajectoryModel",
    "ModelConfig",
    "TrainingDiverged",
    "TrajectoryModel",
    "build_model",
    "evaluate_model",
    "evaluate_run",
    "fit",
    "load_run",
    "parameter_count",
    "plot_runs",
    "run_quickstart",
    "velocity_estimate",
    "wave_speed_estimate",
]
