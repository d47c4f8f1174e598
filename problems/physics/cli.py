"""``physode simulate <pde>`` for the physics zoo: one runner per PDE and the options they add.

The ``simulate`` parser itself (``--out``, ``--samples``, ``--nx``, ``--nt``, ``--t-final``,
``--length``, ``--seed``, ``--test-fraction``, ``--compression``, ``--velocity``, ``--initial``)
belongs to :mod:`physode.problems.transport.cli`, which merges :data:`SIMULATORS` into its own
table and calls :func:`add_options` to add the argument groups below.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from physode.problems.physics import advection, advection_diffusion, burgers, common, reaction_diffusion

# Defaults that depend on the PDE (the parser leaves --nu unset).
DEFAULT_NU = {"diffusion": "0.01", "advection-diffusion": "0.01", "burgers": "0.03"}


def _times(args: argparse.Namespace) -> np.ndarray:
    return np.linspace(0.0, args.t_final, args.nt)


def _nu(args: argparse.Namespace) -> str:
    return getattr(args, "nu", DEFAULT_NU[args.pde])


def _dt(args: argparse.Namespace) -> float | None:
    return getattr(args, "dt", None)


def _write(args: argparse.Namespace, data: common.Trajectories) -> Path:
    return common.write(
        args.out, data, seed=args.seed, test_fraction=args.test_fraction, compression=args.compression
    )


def _diffusion(args: argparse.Namespace) -> Path:
    return _write(args, advection_diffusion.simulate_diffusion(
        args.samples, args.nx, _times(args), _nu(args), args.initial, args.seed, args.length,
    ))


def _advection_diffusion(args: argparse.Namespace) -> Path:
    return _write(args, advection_diffusion.simulate_advection_diffusion(
        args.samples, args.nx, _times(args), args.velocity, _nu(args), args.initial, args.seed,
        args.length,
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
    pdebench = args.layout == "pdebench"
    data = advection.simulate_advection(
        args.samples, args.nx, _times(args), args.beta, args.initial, args.seed, args.length,
        cell_centred=pdebench,
    )
    return advection.write_pdebench(args.out, data, seed=args.seed) if pdebench else _write(args, data)


SIMULATORS: dict[str, Callable[[argparse.Namespace], Path]] = {
    "diffusion": _diffusion,
    "advection-diffusion": _advection_diffusion,
    "advection": _advection,
    "burgers": _burgers,
    "fisher-kpp": _fisher_kpp,
    "allen-cahn": _allen_cahn,
}


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add the zoo's argument groups to the ``simulate`` parser (after transport's options)."""
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
        "ETDRK4 options (burgers, fisher-kpp, allen-cahn)",
        "fisher-kpp: u_t = D u_xx + r u (1 - u), initial states mapped onto [0, 1]; allen-cahn: "
        "u_t = eps^2 u_xx + u - u^3, initial states mapped onto [-1, 1]. A warning says when --nx "
        "does not resolve the solution.",
    )
    stiff.add_argument(
        "--dt", type=float, default=argparse.SUPPRESS,
        help="largest internal time step, shortened to divide every output interval "
        "(default: 0.1 / largest rate of the nonlinear term, ~1e-8 time error)",
    )
    stiff.add_argument("--diffusivity", type=float, default=0.001, help="fisher-kpp: D")
    stiff.add_argument("--rate", type=float, default=5.0, help="fisher-kpp: growth rate r")
    stiff.add_argument("--epsilon", type=float, default=0.02, help="allen-cahn: interface width eps")
    pdebench = parser.add_argument_group(
        "advection options",
        "advection: u_t + beta u_x = 0 (PDEBench's sign; c = -beta), exact. PDEBench's settings: "
        "--layout pdebench --nx 1024 --nt 201 --t-final 2 --beta 0.1|0.4|1.0 (--test-fraction is "
        "ignored there: PDEBench files carry no split).",
    )
    pdebench.add_argument("--beta", type=float, default=0.4, help="advection speed beta")
    pdebench.add_argument(
        "--layout", choices=["physode", "pdebench"], default="physode",
        help="file layout: physode trajectories (x_j = j L / nx) or PDEBench 1D (tensor, "
        "x-coordinate at cell centres, t-coordinate with nt + 1 entries, attribute beta)",
    )
