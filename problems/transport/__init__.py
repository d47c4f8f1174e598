"""Transport task (paper section 6): learn dz/dt = c(t) dz/dx on a periodic 1D domain.

A static-weight block can learn one velocity; an ANODEV2 block whose weights evolve can follow a
time-varying c(t). :mod:`.simulate` generates exact trajectories, ``physode simulate transport``
writes them to a trajectory file (see ``datasets/README.md``).
"""

from physode.problems.transport.simulate import (
    EQUATION,
    INITIAL_CONDITIONS,
    VELOCITY_FAMILIES,
    Constant,
    Exponential,
    FourierSeries,
    GaussianBumps,
    Linear,
    PiecewiseConstant,
    QuadratureVelocity,
    Sinusoidal,
    Velocity,
    Windowed,
    simulate,
    simulate_to_file,
    velocity_from_formula,
    velocity_from_spec,
)

__all__ = [
    "EQUATION",
    "INITIAL_CONDITIONS",
    "VELOCITY_FAMILIES",
    "Constant",
    "Exponential",
    "FourierSeries",
    "GaussianBumps",
    "Linear",
    "PiecewiseConstant",
    "QuadratureVelocity",
    "Sinusoidal",
    "Velocity",
    "Windowed",
    "simulate",
    "simulate_to_file",
    "velocity_from_formula",
    "velocity_from_spec",
]
