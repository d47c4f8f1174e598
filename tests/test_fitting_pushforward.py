"""The pushforward (``FitConfig.pushforward``): windows trained from the model's own earlier prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from physode.cli import main
from physode.errors import InputError
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig, pushforward_length
from physode.problems.fitting.loss import trajectory_loss
from physode.problems.fitting.models import FourierModelConfig, ModelConfig
from physode.problems.fitting.trainer import Trainer
from physode.problems.fitting.windows import WindowPlan
from physode.problems.pde import simulate_transport_to_file
from physode.trajectories import TrajectoryFile
from physode.training import CHECKPOINT, METRICS, DistContext, load_checkpoint, read_metrics

ONE = DistContext(0, 1, torch.device("cpu"))
TINY_FOURIER = FourierModelConfig(variant="anode", width=4, modes=4, blocks=1)


def _config(**changes: object) -> FitConfig:
    return FitConfig(**{"model": TINY_FOURIER, "epochs": 2, "batch_size": 8, "lr": 0.05, "polish": 0,
                        "progress": False, "windows": 1, **changes})


@pytest.fixture(scope="module")
def transport_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Constant-velocity transport: 60 samples, 7 stored times."""
    path = tmp_path_factory.mktemp("data") / "transport.h5"
    return simulate_transport_to_file(path, 60, 16, np.linspace(0.0, 0.3, 7), "constant:c0=0.5",
                                      initial="fourier", seed=0, test_fraction=0.25)


def _trainer(path: Path, config: FitConfig) -> Trainer:
    data = TrajectoryFile(path)
    return Trainer(config, data, {"path": str(path)}, path.parent, ONE, None)


def test_a_pushforward_of_one_trains_exactly_as_the_stored_start_does(transport_file: Path, tmp_path: Path) -> None:
    runs = {k: fit(transport_file, tmp_path / f"run{k}", _config(pushforward=k), device="cpu") for k in (None, 1)}
    assert runs[None]["test_nrmse"] == runs[1]["test_nrmse"] and runs[1]["pushforward"] == 1
    weights = [load_checkpoint(tmp_path / f"run{k}" / CHECKPOINT)["model"] for k in (None, 1)]
    for name, value in weights[0].items():
        assert torch.equal(value, weights[1][name]), name
    losses = [[r["train_loss"] for r in read_metrics(tmp_path / f"run{k}" / METRICS)] for k in (None, 1)]
    assert losses[0] == losses[1]


def test_a_window_is_read_pushforward_minus_one_intervals_before_its_trained_part(transport_file: Path) -> None:
    """Every stored state that has 2 intervals after it starts one window; the model is handed the stored
    state there and its true times, then its own prediction one interval on and the window's true times."""
    trainer = _trainer(transport_file, _config(model=ModelConfig(variant="neuralode"), pushforward=3))
    assert trainer.plan == WindowPlan(windows=1, lead=2, intervals=6) and trainer.plan.starts == 4
    calls = []
    forward = trainer.model.forward

    def recorded(u0: torch.Tensor, times: list[float]) -> torch.Tensor:
        out = forward(u0, times)
        calls.append((u0.clone(), list(times), u0.requires_grad, torch.is_grad_enabled(), out.detach()))
        return out

    trainer.model.forward = recorded
    t = trainer.data.t.tolist()
    for size, start, shard, observed in trainer.batches():
        loss = trainer.batch_loss(size, start, shard, observed, step=0)
        (u0, times, _, grad_on, rolled), (first, window, first_grad, window_grad, pred) = calls[-2:]
        assert times == t[start : start + 3] and not grad_on  # the rollout: no graph
        torch.testing.assert_close(u0, shard[:, start].float())
        assert torch.equal(first, rolled[:, -1]) and not first_grad and window_grad  # its end starts the window
        assert window == t[start + 2 : start + 4]
        expected = trajectory_loss(pred[:, 1:], shard[:, start + 3 : start + 4].float(), "mse", trainer.weight)
        torch.testing.assert_close(loss.shard.detach(), expected)  # on the window's interval only
    assert {c[1][0] for c in calls[::2]} == set(t[:4])


def test_the_gradient_is_that_of_a_window_started_from_the_detached_prediction(transport_file: Path) -> None:
    trainer = _trainer(transport_file, _config(pushforward=2, dtype="float64"))
    model, t = trainer.model, trainer.data.t.tolist()
    shard = torch.from_numpy(trainer.data[trainer.split.indices[:5]]).double()
    start = 2
    loss = trainer.batch_loss(5, start, shard, None, step=0).shard
    got = torch.autograd.grad(loss, list(model.parameters()))

    def window_loss(detach: bool) -> tuple[torch.Tensor, ...]:
        first = model(shard[:, start], t[start : start + 2])[:, -1]
        pred = model(first.detach() if detach else first, t[start + 1 : start + 3])
        loss = trajectory_loss(pred[:, 1:], shard[:, start + 2 : start + 3], "mse", trainer.weight)
        return torch.autograd.grad(loss, list(model.parameters()))

    for mine, expected in zip(got, window_loss(detach=True)):
        torch.testing.assert_close(mine, expected, rtol=1e-12, atol=1e-15)
    # Through the rollout too, the gradient would differ: the check above can fail.
    assert any(not torch.allclose(mine, other) for mine, other in zip(got, window_loss(detach=False)))


def test_the_pushforward_is_refused_where_it_would_be_wrong(transport_file: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--pushforward must be >= 1"):
        _config(pushforward=0)
    with pytest.raises(InputError, match="evolves its weights from the first stored time"):
        _config(model=ModelConfig(variant="anodev2"), windows=None, pushforward=2)
    with pytest.raises(InputError, match="--pushforward needs training windows"):
        _config(windows=0, pushforward=2)
    with pytest.raises(InputError, match="--pushforward needs training windows"):
        FitConfig(model=ModelConfig(variant="anode"), pushforward=2)  # the linear model's default: no windows
    with pytest.raises(InputError, match="spans 7, the file has 6"):
        fit(transport_file, tmp_path / "run", _config(windows=2, pushforward=6), device="cpu")
    assert not (tmp_path / "run").exists()
    assert pushforward_length(_config()) == 1


def test_the_checkpoint_records_it_and_an_older_one_resumes_without(transport_file: Path, tmp_path: Path) -> None:
    config = _config(pushforward=2, epochs=1)
    summary = fit(transport_file, tmp_path / "run", config, device="cpu")
    state = load_checkpoint(tmp_path / "run" / CHECKPOINT)
    assert state["pushforward"] == summary["pushforward"] == 2
    del state["pushforward"]  # as a checkpoint written before the pushforward existed
    with TrajectoryFile(transport_file) as data:
        assert Trainer(config, data, state["data"], tmp_path / "run", ONE, state).plan.lead == 0


def test_the_command_line_takes_it(transport_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["fit", str(transport_file), "--out", str(out), "--model", "fourier", "--variant", "anode",
                 "--hidden-channels", "4", "--modes", "4", "--blocks", "1", "--epochs", "1", "--pushforward", "2",
                 "--no-progress"]) == 0
    assert load_checkpoint(out / CHECKPOINT)["config"]["pushforward"] == 2
    capsys.readouterr()
    refused = ["fit", str(transport_file), "--out", str(tmp_path / "refused"), "--model", "fourier",
               "--variant", "anode"]
    for extra, message in ((["--pushforward", "0"], "argument --pushforward: expected an integer >= 1"),
                           (["--windows", "0", "--pushforward", "2"], "--pushforward needs training windows")):
        assert main([*refused, *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "refused" / CHECKPOINT).exists()
