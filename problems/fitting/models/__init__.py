"""The model families of ``physode fit --model``: the base class and registry (:mod:`.family`) and
the built-in families, registered on import.

- ``linear`` (:mod:`.linear`, layers in :mod:`.layers`): one linear, translation-invariant layer;
  exact for linear constant- and time-varying-coefficient PDEs, dozens of weights.
- ``fourier`` (:mod:`.fourier`): a Fourier-operator network as the vector field; represents
  nonlinear PDEs, ~20k weights.

A new family is one module defining a :class:`ModelFamily` subclass; importing it registers it
(``PHYSODE_PLUGINS`` imports a user's modules before the command line is built).
"""

from physode.problems.fitting.models.family import (
    Grid,
    ModelFamily,
    family_named,
    family_names,
    parameter_count,
    stored_config,
)
# Registration order is --model's order: the linear family, the default, first.
from physode.problems.fitting.models.linear import LAYERS, ModelConfig, TrajectoryModel, build_model
from physode.problems.fitting.models.fourier import FourierModelConfig, FourierTrajectoryModel

__all__ = [
    "LAYERS",
    "FourierModelConfig",
    "FourierTrajectoryModel",
    "Grid",
    "ModelConfig",
    "ModelFamily",
    "TrajectoryModel",
    "build_model",
    "family_named",
    "family_names",
    "parameter_count",
    "stored_config",
]
