"""``physode compare FILE``: physode's candidate models and the peers fit on one file, scored alike.

Every model sees the same samples: the file's training split, with the validation samples that
``physode fit --seed`` carves out (:func:`~physode.problems.fitting.samples.carve_validation`) for
early stopping, physode's and the peers' alike; the test split decides nothing, and every model's
prediction of it is scored by the one :func:`physode.trajectories.rollout_errors`. physode's models are fit by
``physode fit``'s own trainer, each sized to its share of the budget
(:func:`~physode.problems.fitting.choose.fit_within`); the FNO peers are trained as their users train
them (:mod:`physode.problems.peers`) and stopped by their validation split (``peers_stop="validation"``:
converged, with the peers' patience and epoch cap, outside the budget) or by their share of the budget
(``"budget"``). ``zero`` and ``persistence`` are scored as reference lines. :mod:`.report` writes the results.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physode.errors import InputError, TrainingDiverged
from physode.io import check_input_file, check_run_dir
from physode.log import LOGGER
from physode.problems.fitting.candidates import Candidate
from physode.problems.fitting.choose import candidates_for, fit_within
from physode.problems.fitting.evaluate import load_run
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import ModelConfig
from physode.problems.peers import PEERS, PeerData, fit_peer
from physode.trajectories import TrajectoryFile, rollout_errors
from physode.training import METRICS, read_metrics, resolve_device

REFERENCES = ("zero", "persistence")  # scored on every file, as reference lines: no training, no extra
FNO_PACKAGE = "neuralop"  # the FNO peers' package, from the bench extra
PEER_STOPS = ("validation", "budget")  # what stops a trained peer: converged on validation, or its budget share


@dataclass(frozen=True)
class Entry:
    """One model's row: what it is, what it scored on the test split, what its fit cost."""

    name: str
    label: str
    kind: str  # "physode", "peer" or "reference"
    parameters: int
    test_nrmse: float
    final_nrmse: float
    fit_seconds: float
    epochs: int
    device: str
    stopped: str


@dataclass(frozen=True)
class TestSplit:
    """The file's test samples ``(samples, times, channel, x)`` float32 and what they sit on."""

    u: torch.Tensor
    times: torch.Tensor
    x: np.ndarray
    channels: tuple[str, ...]

    @classmethod
    def read(cls, path: Path) -> TestSplit:
        with TrajectoryFile(path) as data:
            if len(data.test) == 0 or data.n_times < 2:
                raise InputError(f"{path}: compare scores the test split from its first time on; the file has "
                                 f"{len(data.test)} test samples and {data.n_times} times (it needs one and two)")
            u = data.batch(data.test)
            u = u[:, :, None] if len(data.sample_shape) == 2 else u
            return cls(u, torch.as_tensor(data.t, dtype=torch.float64), np.asarray(data.x), tuple(data.channels))


@dataclass(frozen=True)
class Comparison:
    """Every entry, and each model's prediction of the first test sample (for the figure)."""

    file: str
    budget_seconds: float
    seed: int
    peers_stop: str
    entries: list[Entry]
    predictions: dict[str, np.ndarray]  # (times, channel, x)
    test: TestSplit


def _names(given: str, known: list[str], what: str) -> list[str]:
    """``given``'s comma-separated names, checked against ``known`` ("none": no names)."""
    names = [] if given.strip() == "none" else [name.strip() for name in given.split(",")]
    unknown = [name for name in names if name not in known]
    if unknown or not all(names) or len(set(names)) < len(names):
        raise InputError(f"{what} {given!r}: give distinct names among {', '.join(known)} (comma-separated) or none")
    return names


def compare(path: str | os.PathLike[str], out: str | os.PathLike[str], *, budget_seconds: float, seed: int = 0,
            models: str = "all", peers: str = "fno,fno-time,fno-ar", device: str = "auto",
            overwrite: bool = False, peers_stop: str = "validation") -> Comparison:
    """Fit and score physode's ``models`` and the ``peers`` (comma-separated names, ``"all"`` models,
    ``"none"``) on ``path``, ``budget_seconds`` of wall time shared equally among physode's models, and
    among the peers too with ``peers_stop="budget"`` (``"validation"``: each peer trains until its validation
    split stops it); physode's runs go to ``out/runs/NAME``. Returns the comparison (:mod:`.report` writes it)."""
    if peers_stop not in PEER_STOPS:
        raise InputError(f"peers_stop {peers_stop!r}: choose {' or '.join(PEER_STOPS)}")
    path, out = check_input_file(path), check_run_dir(out)
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise InputError(f"{out} exists and is not empty; pass --overwrite to replace its results or choose "
                         "another --out")
    test = TestSplit.read(path)
    with TrajectoryFile(path) as data:
        pool = candidates_for(data)
    wanted = _names(",".join(c.name for c in pool) if models == "all" else models, [c.name for c in pool], "--models")
    trained_peers = _names(peers, [name for name in PEERS if name not in REFERENCES], "--peers")
    if trained_peers and importlib.util.find_spec(FNO_PACKAGE) is None:
        raise InputError(f"the FNO peers ({', '.join(trained_peers)}) need neuraloperator: "
                         "pip install 'physode[bench]', "
                         "or pass --peers none to compare physode's models with the reference predictors only")
    if not wanted and not trained_peers:
        raise InputError("nothing to compare: give at least one of --models and --peers")
    sharing = len(wanted) + (len(trained_peers) if peers_stop == "budget" else 0)
    share = budget_seconds / max(1, sharing)
    target = resolve_device(device)
    base = FitConfig(model=ModelConfig(), seed=seed, progress=False)
    entries, predictions = [], {}
    for candidate in (c for c in pool if c.name in wanted):
        run = out / "runs" / candidate.name
        if overwrite and run.exists():
            shutil.rmtree(run)  # this command's own earlier run of the model
        entry, predicted = _physode_entry(path, run, candidate, base, share, test, target)
        entries.append(entry)
        predictions[candidate.name] = predicted
        LOGGER.info(_progress_line(entry))
    data = PeerData.from_file(path, seed=seed)
    for name in [*trained_peers, *REFERENCES]:
        budget = share if name in trained_peers and peers_stop == "budget" else None
        fitted = fit_peer(name, data, seed=seed, budget_seconds=budget, device=target)
        pred = fitted.predict(test.u[:, 0], test.times)
        entry = _scored(name, fitted.label, "reference" if name in REFERENCES else "peer", fitted.parameters, pred,
                        test, fitted.fit_seconds, fitted.epochs, fitted.device, fitted.stopped)
        entries.append(entry)
        predictions[name] = pred[0].numpy()
        LOGGER.info(_progress_line(entry))
    return Comparison(str(path), budget_seconds, seed, peers_stop, entries, predictions, test)


def _physode_entry(path: Path, run: Path, candidate: Candidate, base: FitConfig, share: float, test: TestSplit,
                   device: torch.device) -> tuple[Entry, np.ndarray]:
    """``candidate`` fit in ``run`` within ``share`` seconds and scored on the test split (a diverged fit:
    NaN errors, stopped "diverged")."""
    try:
        summary = fit_within(path, run, candidate, base, share, str(device))
    except TrainingDiverged:
        nan = float("nan")
        return (Entry(candidate.name, candidate.why, "physode", 0, nan, nan, nan, 0, str(device), "diverged"),
                np.full(test.u.shape[1:], np.nan, dtype=np.float32))
    model = load_run(run, device).model
    with torch.no_grad():
        u0 = test.u[:, 0] if test.u.shape[2] > 1 else test.u[:, 0, 0]  # the file's layout: (n, x) for one field
        pred = model(u0.to(device, next(model.parameters()).dtype), test.times.tolist()).float().cpu()
    pred = pred.reshape(test.u.shape)
    entry = _scored(candidate.name, candidate.why, "physode", summary["params"], pred, test, summary["fit_time_s"],
                    summary["epochs_run"], str(device), _stopped(run, candidate, summary["epochs"]))
    return entry, pred[0].numpy()


def _stopped(run: Path, candidate: Candidate, epochs: int) -> str:
    """Why a physode fit's Adam phase ended: its validation split, its budget share, or its epochs, which the
    share set (its "epoch cap" where they are the candidate's ``max_epochs``)."""
    stops = [record["stop"] for record in read_metrics(run / METRICS) if "stop" in record and "phase" not in record]
    if stops and stops[-1] in ("validation", "budget"):
        return stops[-1]
    return "epoch cap" if epochs == candidate.max_epochs else "budget"


def _scored(name: str, label: str, kind: str, parameters: int, pred: torch.Tensor, test: TestSplit, seconds: float,
            epochs: int, device: str, stopped: str) -> Entry:
    errors = rollout_errors(pred.float(), test.u)
    return Entry(name, label, kind, parameters, errors.nrmse_predicted, errors.final_nrmse, seconds, epochs, device,
                 stopped)


def _progress_line(entry: Entry) -> str:
    return (f"{entry.name:16s} test nRMSE {entry.test_nrmse:.3e}  final {entry.final_nrmse:.3e}  "
            f"{entry.fit_seconds:.1f} s, {entry.epochs} epochs, stopped by {entry.stopped}")


def as_record(comparison: Comparison) -> dict[str, Any]:
    """The comparison as results.json holds it."""
    return {"file": comparison.file, "budget_s": comparison.budget_seconds, "seed": comparison.seed,
            "peers_stop": comparison.peers_stop,
            "n_test": int(comparison.test.u.shape[0]), "metric": "nRMSE over the predicted times t[1:] "
            "(physode.trajectories.rollout_errors)", "entries": [vars(entry) for entry in comparison.entries]}
