"""The public names of :mod:`physode.problems.fitting`, imported on first use (see its ``__getattr__``)."""

from __future__ import annotations

from physode.errors import TrainingDiverged
from physode.problems.fitting.evaluate import evaluate_model, evaluate_run, load_run
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import (
    LAYERS,
    FourierModelConfig,
    FourierTrajectoryModel,
    ModelConfig,
    ModelFamily,
    TrajectoryModel,
    build_model,
    family_names,
    parameter_count,
)
from physode.problems.fitting.estimates import diffusivity_estimate, velocity_estimate, wave_speed_estimate
from physode.problems.fitting.plot import plot_runs
from physode.problems.fitting.quickstart import run_quickstart
