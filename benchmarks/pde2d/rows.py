"""The 2-D benchmark's rows: one `physode simulate` file each (its runners, through the CLI's own entry
point), cached under ``--work``, with the models each row fits and its target."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from physode.cli import main as physode_main
from physode.errors import InputError
from physode.trajectories import TrajectoryFile

DATA_SEED, TEST_FRACTION = 0, 0.2


@dataclass(frozen=True)
class Size:
    """A run's files: samples, grid points per axis and stored times."""

    samples: int
    nx: int
    nt: int


FULL, QUICK = Size(samples=160, nx=64, nt=21), Size(samples=64, nx=32, nt=11)

LINEAR = ("anode", "anodev2", "anodev2-latent")  # physode fit --model linear: the spectral layer
# physode fit --model fourier (2-D spectral convolutions); fourier-if: static weights, the linear term on every
# mode propagated exactly (--method ifrk4), the 1-D automatic choice's fourier-if.
FOURIER = ("fourier-anode", "fourier-anodev2", "fourier-if")


@dataclass(frozen=True)
class Row:
    """One row: its ``physode simulate`` command and options, the physode models it fits and its target.

    ``target``: FNO's best test nRMSE over physode's best must reach it (3 where the coefficients vary
    in time and a weight evolution has them to learn; 1, at or below FNO, elsewhere). The linear models
    fit rows that are linear in u; the Fourier-ODE the nonlinear ones (the 1-D benchmark's choice)."""

    label: str
    pde: str
    options: tuple[str, ...]
    time_varying: bool
    target: float
    physode: tuple[str, ...]
    # RK4 steps per stored interval of the physode models: the Fourier-ODE's default, one (its 1-D defaults: one
    # step and backprop gradients; two cost 1.9-2.8x the time per training step at 32 x 32, measured under load).
    steps: int = 1
    # Modes per axis of the linear models (physode fit --modes; None: all). Every kept mode gets the layer's shared
    # weights, so the largest kept |k| must stay inside RK4's stability region at the row's steps.
    modes: int | None = None

    @property
    def peers(self) -> tuple[str, ...]:
        """The FNOs fit on the row: the time-conditioned one where the coefficients vary in time."""
        return ("fno", "fno-time", "fno-ar") if self.time_varying else ("fno", "fno-ar")


ROWS: dict[str, Row] = {
    # The default rotating velocity c(t) = 0.5 (cos pi t, sin pi t): two oscillations, which the latent
    # variant's read-out fits (tests/test_pde2d_fit.py); 4 RK4 steps: a stored interval turns the
    # fastest initial mode (wavenumber 4 per axis) by up to |c| |k| dt = 0.5 * 2 pi 4 sqrt(2) * 0.1 = 1.8 rad.
    "transport2d": Row("transport u_t = c(t) . grad u, c = 0.5 (cos pi t, sin pi t)", "transport2d", (),
                       time_varying=True, target=3.0, physode=LINEAR, steps=4),
    # Started travelling (u_t(0) = c(0) . grad u): at rest u_t(0) = 0 and its nRMSE would divide by zero. 8 RK4
    # steps: at c(1) = 2.24 the fastest initial mode (|k| = 2 pi 4 sqrt 2) turns 2 rad a step at 4 steps of the quick
    # file's interval, where RK4 damps it by 0.75 a step; the linear model with the exact weights scores 0.061 at 4
    # steps, 4.9e-3 at 8, 3.1e-4 at 16 (quick file). The initial fields hold wavenumbers up to 5 per axis: 6 modes
    # keep them, the fastest kept one turning 1.2 rad a step at 8; every mode would put the shared wave weights on
    # |k| = 2 pi 16 sqrt 2, past RK4's stability (2.8 rad a step) below 12 steps (the fit diverged at 4).
    "wave2d": Row("wave u_tt = c(t)^2 lap u, c = 0.5 exp(1.5 t), channels (u, u_t)", "wave2d",
                  ("--velocity", "exponential:c0=0.5,a=1.5", "--initial-rate", "transport"),
                  time_varying=True, target=3.0, physode=LINEAR, steps=8, modes=6),
    "navier-stokes2d": Row("Navier-Stokes vorticity, nu = 0.002 exp(t), forcing 0.1 + 0.05 sin(2 pi t)",
                           "navier-stokes2d", ("--nu", "exponential:c0=0.002,a=1.0"),
                           time_varying=True, target=3.0, physode=FOURIER),
    "diffusion-reaction2d": Row("diffusion-reaction (PDEBench's FitzHugh-Nagumo), no-flux walls, channels (u, v)",
                                "diffusion-reaction2d", (), time_varying=False, target=1.0, physode=FOURIER),
}


def write_row(work: Path, name: str, size: Size) -> tuple[Path, dict[str, Any]]:
    """The row's file under ``work`` (written by ``physode simulate`` unless there already), and what it holds."""
    row = ROWS[name]
    path = work / f"{name}_{size.nx}x{size.nx}_n{size.samples}_t{size.nt}.h5"
    if not path.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the simulator's resolution warning: its spectral tail is recorded
            code = physode_main(["simulate", row.pde, "--samples", str(size.samples), "--nx", str(size.nx),
                                 "--nt", str(size.nt), "--seed", str(DATA_SEED), "--test-fraction",
                                 str(TEST_FRACTION), "--out", str(path), "--no-progress", "-q", *row.options])
        if code != 0:
            raise InputError(f"physode simulate {row.pde} failed (exit {code}) for {path}")
    with TrajectoryFile(path) as data:
        info = {"label": row.label, "file": path.name, "command": f"physode simulate {row.pde} --samples "
                f"{size.samples} --nx {size.nx} --nt {size.nt} {' '.join(row.options)}".strip(),
                "n_train": len(data.train), "n_test": len(data.test), "channels": list(data.channels),
                "boundary_condition": str(data.attrs.get("boundary_condition", "periodic")),
                "spectral_tail": data.attrs.get("spectral_tail"), "time_varying": row.time_varying,
                "target": row.target}
    return path, info
