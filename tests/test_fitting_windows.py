"""Window training (``FitConfig.windows``) and the wall-time budget (``FitConfig.budget_seconds``)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from physode.cli import main
from physode.errors import InputError
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig, window_length
from physode.problems.fitting.models import FourierModelConfig, ModelConfig
from physode.problems.fitting.samples import TrainSplit, carve_validation
from physode.problems.fitting.schedule import BudgetClock, BudgetCycle
from physode.problems.fitting.trainer import Trainer
from physode.problems.fitting.windows import WindowPlan
from physode.problems.pde import simulate_transport_to_file
from physode.trajectories import TrajectoryFile, Trajectories, rollout_errors, write
from physode.training import CHECKPOINT, METRICS, DistContext, load_checkpoint, read_metrics

ONE = DistContext(0, 1, torch.device("cpu"))
TINY_FOURIER = FourierModelConfig(variant="anode", width=4, modes=4, blocks=1)


def _config(**changes: object) -> FitConfig:
    return FitConfig(**{"epochs": 2, "batch_size": 8, "lr": 0.05, "polish": 0, "progress": False, **changes})


@pytest.fixture(scope="module")
def transport_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Constant-velocity transport: linear and autonomous, 60 samples, 7 stored times."""
    path = tmp_path_factory.mktemp("data") / "transport.h5"
    return simulate_transport_to_file(path, 60, 16, np.linspace(0.0, 0.3, 7), "constant:c0=0.5",
                                      initial="fourier", seed=0, test_fraction=0.25)


@pytest.fixture(scope="module")
def labelled_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """u[sample, time, x] = 1000 sample + time: every value says which sample and stored state it is."""
    samples, times, nx = 50, 5, 8
    u = 1000.0 * np.arange(samples)[:, None, None] + np.arange(times)[None, :, None] + np.zeros((1, 1, nx))
    data = Trajectories(u, np.linspace(0.0, 1.0, times), np.linspace(0.0, 1.0, nx, endpoint=False), "labels", {})
    return write(tmp_path_factory.mktemp("labels") / "labels.h5", data, seed=0, test_fraction=0.2)


def test_an_epoch_of_windows_starts_once_from_every_stored_state_of_every_fit_sample(labelled_file: Path) -> None:
    with TrajectoryFile(labelled_file) as data:
        holdout = carve_validation(data, None, seed=0)
        assert len(holdout.validation) >= 4 and len(data.test) == 10  # both exist, and are never read below
        split = TrainSplit(data, 2**20, holdout.fit)
        starts = data.n_times - 1
        seen = []
        for size, start, shard, _ in split.window_batches(6, starts, torch.Generator().manual_seed(1), ONE):
            assert size == len(shard) <= 6
            assert (shard[:, :, 0] % 1000 == torch.arange(data.n_times)).all()  # whole samples in stored order
            seen += [(int(sample), start) for sample in shard[:, 0, 0] // 1000]
        fit_samples = set(holdout.fit.tolist())
        assert sorted(seen) == sorted((s, t) for s in fit_samples for t in range(starts))  # each window once
        assert not fit_samples & (set(holdout.validation.tolist()) | set(data.test.tolist()))


def test_each_window_is_solved_from_its_stored_state_over_its_true_times(transport_file: Path) -> None:
    """The model is handed u(t_i) and t_i..t_i+k: right also for a model that takes time as an input."""
    config = _config(model=ModelConfig(variant="neuralode"), windows=2, epochs=1)
    with TrajectoryFile(transport_file) as data:
        trainer = Trainer(config, data, {"path": str(transport_file)}, transport_file.parent, ONE, None)
        calls = []
        forward = trainer.model.forward

        def recorded(u0: torch.Tensor, times: list[float]) -> torch.Tensor:
            calls.append((u0.clone(), list(times)))
            return forward(u0, times)

        trainer.model.forward = recorded
        trainer.model.train()
        for size, start, shard, observed in trainer.split.window_batches(8, trainer.plan.starts, trainer.generator, ONE):
            trainer.batch_loss(size, start, shard, observed, step=10**6)  # past the curriculum: whole windows
            u0, times = calls[-1]
            assert times == data.t[start : start + 3].tolist()
            torch.testing.assert_close(u0, shard[:, start].float())
        assert {times[0] for _, times in calls} == set(data.t[:5].tolist())  # starts t0..t4 for 6 intervals


def test_a_window_fit_of_a_linear_autonomous_system_recovers_it(transport_file: Path, tmp_path: Path) -> None:
    """Trained on one-interval windows only, the layer predicts whole trajectories from u(t0)."""
    config = _config(model=ModelConfig(variant="anode"), windows=1, epochs=30, lr=0.05, dtype="float64",
                     validation_fraction=0)
    summary = fit(transport_file, tmp_path / "run", config, device="cpu")
    assert summary["windows"] == 1 and summary["stopped"] == "epochs"
    assert summary["test_nrmse"] < 2e-2
    records = read_metrics(tmp_path / "run" / METRICS)
    assert [r["horizon"] for r in records] == [1] * 30  # one interval at a time
    assert records[-1]["step"] == 30 * 6 * math.ceil(45 / 8)  # every start of every training sample, each epoch


def test_validation_scores_the_whole_rollout_from_t0_as_the_metrics_module_does(transport_file: Path) -> None:
    config = _config(model=TINY_FOURIER, windows=1)
    with TrajectoryFile(transport_file) as data:
        trainer = Trainer(config, data, {"path": str(transport_file)}, transport_file.parent, ONE, None)
        true = trainer.validation.read(np.arange(len(trainer.validation)))
        with torch.no_grad():
            pred = trainer.model(true[:, 0], data.t.tolist())
        assert trainer.validate() == pytest.approx(rollout_errors(pred, true).nrmse_predicted, rel=1e-6)


def test_windows_are_refused_where_they_would_be_wrong(transport_file: Path, tmp_path: Path) -> None:
    for model in (ModelConfig(variant="anodev2"), FourierModelConfig(variant="anodev2-latent")):
        with pytest.raises(InputError, match="evolves its weights from the first stored time"):
            FitConfig(model=model, windows=1)
        assert window_length(FitConfig(model=model)) == 0  # their default: whole trajectories
    with pytest.raises(InputError, match="--windows must be >= 0"):
        FitConfig(model=TINY_FOURIER, windows=-1)
    with pytest.raises(InputError, match="6 stored intervals"):
        fit(transport_file, tmp_path / "run", _config(model=TINY_FOURIER, windows=7), device="cpu")
    with pytest.raises(InputError, match="--budget must be a positive number of seconds"):
        FitConfig(budget_seconds=0.0)
    assert window_length(FitConfig(model=TINY_FOURIER)) == FourierModelConfig.default_windows
    assert window_length(FitConfig(model=ModelConfig(variant="anode"))) == 0


def test_a_run_from_before_windows_resumes_on_whole_trajectories(transport_file: Path, tmp_path: Path) -> None:
    config = _config(model=TINY_FOURIER, checkpoint_every=1)
    fit(transport_file, tmp_path / "run", config, device="cpu")
    state = load_checkpoint(tmp_path / "run" / CHECKPOINT)
    assert state["windows"] == window_length(config) > 0
    del state["windows"]  # as a checkpoint written before windows existed
    with TrajectoryFile(transport_file) as data:
        trainer = Trainer(config, data, state["data"], tmp_path / "run", ONE, state)
        assert trainer.plan == WindowPlan(windows=0, lead=0, intervals=6)
        assert trainer.plan.span == 6 and trainer.plan.starts == 1


def test_the_budget_stops_the_fit_in_time_with_a_decayed_rate_and_resumes(transport_file: Path, tmp_path: Path) -> None:
    budget = 4.0
    # The patience outlasts the budget: fast steps (one RK4 step, backprop) on an idle machine otherwise
    # reach a validation plateau first.
    config = _config(model=TINY_FOURIER, windows=1, epochs=10**4, budget_seconds=budget, checkpoint_every=10**4,
                     patience=10**4)
    summary = fit(transport_file, tmp_path / "run", config, device="cpu")
    state = load_checkpoint(tmp_path / "run" / CHECKPOINT)
    clock = BudgetClock(**state["budget_clock"])
    step_s = clock.warmup_s / 19  # the warm-up's timed steps
    assert summary["stopped"] == "budget" and clock.spent
    # Within the budget plus one step (and the noise of a shared machine in timing the last validation).
    assert summary["fit_time_s"] <= budget + 2 * (step_s + clock.validation_s)
    last = read_metrics(tmp_path / "run" / METRICS)[-1]
    assert last["stop"] == "budget" and last["lr"] < 0.01 * config.lr  # the cycle ran to its end
    again = fit(transport_file, tmp_path / "run", config, device="cpu", resume=True)  # a finished run resumes as such
    assert again["test_nrmse"] == summary["test_nrmse"] and again["stopped"] == "budget"


def test_a_budget_killed_between_checkpoints_resumes_its_clock(transport_file: Path, tmp_path: Path) -> None:
    """A resumed budgeted fit keeps its schedule and timing, and stops within the same budget."""
    config = _config(model=TINY_FOURIER, windows=1, epochs=10**4, budget_seconds=3.0, checkpoint_every=1)
    with TrajectoryFile(transport_file) as data:
        record = {"path": str(transport_file)}
        first = Trainer(config, data, record, tmp_path, ONE, None)
        entry = first.epoch(1, _NoBar())
        first.epochs_run = 1
        first.checkpoint(1)
        state = load_checkpoint(tmp_path / CHECKPOINT)
        resumed = Trainer(config, data, record, tmp_path, ONE, state)
        assert resumed.start == 1 and resumed.elapsed == pytest.approx(entry["time_s"])
        assert resumed.total_steps == first.total_steps < config.epochs * first.steps_per_epoch  # sized to the budget
        assert dataclasses.asdict(resumed.clock) == dataclasses.asdict(first.clock)
        resumed.train_adam()
        assert resumed.adam_stop == "budget" and resumed.elapsed <= 3.0 + 2 * first.clock.validation_s + 0.5


def test_the_command_line_takes_windows_and_a_budget(transport_file: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    fit_args = ["fit", str(transport_file), "--model", "fourier", "--hidden-channels", "4", "--modes", "4",
                "--blocks", "1", "--batch-size", "8", "--no-progress", "--device", "cpu"]
    for extra, message in ((["--windows", "1"], "variant 'anodev2' evolves its weights"),
                           (["--variant", "anode", "--budget", "-1"], "argument --budget: expected a finite number > 0"),
                           (["--variant", "anode", "--windows", "9"], "6 stored intervals")):
        assert main([*fit_args, "--out", str(tmp_path / "refused"), *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "refused" / CHECKPOINT).exists()
    run = tmp_path / "run"
    assert main([*fit_args, "--out", str(run), "--variant", "anode", "--windows", "2", "--epochs", "1000",
                 "--budget", "2"]) == 0
    summary = json.loads((run / "metrics.json").read_text())
    assert summary["windows"] == 2 and summary["stopped"] == "budget" and summary["epochs_run"] < 1000
    assert load_checkpoint(run / CHECKPOINT)["config"]["budget_seconds"] == 2.0  # recorded in the run's config


class _NoBar:
    total = 0

    def update(self) -> None:
        pass

    def set_postfix(self, **values: object) -> None:
        pass


def test_the_budget_cycle_warms_up_then_decays_to_its_floor() -> None:
    weight = torch.nn.Parameter(torch.zeros(()))
    optimizer = torch.optim.Adam([weight], lr=1.0)
    schedule = BudgetCycle(optimizer, warmup=4, total_steps=10)
    rates = [schedule.get_last_lr()[0]]
    for _ in range(12):
        optimizer.step()
        schedule.step()
        rates.append(schedule.get_last_lr()[0])
    assert rates[0] == pytest.approx(1 / 25) and rates[4] == pytest.approx(1.0)
    assert all(a < b for a, b in zip(rates[:4], rates[1:5])) and all(a > b for a, b in zip(rates[4:10], rates[5:11]))
    assert rates[10] == rates[12] == pytest.approx(1 / 25e4)  # past its end the rate stays at the floor
