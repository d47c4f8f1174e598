"""The model families ``physode fit --model`` offers and their own options, importable without torch.

The families register in :mod:`.models` (which imports torch); ``physode fit --help`` lists them
from :data:`FAMILIES` instead (see :mod:`physode.catalog`): the built-in two are written out here
with their options, a plugin's family is added as it registers, with its ``add_options``. The
defaults the help shows are the configs' own (``tests/test_startup.py`` compares them).
"""

from __future__ import annotations

import argparse

from physode.catalog import Catalog, Offered
from physode.cli_types import positive_int

MAX_COUNT = 10**6  # widths, modes, blocks: beyond this an option is a typo, not a plan
# The latent ODE is propagated by an m x m matrix exponential per weight step; its temporaries, not
# its m parameters, are what a large m costs, so no parameter-memory check would catch it.
MAX_LATENT = 1000
# Blocks are built one by one (even on the meta device 10^4 take seconds), so --blocks is capped
# before any memory check could run.
MAX_BLOCKS = 1000
LAYERS = ("spectral", "stencil")
SOLVERS = ("auto", "multipliers", "stages")
GALERKIN_BASES = ("fourier", "polynomial")  # physode.evolution.galerkin.BASES
# Each family's defaults: its config's, its learning rates and polish (FitConfig's defaults with it;
# the linear polish: 200 L-BFGS evaluations or 2 per parameter if more, fit_config's POLISH...).
LINEAR_DEFAULTS = {"layer": "spectral", "width": 7, "latent": 5, "basis": "fourier", "solver": "auto",
                   "lr": 0.03, "polish": 200, "polish_per_parameter": 2}
FOURIER_DEFAULTS = {"width": 32, "blocks": 2, "modes": 16, "steps_per_interval": 1, "lr": 3e-3, "rate_lr": 0.03,
                    "polish": 0}


def _add_linear_options(parser: argparse.ArgumentParser) -> None:
    defaults = LINEAR_DEFAULTS
    group = parser.add_argument_group("linear model (--model linear)")
    group.add_argument("--layer", choices=LAYERS,
                       help=f"spectral: one complex multiplier per Fourier mode; stencil: periodic conv1d "
                            f"(default: {defaults['layer']})")
    group.add_argument("--width", type=positive_int(MAX_COUNT), help=f"stencil: width in points, odd (default: {defaults['width']})")
    group.add_argument("--per-mode-reaction", action="store_true",
                       help="anodev2: one reaction rate per Fourier mode instead of one for the real and one "
                            "for the imaginary parts of the multipliers")
    group.add_argument("--latent", type=positive_int(MAX_LATENT),
                       help=f"anodev2-latent: latent dimension m (galerkin: as many parameters; "
                            f"default: {defaults['latent']})")
    group.add_argument("--basis", choices=GALERKIN_BASES, help=f"galerkin: basis in t (default: {defaults['basis']})")
    group.add_argument("--solver", choices=SOLVERS,
                       help="multipliers: each Runge-Kutta step as one matrix per Fourier mode; stages: the "
                            "stage loop (the reference); auto: multipliers except for neuralode "
                            f"(default: {defaults['solver']})")


def _add_fourier_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("fourier model (--model fourier)")
    group.add_argument("--hidden-channels", type=positive_int(MAX_COUNT),
                       help=f"channels of the network's hidden layers (default: {FOURIER_DEFAULTS['width']})")
    group.add_argument("--blocks", type=positive_int(MAX_BLOCKS), help=f"Fourier blocks (default: {FOURIER_DEFAULTS['blocks']})")
    group.add_argument("--linear-term", action="store_true",
                       help="add a linear spectral term L u, exact for constant-coefficient linear "
                            "dynamics (advection, diffusion) that the network only approximates")
    group.add_argument("--linear-modes", type=positive_int(MAX_COUNT),
                       help="Fourier modes of the linear term; its high modes are stiff for RK4 "
                            "(default: min(--modes, 8))")
    group.add_argument("--evolve",
                       help="anodev2: comma-separated weight groups that evolve in time, from projection, "
                            "spectral, pointwise, linear (default: projection, plus linear with --linear-term)")


FAMILIES = Catalog("model family", (
    Offered("linear", "one linear layer (--layer), exact for linear PDEs, dozens of weights", _add_linear_options),
    Offered("fourier", "a Fourier-operator network as the vector field, for nonlinear PDEs", _add_fourier_options),
))
"""The model families, the built-in ones in :mod:`.models` (registration order: ``--model``'s)."""
