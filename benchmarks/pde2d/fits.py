"""One model of the 2-D benchmark fit on one row, through the run cache: the peers by
:mod:`physode.problems.peers` (neuraloperator's 2-D FNO, early-stopped on the validation split ``physode
fit`` carves for the same seed), physode's models by ``physode fit``'s own trainer
(:func:`physode.problems.fitting.fit.fit`), every prediction of the test split scored by the same code
(:func:`physode.trajectories.rollout_errors`, a field's two axes as one, as ``physode fit`` scores 2-D fields)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.common.cache import RunCache, run_name
from benchmarks.pde2d.rows import FOURIER, LINEAR, Row
from physode.errors import TrainingDiverged
from physode.problems.fitting.evaluate import load_run
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import FourierModelConfig, ModelConfig
from physode.problems.peers import PEERS, PeerData, fit_peer
from physode.trajectories import TrajectoryFile, rollout_errors

LINEAR_EPOCHS = 60  # the 1-D benchmark's; validation usually stops the fit first
# The Fourier-ODE trains until validation stalls or the budget is spent: the epochs only cap it, and the
# learning-rate cycle is sized to the budget (physode fit --budget).
FOURIER_EPOCHS = 100_000
FOURIER_WIDTH, FOURIER_BLOCKS, MODES = 32, 2, 16  # the 1-D benchmark's Fourier-ODE; MODES: the FNO's n_modes
# The Fourier-ODE's 2-D modes: the FNO's. neuraloperator's n_modes=16 keeps 16 rows k_y = -8..7 and 9 columns
# k_x = 0..8 of rfft2; physode's modes=9 keeps |k_y| < 9, k_x < 9 (17 x 9), where modes=16 kept 31 x 16, 3.4x
# the FNO's modes and 1.7x the time per step (measured at 32 x 32, width 32, batch 16).
FOURIER_MODES = 9


@dataclass(frozen=True)
class TestSplit:
    """A row's test samples ``(samples, times, channel, y, x)`` float32 and the stored times."""

    fields: torch.Tensor
    times: torch.Tensor

    @classmethod
    def read(cls, path: Path) -> TestSplit:
        with TrajectoryFile(path) as data:
            return cls(data.batch(data.test), torch.as_tensor(data.t, dtype=torch.float64))


def score(pred: torch.Tensor, split: TestSplit) -> dict[str, Any]:
    """Test nRMSE over the predicted times (samples, channels and times averaged), at the final time and
    per channel."""
    errors = rollout_errors(pred.float().flatten(3), split.fields.flatten(3))
    return {"test_nrmse": errors.nrmse_predicted, "final_nrmse": errors.final_nrmse,
            "nrmse_per_channel": errors.nrmse_per_channel}


def physode_config(model_name: str, row: Row, seed: int, budget_s: float | None) -> FitConfig:
    """``physode fit`` for one of the row's physode models, within ``budget_s`` of training."""
    if model_name in LINEAR:
        # lr 0.01 for the multipliers, 0.1 for the evolution rates: the 1-D benchmark's linear fits.
        model = ModelConfig(variant=model_name, steps_per_interval=row.steps, modes=row.modes)
        return FitConfig(model=model, epochs=LINEAR_EPOCHS, lr=0.01, rate_lr=0.1, seed=seed, progress=False,
                         budget_seconds=budget_s)
    if model_name in FOURIER:
        # Static weights train on one-interval windows (the family's default), ANODEV2 on whole trajectories.
        # fourier-if is fourier-anode with integrating-factor RK4: its linear term, one rate per mode of the grid
        # (of the mirror extension's, on walled fields), is propagated exactly, so no mode limits the step.
        exponential = model_name == "fourier-if"
        model = FourierModelConfig(variant="anode" if exponential else model_name.removeprefix("fourier-"),
                                   width=FOURIER_WIDTH, modes=FOURIER_MODES, blocks=FOURIER_BLOCKS, linear=True,
                                   steps_per_interval=row.steps, method="ifrk4" if exponential else "rk4")
        return FitConfig(model=model, epochs=FOURIER_EPOCHS, lr=3e-3, rate_lr=3e-2, polish=0, seed=seed,
                         progress=False, budget_seconds=budget_s)
    raise ValueError(f"unknown physode model {model_name}")


def fit_physode(path: Path, run_dir: Path, split: TestSplit, config: FitConfig) -> tuple[torch.Tensor, dict[str, Any]]:
    summary = fit(path, run_dir, config, device="cpu", resume=True)
    model = load_run(run_dir).model
    with torch.no_grad():
        pred = model(split.fields[:, 0].to(next(model.parameters()).dtype), split.times.tolist())
    record = {"params": summary["params"], "fit_time_s": round(summary["fit_time_s"], 2), "device": "cpu",
              "epochs": summary.get("epochs_run", summary.get("epochs")), "stopped": summary.get("stopped", "")}
    return pred, record


def fit_row_peer(name: str, path: Path, split: TestSplit, seed: int,
                 budget_s: float | None) -> tuple[torch.Tensor, dict[str, Any]]:
    fitted = fit_peer(name, PeerData.from_file(path, seed=seed), seed=seed, modes=MODES, budget_seconds=budget_s)
    record = {"params": fitted.parameters, "fit_time_s": round(fitted.fit_seconds, 2), "epochs": fitted.epochs,
              "stopped": fitted.stopped, "device": fitted.device}
    return fitted.predict(split.fields[:, 0], split.times), record


def run_fit(cache: RunCache, row_name: str, row: Row, model_name: str, seed: int, path: Path, split: TestSplit,
            budget_s: float | None, keep_prediction: bool) -> dict[str, Any]:
    """The result of one fit (``budget_s``: its wall-time cap), cached in ``cache`` under a name that
    carries the budget, so that no fit stands in for one with another budget."""
    run = run_name(model_name, seed, [f"budget{budget_s:.0f}s"] if budget_s is not None else [])
    cached = cache.get(row_name, run)
    if cached is not None:
        return cached
    torch.manual_seed(seed)
    if model_name in PEERS:
        pred, record = fit_row_peer(model_name, path, split, seed, None if PEERS[model_name].reference else budget_s)
    else:
        try:
            pred, record = fit_physode(path, cache.work / row_name / run, split,
                                       physode_config(model_name, row, seed, budget_s))
        except TrainingDiverged as err:
            pred, record = None, {"diverged": str(err)}
    result = {"model": model_name, "seed": seed, "budget_s": budget_s, **record}
    result.update(score(pred, split) if pred is not None else {"test_nrmse": float("nan")})
    if keep_prediction and pred is not None:
        np.save(cache.work / row_name / f"{model_name}_seed{seed}_pred.npy", pred[0].float().numpy())
    cache.put(row_name, run, result)
    print(f"{row_name:22s} {model_name:16s} seed {seed}: test nRMSE {result['test_nrmse']:.3e} "
          f"({result.get('fit_time_s', float('nan')):.0f} s, {result.get('stopped', '')})", flush=True)
    return result
