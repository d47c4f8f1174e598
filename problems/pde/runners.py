"""The runners of ``physode simulate <pde>``: ``SIMULATORS``, one per equation, each turning the
parsed arguments into a file.

Each runner imports the simulator and the writers when it runs (they import torch and scipy), so
that building the parser (`physode --help`, :mod:`.cli`) does not: a new runner imports inside it too.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from physode.log import LOGGER
from physode.problems.pde.cli2d import DEFAULT_NX_PLANE, DEFAULT_VISCOSITY
from physode.problems.pde.runners2d import PLANE_SIMULATORS, check_plane_resources
from physode.problems.pde.streaming import BLOCK_BYTES, IN_MEMORY_COPIES, write_in_blocks

if TYPE_CHECKING:
    from physode.trajectories import Trajectories

# Defaults that depend on the PDE (the parser leaves --nu and --nx unset).
DEFAULT_NU = {"diffusion": "0.01", "advection-diffusion": "0.01", "burgers": "0.03",
              "navier-stokes2d": DEFAULT_VISCOSITY}
DEFAULT_NX = 128
# Caps on sizes (typos like 1e11 fail at parse time); check_memory refuses most requests below them.
MAX_SAMPLES = 10**8
MAX_NX = 2**20
MAX_NT = 10**6


def _times(args: argparse.Namespace) -> np.ndarray:
    return np.linspace(0.0, args.t_final, args.nt)


def _nu(args: argparse.Namespace) -> str:
    return getattr(args, "nu", DEFAULT_NU[args.pde])


def _dt(args: argparse.Namespace) -> float | None:
    return getattr(args, "dt", None)


def _write(args: argparse.Namespace, data: Trajectories) -> Path:
    from physode.trajectories import write

    return write(
        args.out, data, seed=args.seed, test_fraction=args.test_fraction, compression=args.compression,
        replace=args.overwrite,
    )


def _samples_per_block(args: argparse.Namespace) -> int:
    return max(1, BLOCK_BYTES // (args.nt * args.nx * 8))


def _stream(args: argparse.Namespace, simulate: Callable[[int, np.ndarray], Trajectories]) -> Path:
    """Write ``simulate(n, initial_states)`` block by block (:func:`.streaming.write_in_blocks`)."""
    from physode.problems.pde.domain import grid
    from physode.problems.pde.initial_conditions import initial_state

    u0 = initial_state(args.initial, args.samples, grid(args.nx, args.length), args.seed, args.length)
    return write_in_blocks(args, u0, _samples_per_block(args), simulate)


def _transport(args: argparse.Namespace) -> Path:
    from physode.problems.pde import transport

    return _stream(args, lambda n, u0: transport.simulate_transport(
        n, args.nx, _times(args), args.velocity, u0, args.seed, args.length,
    ))


def _wave(args: argparse.Namespace) -> Path:
    from physode.problems.pde import wave

    return _write(args, wave.simulate_wave(
        args.samples, args.nx, _times(args), args.velocity, args.initial, args.seed, args.length,
        args.initial_rate, _dt(args),
    ))


def _diffusion(args: argparse.Namespace) -> Path:
    from physode.problems.pde import advection_diffusion

    return _stream(args, lambda n, u0: advection_diffusion.simulate_diffusion(
        n, args.nx, _times(args), _nu(args), u0, args.seed, args.length,
    ))


def _advection_diffusion(args: argparse.Namespace) -> Path:
    from physode.problems.pde import advection_diffusion

    return _stream(args, lambda n, u0: advection_diffusion.simulate_advection_diffusion(
        n, args.nx, _times(args), args.velocity, _nu(args), u0, args.seed, args.length,
    ))


def _burgers(args: argparse.Namespace) -> Path:
    from physode.problems.pde import burgers

    return _write(args, burgers.simulate_burgers(  # nu: a constant; a spec is rejected as not a number
        args.samples, args.nx, _times(args), _nu(args), args.initial, args.seed, args.length, _dt(args),
        progress=args.progress,
    ))


def _fisher_kpp(args: argparse.Namespace) -> Path:
    from physode.problems.pde import reaction_diffusion

    return _write(args, reaction_diffusion.simulate_fisher_kpp(
        args.samples, args.nx, _times(args), args.diffusivity, args.rate, args.initial, args.seed,
        args.length, _dt(args), progress=args.progress,
    ))


def _allen_cahn(args: argparse.Namespace) -> Path:
    from physode.problems.pde import reaction_diffusion

    return _write(args, reaction_diffusion.simulate_allen_cahn(
        args.samples, args.nx, _times(args), args.epsilon, args.initial, args.seed, args.length,
        _dt(args), progress=args.progress,
    ))


def _advection(args: argparse.Namespace) -> Path:
    from physode.problems.pde import advection
    from physode.trajectories import write_pdebench

    if args.layout == "physode":
        return _stream(args, lambda n, u0: advection.simulate_advection(
            n, args.nx, _times(args), args.beta, u0, args.seed, args.length,
        ))
    data = advection.simulate_advection(
        args.samples, args.nx, _times(args), args.beta, args.initial, args.seed, args.length,
        cell_centred=True,
    )
    return write_pdebench(args.out, data, seed=args.seed, replace=args.overwrite)


STREAMED = {"transport", "diffusion", "advection-diffusion", "advection"}
"""PDEs whose samples are simulated and written block by block (advection: its physode layout)."""

SIMULATORS: dict[str, Callable[[argparse.Namespace], Path]] = {
    "transport": _transport,
    "wave": _wave,
    "diffusion": _diffusion,
    "advection-diffusion": _advection_diffusion,
    "advection": _advection,
    "burgers": _burgers,
    "fisher-kpp": _fisher_kpp,
    "allen-cahn": _allen_cahn,
    **PLANE_SIMULATORS,
}


def run_simulate(args: argparse.Namespace) -> int:
    from physode.io import check_output
    from physode.problems.pde.decay import warn_if_decayed
    from physode.trajectories import TrajectoryFile

    if args.out is None:
        args.out = Path("data") / f"{args.pde}.h5"
    check_output(args.out, overwrite=args.overwrite)
    plane = args.pde in PLANE_SIMULATORS
    args.nx = getattr(args, "nx", DEFAULT_NX_PLANE if plane else DEFAULT_NX)
    (check_plane_resources if plane else _check_line_resources)(args)
    path = SIMULATORS[args.pde](args)
    with TrajectoryFile(path) as written:
        warn_if_decayed(args.pde, written)
        coefficients = ", ".join(sorted(written.coefficients)) or "none"
        LOGGER.info(
            f"wrote {path}: {args.pde} ({written.attrs.get('equation', '?')}); {written.n_samples} samples "
            f"(train {len(written.train)}, test {len(written.test)}) x {written.n_times} times in "
            f"[0, {args.t_final:g}] x {' x '.join(map(str, written.space_shape))} points"
            + (f" x channels {', '.join(written.channels)}" if written.n_channels > 1 else "")
            + f"; time-varying coefficients: {coefficients}; initial {args.initial}, seed {args.seed}"
        )
    return 0


def _check_line_resources(args: argparse.Namespace) -> None:
    """Refuse before solving (a stiff solve may take minutes) what memory or the disk cannot hold."""
    from physode.resources import check_disk_space, check_memory
    from physode.trajectories import file_size_bound

    streamed = args.pde in STREAMED and not (args.pde == "advection" and args.layout == "pdebench")
    per_sample = args.nt * args.nx * 8
    if streamed:
        block = min(args.samples, _samples_per_block(args))
        needed = args.samples * args.nx * 8 + IN_MEMORY_COPIES * block * per_sample
    else:
        needed = IN_MEMORY_COPIES * args.samples * per_sample
    check_memory(needed, f"simulating {args.samples} samples x {args.nt} times x {args.nx} points",
                 "lower --samples, --nt or --nx")
    stored_times = args.nt + (args.pde == "advection" and args.layout == "pdebench")
    stored_values = args.samples * stored_times * args.nx * (2 if args.pde == "wave" else 1)
    check_disk_space(args.out, file_size_bound(4 * stored_values, 0), "lower --samples, --nt or --nx, or choose "
                     "another --out")
