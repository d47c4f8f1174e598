"""The PDE benchmark's rows: one trajectory file each (simulated by :mod:`physode.problems.pde`, in
physode's or PDEBench's layout) with one seeded train/test split, and what each row fits."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.pde import userdata
from benchmarks.pde.frames import thinned, training_file
from benchmarks.pde.models import (
    EQUAL_TIME, EQUAL_TIME_MODELS, FNO_MODELS, FOURIER_MODELS, PEER_TIME, PEER_TIME_MODELS, REFERENCE_MODELS,
)
from physode import trajectories
from physode.problems import pde
from physode.problems.fitting.models import ModelConfig
from physode.problems.pde.decay import DECAY_FLOOR, smallest_norm_ratios

N_SAMPLES, NX, NT, DATA_SEED, TEST_FRACTION = 160, 64, 41, 0, 0.2
# `run --quick`: these rows, their first QUICK_SAMPLES samples and every QUICK_TIME_STRIDE-th stored time.
QUICK_ROWS, QUICK_SAMPLES, QUICK_TIME_STRIDE = ("diffusion", "fisher-kpp", "extrapolation"), 64, 2
SMOOTH = pde.FourierSeries(max_wavenumber=3)  # 64 points resolve the nonlinear solutions; norms stay >= 5%
# The Fourier-ODE's RK4 steps per stored interval (the fourier family's default since window training) and channels.
FOURIER_STEPS, FOURIER_WIDTH = 1, 32
FOURIER_STEPS_BEFORE_RECORDED = 2  # what a Fourier-ODE result that does not record its steps was fit with
MODES = 16  # the Fourier layers' modes, FNO's and the Fourier-ODE's


@dataclass(frozen=True)
class Exact:
    """The linear spectral ANODEV2 weights of ``u_t = c(t) u_x + nu(t) u_xx`` with ``c = c0 exp(c_rate t)``
    and ``nu = nu0 exp(nu_rate t)``: the imaginary parts' and the real parts' reaction rates. ``wave``:
    those of ``u_tt = c(t)^2 u_xx`` as the system ``(u, u_t)`` instead (``nu`` unused)."""

    c0: float = 0.0
    nu0: float = 0.0
    c_rate: float = 0.0
    nu_rate: float = 0.0
    wave: bool = False


@dataclass(frozen=True)
class Row:
    """One row: its data (``simulate``), its target and the settings of the models it fits."""

    label: str
    simulate: Callable[[], trajectories.Trajectories]
    time_varying: bool = False
    # The target: FNO's best test nRMSE over physode's best (3 where time-varying coefficients are the point:
    # the linear ANODEV2 models carry them; 1, at or below FNO, elsewhere, the wave rows included).
    target: float = 1.0
    exact: Exact | None = None  # set where the linear ANODEV2 represents the dynamics exactly
    pdebench: bool = False  # written in PDEBench's layout (test split: its reader's first 10%)
    stem: str | None = None  # the PDEBench file's name (None: PDEBench's, from beta or nu)
    # Issue 26's continuous-time rows (:mod:`.frames`): what the fits see of the stored frames.
    continuous_time: bool = False
    extrapolate: bool = False  # fit on t <= T/2, score on (T/2, T]
    stride: int = 1  # fit on every stride-th stored frame, score on all
    kept: float = 1.0  # each training trajectory keeps its first frame and this fraction of the others
    test_fraction: float = TEST_FRACTION  # of the simulated samples (small data: 0.5 of 64, 32 to train)
    steps: int = 2  # the linear models' RK4 steps per stored interval (more where k c dt is large)
    latent: int = ModelConfig.latent  # anodev2-latent's latent dimension (and so galerkin's basis size)
    dtype: str = "float32"  # the linear physode models' weights and solve (FitConfig.dtype)
    polish: int | None = None  # the linear models' L-BFGS budget (None: physode fit's default)
    linear_epochs: int | None = None  # the linear models' Adam epochs (None: the run's, `--epochs linear=N`)
    fourier_steps: int = FOURIER_STEPS  # the Fourier-ODE models' RK4 steps per stored interval
    fourier_width: int = FOURIER_WIDTH  # the Fourier-ODE models' channels
    modes: int = MODES  # the Fourier layers' modes, FNO's and the Fourier-ODE's alike
    models: tuple[str, ...] = ("fno", "fno-ar", "anode", "anodev2", "fourier-anode", "fourier-anodev2")
    # Why models score at or above the zero or persistence predictor on this row (the report prints it).
    note: str = ""

    @property
    def fitted(self) -> tuple[str, ...]:
        """The models fit on the row, in order: ``models``, ``fno-time`` where coefficients vary in time
        (the peer that can represent them), the FNOs at physode's wall time (after physode's fits), the
        Fourier-ODEs at the best FNO's wall time (after the FNOs') and the reference predictors."""
        models = self.models + (("fno-time",) if self.time_varying and "fno-time" not in self.models else ())
        at_peer_time = tuple(m for m in PEER_TIME_MODELS if m.removesuffix(PEER_TIME) in models) \
            if any(m in FNO_MODELS for m in models) else ()
        return (models + tuple(m for m in EQUAL_TIME_MODELS if m.removesuffix(EQUAL_TIME) in models) + at_peer_time
                + REFERENCE_MODELS)


def _times(t_final: float, nt: int = NT) -> np.ndarray:
    return np.linspace(0.0, t_final, nt)


def _transport(velocity: str) -> Callable[[], trajectories.Trajectories]:
    return lambda: pde.simulate_transport(N_SAMPLES, NX, _times(1.0), velocity, seed=DATA_SEED)


CONTINUOUS = ("fno", "fno-ar", "anode", "anodev2")  # fno-time comes with the time-varying coefficient
TRANSPORT_EXP = "exponential:c0=0.5,a=1.5"


def _diffusion() -> trajectories.Trajectories:
    return pde.simulate_diffusion(N_SAMPLES, NX, _times(1.0), nu="exponential:c0=0.001,a=1.5", initial=SMOOTH,
                                  seed=DATA_SEED)


def _wave(velocity: str) -> Callable[[], trajectories.Trajectories]:
    # Started travelling (u_t(0) = c(0) u_x(0)): at rest, u_t starts at zero and a standing wave's u and u_t
    # pass through zero, so nRMSE (per channel) would divide by near-zero targets.
    return lambda: pde.simulate_wave(120, NX, _times(1.0), velocity, initial=SMOOTH, seed=DATA_SEED,
                                     initial_rate="transport")


LATENT = ("fno", "fno-ar", "anode", "anodev2", "anodev2-latent", "galerkin")
WAVE = ("fno", "fno-ar", "anode", "anodev2", "anodev2-latent", "galerkin")
ROWS: dict[str, Row] = {
    "diffusion": Row("diffusion u_t = nu(t) u_xx, nu = 0.001 exp(1.5 t)", _diffusion, time_varying=True, target=3.0,
                     exact=Exact(nu0=0.001, nu_rate=1.5)),
    "advection-diffusion": Row("advection-diffusion u_t = c(t) u_x + nu u_xx, c = 0.5 exp(1.5 t), nu = 0.001",
        lambda: pde.simulate_advection_diffusion(N_SAMPLES, NX, _times(1.0), velocity="exponential:c0=0.5,a=1.5",
                                                 nu=0.001, initial=SMOOTH, seed=DATA_SEED),
        time_varying=True, target=3.0, exact=Exact(c0=0.5, nu0=0.001, c_rate=1.5), models=LATENT + FOURIER_MODELS),
    "burgers": Row("burgers u_t + u u_x = nu u_xx, nu = 0.05", lambda: pde.simulate_burgers(
        N_SAMPLES, NX, _times(0.15), nu=0.05, initial=SMOOTH, seed=DATA_SEED)),  # T 0.5: norms fall to 1e-4
    "fisher-kpp": Row("fisher-kpp u_t = D u_xx + r u (1 - u), D = 0.002, r = 5", lambda: pde.simulate_fisher_kpp(
        N_SAMPLES, NX, _times(1.0), diffusivity=0.002, rate=5.0, initial=SMOOTH, seed=DATA_SEED)),
    "allen-cahn": Row("allen-cahn u_t = eps^2 u_xx + u - u^3, eps = 0.04", lambda: pde.simulate_allen_cahn(
        N_SAMPLES, NX, _times(3.0), epsilon=0.04, initial=SMOOTH, seed=DATA_SEED)),
    "transport-exp": Row("transport u_t = c(t) u_x, c = 0.5 exp(1.5 t)", _transport("exponential:c0=0.5,a=1.5"),
                         time_varying=True, target=3.0, exact=Exact(c0=0.5, c_rate=1.5), steps=4, models=LATENT),
    "transport-sin": Row("transport u_t = c(t) u_x, c = 0.8 + 0.6 sin(2 pi t)",
                         _transport("sinusoidal:c0=0.8,amp=0.6,freq=1.0"), time_varying=True, target=3.0, steps=4,
                         models=LATENT),
    "transport-piecewise": Row("transport u_t = c(t) u_x, c = 0.7 + 0.4 tanh(10 (t - 0.5))",
                               _transport("expr:0.7+0.4*tanh(10*(t-0.5))"), time_varying=True, target=3.0, steps=4,
                               models=LATENT, latent=9,  # a switch wants harmonics: latent 5 8.2e-2, 9 2.6e-2
                               # In float32 the polish's line search overflows (Galerkin: 0.29); in float64
                               # Galerkin's first L-BFGS run stops after 197 evaluations (1.0e-2), a restart's
                               # 200 more reach 3.6e-3: the default budget (200) leaves no room for restarts.
                               dtype="float64", polish=600),
    "pdebench-advection-0.1": Row("PDEBench advection u_t + beta u_x = 0, beta = 0.1", lambda: pde.simulate_advection(
        100, 256, _times(2.0), beta=0.1, initial="fourier", seed=DATA_SEED, cell_centred=True),
        pdebench=True, exact=Exact(c0=-0.1), models=("fno", "fno-ar", "anode", "anodev2")),
    # 101 times (dt 0.02, PDEBench's every other snapshot) for beta 1: a stored interval then turns the
    # highest excited mode (k = 2 pi 8) by 1 rad, not 2.5; the horizon curriculum's first interval
    # must be within a quarter turn of the initial model, or the fit settles on damping that mode.
    "pdebench-advection-1.0": Row("PDEBench advection u_t + beta u_x = 0, beta = 1.0", lambda: pde.simulate_advection(
        100, 256, _times(2.0, 101), beta=1.0, initial="fourier", seed=DATA_SEED, cell_centred=True),
        pdebench=True, exact=Exact(c0=-1.0), steps=4, models=("fno", "fno-ar", "anode", "anodev2")),
    # nu 0.01 carries the energy of wavenumbers <= 8 up to ~30 (the Fourier-ODE at 16 modes: 2.9e-2, 69% of
    # its error energy above wavenumber 8): 32 modes, for FNO too. One RK4 step per stored interval (dt 2.5e-3) keeps the field's fastest
    # rates well inside RK4's stability region (2 steps: the same 3.3e-2 after Adam) at half the cost. Width 64:
    # at 32 the fit is under-fit (train 2.1e-2, test 1.9e-2); after 20 epochs width 64 3.6e-2, 32 6.8e-2.
    "pdebench-burgers": Row("PDEBench Burgers u_t + u u_x = nu u_xx, nu = 0.01", lambda: pde.simulate_burgers(
        100, 512, _times(0.1), nu=0.01, initial="fourier", seed=DATA_SEED), pdebench=True, fourier_steps=1,
        modes=32, fourier_width=64),
    "extrapolation": Row("transport c = 0.5 exp(1.5 t): fit t <= 0.5, score t in (0.5, 1]",
                         _transport(TRANSPORT_EXP), time_varying=True, target=3.0, continuous_time=True,
                         # 8 steps: at 4 the floor (1.5e-3) is above the 1e-3 target of an exact model. float64:
                         # in float32 two of three polishes stop at the loss's round-off (~5e-9; 1.6e-3).
                         exact=Exact(c0=0.5, c_rate=1.5), extrapolate=True, steps=8, dtype="float64",
                         models=("fno-ar", "anode", "anodev2"),
                         note="trained on t <= 0.5, where c(t) <= 1.06, no FNO variant has seen the velocities of "
                              "the scored times (up to 2.24): fno-time's time channel leaves its training range and "
                              "fno-ar repeats a step learnt at slower velocities, so their waves arrive out of phase, "
                              "and a wave out of phase scores above the zero predictor (one of the right amplitude "
                              "and an uncorrelated phase: 1.41), while ANODEV2's weight ODE carries c = c0 exp(a t) "
                              "past t = 0.5"),
    # Sparse and between frames on the diffusion file (nu(t): a model in continuous time carries it between
    # the frames it saw). Not on transport: its wavenumber-8 modes turn by up to 5.6 rad per quick interval,
    # so frames a few intervals apart alias their phase (measured, quick file, anodev2: every frame 1.9e-2,
    # a random half 1.9e-2, a random quarter 0.68, every 4th frame 0.78; FNO 0.14 and fno-time 1.0).
    "sparse-times": Row("diffusion nu = 0.001 exp(1.5 t): each training trajectory keeps t0 and a random 25% of "
                        "the other frames, score every frame", _diffusion, time_varying=True, target=3.0,
                        continuous_time=True, exact=Exact(nu0=0.001, nu_rate=1.5), kept=0.25, models=CONTINUOUS),
    # 8 steps: they are per stored interval, and a fit here sees intervals 4x the scored ones.
    "between-frames": Row("diffusion nu = 0.001 exp(1.5 t): fit every 4th stored frame, score every frame",
                          _diffusion, time_varying=True, target=3.0, continuous_time=True,
                          exact=Exact(nu0=0.001, nu_rate=1.5), stride=4, steps=8, models=CONTINUOUS),
    "small-data": Row("transport c = 0.5 exp(1.5 t): 32 training trajectories", lambda: pde.simulate_transport(
        64, NX, _times(1.0), TRANSPORT_EXP, seed=DATA_SEED), time_varying=True, target=3.0, continuous_time=True,
        # The extrapolation row's 8 steps and float64: in float32 with 4 (the transport rows') anodev2 diverged at
        # the quick file's horizon 18 (seed 0; 2 Adam steps an epoch, its loss still 0.3 before).
        exact=Exact(c0=0.5, c_rate=1.5), test_fraction=0.5, steps=8, dtype="float64",
        # 32 trajectories are 2 batches an epoch: 240 epochs give the linear models the Adam steps 60 epochs give
        # on the zoo's 115 training samples (480); at 60 epochs (120 steps) anodev2 stopped at 9.5e-2 (quick file).
        linear_epochs=240,
        # The Fourier-ODE whose linear term evolves (fourier-anode is autonomous: it cannot follow c(t)), with the
        # linear models' 8 steps: at 1, one step would turn the linear term's wavenumber-7 mode by up to 4.9 rad at
        # the late velocities (quick file), past RK4's stability limit on the imaginary axis (2.8).
        fourier_steps=8, models=CONTINUOUS + ("fourier-anodev2",)),
    # Issue 26 item 6: files from independent solvers (benchmarks/yourdata), in PDEBench's layout.
    "kdv": Row("KdV u_t + 6 u u_x + u_xxx = 0, two solitons (numpy ETDRK4, benchmarks/yourdata/kdv.py)",
               userdata.kdv, pdebench=True, stem="1D_KdV_Sols"),
    "ks": Row("Kuramoto-Sivashinsky, short horizon (py-pde, benchmarks/yourdata/pypde.py)",
              userdata.kuramoto_sivashinsky, pdebench=True, stem="1D_KS_Sols"),
    # Two channels (u, u_t), wavenumbers 1..3 and 41 times: a stored interval turns the fastest mode
    # by c k dt <= 2.24 * 6 pi / 40 = 1.05 rad, within the quarter turn the curriculum's first horizon
    # needs (wavenumbers up to 8 and 21 times: up to 5.6 rad, and the fits settle on damping that
    # mode); RK4 with 4 steps.
    "wave-exp": Row("wave u_tt = c(t)^2 u_xx, c = 0.5 exp(1.5 t), channels (u, u_t)",
                    _wave("exponential:c0=0.5,a=1.5"), time_varying=True, steps=4, models=WAVE,
                    exact=Exact(c0=0.5, c_rate=1.5, wave=True)),
    "wave-sin": Row("wave u_tt = c(t)^2 u_xx, c = 0.8 + 0.6 sin(2 pi t), channels (u, u_t)",
                    _wave("sinusoidal:c0=0.8,amp=0.6,freq=1.0"), time_varying=True, steps=4, models=WAVE,
                    latent=9),  # c^2 = 0.82 + 0.96 sin(2 pi t) - 0.18 cos(4 pi t): oscillators up to 4 pi
}


def write_row(work: Path, name: str, quick: bool = False) -> tuple[Path, Path, dict[str, Any]]:
    """(training file, scoring file, data description); they differ on the continuous-time rows
    (:func:`.frames.training_file`). ``quick``: a smaller file (:data:`QUICK_SAMPLES` samples, every
    :data:`QUICK_TIME_STRIDE`-th time)."""
    row = ROWS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the spectral tail and the norm decay are recorded instead
        data = row.simulate()
    if quick:
        data = thinned(data, slice(None, None, QUICK_TIME_STRIDE))
        data = dataclasses.replace(data, u=data.u[:QUICK_SAMPLES])
    ratios = smallest_norm_ratios(data.u)  # per channel, as nRMSE normalises
    info = {"label": row.label, "n_samples": data.u.shape[0], "nt": data.u.shape[1], "nx": data.u.shape[-1],
            "channels": 1 if data.u.ndim == 3 else data.u.shape[2],
            "t_final": float(data.t[-1]), "spectral_tail": data.parameters.get("spectral_tail"),
            "min_norm_ratio": float(ratios.min()), "below_min_norm": int((ratios < DECAY_FLOOR).sum()),
            "continuous_time": row.continuous_time}
    if row.pdebench:
        beta = data.parameters.get("beta")
        stem = row.stem or (f"1D_Advection_Sols_beta{beta}" if beta is not None
                            else f"1D_Burgers_Sols_Nu{data.parameters['nu']}")
        path = trajectories.write_pdebench(work / f"{stem}.hdf5", data, seed=DATA_SEED)
        return path, path, info
    full = trajectories.write(work / f"{name}.h5", data, seed=DATA_SEED, test_fraction=row.test_fraction)
    training = training_file(work, name, data, extrapolate=row.extrapolate, stride=row.stride, kept=row.kept,
                             seed=DATA_SEED, test_fraction=row.test_fraction)
    if training is None:
        return full, full, info
    info.update(training[1])
    return training[0], full, info
