"""Early stopping on a validation split carved out of the training samples: the split, Adam's and
the polish's stops, exact resume, and a test split that is never read before the fit is done."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import math
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from physode.cli import main
from physode.errors import InputError
from physode.problems.fitting.evaluate import SUMMARY, load_run
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import ModelConfig, build_model
from physode.problems.fitting.polish import Validation, polish
from physode.problems.fitting.samples import MIN_VALIDATION, TrainSplit, carve_validation
from physode.problems.fitting.schedule import ANNEALED, annealed_from, one_cycle_warmup
from physode.problems.fitting.validation import validation_nrmse
from physode.problems.pde import simulate_transport_to_file
from physode.trajectories import TrajectoryFile
from physode.trajectories.schema import FIELD
from physode.training import CHECKPOINT, METRICS, DistContext, load_checkpoint, read_metrics

from killed_runs import sigkill_when, without_timing

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
ONE = DistContext(0, 1, torch.device("cpu"))


@pytest.fixture(scope="module")
def transport_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 samples, 45 of them training: 5 held out at the default fraction."""
    path = tmp_path_factory.mktemp("data") / "transport.h5"
    return simulate_transport_to_file(path, 60, 16, np.linspace(0.0, 0.3, 7), "exponential:c0=0.5,a=1.5",
                                      initial="fourier", seed=0, test_fraction=0.25)


def _config(**changes: object) -> FitConfig:
    return FitConfig(**{"epochs": 5, "batch_size": 8, "lr": 0.05, "checkpoint_every": 2, "polish": 0,
                        "progress": False, **changes})


def test_the_validation_split_is_seeded_disjoint_from_the_test_split_and_recorded(
        transport_file: Path, tmp_path: Path) -> None:
    with TrajectoryFile(transport_file) as data:
        train, test = data.train, data.test
        first, again, other = (carve_validation(data, 0.1, seed) for seed in (0, 0, 1))
        assert np.array_equal(first.validation, again.validation) and not np.array_equal(first.validation,
                                                                                         other.validation)
        assert len(first.validation) == 5 and len(carve_validation(data, 0.01, 0).validation) == MIN_VALIDATION
        assert sorted([*first.fit, *first.validation]) == sorted(train) and not set(first.validation) & set(test)
        none = carve_validation(data, 0.0, 0)
        assert np.array_equal(none.fit, train) and len(none.validation) == 0
        with pytest.raises(InputError, match="--validation-fraction 0"):
            carve_validation(data, 0.6, 0)
    summary = fit(transport_file, tmp_path / "run", _config(seed=1), device="cpu")
    assert load_checkpoint(tmp_path / "run" / CHECKPOINT)["validation_indices"] == other.validation.tolist()
    assert summary["n_validation"] == 5 and summary["epochs_run"] == 5
    with pytest.raises(InputError, match="--validation-fraction"):
        FitConfig(validation_fraction=1.0)


def test_without_a_validation_split_every_epoch_and_the_whole_polish_run(transport_file: Path, tmp_path: Path) -> None:
    """--validation-fraction 0 is the fit from before early stopping (checked bit for bit against it
    when it was written): every training sample trains, no validation, patience has no effect."""
    config = _config(model=ModelConfig(variant="anodev2"), epochs=6, polish=30, validation_fraction=0.0)
    summaries = [fit(transport_file, tmp_path / str(patience), dataclasses.replace(config, patience=patience,
                                                                                    polish_patience=patience),
                     device="cpu") for patience in (1, 100)]
    records = [read_metrics(tmp_path / str(patience) / METRICS) for patience in (1, 100)]
    assert without_timing(records[0]) == without_timing(records[1])
    assert without_timing([summaries[0]]) == without_timing([summaries[1]])
    adam, last = records[0][:-1], records[0][-1]
    assert [r["epoch"] for r in adam] == list(range(1, 7)) and adam[-1]["stop"] == "epochs"
    assert adam[-1]["step"] == 6 * 6  # 45 training samples in batches of 8: all of them train
    assert not any("validation_nrmse" in r for r in adam) and last["validation_nrmse"] is None
    assert last["stop"] in ("budget", "converged") and summaries[0]["n_validation"] == 0


def test_adam_stops_when_the_validation_error_stops_falling_and_keeps_the_best_weights(
        transport_file: Path, tmp_path: Path) -> None:
    """ANODE's constant multipliers cannot follow c(t): its validation error levels off long before
    80 epochs, and Adam stops `patience` epochs after its last gain, no earlier than the curriculum's end
    and the learning rate's decay to ANNEALED of its peak (epoch 65 of 80)."""
    config = _config(model=ModelConfig(variant="anode"), epochs=80, patience=4, curriculum=0.2, dtype="float64")
    summary = fit(transport_file, tmp_path / "run", config, device="cpu")
    records = read_metrics(tmp_path / "run" / METRICS)
    last = records[-1]
    assert last["stop"] == "validation" and summary["epochs_run"] == last["epoch"] < 80
    steps_per_epoch = records[0]["step"]
    annealed = math.ceil(annealed_from(one_cycle_warmup(80 * steps_per_epoch), 80 * steps_per_epoch) / steps_per_epoch)
    assert annealed > 16 and records[annealed - 1]["lr"] <= ANNEALED * config.lr < records[annealed - 2]["lr"]
    assert last["epoch"] >= annealed + 4  # the decay to ANNEALED (after the curriculum's 16 epochs), then the patience
    values = [r["validation_nrmse"] for r in records]
    assert last["best_validation_nrmse"] == min(values) == values[last["best_epoch"] - 1]
    # It stopped `patience` epochs after the last epoch that gained min_gain on the one before it that did.
    anchor, gain_at = np.inf, 0
    for epoch, value in enumerate(values, 1):
        if value < (1 - config.min_gain) * anchor:
            anchor, gain_at = value, epoch
    assert last["epoch"] - max(gain_at, annealed) == 4
    run = load_run(tmp_path / "run")
    with TrajectoryFile(transport_file) as data:
        held = TrainSplit(data, 2**30, np.asarray(run.state["validation_indices"]))
        again = validation_nrmse(run.model, held, data.t.tolist(), ONE, 64, torch.float64)
    assert again == pytest.approx(last["best_validation_nrmse"], rel=1e-12) == summary["validation_nrmse"]


def test_a_fit_that_continues_weights_keeps_them_where_no_epoch_validates_better(
        transport_file: Path, tmp_path: Path) -> None:
    """The weights a fit continues (a trial's) are validated as epoch 0: a learning rate that only makes
    them worse hands them back unchanged, where the first epoch's weights used to win by default."""
    start = fit(transport_file, tmp_path / "start", _config(model=ModelConfig(variant="anodev2"), epochs=20,
                                                             dtype="float64"), device="cpu")
    config = _config(model=ModelConfig(variant="anodev2"), epochs=3, lr=0.5, rate_lr=0.5, patience=1,
                     dtype="float64", initial_weights=str(tmp_path / "start" / CHECKPOINT))
    summary = fit(transport_file, tmp_path / "on", config, device="cpu")
    last = read_metrics(tmp_path / "on" / METRICS)[-1]
    assert last["best_epoch"] == 0 and min(r["validation_nrmse"] for r in read_metrics(tmp_path / "on" / METRICS)
                                           if "validation_nrmse" in r) > start["validation_nrmse"]
    assert summary["validation_nrmse"] == pytest.approx(start["validation_nrmse"], rel=1e-12)
    assert summary["test_nrmse"] == pytest.approx(start["test_nrmse"], rel=1e-12)


def test_a_polish_that_does_not_lower_the_validation_error_is_cut_and_undone(transport_file: Path) -> None:
    """A validation error that only rises: the polish stops after `patience` evaluations and the
    weights it began with (Adam's) are kept, whatever it did to the training loss."""
    with TrajectoryFile(transport_file) as data:
        split = TrainSplit(data, 2**30)
        torch.manual_seed(0)
        model = build_model(ModelConfig(variant="anodev2"), data.x).double()
        start = [p.detach().clone() for p in model.parameters()]
        scores = iter(range(100))
        result = polish(model, split, data.t.tolist(), budget=200, kind="mse", weight=1.0, ctx=ONE, chunk=8,
                        dtype=torch.float64, validation=Validation(lambda: float(next(scores)), patience=10,
                                                                   min_gain=0.01))
    assert result.stop == "validation" and result.evaluations == 11  # checked after 0, 5 and 10 spent
    assert result.validation_before == result.validation_after == 0.0
    assert result.loss_after == result.loss_before
    for kept, began in zip(model.parameters(), start, strict=True):
        assert torch.equal(kept, began)


def test_a_polish_that_lowers_the_validation_error_runs_on_and_keeps_its_best(transport_file: Path,
                                                                              tmp_path: Path) -> None:
    config = _config(model=ModelConfig(variant="anodev2"), epochs=3, polish=60, dtype="float64")
    fit(transport_file, tmp_path / "run", config, device="cpu")
    adam, last = read_metrics(tmp_path / "run" / METRICS)[-2:]
    assert last["phase"] == "polish" and last["evaluations"] > 11
    assert last["validation_nrmse_before"] == adam["validation_nrmse"]
    assert last["validation_nrmse"] < 0.5 * last["validation_nrmse_before"]


def test_early_stopping_never_reads_the_test_split(transport_file: Path, tmp_path: Path) -> None:
    """The test samples of a copy of the file are replaced by huge values: the fitted weights and
    every record but the test metrics are those of the clean file."""
    poisoned = tmp_path / "poisoned.h5"
    shutil.copy(transport_file, poisoned)
    with h5py.File(poisoned, "r+") as root, TrajectoryFile(transport_file) as data:
        field = root[FIELD]
        for i in data.test:
            field[i] = np.random.default_rng(int(i)).normal(scale=1e6, size=field.shape[1:])
    config = _config(model=ModelConfig(variant="anode"), epochs=60, patience=3, curriculum=0.2, polish=20,
                     dtype="float64")
    runs = {name: fit(path, tmp_path / name, config, device="cpu")
            for name, path in (("clean", transport_file), ("poisoned", poisoned))}
    assert runs["poisoned"]["test_nrmse"] > 5 * runs["clean"]["test_nrmse"]  # the poison is there
    records = {name: [{k: v for k, v in r.items() if not k.startswith("test_")}
                      for r in without_timing(read_metrics(tmp_path / name / METRICS))] for name in runs}
    assert records["clean"] == records["poisoned"]
    assert any(r.get("stop") == "validation" for r in records["clean"])  # early stopping did act
    states = [load_checkpoint(tmp_path / name / CHECKPOINT)["model"] for name in runs]
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_a_fit_killed_before_it_stops_early_resumes_to_the_uninterrupted_result(
        transport_file: Path, tmp_path: Path) -> None:
    options = ["--variant", "anode", "--epochs", "60", "--batch-size", "8", "--lr", "0.05", "--patience", "3",
               "--curriculum", "0.2", "--checkpoint-every", "1", "--polish", "20", "--no-progress", "--device",
               "cpu", "--dtype", "float64"]
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "physode.cli", "fit", str(transport_file), "--out", str(killed), *options]
    sigkill_when(command, lambda: (killed / CHECKPOINT).exists() and load_checkpoint(killed / CHECKPOINT)["epoch"] >= 3,
                 "its third checkpoint", cwd=REPO, env=ENV)
    assert load_checkpoint(killed / CHECKPOINT)["adam_stop"] is None
    assert main(["fit", str(transport_file), "--out", str(killed), *options, "--resume"]) == 0
    straight = tmp_path / "straight"
    assert main(["fit", str(transport_file), "--out", str(straight), *options]) == 0
    records = [without_timing(read_metrics(run / METRICS)) for run in (killed, straight)]
    assert records[0] == records[1] and records[0][-2]["stop"] == "validation"
    final = [json.loads((run / SUMMARY).read_text()) for run in (killed, straight)]
    assert without_timing(final)[0] == without_timing(final)[1]
    weights = [load_checkpoint(run / CHECKPOINT)["model"] for run in (killed, straight)]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[1])


def test_a_fit_streamed_through_a_one_sample_cache_validates_and_stops_as_a_cached_one(
        transport_file: Path, tmp_path: Path) -> None:
    """The validation split reads through its share of the bounded sample cache, as training does."""
    config = _config(model=ModelConfig(variant="anode"), epochs=40, patience=3, curriculum=0.2, dtype="float64")
    for name, cache_mb in (("cached", 256.0), ("streamed", 0.0)):
        fit(transport_file, tmp_path / name, dataclasses.replace(config, cache_mb=cache_mb), device="cpu")
    records = [without_timing(read_metrics(tmp_path / name / METRICS)) for name in ("cached", "streamed")]
    assert records[0] == records[1] and records[0][-1]["stop"] == "validation"
    weights = [load_checkpoint(tmp_path / name / CHECKPOINT)["model"] for name in ("cached", "streamed")]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
