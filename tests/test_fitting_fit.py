"""Fitting 1-D trajectory files end to end: real HDF5 files, exact resume after SIGKILL, clear errors."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from physode.cli import main
from physode.errors import InputError, TrainingDiverged
from physode.trajectories import TrajectoryFile, write_trajectories
from physode.problems.pde import simulate_transport_to_file
from physode.problems.fitting.evaluate import EVALUATION, SUMMARY, evaluate_run
from physode.problems.fitting import polish as polish_module, trainer
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import FourierModelConfig
from physode.problems.fitting.loss import trajectory_loss
from physode.problems.fitting.polish import polish, training_loss
from physode.problems.fitting.samples import TrainSplit
from physode.problems.fitting.models import ModelConfig, build_model
from physode.training import CHECKPOINT, METRICS, DistContext, load_checkpoint, read_metrics

from killed_runs import sigkill_when, without_timing

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
SMALL = ["--epochs", "40", "--batch-size", "8", "--lr", "0.05", "--checkpoint-every", "1",
         "--eval-every", "10", "--polish", "30", "--seed", "3", "--no-progress", "--device", "cpu"]


@pytest.fixture(scope="module")
def transport_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "transport.h5"
    return simulate_transport_to_file(path, 40, 16, np.linspace(0.0, 0.3, 7), "exponential:c0=0.5,a=1.5",
                            initial="fourier", seed=0, test_fraction=0.25)


def _config(**changes: object) -> FitConfig:
    return FitConfig(**{"epochs": 4, "batch_size": 8, "lr": 0.05, "checkpoint_every": 2, "eval_every": 2,
                        "polish": 0, "progress": False, **changes})


def test_tiny_fit_writes_metrics_and_learns(transport_file: Path, tmp_path: Path) -> None:
    config = _config(model=ModelConfig(variant="anodev2"), epochs=12)
    summary = fit(transport_file, tmp_path / "run", config, device="cpu")
    records = read_metrics(tmp_path / "run" / METRICS)
    assert [r["epoch"] for r in records] == list(range(1, 13))
    assert records[-1]["test_nrmse"] < 0.5 * records[1]["test_nrmse"]
    assert [r["horizon"] for r in records][-1] == 6 and records[0]["horizon"] < 6  # the curriculum
    assert "test_nrmse" in records[1] and "test_nrmse" not in records[0]
    on_disk = json.loads((tmp_path / "run" / SUMMARY).read_text())
    assert on_disk == summary
    assert summary["variant"] == "anodev2" and summary["params"] == 2 * 9 + 2 and summary["n_test"] == 10
    assert 0 < summary["test_nrmse"] < 1 and len(summary["nrmse_per_time"]) == 7
    assert summary["nrmse_per_time"][0] == 0.0  # t0 is the given input
    # Evaluating the checkpoint again gives the same numbers, and writes evaluation.json.
    evaluated = evaluate_run(tmp_path / "run", device="cpu")
    assert evaluated["nrmse_predicted"] == summary["test_nrmse"]
    assert json.loads((tmp_path / "run" / EVALUATION).read_text())["final_nrmse"] == summary["test_final_nrmse"]


def test_streamed_cached_and_sharded_training_batches_agree(transport_file: Path) -> None:
    one = DistContext(0, 1, torch.device("cpu"))
    with TrajectoryFile(transport_file) as data:
        sample_bytes = data.n_times * data.n_x * 4
        cached, streamed = TrainSplit(data, 2**30), TrainSplit(data, cache_limit_bytes=3 * sample_bytes)
        batches = [[shard for _, shard, _ in split.batches(7, torch.Generator().manual_seed(5), one)]
                   for split in (cached, streamed)]
        assert len(cached.cache) == len(data.train) == 30 and len(streamed.cache) == 3  # bounded
        every = torch.cat(batches[0])
        assert len(every) == 30
        torch.testing.assert_close(every.sum(0), data.batch(data.train).sum(0))  # each sample once
        for a, b in zip(*batches, strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
        # Ranks read contiguous shards of the same global batch; together they are the batch.
        shards = [list(TrainSplit(data, 2**30).batches(7, torch.Generator().manual_seed(5),
                                                DistContext(rank, 3, torch.device("cpu"))))
                  for rank in range(3)]
        for step, whole in enumerate(batches[0]):
            assert {shards[rank][step][0] for rank in range(3)} == {len(whole)}
            torch.testing.assert_close(torch.cat([shards[rank][step][1] for rank in range(3)]), whole,
                                       rtol=0, atol=0)
        # Each training sample exactly once per epoch, none from the test split.
        expected = data.batch(data.train)[:, 0, :3].tolist()
        assert sorted(map(tuple, every[:, 0, :3].tolist())) == sorted(map(tuple, expected))


def test_sigkilled_fit_resumes_to_the_metrics_of_an_uninterrupted_run(transport_file: Path, tmp_path: Path) -> None:
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "physode.cli", "fit", str(transport_file), "--out", str(killed), *SMALL]
    sigkill_when(command, (killed / CHECKPOINT).exists, "its first checkpoint", cwd=REPO, env=ENV)
    stopped_at = load_checkpoint(killed / CHECKPOINT)["epoch"]
    assert stopped_at < 40
    assert not (killed / SUMMARY).exists()
    assert main(["fit", str(transport_file), "--out", str(killed), *SMALL, "--resume"]) == 0

    straight = tmp_path / "straight"
    assert main(["fit", str(transport_file), "--out", str(straight), *SMALL]) == 0
    assert without_timing(read_metrics(killed / METRICS)) == without_timing(read_metrics(straight / METRICS))
    final = [json.loads((run / SUMMARY).read_text()) for run in (killed, straight)]
    assert without_timing(final)[0] == without_timing(final)[1]
    resumed, reference = (load_checkpoint(run / CHECKPOINT)["model"] for run in (killed, straight))
    assert all(torch.equal(resumed[k], reference[k]) for k in reference)


def test_polish_takes_the_fit_below_adam_alone_and_is_recorded(transport_file: Path, tmp_path: Path) -> None:
    config = _config(model=ModelConfig(variant="anodev2"), epochs=6)
    adam = fit(transport_file, tmp_path / "adam", config, device="cpu")
    polished = fit(transport_file, tmp_path / "polished", dataclasses.replace(config, polish=60), device="cpu")
    assert polished["test_nrmse"] < 0.3 * adam["test_nrmse"]
    records = read_metrics(tmp_path / "polished" / METRICS)
    assert without_timing(records[:-1]) == without_timing(read_metrics(tmp_path / "adam" / METRICS))
    last = records[-1]
    assert last["phase"] == "polish" and not last["overflowed"] and 1 < last["evaluations"] <= 60
    assert last["train_loss"] < 0.1 * last["train_loss_before"] and polished["train_loss"] == last["train_loss"]
    assert last["step"] == records[-2]["step"] + 1 and last["epoch"] == 6
    assert load_checkpoint(tmp_path / "polished" / CHECKPOINT)["polished"] is True
    with pytest.raises(InputError, match="--polish"):
        FitConfig(polish=-1)
    assert FitConfig().polish is None and FitConfig(model=FourierModelConfig()).polish == 0


def test_the_polish_does_not_depend_on_the_loss_units(transport_file: Path) -> None:
    """L-BFGS's tolerances are absolute; the polish divides the loss by its first value, so the same
    fit with its loss in units 1e-10 smaller takes the same steps (absolute tolerances stop it at once:
    every gradient entry is below 1e-7 there)."""
    one = DistContext(0, 1, torch.device("cpu"))
    with TrajectoryFile(transport_file) as data:
        split = TrainSplit(data, 2**30)
        runs = []
        for weight in (1.0, 1e-10):
            torch.manual_seed(0)
            model = build_model(ModelConfig(variant="anodev2"), data.x).double()
            result = polish(model, split, data.t.tolist(), budget=40, kind="mse", weight=weight, ctx=one,
                            chunk=8, dtype=torch.float64)
            runs.append((result, [p.detach().clone() for p in model.parameters()]))
    (plain, plain_weights), (small, small_weights) = runs
    assert plain.evaluations == small.evaluations > 10
    assert small.loss_after < 0.2 * small.loss_before  # it went as far as the plain one
    assert small.loss_after / small.loss_before == pytest.approx(plain.loss_after / plain.loss_before, rel=1e-6)
    for a, b in zip(plain_weights, small_weights, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)


def test_a_polish_that_stops_early_restarts_once_and_ends_when_the_restart_gains_nothing(
        transport_file: Path) -> None:
    """ANODE (constant multipliers) cannot follow c(t): L-BFGS reaches its best constant velocity well
    before the budget and stops on its tolerances. The polish restarts it from the best weights with a
    fresh history; the restart gains less than RESTART_MIN_GAIN, so the polish ends there, keeping the
    best loss it evaluated."""
    one = DistContext(0, 1, torch.device("cpu"))
    with TrajectoryFile(transport_file) as data:
        split = TrainSplit(data, 2**30)
        torch.manual_seed(0)
        model = build_model(ModelConfig(variant="anode"), data.x).double()
        evaluated: list[float] = []
        result = polish(model, split, data.t.tolist(), budget=400, kind="mse", weight=1.0, ctx=one, chunk=8,
                        dtype=torch.float64, on_evaluation=evaluated.append)
        kept = training_loss(model, split, data.t.tolist(), "mse", 1.0, one, 8, torch.float64).item()
    assert result.restarts == 1 and 10 < result.evaluations == len(evaluated) < 400 and not result.overflowed
    assert result.loss_after == min(evaluated) == pytest.approx(kept, rel=1e-12)
    assert result.loss_after < 0.5 * result.loss_before


def test_a_polish_whose_trial_step_blows_up_restarts_with_shorter_steps_and_still_gains(
        transport_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A line-search trial whose loss is not finite (the solve blew up) would hand torch's strong-Wolfe
    interpolation a NaN step and every later evaluation would be NaN: the polish ends that L-BFGS run and
    starts the next from the best weights with steps STEP_CUT times shorter, and so still gains."""
    one = DistContext(0, 1, torch.device("cpu"))
    real_loss = polish_module.training_loss
    calls = []

    def blows_up_once(model: torch.nn.Module, *args: object) -> torch.Tensor:
        loss = real_loss(model, *args)
        calls.append(loss.item())
        if len(calls) == 2:  # the first trial step: a solve that overflowed
            for p in model.parameters():
                p.grad.fill_(float("nan"))
            return torch.full_like(loss, float("nan"))
        return loss

    monkeypatch.setattr(polish_module, "training_loss", blows_up_once)
    with TrajectoryFile(transport_file) as data:
        split = TrainSplit(data, 2**30)
        torch.manual_seed(0)
        model = build_model(ModelConfig(variant="anodev2"), data.x)
        result = polish(model, split, data.t.tolist(), budget=60, kind="mse", weight=1.0, ctx=one, chunk=8,
                        dtype=torch.float32)
    assert result.restarts >= 1 and all(torch.isfinite(p).all() for p in model.parameters())
    assert result.loss_after < 0.3 * result.loss_before


@pytest.mark.parametrize("latent", [5, 60])
def test_the_default_polish_budget_is_200_evaluations_or_2_per_parameter(
        transport_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, latent: int) -> None:
    budgets = []
    real_polish = trainer.polish

    def recorded(*args: object, budget: int, **kwargs: object) -> object:
        budgets.append(budget)
        return real_polish(*args, budget=2, **kwargs)  # the budget is what is checked; two evaluations do

    monkeypatch.setattr(trainer, "polish", recorded)
    summary = fit(transport_file, tmp_path / "run", _config(model=ModelConfig(variant="galerkin", latent=latent),
                                                            epochs=1, polish=None), device="cpu")
    assert budgets == [max(200, 2 * summary["params"])]
    assert read_metrics(tmp_path / "run" / METRICS)[-1]["budget"] == budgets[0]  # what a user reads back
    assert (budgets[0] > 200) == (latent == 60)


def test_a_finished_adam_phase_resumes_into_a_polish_with_the_budget_given_now(
        transport_file: Path, tmp_path: Path) -> None:
    config = _config(model=ModelConfig(variant="anodev2"), epochs=2)
    fit(transport_file, tmp_path / "run", config, device="cpu")
    fit(transport_file, tmp_path / "run", dataclasses.replace(config, polish=3), device="cpu", resume=True)
    last = read_metrics(tmp_path / "run" / METRICS)[-1]
    assert last["phase"] == "polish" and 1 < last["evaluations"] <= 3


def test_a_fit_killed_during_its_polish_resumes_to_the_result_of_an_uninterrupted_run(
        transport_file: Path, tmp_path: Path) -> None:
    """SIGKILL once the last Adam checkpoint is on disk, i.e. during the (deterministic) polish."""
    options = [*SMALL[2:], "--epochs", "3", "--variant", "anodev2-latent", "--dtype", "float64", "--polish", "400"]
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "physode.cli", "fit", str(transport_file), "--out", str(killed), *options]
    sigkill_when(command, lambda: (killed / CHECKPOINT).exists() and load_checkpoint(killed / CHECKPOINT)["epoch"] == 3,
                 "its polish (after the last Adam checkpoint)", cwd=REPO, env=ENV)
    assert load_checkpoint(killed / CHECKPOINT)["polished"] is False and not (killed / SUMMARY).exists()
    assert main(["fit", str(transport_file), "--out", str(killed), *options, "--resume"]) == 0
    straight = tmp_path / "straight"
    assert main(["fit", str(transport_file), "--out", str(straight), *options]) == 0
    records = [without_timing(read_metrics(run / METRICS)) for run in (killed, straight)]
    assert records[0] == records[1] and records[0][-1]["phase"] == "polish"
    final = [json.loads((run / SUMMARY).read_text()) for run in (killed, straight)]
    assert without_timing(final)[0] == without_timing(final)[1]


def test_divergence_stops_with_a_clear_error_and_keeps_the_last_checkpoint(tmp_path: Path) -> None:
    """One sample is huge at the last time only: the loss overflows once the curriculum reaches it."""
    n, nx, times = 16, 16, np.linspace(0.0, 0.5, 6)
    u = np.tile(np.sin(2 * np.pi * np.arange(nx) / nx), (n, len(times), 1))
    u[0, -1] = 1e30
    mask = np.zeros(n, dtype=bool)
    mask[-4:] = True
    path = write_trajectories(tmp_path / "bad.h5", u, times, np.arange(nx) / nx, equation="test",
                              test_mask=mask)
    config = _config(epochs=10, batch_size=12, checkpoint_every=1, eval_every=0, curriculum=0.9)
    with pytest.raises(TrainingDiverged, match=r"diverged: the loss is inf .* last good checkpoint \(epoch \d+\)"):
        fit(path, tmp_path / "run", config, device="cpu")
    kept = load_checkpoint(tmp_path / "run" / CHECKPOINT)
    assert 1 <= kept["epoch"] < 10
    assert all(torch.isfinite(p).all() for p in kept["model"].values())


def test_bad_inputs_are_one_line_errors(transport_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    def fails(argv: list[str], match: str) -> None:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert match in err and err.count("\n") == 1 and "Traceback" not in err, err

    fails(["fit", str(tmp_path / "missing.h5"), "--out", str(tmp_path / "a")], "no such file")
    (tmp_path / "junk.h5").write_text("not hdf5")
    fails(["fit", str(tmp_path / "junk.h5"), "--out", str(tmp_path / "a")], "not an HDF5 file")
    fails(["fit", str(transport_file), "--out", str(tmp_path / "a"), "--width", "4", "--layer", "stencil"], "odd")
    fails(["fit", str(transport_file), "--out", str(tmp_path / "a"), "--method", "leapfrog"], "unknown method")
    fails(["fit", str(transport_file), "--out", str(tmp_path / "a"), "--lr", "-1"],
          "--lr: expected a finite number > 0")
    fails(["fit", str(transport_file), "--out", str(tmp_path / "a"), "--threads", "0"],
          "--threads: expected an integer >= 1")
    fails(["fit", str(transport_file), "--out", str(tmp_path / "a"), "--variant", "resnet"], "invalid choice: 'resnet'")
    with pytest.raises(InputError, match="unknown variant"):
        fit(transport_file, tmp_path / "a", _config(model=ModelConfig(variant="resnet")))

    run = tmp_path / "run"
    assert main(["fit", str(transport_file), "--out", str(run), *SMALL[2:], "--epochs", "2"]) == 0
    fails(["fit", str(transport_file), "--out", str(run), *SMALL[2:], "--epochs", "2"], "already holds a run")
    fails(["fit", str(transport_file), "--out", str(run), *SMALL[2:], "--epochs", "3", "--resume"], "epochs=2")
    (run / CHECKPOINT).write_bytes((run / CHECKPOINT).read_bytes()[:100])
    fails(["fit", str(transport_file), "--out", str(run), *SMALL[2:], "--epochs", "2", "--resume"], "corrupt")
    fails(["evaluate", "pde1d", str(run)], "corrupt")
    fails(["evaluate", "pde1d", str(tmp_path / "nowhere")], "does not exist")


def test_evaluate_cli_prints_and_writes_json(transport_file: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    fit(transport_file, run, _config(epochs=2), device="cpu")
    capsys.readouterr()
    out = tmp_path / "eval.json"
    assert main(["evaluate", "pde1d", str(run / CHECKPOINT), "--data", str(transport_file), "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    written = json.loads(out.read_text())
    summary = json.loads((run / SUMMARY).read_text())
    assert printed["nrmse_predicted"] == written["nrmse_predicted"] == summary["test_nrmse"]
    assert printed["pdebench"] == written["pdebench"] == summary["test_pdebench"]
    with TrajectoryFile(transport_file) as data:
        assert written["n_samples"] == len(data.test)
    other = simulate_transport_to_file(tmp_path / "other.h5", 8, 32, np.linspace(0.0, 0.3, 4), "constant:c0=1")
    with pytest.raises(InputError, match="same grid"):
        evaluate_run(run, other, device="cpu")


def test_relative_loss_is_the_mean_squared_nrmse_of_each_state() -> None:
    true = torch.tensor([[[3.0, 4.0], [0.0, 0.5]]])  # (batch 1, 2 times, 2 points): norms 5 and 0.5
    pred = true + torch.tensor([[[0.0, 1.0], [0.5, 0.0]]])
    assert trajectory_loss(pred, true, "mse").item() == pytest.approx((1.0 + 0.25) / 4)
    assert trajectory_loss(pred, true, "relative").item() == pytest.approx((1.0 / 25 + 0.25 / 0.25) / 2)


def test_evolution_rates_get_their_own_learning_rate(transport_file: Path, tmp_path: Path) -> None:
    with TrajectoryFile(transport_file) as data:
        model = build_model(ModelConfig(variant="anodev2"), data.x)
    groups = model.config.parameter_groups(model, 0.01, 0.2)
    assert [g["lr"] for g in groups] == [0.01, 0.2]
    assert [p is model.layer.weight for p in groups[0]["params"]] == [True]
    assert len(groups[1]["params"]) == 1 and groups[1]["params"][0] is not model.layer.weight
    assert len(model.config.parameter_groups(model, 0.01, None)) == 1  # default: one rate for all
    latent = build_model(ModelConfig(variant="anodev2-latent"), data.x)
    (operator,) = latent.block.operators
    weights, rates = latent.config.parameter_groups(latent, 0.01, 0.2)
    generator = {id(p) for p in operator.generator_parameters()}
    assert generator and generator <= {id(p) for p in weights["params"]}  # A's rates stay with the weights
    assert {id(p) for p in rates["params"]} == {id(operator.readout_vector)}
    summary = fit(transport_file, tmp_path / "run", _config(lr=0.01, rate_lr=0.2, loss="relative"), device="cpu")
    assert np.isfinite(summary["test_nrmse"])
    with pytest.raises(InputError, match="--loss"):
        FitConfig(loss="l1")
    with pytest.raises(InputError, match="--rate-lr"):
        FitConfig(rate_lr=0.0)


def test_resume_ignores_settings_the_variant_does_not_use(transport_file: Path, tmp_path: Path) -> None:
    # An anode run does not use the latent dimension: a changed default of it must not refuse the
    # resume; a setting the variant does use still must.
    run = tmp_path / "run"
    fit(transport_file, run, _config(model=ModelConfig(variant="anode", latent=5), epochs=2), device="cpu")
    again = fit(transport_file, run, _config(model=ModelConfig(variant="anode", latent=9, hidden=4), epochs=2),
                device="cpu", resume=True)
    assert np.isfinite(again["test_nrmse"])
    with pytest.raises(InputError, match="cannot resume"):
        fit(transport_file, run, _config(model=ModelConfig(variant="anode", steps_per_interval=3), epochs=2),
            device="cpu", resume=True)
    latent = tmp_path / "latent"
    fit(transport_file, latent, _config(model=ModelConfig(variant="anodev2-latent", latent=3), epochs=2), device="cpu")
    with pytest.raises(InputError, match="latent"):
        fit(transport_file, latent, _config(model=ModelConfig(variant="anodev2-latent", latent=5), epochs=2),
            device="cpu", resume=True)
