"""One model of the PDE benchmark fit on one row, through the run cache: the peers by
:mod:`physode.problems.peers` (:func:`benchmarks.common.peers.fit_row_peer`), physode's models by
``physode fit``'s own trainer (:func:`physode.problems.fitting.fit.fit`), every prediction scored by the
same code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.common.cache import RunCache, RunKey, run_name
from benchmarks.common.peers import Split, fit_row_peer
from benchmarks.pde.models import (
    EQUAL_TIME, EQUAL_TIME_MODELS, FNO_MODELS, FOURIER_MODELS, LINEAR_MODELS, PEER_MODELS, PEER_TIME,
    PEER_TIME_MODELS, PHYSODE_MODELS, REFERENCE_MODELS,
)
from benchmarks.pde.rows import FOURIER_STEPS, FOURIER_STEPS_BEFORE_RECORDED, FOURIER_WIDTH, MODES, ROWS, Row
from physode.errors import TrainingDiverged
from physode.problems.fitting.evaluate import load_run
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import FourierModelConfig
from physode.problems.fitting.models import ModelConfig
from physode.trajectories import pdebench_metrics, rollout_errors

# "polish": the Fourier-ODE's L-BFGS loss evaluations after Adam (the linear models take the fitting package's default).
# The peers have no epoch count: they stop on their validation split (physode.problems.peers.training).
EPOCHS = {"linear": 60, "fourier": 30, "polish": 0}
BUDGETED_EPOCH_CAP = 100_000  # a fit with a wall-time budget: the budget sizes its schedule, this only caps it
# Recorded with every FNO fit (and carried by its run name): fits by the old fixed-epoch code are not reused.
PEER_TRAINING = "early stopping on validation (physode.problems.peers)"
# Recorded with every physode fit: its polish's L-BFGS tolerances are relative to the loss where a run begins
# (since 25d7ab6), and a run that stops on them is restarted while that gains. A reused result fit with an
# earlier polish is marked in the report (the key: the polish it recorded; none before 25d7ab6).
POLISH_METHOD = "relative tolerances, restarts"
# The RK4 steps of rows whose steps changed since results.json entries began recording them (`fit_settings`).
STEPS_BEFORE_RECORDED = {"extrapolation": 4}


def fourier_fit_config(variant: str, row: Row, epochs: int, seed: int, polish: int,
                       budget_s: float | None = None) -> FitConfig:
    # The linear term and the evolution rates train at their own 3e-2 (see ModelFamily.parameter_groups).
    model = FourierModelConfig(variant=variant, width=row.fourier_width, modes=row.modes, blocks=2, linear=True,
                               steps_per_interval=row.fourier_steps)
    # With a budget, it sizes the schedule and the epochs only cap it; else eval_every=epochs: metrics.jsonl
    # has the test nRMSE before the polish as well as after it.
    budgeted = budget_s is not None
    return FitConfig(model=model, epochs=BUDGETED_EPOCH_CAP if budgeted else epochs, lr=3e-3, rate_lr=3e-2,
                     polish=polish, seed=seed, eval_every=0 if budgeted else epochs, progress=False,
                     budget_seconds=budget_s)


def linear_fit_config(variant: str, row: Row, epochs: int, seed: int) -> FitConfig:
    # lr 0.01 for the multipliers, 0.1 for the evolution rates (see ModelFamily.parameter_groups).
    return FitConfig(model=ModelConfig(variant=variant, steps_per_interval=row.steps, latent=row.latent),
                     epochs=row.linear_epochs or epochs, lr=0.01, rate_lr=0.1, seed=seed, eval_every=0, progress=False, dtype=row.dtype,
                     polish=row.polish)



def physode_fit_config(model_name: str, row: Row, epochs: dict[str, int], seed: int,
                       budget_s: float | None = None) -> FitConfig:
    """The fit of one of physode's models, by its family's epochs (a Fourier-ODE at the FNO's time: by
    ``budget_s``)."""
    family, variant = PHYSODE_MODELS[model_name.removesuffix(PEER_TIME)]
    if family == "fourier":
        return fourier_fit_config(variant, row, epochs["fourier"], seed, epochs["polish"], budget_s)
    return linear_fit_config(variant, row, epochs["linear"], seed)


def fit_physode(train_path: Path, run_dir: Path, split: Split, config: FitConfig) -> tuple[torch.Tensor, int, float]:
    """A physode model of either family fit by ``physode fit``'s own code (resumes in ``run_dir``)."""
    summary = fit(train_path, run_dir, config, device="cpu", resume=True)
    model = load_run(run_dir).model
    with torch.no_grad():
        pred = model(split.test[:, 0].to(next(model.parameters()).dtype), split.times)
    return pred, summary["params"], summary["fit_time_s"]


def score(pred: torch.Tensor, split: Split, extrapolate: bool) -> dict[str, float]:
    """Test nRMSE over the scored times, PDEBench's nRMSE over every time and the final time's nRMSE."""
    true = split.test
    first = len(split.train_times) - 1 if extrapolate else 0  # scored: times after `first`
    return {"test_nrmse": rollout_errors(pred[:, first:], true[:, first:]).nrmse_predicted,
            "pdebench_nrmse": pdebench_metrics(pred, true, high=min(8, true.shape[-1] // 2)).nrmse,
            "final_nrmse": rollout_errors(pred, true).final_nrmse}


def fit_settings(row: Row, model_name: str, budget_s: float | None = None) -> dict[str, Any]:
    """What a reused result must have been fit with to stand for this row's model now (``budget_s``: the
    wall time of an equal-time peer)."""
    if model_name in EQUAL_TIME_MODELS:
        return {"modes": row.modes, "training": PEER_TRAINING, "budget_s": budget_s}
    if model_name in PEER_TIME_MODELS:
        return {"steps": row.fourier_steps, "width": row.fourier_width, "modes": row.modes, "budget_s": budget_s}
    if model_name in PEER_MODELS:
        return {"modes": row.modes, "training": PEER_TRAINING} if model_name in FNO_MODELS else {}
    if model_name in LINEAR_MODELS:
        return {"dtype": row.dtype, "steps": row.steps, "polish_budget": row.polish, "linear_epochs": row.linear_epochs}
    if model_name in FOURIER_MODELS:
        return {"steps": row.fourier_steps, "width": row.fourier_width, "modes": row.modes}
    raise ValueError(f"unknown model {model_name}")


def recorded_settings(name: str, model_name: str, result: dict[str, Any]) -> dict[str, Any]:
    """The settings a result was fit with; one from before they were recorded had float32, the default polish
    budget and the row's steps then (the Fourier-ODE: its default steps)."""
    if model_name in FOURIER_MODELS + PEER_TIME_MODELS:
        return {"steps": FOURIER_STEPS_BEFORE_RECORDED, "width": FOURIER_WIDTH, "modes": MODES} | result
    if model_name in PEER_MODELS + EQUAL_TIME_MODELS:
        return {"training": None, "budget_s": None} | result  # before PEER_TRAINING: the fixed-epoch FNO
    return {"dtype": "float32", "steps": STEPS_BEFORE_RECORDED.get(name, ROWS[name].steps),
            "polish_budget": None, "linear_epochs": None} | result


def run_changes(model_name: str, settings: dict[str, Any]) -> list[str]:
    """The settings that differ from the defaults, as the run's name carries them, so that no fit resumes
    one with other settings (a linear model's steps changed only with a row's data, which has its own
    directory)."""
    changes = [] if settings.get("dtype", "float32") == "float32" else [settings["dtype"]]
    if settings.get("polish_budget") is not None:
        changes.append(f"polish{settings['polish_budget']}")
    if settings.get("linear_epochs") is not None:
        changes.append(f"epochs{settings['linear_epochs']}")
    fourier = model_name in FOURIER_MODELS + PEER_TIME_MODELS
    if fourier and settings["steps"] != FOURIER_STEPS:
        changes.append(f"steps{settings['steps']}")
    if fourier and settings["width"] != FOURIER_WIDTH:
        changes.append(f"width{settings['width']}")
    if settings.get("modes", MODES) != MODES:
        changes.append(f"modes{settings['modes']}")
    if "training" in settings:
        changes.append("validated")
    if settings.get("budget_s") is not None:
        changes.append(f"budget{settings['budget_s']:.0f}s")
    return changes


def run_fit(cache: RunCache, name: str, model_name: str, seed: int, epochs: dict[str, int], paths: tuple[Path, Path],
            split: Split, keep_prediction: bool, cached_only: bool,
            reused: dict[RunKey, dict[str, Any]], budget_s: float | None = None) -> dict[str, Any] | None:
    """The result of one fit: cached, else reused (if fit with the same settings), else fit now (None:
    not fit, with ``cached_only``, or a model that cannot predict the row's scored times)."""
    settings = fit_settings(ROWS[name], model_name, budget_s)
    run = run_name(model_name, seed, run_changes(model_name, settings))
    cached = cache.get(name, run)
    if cached is not None:
        return cached
    earlier = reused.get((name, model_name, seed))
    if earlier is not None and all(recorded_settings(name, model_name, earlier)[k] == v for k, v in settings.items()):
        return earlier  # a reused entry with other settings is refit
    if cached_only and model_name not in REFERENCE_MODELS:  # the reference predictors cost nothing
        return None
    result = fit_model(ROWS[name], cache.work / name, run, model_name, seed, epochs, paths[0], split, settings,
                       keep_prediction)
    if result is None:
        return None
    cache.put(name, run, result)
    print(f"{name:24s} {model_name:16s} seed {seed}: test nRMSE {result['test_nrmse']:.3e} "
          f"({result.get('fit_time_s', float('nan')):.0f} s)", flush=True)
    return result


def fit_model(row: Row, row_dir: Path, run: str, model_name: str, seed: int, epochs: dict[str, int], train_path: Path,
              split: Split, settings: dict[str, Any], keep_prediction: bool) -> dict[str, Any] | None:
    """Fit and score one model (physode's in ``row_dir / run``); a diverged fit is a result too."""
    torch.manual_seed(seed)
    if model_name in PEER_MODELS + EQUAL_TIME_MODELS:
        fitted = fit_row_peer(model_name.removesuffix(EQUAL_TIME), train_path, split, seed, row.modes,
                              settings.get("budget_s"))
        if fitted is None:
            return None
        pred, record = fitted
    else:
        try:
            pred, params, fit_s = fit_physode(train_path, row_dir / run, split,
                                              physode_fit_config(model_name, row, epochs, seed, settings.get("budget_s")))
        except TrainingDiverged as err:
            return {"model": model_name, "seed": seed, "diverged": str(err), "test_nrmse": float("nan")}
        record = {"params": params, "fit_time_s": round(fit_s, 2), "polish": POLISH_METHOD}
    result = {"model": model_name, "seed": seed, **record, **score(pred.float(), split, row.extrapolate)}
    result.update(settings)
    if keep_prediction:
        np.save(row_dir / f"{model_name}_seed{seed}_pred.npy", pred.numpy()[:4])
    return result
