"""The options of the 2-D PDEs of ``physode simulate`` (their runners: :mod:`.runners2d`).

Fields are ``--nx`` x ``--nx`` points (default 64). Building these options imports no simulator, so
``physode --help`` needs no torch.
"""

from __future__ import annotations

import argparse

from physode.cli_types import float_in, positive_float
from physode.problems.pde.coefficients import COEFFICIENT_SPEC_HELP
from physode.problems.pde.plane import ROTATING_X, ROTATING_Y

DEFAULT_NX_PLANE = 64
DEFAULT_VISCOSITY = "0.001"  # navier-stokes2d's --nu
DEFAULT_FORCING = "sinusoidal:c0=0.1,amp=0.05,freq=1"


def add_plane_options(parser: argparse.ArgumentParser) -> None:
    """The argument group of the 2-D PDEs (``--velocity``, ``--nu``, ``--dt``, ``--initial-rate``
    are the 1-D options of the same meaning)."""
    plane = parser.add_argument_group(
        "2-D options (transport2d, wave2d, navier-stokes2d, diffusion-reaction2d)",
        "Fields on --nx x --nx points (default 64), stored as u (sample, t, channel, y, x). transport2d: "
        "u_t = c(t) . grad u, exact; wave2d: u_tt = c(t)^2 lap u with c(t) from --velocity, channels (u, "
        "u_t); navier-stokes2d: vorticity w_t + u . grad w = nu(t) lap w + forcing(t) f(x, y), --nu a "
        "number or spec (default 0.001); diffusion-reaction2d: PDEBench's FitzHugh-Nagumo on [-1, 1]^2 "
        "with no-flux walls, channels (u, v). --initial: fourier or gaussian (diffusion-reaction2d: "
        "fourier, a random cosine series).",
    )
    plane.add_argument("--velocity-x", default=ROTATING_X,
                       help=f"transport2d: the x component of c(t) (default: 0.5 cos(pi t)); {COEFFICIENT_SPEC_HELP}")
    plane.add_argument("--velocity-y", default=ROTATING_Y,
                       help="transport2d: the y component of c(t) (default: 0.5 sin(pi t)), same syntax")
    plane.add_argument("--forcing", default=DEFAULT_FORCING,
                       help="navier-stokes2d: the forcing amplitude a(t), a number or a spec like --velocity")
    plane.add_argument("--diffusivity-u", type=positive_float, default=1e-3, help="diffusion-reaction2d: Du")
    plane.add_argument("--diffusivity-v", type=positive_float, default=5e-3, help="diffusion-reaction2d: Dv")
    plane.add_argument("--reaction-k", type=float_in(), default=5e-3, help="diffusion-reaction2d: k in u - u^3 - k - v")
