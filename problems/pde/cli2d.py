"""The 2-D PDEs of ``physode simulate``: their runners (``PLANE_SIMULATORS``), resource checks and options.

:mod:`.cli` registers them beside the 1-D zoo. Fields are ``--nx`` x ``--nx`` points (default 64);
transport2d and wave2d give every sample independently and are streamed block by block (memory
holds one block); navier-stokes2d and diffusion-reaction2d hold the whole batch, as the 1-D
ETDRK4 solvers do.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from physode.cli_types import float_in, positive_float
from physode.errors import InputError
from physode.problems.pde import diffusion_reaction2d, navier_stokes2d, transport2d, wave2d
from physode.problems.pde.coefficients import COEFFICIENT_SPEC_HELP
from physode.problems.pde.plane import Plane, initial_state_2d
from physode.problems.pde.streaming import BLOCK_BYTES, IN_MEMORY_COPIES
from physode.resources import check_disk_space, check_memory
from physode.trajectories import Trajectories, file_size_bound, make_test_mask, trajectory_writer, write

DEFAULT_NX_PLANE = 64
DEFAULT_VISCOSITY = "0.001"  # navier-stokes2d's --nu
DEFAULT_FORCING = "sinusoidal:c0=0.1,amp=0.05,freq=1"
CHANNELS = {"transport2d": 1, "wave2d": 2, "navier-stokes2d": 1, "diffusion-reaction2d": 2}


def _times(args: argparse.Namespace) -> np.ndarray:
    return np.linspace(0.0, args.t_final, args.nt)


def _per_sample_bytes(args: argparse.Namespace) -> int:
    return args.nt * args.nx**2 * CHANNELS[args.pde] * 8


def _samples_per_block(args: argparse.Namespace) -> int:
    return max(1, BLOCK_BYTES // _per_sample_bytes(args))


def check_plane_resources(args: argparse.Namespace) -> None:
    """Refuse before solving what memory or the disk cannot hold."""
    per_sample = _per_sample_bytes(args)
    if args.pde in ("transport2d", "wave2d"):
        needed = args.samples * args.nx**2 * 8 + IN_MEMORY_COPIES * min(args.samples, _samples_per_block(args)) * per_sample
    else:
        needed = IN_MEMORY_COPIES * args.samples * per_sample
    check_memory(needed, f"simulating {args.samples} samples x {args.nt} times x {args.nx} x {args.nx} points",
                 "lower --samples, --nt or --nx")
    check_disk_space(args.out, file_size_bound(args.samples * per_sample // 2, 0),
                     "lower --samples, --nt or --nx, or choose another --out")


def _write(args: argparse.Namespace, data: Trajectories) -> Path:
    return write(args.out, data, seed=args.seed, test_fraction=args.test_fraction, compression=args.compression,
                 replace=args.overwrite)


def _stream(args: argparse.Namespace, simulate: Callable[[int, np.ndarray], Trajectories]) -> Path:
    """Write ``simulate(n, initial_states)`` block by block; the initial states are drawn up front, so
    the file equals the one an unblocked run writes."""
    u0 = initial_state_2d(args.initial, args.samples, Plane(args.nx, args.length), args.seed)
    per_block = _samples_per_block(args)
    first = simulate(min(per_block, args.samples), u0[:per_block])
    settings = {**first.settings, "initial": args.initial, "n_samples": args.samples,
                "seed": args.seed, "test_fraction": args.test_fraction}
    mask = make_test_mask(args.samples, args.test_fraction, args.seed)
    with trajectory_writer(args.out, args.samples, first.t, first.x, equation=first.equation,
                           coefficients=first.coefficients, test_mask=mask, generator=settings, seed=args.seed,
                           attrs=first.parameters, compression=args.compression, channels=first.channels,
                           boundary_condition=first.boundary_condition, replace=args.overwrite) as writer:
        writer.write(first.u)
        for start in range(per_block, args.samples, per_block):
            block = u0[start : start + per_block]
            writer.write(simulate(len(block), block).u)
    return args.out


def _transport2d(args: argparse.Namespace) -> Path:
    return _stream(args, lambda n, u0: transport2d.simulate_transport2d(
        n, args.nx, _times(args), args.velocity_x, args.velocity_y, u0, args.seed, args.length,
    ))


def _wave2d(args: argparse.Namespace) -> Path:
    return _stream(args, lambda n, u0: wave2d.simulate_wave2d(
        n, args.nx, _times(args), args.velocity, u0, args.seed, args.length, args.initial_rate,
        getattr(args, "dt", None),
    ))


def _navier_stokes2d(args: argparse.Namespace) -> Path:
    return _write(args, navier_stokes2d.simulate_navier_stokes2d(
        args.samples, args.nx, _times(args), getattr(args, "nu", DEFAULT_VISCOSITY), args.forcing, args.initial,
        args.seed, args.length, getattr(args, "dt", None),
    ))


def _diffusion_reaction2d(args: argparse.Namespace) -> Path:
    if args.length != 1.0:
        raise InputError("diffusion-reaction2d lives on PDEBench's square [-1, 1]^2; drop --length")
    return _write(args, diffusion_reaction2d.simulate_diffusion_reaction2d(
        args.samples, args.nx, _times(args), args.diffusivity_u, args.diffusivity_v, args.reaction_k,
        args.initial, args.seed, getattr(args, "dt", None),
    ))


PLANE_SIMULATORS: dict[str, Callable[[argparse.Namespace], Path]] = {
    "transport2d": _transport2d,
    "wave2d": _wave2d,
    "navier-stokes2d": _navier_stokes2d,
    "diffusion-reaction2d": _diffusion_reaction2d,
}


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
    plane.add_argument("--velocity-x", default=transport2d.ROTATING_X,
                       help=f"transport2d: the x component of c(t) (default: 0.5 cos(pi t)); {COEFFICIENT_SPEC_HELP}")
    plane.add_argument("--velocity-y", default=transport2d.ROTATING_Y,
                       help="transport2d: the y component of c(t) (default: 0.5 sin(pi t)), same syntax")
    plane.add_argument("--forcing", default=DEFAULT_FORCING,
                       help="navier-stokes2d: the forcing amplitude a(t), a number or a spec like --velocity")
    plane.add_argument("--diffusivity-u", type=positive_float, default=1e-3, help="diffusion-reaction2d: Du")
    plane.add_argument("--diffusivity-v", type=positive_float, default=5e-3, help="diffusion-reaction2d: Dv")
    plane.add_argument("--reaction-k", type=float_in(), default=5e-3, help="diffusion-reaction2d: k in u - u^3 - k - v")
