"""``physode fit FILE`` without model flags: the model chosen on the validation split within a time budget.

Each of a few candidates (:func:`candidates`: the linear layer as ANODE and as ANODEV2, the Fourier-ODE
with its linear term on every mode stepped exactly by integrating-factor RK4, for stiff dispersion or
hyper-diffusion, and with its linear term stepped by RK4; the settings the PDE benchmark's best rows use) is
fit for a fixed, short number of epochs, so the choice depends only on the file and the seed, never on the
machine's speed (:func:`choose`). They are ranked by their nRMSE on the validation split carved out of the
training samples (:func:`.samples.carve_validation`), errors within :data:`TIE` of the lowest counting as a
tie that the earlier candidate wins (:func:`ranked_first`); the test split decides nothing. The winner is then fit
in the run directory with what is left of the budget (:func:`final_fit`): where its trial's seconds per epoch price
no more epochs than its trial ran (its L-BFGS polish priced in), the trial's run, which is that very fit, is kept
instead of repeated; else a fit of up to its ``max_epochs`` within what is left, its one-cycle schedule sized to that
time as it goes where the time is shorter (a machine faster or slower than during the trials gets more or fewer
epochs), or ``epochs`` when given (:func:`fit_chosen`); those
epochs start from the trial's weights (``RUN/trial.pt``), so the trial's seconds are not spent twice. What was
chosen and why is printed and recorded in ``RUN/choice.json`` and under ``"choice"`` in
``RUN/metrics.json``; ``--resume`` continues the recorded choice without new trials.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from physode.errors import InputError, TrainingDiverged
from physode.io import check_run_dir
from physode.log import LOGGER
from physode.problems.fitting.candidates import Candidate, FinalFit, Trial, candidates, final_fit, ranked_first
from physode.problems.fitting.evaluate import SUMMARY
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.samples import carve_validation
from physode.training import CHECKPOINT, METRICS, clear_run, read_metrics, write_json
from physode.trajectories import TrajectoryFile

CHOICE = "choice.json"
TRIAL_WEIGHTS = "trial.pt"  # the winning trial's checkpoint, the final fit's initial weights


def _trial(data_path: Path, run: Path, candidate: Candidate, base: FitConfig, device: str) -> Trial:
    try:
        summary = fit(data_path, run, candidate.config(base, candidate.trial_epochs), device=device)
    except TrainingDiverged:
        return Trial(candidate.name, math.inf, 0, math.nan, math.nan, math.nan, diverged=True)
    records = read_metrics(run / METRICS)
    adam = [r for r in records if r.get("phase") != "polish"]
    polished = [r for r in records if r.get("phase") == "polish"]
    epoch_seconds = adam[-1]["time_s"] / adam[-1]["epoch"]
    polish_seconds = ((polished[-1]["time_s"] - adam[-1]["time_s"]) / max(1, polished[-1]["evaluations"])
                      if polished else 0.0)
    return Trial(candidate.name, summary["validation_nrmse"], summary["params"], summary["fit_time_s"], epoch_seconds,
                 polish_seconds)


def choose(data_path: Path, base: FitConfig, scratch: Path, device: str = "auto") -> tuple[Candidate, list[Trial]]:
    """The candidate with the lowest validation nRMSE after its trial fit (:func:`ranked_first`), and every
    trial. Each trial's run is left in ``scratch / NAME``."""
    with TrajectoryFile(data_path) as data:
        if len(carve_validation(data, base.validation_fraction, base.seed).validation) == 0:
            raise InputError(f"{data_path}: the automatic model choice ranks candidates on a validation split, and "
                             f"none is held out of the {len(data.train)} training samples (the default holds 10% out "
                             "of 40 or more); pass --validation-fraction (e.g. 0.2), or choose the model yourself "
                             "(--model ...)")
        pool = candidates_for(data)
    trials = [_trial(data_path, scratch / c.name, c, base, device) for c in pool]
    if all(t.diverged for t in trials):
        raise InputError(f"{data_path}: every candidate's trial fit diverged; check the data's scale, or choose "
                         "the model yourself (--model ..., --lr, --steps-per-interval)")
    return pool[ranked_first(trials)], trials


def _scratch(out: Path) -> tempfile.TemporaryDirectory:
    """A directory for trial runs beside ``out`` (the same file system: a kept trial moves by renames)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=f".{out.name}-trials-", dir=out.parent)


def _keep_trial_weights(candidate: Candidate, epochs: int, trial_run: Path, out: Path) -> bool:
    """Whether the final fit of ``epochs`` continues the trial's weights: then they are kept as
    ``out / TRIAL_WEIGHTS``, where a resume that finds no checkpoint of the fit starts from them again."""
    if epochs == candidate.trial_epochs or not (trial_run / CHECKPOINT).exists():
        return False
    out.mkdir(parents=True, exist_ok=True)
    os.replace(trial_run / CHECKPOINT, out / TRIAL_WEIGHTS)
    return True


def _finish(data_path: Path, out: Path, candidate: Candidate, base: FitConfig, final: FinalFit, trial_run: Path,
            device: str) -> dict[str, Any]:
    """The fit of ``candidate`` in ``out``: its trial's run, moved there, when ``final`` is the trial's epochs
    (same config, same seed: the same run), else ``final`` from the trial's weights where
    :func:`_keep_trial_weights` kept them (the trial's epochs are not paid twice)."""
    if final.epochs != candidate.trial_epochs or not (trial_run / CHECKPOINT).exists():
        return fit(data_path, out, _continued(candidate, final.config(candidate, base), out), device=device)
    out.mkdir(parents=True, exist_ok=True)
    for item in trial_run.iterdir():
        os.replace(item, out / item.name)
    return json.loads((out / SUMMARY).read_text())


def _continued(candidate: Candidate, config: FitConfig, out: Path) -> FitConfig:
    """``candidate``'s final fit ``config`` starting from the trial's weights kept in ``out``, where there are any
    (:meth:`.Candidate.continued`)."""
    weights = out / TRIAL_WEIGHTS
    return candidate.continued(config, str(weights)) if weights.exists() else config


def fit_within(data_path: Path, out: Path, candidate: Candidate, base: FitConfig, seconds: float,
               device: str = "auto") -> dict[str, Any]:
    """``candidate`` fit in ``out`` within ``seconds`` (:func:`final_fit`), after a trial fit (whose time is part
    of ``seconds``; where it leaves no time for more epochs, the trial is the fit)."""
    began = time.perf_counter()
    with _scratch(out) as scratch:
        trial = _trial(data_path, Path(scratch) / candidate.name, candidate, base, device)
        if trial.diverged:
            raise TrainingDiverged(f"{candidate.name}: its trial fit of {candidate.trial_epochs} epochs diverged")
        final = final_fit(candidate, trial, seconds - (time.perf_counter() - began), base)
        _keep_trial_weights(candidate, final.epochs, Path(scratch) / candidate.name, out)
        return _finish(data_path, out, candidate, base, final, Path(scratch) / candidate.name, device)


def refuse_training_options(windows: int | None, pushforward: int | None) -> None:
    """The automatic choice trains each candidate its own way: windows (which the linear candidates refuse)
    are a given model's option."""
    if windows is not None or pushforward is not None:
        raise InputError("--windows and --pushforward set how one model trains, and the automatic choice trains "
                         "each candidate its own way; pass them with the model (e.g. --model fourier), or drop them")


def fit_chosen(data_path: str | os.PathLike[str], out: str | os.PathLike[str], base: FitConfig, budget_seconds: float,
               *, epochs: int | None = None, device: str = "auto", resume: bool = False,
               overwrite: bool = False) -> dict[str, Any]:
    """Choose a model for ``data_path`` (:func:`choose`) and fit it in ``out`` within ``budget_seconds``
    (trials included); ``epochs`` fixes the final fit's instead. ``resume`` continues the choice
    recorded in ``out``; ``overwrite`` replaces the run ``out`` holds. Returns the fit's summary with the
    choice under ``"choice"``."""
    data_path, out = Path(data_path), check_run_dir(out)
    if os.environ.get("WORLD_SIZE", "1") != "1":
        raise InputError("the automatic model choice runs in one process; under torchrun choose the model "
                         "yourself (--model ...)")
    if resume and overwrite:
        raise InputError("--resume continues the run in --out and --overwrite replaces it; pass one")
    refuse_training_options(base.windows, base.pushforward)
    if overwrite:
        clear_run(out, (CHOICE, TRIAL_WEIGHTS, METRICS, SUMMARY))
    if resume and (out / CHOICE).exists():
        pool = {c.name: c for c in _candidates_of(data_path)}
        choice = _recorded_choice(out / CHOICE, data_path, pool)
        winner = pool[choice["chosen"]]
        final = FinalFit(choice["epochs"], choice.get("fit_budget_s"))  # a choice recorded before the field: None
        summary = fit(data_path, out, _continued(winner, final.config(winner, base), out), device=device,
                      resume=True)
    else:
        if resume and (out / CHECKPOINT).exists():
            raise InputError(f"{out} holds a run fit with model options (it has no {CHOICE}); resume it with the "
                             "options it was started with")
        if any((out / name).exists() for name in (CHECKPOINT, CHOICE, METRICS, SUMMARY)):
            raise InputError(f"{out} already holds a run; pass --resume to continue it, --overwrite to replace it, "
                             "or choose a new --out")
        choice, summary = _new_choice(data_path, out, base, budget_seconds, epochs, device)
    summary["choice"] = choice
    write_json(out / SUMMARY, summary)
    return summary


def _new_choice(data_path: Path, out: Path, base: FitConfig, budget_seconds: float, epochs: int | None,
                device: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The choice, recorded in ``out`` before its fit, and the fit's summary."""
    with _scratch(out) as scratch:
        began = time.perf_counter()
        winner, trials = choose(data_path, base, Path(scratch), device)
        spent = time.perf_counter() - began  # the trials' set-up and test evaluation too, not only their fits
        trial = next(t for t in trials if t.name == winner.name)
        final = FinalFit(epochs, None) if epochs else final_fit(winner, trial, budget_seconds - spent, base)
        LOGGER.info(describe(winner, trials, final, budget_seconds, spent))
        choice = {"chosen": winner.name, "why": winner.why, "epochs": final.epochs,
                  "epochs_from": "--epochs" if epochs else "budget", "budget_s": budget_seconds, "trials_s": spent,
                  "fit_budget_s": final.budget_s, "seed": base.seed, "trials": [dataclasses.asdict(t) for t in trials],
                  "from_trial": _keep_trial_weights(winner, final.epochs, Path(scratch) / winner.name, out)}
        write_json(out / CHOICE, choice)  # before the fit: a kill from here on resumes this choice
        return choice, _finish(data_path, out, winner, base, final, Path(scratch) / winner.name, device)


def candidates_for(data: TrajectoryFile) -> tuple[Candidate, ...]:
    """:func:`.candidates.candidates` for ``data``'s grid and training split."""
    return candidates(data.n_x, len(data.train) * math.prod(data.sample_shape))


def _candidates_of(data_path: Path) -> tuple[Candidate, ...]:
    with TrajectoryFile(data_path) as data:
        return candidates_for(data)


def _recorded_choice(path: Path, data_path: Path, pool: dict[str, Candidate]) -> dict[str, Any]:
    try:
        choice = json.loads(path.read_text())
        budget = choice.get("fit_budget_s")
        if choice["chosen"] not in pool or not isinstance(choice["epochs"], int) or not (
                budget is None or isinstance(budget, (int, float))):
            raise ValueError(choice["chosen"])
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"{path} is not a model choice physode wrote ({err}); start a new --out") from None
    LOGGER.info(f"resuming the recorded choice: {choice['chosen']} for {choice['epochs']} epochs on {data_path}")
    return choice


def describe(winner: Candidate, trials: list[Trial], final: FinalFit, budget_seconds: float, spent: float) -> str:
    """What was chosen and why, as printed: every trial's validation nRMSE and cost."""
    lines = ["model choice (validation nRMSE after a short trial fit of each candidate):"]
    for t in trials:
        score = "diverged" if t.diverged else f"{t.validation_nrmse:.3e} ({t.fit_seconds:.1f} s)"
        lines.append(f"  {'*' if t.name == winner.name else ' '} {t.name:16s} {score}")
    over = "; the trials used up the budget" if spent >= budget_seconds else ""
    fit = ("its trial is the fit" if final.epochs == winner.trial_epochs and final.budget_s is None else
           f"its final fit: {final.epochs} epochs" if final.budget_s is None else
           f"its final fit: up to {final.epochs} epochs in {final.budget_s:.0f} s")
    lines.append(f"chose {winner.name} ({winner.why}); {fit} "
                 f"(trials took {spent:.0f} s of the {budget_seconds:.0f} s budget{over})")
    return "\n".join(lines)
