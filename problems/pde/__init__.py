"""The PDE problems: a zoo of 1D periodic PDEs with float64 reference solvers that write trajectory files.

Every PDE lives on x in [0, L) with period L (``--length``, default 1), grid x_j = j L / Nx, and is
solved for a whole batch of seeded initial states at once (:mod:`.initial_conditions`:
``fourier`` sums of sines, ``gaussian`` bumps, ``windowed`` smoothed top-hats). Results go to the
physode trajectory format (``datasets/README.md``) through ``physode simulate <pde>``:

=====================  ======================================  =====================================
``<pde>``              equation                                solver
=====================  ======================================  =====================================
transport              u_t = c(t) u_x (the paper's task)       exact Fourier shift exp(i k C(t))
diffusion              u_t = nu(t) u_xx                        exact Fourier multiplier exp(-k^2 N(t))
advection-diffusion    u_t = c(t) u_x + nu(t) u_xx             exact, exp(i k C(t) - k^2 N(t))
advection              u_t + beta u_x = 0 (PDEBench's sign)    exact Fourier shift; PDEBench layout
wave                   u_tt = c(t)^2 u_xx, channels (u, u_t)   exact per mode (constant c), Magnus-4
burgers                u_t + u u_x = nu u_xx                   ETDRK4, 2/3-rule dealiasing
fisher-kpp             u_t = D u_xx + r u (1 - u), u in [0,1]  ETDRK4
allen-cahn             u_t = eps^2 u_xx + u - u^3, u in [-1,1] ETDRK4
=====================  ======================================  =====================================

Modules: :mod:`.coefficients` (c(t), nu(t) and their spec strings; :mod:`.formulas` for
``expr:``), :mod:`.initial_conditions`, :mod:`.domain` (grid and checks), :mod:`.spectral`
(the exact propagator and ETDRK4), :mod:`.semilinear` (the stiff solve), :mod:`.decay` (the
warning about trajectories that decay below 5% of their initial norm, where relative errors mean
little), one module per equation, and :mod:`.cli`. Simulators return
:class:`physode.trajectories.Trajectories`; :mod:`physode.trajectories` writes them (physode and
PDEBench layouts).

Conventions: c(t) has the transport problem's sign (u_t = c u_x, profiles move left for c > 0);
C(t), N(t) are the integrals of c, nu from 0. Time-varying coefficients are stored as variables
over t (``c``, ``nu``), constant ones as root attributes (``nu``, ``D``, ``r``, ``epsilon``,
``beta``), and all settings (including the internal step ``dt``) as the ``generator`` JSON.
Fisher-KPP initial states are mapped per sample onto [0, 1], Allen-Cahn ones onto [-1, 1]; Fisher-KPP
refuses r t_final > 30, where rounding noise around its unstable state 0 would grow to visible size.

The ETDRK4 solvers (:mod:`.spectral`) integrate the stiff linear part exactly and take equal
internal steps of at most ``dt`` between stored times (default 0.1 / the largest rate of the
nonlinear term, about 1e-8 error in time); they record the ``spectral_tail`` of the solution (the
largest Fourier amplitude in the top third of the evolved modes relative to the peak) and warn when
it exceeds 1e-4, i.e. when --nx does not resolve the solution. The tests check every solver
against an exact solution (Fourier, Cole-Hopf) or a much finer reference: spectral convergence in
x and fourth order in t for ETDRK4.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "COEFFICIENT_FAMILIES",
    "COEFFICIENT_SPEC_HELP",
    "CoefficientLike",
    "Constant",
    "Exponential",
    "FourierSeries",
    "GaussianBumps",
    "INITIAL_CONDITIONS",
    "InitialCondition",
    "Linear",
    "PiecewiseConstant",
    "QuadratureCoefficient",
    "Sinusoidal",
    "TimeCoefficient",
    "Windowed",
    "as_coefficient",
    "coefficient",
    "coefficient_from_formula",
    "coefficient_from_spec",
    "simulate_advection",
    "simulate_advection_diffusion",
    "simulate_allen_cahn",
    "simulate_burgers",
    "simulate_diffusion",
    "simulate_diffusion_reaction2d",
    "simulate_fisher_kpp",
    "simulate_navier_stokes2d",
    "simulate_transport",
    "simulate_transport2d",
    "simulate_transport_to_file",
    "simulate_wave",
    "simulate_wave2d",
]


def __getattr__(name: str) -> Any:
    # Imported on first use: the command line's parsers import this package's light modules and
    # must build without torch (physode/cli.py).
    if name in __all__:
        from physode.problems.pde import public

        return getattr(public, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
