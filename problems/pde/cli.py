"""``physode simulate <pde>``: the one command that simulates every PDE of the package.

``SIMULATORS`` is the zoo's registry: one runner per equation, each turning the parsed arguments
into a file; the 2-D ones come from :mod:`.cli2d`. The options all PDEs share (``--out``, ``--samples``,
``--nx``, ``--nt``, ``--t-final``, ``--length``, ``--seed``, ``--test-fraction``, ``--compression``,
``--velocity``, ``--initial``) come first; each family of equations adds its own argument group.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from physode.cli_types import float_in, fraction, int_in, positive_float, positive_int, seed
from physode.io import check_output
from physode.problems.pde import advection, advection_diffusion, burgers, cli2d, reaction_diffusion, transport, wave
from physode.problems.pde.coefficients import COEFFICIENT_SPEC_HELP
from physode.problems.pde.decay import warn_if_decayed
from physode.problems.pde.domain import grid
from physode.problems.pde.initial_conditions import INITIAL_CONDITIONS, initial_state
from physode.problems.pde.streaming import BLOCK_BYTES, IN_MEMORY_COPIES
from physode.resources import check_disk_space, check_memory
from physode.trajectories import (
    Trajectories,
    TrajectoryFile,
    file_size_bound,
    make_test_mask,
    trajectory_writer,
    write,
    write_pdebench,
)

# Defaults that depend on the PDE (the parser leaves --nu and --nx unset).
DEFAULT_NU = {"diffusion": "0.01", "advection-diffusion": "0.01", "burgers": "0.03",
              "navier-stokes2d": cli2d.DEFAULT_VISCOSITY}
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
    return write(
        args.out, data, seed=args.seed, test_fraction=args.test_fraction, compression=args.compression,
        replace=args.overwrite,
    )


def _samples_per_block(args: argparse.Namespace) -> int:
    return max(1, BLOCK_BYTES // (args.nt * args.nx * 8))


def _stream(args: argparse.Namespace, simulate: Callable[[int, np.ndarray], Trajectories]) -> Path:
    """Write ``simulate(n, initial_states)`` block by block: memory holds one block, not the file.

    The initial states of all samples are drawn at once (as the in-memory simulators draw them),
    so the file equals the one an unblocked run writes.
    """
    u0 = initial_state(args.initial, args.samples, grid(args.nx, args.length), args.seed, args.length)
    per_block = _samples_per_block(args)
    first = simulate(min(per_block, args.samples), u0[:per_block])
    settings = {**first.settings, "initial": args.initial, "n_samples": args.samples,
                "seed": args.seed, "test_fraction": args.test_fraction}
    mask = make_test_mask(args.samples, args.test_fraction, args.seed)
    with trajectory_writer(args.out, args.samples, first.t, first.x, equation=first.equation,
                           coefficients=first.coefficients, test_mask=mask, generator=settings, seed=args.seed,
                           attrs=first.parameters, compression=args.compression, replace=args.overwrite) as writer:
        writer.write(first.u)
        for start in range(per_block, args.samples, per_block):
            block = u0[start : start + per_block]
            writer.write(simulate(len(block), block).u)
    return args.out


def _transport(args: argparse.Namespace) -> Path:
    return _stream(args, lambda n, u0: transport.simulate_transport(
        n, args.nx, _times(args), args.velocity, u0, args.seed, args.length,
    ))


def _wave(args: argparse.Namespace) -> Path:
    return _write(args, wave.simulate_wave(
        args.samples, args.nx, _times(args), args.velocity, args.initial, args.seed, args.length,
        args.initial_rate, _dt(args),
    ))


def _diffusion(args: argparse.Namespace) -> Path:
    return _stream(args, lambda n, u0: advection_diffusion.simulate_diffusion(
        n, args.nx, _times(args), _nu(args), u0, args.seed, args.length,
    ))


def _advection_diffusion(args: argparse.Namespace) -> Path:
    return _stream(args, lambda n, u0: advection_diffusion.simulate_advection_diffusion(
        n, args.nx, _times(args), args.velocity, _nu(args), u0, args.seed, args.length,
    ))


def _burgers(args: argparse.Namespace) -> Path:
    return _write(args, burgers.simulate_burgers(  # nu: a constant; a spec is rejected as not a number
        args.samples, args.nx, _times(args), _nu(args), args.initial, args.seed, args.length, _dt(args),
        progress=True,
    ))


def _fisher_kpp(args: argparse.Namespace) -> Path:
    return _write(args, reaction_diffusion.simulate_fisher_kpp(
        args.samples, args.nx, _times(args), args.diffusivity, args.rate, args.initial, args.seed,
        args.length, _dt(args), progress=True,
    ))


def _allen_cahn(args: argparse.Namespace) -> Path:
    return _write(args, reaction_diffusion.simulate_allen_cahn(
        args.samples, args.nx, _times(args), args.epsilon, args.initial, args.seed, args.length,
        _dt(args), progress=True,
    ))


def _advection(args: argparse.Namespace) -> Path:
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
    **cli2d.PLANE_SIMULATORS,
}


def _run_simulate(args: argparse.Namespace) -> int:
    if args.out is None:
        args.out = Path("data") / f"{args.pde}.h5"
    check_output(args.out, overwrite=args.overwrite)
    plane = args.pde in cli2d.PLANE_SIMULATORS
    args.nx = getattr(args, "nx", cli2d.DEFAULT_NX_PLANE if plane else DEFAULT_NX)
    (cli2d.check_plane_resources if plane else _check_line_resources)(args)
    path = SIMULATORS[args.pde](args)
    with TrajectoryFile(path) as written:
        warn_if_decayed(args.pde, written)
        coefficients = ", ".join(sorted(written.coefficients)) or "none"
        print(f"wrote {path}: {args.pde} ({written.attrs.get('equation', '?')}); {written.n_samples} samples "
              f"(train {len(written.train)}, test {len(written.test)}) x {written.n_times} times in "
              f"[0, {args.t_final:g}] x {' x '.join(map(str, written.space_shape))} points"
              + (f" x channels {', '.join(written.channels)}" if written.n_channels > 1 else "")
              + f"; time-varying coefficients: {coefficients}; initial {args.initial}, seed {args.seed}")
    return 0


def _check_line_resources(args: argparse.Namespace) -> None:
    """Refuse before solving (a stiff solve may take minutes) what memory or the disk cannot hold."""
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
    parser.add_argument("--samples", type=positive_int(MAX_SAMPLES), default=256, help="number of trajectories")
    parser.add_argument("--nx", type=positive_int(MAX_NX), default=argparse.SUPPRESS,
                        help=f"grid points (per axis in 2-D), x_j = j L / nx (default: {DEFAULT_NX}; 2-D: "
                        f"{cli2d.DEFAULT_NX_PLANE})")
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
    cli2d.add_plane_options(parser)
    parser.set_defaults(func=_run_simulate)


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
        "--initial-rate", choices=list(wave.INITIAL_RATES), default="rest",
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
