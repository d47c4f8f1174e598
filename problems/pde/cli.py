"""``physode simulate <pde>``: the one command that simulates every PDE of the package.

``SIMULATORS`` is the zoo's registry: one runner per equation, each turning the parsed arguments
into a file; the 2-D ones' options come from :mod:`.cli2d`. The options all PDEs share (``--out``, ``--samples``, ``--nx``, ``--nt``,
``--t-final``, ``--length``, ``--seed``, ``--test-fraction``, ``--compression``, ``--velocity``,
``--initial``) come first; each family of equations adds its own argument group. To add a PDE, put
its runner in ``SIMULATORS`` (:mod:`.runners`) and its options in a group of :func:`_add_equation_options`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from physode.cli_types import float_in, fraction, int_in, positive_float, positive_int, seed
from physode.problems.pde.coefficients import COEFFICIENT_SPEC_HELP
from physode.problems.pde.initial_conditions import INITIAL_CONDITIONS, INITIAL_RATES
from physode.problems.pde.cli2d import DEFAULT_NX_PLANE, add_plane_options
from physode.problems.pde.runners import (
    DEFAULT_NU,
    DEFAULT_NX,
    MAX_NT,
    MAX_NX,
    MAX_SAMPLES,
    SIMULATORS,
    run_simulate,
)


def _add_simulate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="generate a dataset of exact PDE trajectories (HDF5)",
        description="Simulate a PDE for many seeded random initial conditions and write the "
        "trajectories to one HDF5 file (format: datasets/README.md; opens with xarray).",
    )
    parser.add_argument("pde", choices=sorted(SIMULATORS), help="which PDE to simulate")
    parser.add_argument(
        "--out", type=Path, default=None, help="output file (default: data/<pde>.h5)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--samples", type=positive_int(MAX_SAMPLES), default=256, help="number of trajectories")
    parser.add_argument("--nx", type=positive_int(MAX_NX), default=argparse.SUPPRESS,
                        help=f"grid points (per axis in 2-D), x_j = j L / nx (default: {DEFAULT_NX}; 2-D: "
                        f"{DEFAULT_NX_PLANE})")
    parser.add_argument("--nt", type=int_in(2, MAX_NT), default=21,
                        help="stored times, equally spaced, t_0 = 0 (the initial state and later times)")
    parser.add_argument("--t-final", type=positive_float, default=1.0, help="last stored time")
    parser.add_argument("--length", type=positive_float, default=1.0, help="domain length L (period)")
    parser.add_argument("--seed", type=seed, default=0, help="seed of the initial conditions and split")
    parser.add_argument(
        "--test-fraction", type=fraction, default=0.2, help="fraction of samples marked as test"
    )
    parser.add_argument(
        "--compression", choices=["gzip", "lzf"], default=None, help="HDF5 compression of u"
    )
    transport = parser.add_argument_group("transport options (dz/dt = c(t) dz/dx, periodic)")
    transport.add_argument(
        "--velocity", default="exponential:c0=0.5,a=1.5", help=f"velocity c(t): {COEFFICIENT_SPEC_HELP}"
    )
    transport.add_argument(
        "--initial", choices=list(INITIAL_CONDITIONS), default="fourier",
        help="initial conditions: random sines (PDEBench-style), Gaussian bumps or sharp windows",
    )
    _add_equation_options(parser)
    add_plane_options(parser)
    parser.set_defaults(func=run_simulate)


def _add_equation_options(parser: argparse.ArgumentParser) -> None:
    """The argument groups of the equations beyond transport."""
    linear = parser.add_argument_group(
        "diffusion, advection-diffusion, burgers options",
        "diffusion: u_t = nu(t) u_xx; advection-diffusion: u_t = c(t) u_x + nu(t) u_xx with c(t) "
        "from --velocity (transport's sign: c > 0 moves profiles left); both exact in Fourier "
        "space. burgers: u_t + u u_x = nu u_xx, pseudo-spectral ETDRK4, 2/3-rule dealiasing.",
    )
    linear.add_argument(
        "--nu", default=argparse.SUPPRESS,  # the default depends on the PDE
        help="viscosity / diffusivity: a number, or for diffusion and advection-diffusion a "
        "time-varying nu(t) >= 0 written like --velocity, e.g. sinusoidal:c0=0.01,amp=0.005 "
        f"(default: {', '.join(f'{pde} {nu}' for pde, nu in DEFAULT_NU.items())})",
    )
    stiff = parser.add_argument_group(
        "ETDRK4 options (burgers, fisher-kpp, allen-cahn; --dt also for wave)",
        "fisher-kpp: u_t = D u_xx + r u (1 - u), initial states mapped onto [0, 1]; allen-cahn: "
        "u_t = eps^2 u_xx + u - u^3, initial states mapped onto [-1, 1]. A warning says when --nx "
        "does not resolve the solution.",
    )
    stiff.add_argument(
        "--dt", type=positive_float, default=argparse.SUPPRESS,
        help="largest internal time step, shortened to divide every output interval "
        "(default: 0.1 / largest rate of the nonlinear term, ~1e-8 time error)",
    )
    stiff.add_argument("--diffusivity", type=positive_float, default=0.001, help="fisher-kpp: D")
    stiff.add_argument("--rate", type=positive_float, default=5.0, help="fisher-kpp: growth rate r")
    stiff.add_argument("--epsilon", type=positive_float, default=0.02, help="allen-cahn: interface width eps")
    second_order = parser.add_argument_group(
        "wave options",
        "wave: u_tt = c(t)^2 u_xx with c(t) from --velocity, stored as channels (u, u_t); exact "
        "per Fourier mode for constant c, fourth-order Magnus steps of at most --dt otherwise "
        "(default: a quarter cell at the largest |c|, at most 2e-3; ~1e-11).",
    )
    second_order.add_argument(
        "--initial-rate", choices=list(INITIAL_RATES), default="rest",
        help="u_t at t = 0: rest (0: the profile splits into two halves) or transport (c(0) u_x: "
        "moves like transport's u0(x + C(t)))",
    )
    pdebench = parser.add_argument_group(
        "advection options",
        "advection: u_t + beta u_x = 0 (PDEBench's sign; c = -beta), exact. PDEBench's settings: "
        "--layout pdebench --nx 1024 --nt 201 --t-final 2 --beta 0.1|0.4|1.0 (--test-fraction is "
        "ignored there: PDEBench files carry no split).",
    )
    pdebench.add_argument("--beta", type=float_in(), default=0.4, help="advection speed beta")
    pdebench.add_argument(
        "--layout", choices=["physode", "pdebench"], default="physode",
        help="file layout: physode trajectories (x_j = j L / nx) or PDEBench 1D (tensor, "
        "x-coordinate at cell centres, t-coordinate with nt + 1 entries, attribute beta)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``physode simulate`` to the ``physode`` command line."""
    _add_simulate(subparsers)
