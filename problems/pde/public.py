"""The public names of :mod:`physode.problems.pde`, imported on first use (see its ``__getattr__``)."""

from __future__ import annotations

from physode.problems.pde.advection import simulate_advection
from physode.problems.pde.advection_diffusion import (
    simulate_advection_diffusion,
    simulate_diffusion,
)
from physode.problems.pde.burgers import simulate_burgers
from physode.problems.pde.diffusion_reaction2d import simulate_diffusion_reaction2d
from physode.problems.pde.navier_stokes2d import simulate_navier_stokes2d
from physode.problems.pde.coefficients import (
    COEFFICIENT_FAMILIES,
    COEFFICIENT_SPEC_HELP,
    CoefficientLike,
    Constant,
    Exponential,
    Linear,
    PiecewiseConstant,
    Sinusoidal,
    TimeCoefficient,
    as_coefficient,
    coefficient,
    coefficient_from_spec,
)
from physode.problems.pde.formulas import QuadratureCoefficient, coefficient_from_formula
from physode.problems.pde.initial_conditions import (
    INITIAL_CONDITIONS,
    FourierSeries,
    GaussianBumps,
    InitialCondition,
    Windowed,
)
from physode.problems.pde.reaction_diffusion import simulate_allen_cahn, simulate_fisher_kpp
from physode.problems.pde.transport import simulate_transport, simulate_transport_to_file
from physode.problems.pde.transport2d import simulate_transport2d
from physode.problems.pde.wave import simulate_wave
from physode.problems.pde.wave2d import simulate_wave2d
