"""`physode fit --model fourier`: the Fourier-operator ODE fit end to end on real HDF5 files.

Exact resume after SIGKILL, the checkpoint rebuilds the model for evaluate and plot, options of
the other model kind are one-line errors.
"""

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
from physode.problems.pde import simulate_fisher_kpp
from physode.problems.fitting.evaluate import SUMMARY, evaluate_run, load_run
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import FourierModelConfig, FourierTrajectoryModel
from physode.training import CHECKPOINT, METRICS, load_checkpoint, read_metrics
from physode.trajectories import write

from killed_runs import sigkill_when, without_timing

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
# A small network keeps each step a few milliseconds.
TINY = ["--model", "fourier", "--hidden-channels", "8", "--modes", "6", "--blocks", "1"]
SMALL = [*TINY, "--epochs", "6", "--batch-size", "8", "--checkpoint-every", "1", "--eval-every", "4",
         "--seed", "2", "--no-progress", "--device", "cpu"]


def fisher_kpp_file(path: Path, n_samples: int, times: np.ndarray) -> Path:
    """Fisher-KPP on 32 points: solved resolved on 64, every other point kept."""
    data = simulate_fisher_kpp(n_samples, 64, times, diffusivity=0.01, rate=5.0, seed=0)
    return write(path, dataclasses.replace(data, u=data.u[..., ::2], x=data.x[::2]), seed=0, test_fraction=0.25)


@pytest.fixture(scope="module")
def fisher_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fisher_kpp_file(tmp_path_factory.mktemp("data") / "fisher.h5", 24, np.linspace(0.0, 0.4, 5))


def test_sigkilled_fourier_fit_resumes_exactly_and_evaluate_rebuilds_it(fisher_file: Path, tmp_path: Path) -> None:
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "physode.cli", "fit", str(fisher_file), "--out", str(killed), *SMALL]
    sigkill_when(command, (killed / CHECKPOINT).exists, "its first checkpoint", cwd=REPO, env=ENV)
    assert load_checkpoint(killed / CHECKPOINT)["epoch"] < 6 and not (killed / SUMMARY).exists()
    assert main(["fit", str(fisher_file), "--out", str(killed), *SMALL, "--resume"]) == 0

    straight = tmp_path / "straight"
    assert main(["fit", str(fisher_file), "--out", str(straight), *SMALL]) == 0
    assert without_timing(read_metrics(killed / METRICS)) == without_timing(read_metrics(straight / METRICS))
    summaries = [json.loads((run / SUMMARY).read_text()) for run in (killed, straight)]
    assert without_timing(summaries)[0] == without_timing(summaries)[1]
    assert summaries[0]["model"] == "fourier" and summaries[0]["variant"] == "anodev2"
    assert "layer" not in summaries[0]

    # The checkpoint records the model kind and config: evaluate rebuilds the same network.
    state = load_checkpoint(killed / CHECKPOINT)
    assert state["config"]["model"]["kind"] == "fourier" and state["config"]["model"]["width"] == 8
    assert state["config"]["lr"] == 3e-3 and state["config"]["rate_lr"] == 0.03
    loaded = load_run(killed)
    assert isinstance(loaded.model, FourierTrajectoryModel) and loaded.label == "ANODEV2 (fourier)"
    assert loaded.model.config == FourierModelConfig(width=8, modes=6, blocks=1)
    assert evaluate_run(killed, device="cpu")["nrmse_predicted"] == summaries[0]["test_nrmse"]
    assert main(["plot", str(killed), "--out", str(tmp_path / "fig.png")]) == 0  # no velocity panel needed


def test_fourier_options_reach_the_model(fisher_file: Path, tmp_path: Path) -> None:
    argv = ["fit", str(fisher_file), "--out", str(tmp_path / "run"), *TINY, "--variant", "anodev2",
            "--linear-term", "--linear-modes", "3", "--evolve", "projection,linear", "--epochs", "1",
            "--rate-lr", "0.05", "--no-progress", "--device", "cpu"]
    assert main(argv) == 0
    model = load_run(tmp_path / "run").model
    assert model.ode.field.linear.modes == 3
    assert model.ode.block.evolved == ("projection.weight", "linear.weight")
    state = load_checkpoint(tmp_path / "run" / CHECKPOINT)
    # Two Adam groups: the network at --lr's default, the linear term and the reaction rates at --rate-lr.
    groups = state["optimizer"]["param_groups"]
    assert [g["max_lr"] for g in groups] == [3e-3, 0.05]
    n_rates = len(model.rate_parameters())
    assert len(groups[1]["params"]) == n_rates == 3  # L's multipliers and one rate vector per evolved weight


@pytest.mark.parametrize("variant", ["anode", "neuralode"])
def test_static_fourier_runs_with_a_linear_term_rebuild_and_polish(variant: str, fisher_file: Path,
                                                                   tmp_path: Path) -> None:
    """A stored config carries the resolved evolve default; a static variant must rebuild from it."""
    argv = ["fit", str(fisher_file), "--out", str(tmp_path / "run"), *TINY, "--variant", variant,
            "--linear-term", "--epochs", "1", "--polish", "3", "--no-progress", "--device", "cpu"]
    assert main(argv) == 0
    assert load_run(tmp_path / "run").model.config.variant == variant
    last = read_metrics(tmp_path / "run" / METRICS)[-1]
    assert last["phase"] == "polish" and last["evaluations"] == 3 and last["train_loss"] <= last["train_loss_before"]


def test_parameter_groups_split_rates_from_the_network() -> None:
    model = FourierTrajectoryModel(FourierModelConfig(width=4, modes=3, blocks=1, linear=True))
    network, rates = model.config.parameter_groups(model, 1e-3, 0.1)
    assert {id(p) for p in rates["params"]} == {id(p) for p in model.rate_parameters()}
    assert len(network["params"]) + len(rates["params"]) == len(list(model.parameters()))
    assert (network["lr"], rates["lr"]) == (1e-3, 0.1)
    assert FourierModelConfig(modes=16, linear=True).linear_modes == 8  # the RK4 cap
    assert FourierModelConfig(modes=4, linear=True).linear_modes == 4


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--model", "fourier", "--layer", "stencil"], "--layer only applies to --model linear"),
        (["--model", "fourier", "--width", "5", "--per-mode-reaction"], "--width, --per-mode-reaction only apply"),
        (["--linear-term"], "--linear-term only applies to --model fourier"),
        (["--hidden-channels", "8", "--evolve", "linear"], "only apply to --model fourier"),
        ([*TINY, "--variant", "anode", "--evolve", "projection"], "static weights; evolve applies"),
        ([*TINY, "--evolve", "linear"], "set linear=True"),
        ([*TINY, "--evolve", "lift"], "unknown weight group"),
        ([*TINY, "--linear-modes", "4"], "set linear=True"),
        ([*TINY[:-2], "--blocks", "0"], "argument --blocks: expected an integer >= 1"),
        ([*TINY, "--rate-lr", "-1"], "argument --rate-lr: expected"),
        ([*TINY, "--hidden-channels", "x"], "argument --hidden-channels: expected an integer"),
        (["--model", "fno"], "invalid choice: 'fno'"),
        ([*TINY, "--method", "leapfrog"], "unknown method"),
    ],
)
def test_bad_fourier_options_are_one_line_errors(fisher_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                                 extra: list[str], match: str) -> None:
    argv = ["fit", str(fisher_file), "--out", str(tmp_path / "run"), *extra, "--no-progress"]
    try:
        code, by_argparse = main(argv), False
    except SystemExit as exit:  # argparse's own errors (types, choices): usage, then the error line
        code, by_argparse = exit.code, True
    assert code == 2
    err = capsys.readouterr().err
    error_line = err.strip().splitlines()[-1]
    assert match in error_line and "Traceback" not in err, err
    assert by_argparse or err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()


def test_resume_with_another_model_kind_is_refused(fisher_file: Path, tmp_path: Path) -> None:
    config = FitConfig(model=FourierModelConfig(width=4, modes=3, blocks=1), epochs=1, progress=False)
    fit(fisher_file, tmp_path / "run", config, device="cpu")
    with pytest.raises(Exception, match="cannot resume .*kind"):
        fit(fisher_file, tmp_path / "run", FitConfig(epochs=1, progress=False), device="cpu", resume=True)
    assert torch.equal(load_checkpoint(tmp_path / "run" / CHECKPOINT)["model"]["ode.field.lift.weight"],
                       load_run(tmp_path / "run").model.state_dict()["ode.field.lift.weight"])


def test_fourier_model_beats_the_linear_layer_on_a_nonlinear_pde(tmp_path: Path) -> None:
    """Fisher-KPP saturates (u -> 1), which no linear generator represents: in the same bounded
    number of steps (60 fourier, 80 linear) the Fourier network ends well below the linear layer."""
    path = fisher_kpp_file(tmp_path / "fisher.h5", 24, np.linspace(0.0, 1.0, 6))  # r t = 5: saturated
    common = {"batch_size": 12, "eval_every": 0, "progress": False}
    linear = fit(path, tmp_path / "linear", FitConfig(epochs=40, polish=0, **common), device="cpu")  # Adam's steps only
    fourier = fit(path, tmp_path / "fourier", FitConfig(
        model=FourierModelConfig(width=16, modes=8, blocks=1), epochs=30, lr=0.02, **common), device="cpu")
    assert read_metrics(tmp_path / "fourier" / METRICS)[-1]["step"] == 60
    assert fourier["test_nrmse"] < 0.6 * linear["test_nrmse"], (fourier["test_nrmse"], linear["test_nrmse"])
