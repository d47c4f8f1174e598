"""Command line of the transport problem.

``register`` adds one parser per sub-command; each ``_add_<command>`` helper owns its parser, so
further commands (fit, evaluate, plot, quickstart) are added beside ``_add_simulate``.

``physode simulate <pde>`` takes the PDE as a positional choice: to add one, put its runner in
``SIMULATORS`` and its own options in a separate argument group.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from physode.errors import InputError
from physode.io.trajectories import TrajectoryFile
from physode.problems.physics import cli as physics_cli
from physode.problems.transport.simulate import (
    INITIAL_CONDITIONS,
    VELOCITY_SPEC_HELP,
    simulate_to_file,
)


def _simulate_transport(args: argparse.Namespace) -> Path:
    times = np.linspace(0.0, args.t_final, args.nt)
    return simulate_to_file(
        args.out, args.samples, args.nx, times, args.velocity, args.initial, args.seed,
        args.length, args.test_fraction, args.compression,
    )


SIMULATORS: dict[str, Callable[[argparse.Namespace], Path]] = {
    "transport": _simulate_transport,
    **physics_cli.SIMULATORS,  # diffusion, advection(-diffusion), burgers, fisher-kpp, allen-cahn
}


def _run_simulate(args: argparse.Namespace) -> int:
    if args.nt < 2:
        raise InputError(f"--nt must be at least 2 (the initial state and one later time), got {args.nt}")
    if not (math.isfinite(args.t_final) and args.t_final > 0):
        raise InputError(f"--t-final must be positive and finite, got {args.t_final}")
    if args.out is None:
        args.out = Path("data") / f"{args.pde}.h5"
    if args.out.exists() and not args.overwrite:
        raise InputError(f"{args.out} exists; pass --overwrite to replace it or choose another --out")
    path = SIMULATORS[args.pde](args)
    with TrajectoryFile(path) as written:
        coefficients = ", ".join(sorted(written.coefficients)) or "none"
        print(
            f"wrote {path}: {args.pde} ({written.attrs.get('equation', '?')}); {written.n_samples} samples "
            f"(train {len(written.train)}, test {len(written.test)}) x {written.n_times} times in "
            f"[0, {args.t_final:g}] x {written.n_x} points; time-varying coefficients: "
            f"{coefficients}; initial {args.initial}, seed {args.seed}"
        )
    return 0


def _add_simulate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="generate a dataset of exact PDE trajectories (HDF5)",
        description="Simulate a PDE for many seeded random initial conditions and write the "
        "trajectories to one HDF5 file (format: datasets/README.md; opens with xarray).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("pde", choices=sorted(SIMULATORS), help="which PDE to simulate")
    parser.add_argument(
        "--out", type=Path, default=None, help="output file (default: data/<pde>.h5)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--samples", type=int, default=256, help="number of trajectories")
    parser.add_argument("--nx", type=int, default=128, help="grid points, x_j = j L / nx")
    parser.add_argument("--nt", type=int, default=21, help="stored times, equally spaced, t_0 = 0")
    parser.add_argument("--t-final", type=float, default=1.0, help="last stored time")
    parser.add_argument("--length", type=float, default=1.0, help="domain length L (period)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial conditions and split")
    parser.add_argument(
        "--test-fraction", type=float, default=0.2, help="fraction of samples marked as test"
    )
    parser.add_argument(
        "--compression", choices=["gzip", "lzf"], default=None, help="HDF5 compression of u"
    )
    transport = parser.add_argument_group("transport options (dz/dt = c(t) dz/dx, periodic)")
    transport.add_argument(
        "--velocity", default="exponential:c0=0.5,a=1.5", help=f"velocity c(t): {VELOCITY_SPEC_HELP}"
    )
    transport.add_argument(
        "--initial", choices=list(INITIAL_CONDITIONS), default="fourier",
        help="initial conditions: random sines (PDEBench-style), Gaussian bumps or sharp windows",
    )
    physics_cli.add_options(parser)  # argument groups of the physics zoo's PDEs
    parser.set_defaults(func=_run_simulate)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the transport problem's sub-commands to the ``physode`` command line."""
    _add_simulate(subparsers)
