"""The runners of the 2-D PDEs of ``physode simulate`` (``PLANE_SIMULATORS``), and their resource checks.

transport2d and wave2d give every sample independently and are streamed block by block (memory
holds one block); navier-stokes2d and diffusion-reaction2d hold the whole batch, as the 1-D
ETDRK4 solvers do. As in :mod:`.runners`, each runner imports the simulator and the writers when it
runs, so that building the parser does not import torch.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from physode.errors import InputError
from physode.problems.pde.cli2d import DEFAULT_VISCOSITY
from physode.problems.pde.streaming import BLOCK_BYTES, IN_MEMORY_COPIES, write_in_blocks

if TYPE_CHECKING:
    from physode.trajectories import Trajectories

CHANNELS = {"transport2d": 1, "wave2d": 2, "navier-stokes2d": 1, "diffusion-reaction2d": 2}


def _times(args: argparse.Namespace) -> np.ndarray:
    return np.linspace(0.0, args.t_final, args.nt)


def _per_sample_bytes(args: argparse.Namespace) -> int:
    return args.nt * args.nx**2 * CHANNELS[args.pde] * 8


def _samples_per_block(args: argparse.Namespace) -> int:
    return max(1, BLOCK_BYTES // _per_sample_bytes(args))


def check_plane_resources(args: argparse.Namespace) -> None:
    """Refuse before solving what memory or the disk cannot hold."""
    from physode.resources import check_disk_space, check_memory
    from physode.trajectories import file_size_bound

    per_sample = _per_sample_bytes(args)
    if args.pde in ("transport2d", "wave2d"):
        block = min(args.samples, _samples_per_block(args))
        needed = args.samples * args.nx**2 * 8 + IN_MEMORY_COPIES * block * per_sample
    else:
        needed = IN_MEMORY_COPIES * args.samples * per_sample
    check_memory(needed, f"simulating {args.samples} samples x {args.nt} times x {args.nx} x {args.nx} points",
                 "lower --samples, --nt or --nx")
    check_disk_space(args.out, file_size_bound(args.samples * per_sample // 2, 0),
                     "lower --samples, --nt or --nx, or choose another --out")


def _write(args: argparse.Namespace, data: Trajectories) -> Path:
    from physode.trajectories import write

    return write(args.out, data, seed=args.seed, test_fraction=args.test_fraction, compression=args.compression,
                 replace=args.overwrite)


def _stream(args: argparse.Namespace, simulate: Callable[[int, np.ndarray], Trajectories]) -> Path:
    """Write ``simulate(n, initial_states)`` block by block (:func:`.streaming.write_in_blocks`)."""
    from physode.problems.pde.plane import Plane, initial_state_2d

    u0 = initial_state_2d(args.initial, args.samples, Plane(args.nx, args.length), args.seed)
    return write_in_blocks(args, u0, _samples_per_block(args), simulate)


def _transport2d(args: argparse.Namespace) -> Path:
    from physode.problems.pde import transport2d

    return _stream(args, lambda n, u0: transport2d.simulate_transport2d(
        n, args.nx, _times(args), args.velocity_x, args.velocity_y, u0, args.seed, args.length,
    ))


def _wave2d(args: argparse.Namespace) -> Path:
    from physode.problems.pde import wave2d

    return _stream(args, lambda n, u0: wave2d.simulate_wave2d(
        n, args.nx, _times(args), args.velocity, u0, args.seed, args.length, args.initial_rate,
        getattr(args, "dt", None),
    ))


def _navier_stokes2d(args: argparse.Namespace) -> Path:
    from physode.problems.pde import navier_stokes2d

    return _write(args, navier_stokes2d.simulate_navier_stokes2d(
        args.samples, args.nx, _times(args), getattr(args, "nu", DEFAULT_VISCOSITY), args.forcing, args.initial,
        args.seed, args.length, getattr(args, "dt", None),
    ))


def _diffusion_reaction2d(args: argparse.Namespace) -> Path:
    if args.length != 1.0:
        raise InputError("diffusion-reaction2d lives on PDEBench's square [-1, 1]^2; drop --length")
    from physode.problems.pde import diffusion_reaction2d

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
