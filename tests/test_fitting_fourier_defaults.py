"""The fourier family's training defaults: one RK4 step per stored interval, backprop gradients (exact,
recorded in the stored config), and runs fit before those defaults resuming with what they used."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from physode.cli import main
from physode.errors import InputError
from physode.problems.fitting.models import FourierModelConfig, FourierTrajectoryModel, stored_config
from physode.problems.pde import simulate_fisher_kpp
from physode.training import CHECKPOINT, load_checkpoint, save_checkpoint
from physode.trajectories import write

from killed_runs import sigkill_when

REPO = Path(__file__).resolve().parents[1]

TINY = ["--model", "fourier", "--variant", "anode", "--hidden-channels", "6", "--modes", "5", "--blocks", "1",
        "--batch-size", "8", "--no-progress", "--device", "cpu"]


@pytest.fixture(scope="module")
def fisher_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = simulate_fisher_kpp(24, 64, np.linspace(0.0, 0.3, 4), diffusivity=0.01, rate=5.0, seed=0)
    data = dataclasses.replace(data, u=data.u[..., ::2], x=data.x[::2])  # resolved on 64 points, 32 kept
    return write(tmp_path_factory.mktemp("data") / "fisher.h5", data, seed=0, test_fraction=0.25)


def test_the_defaults_are_one_step_and_backprop_except_where_the_variant_has_its_own_gradient() -> None:
    assert FourierModelConfig().steps_per_interval == 1
    assert FourierModelConfig(variant="anode").grad == FourierModelConfig(variant="anodev2").grad == "backprop"
    assert FourierModelConfig(variant="neuralode").grad == "adjoint"
    assert FourierModelConfig(variant="anode", grad="checkpoint").grad == "checkpoint"
    with pytest.raises(InputError, match="unknown gradient strategy 'exact'"):
        FourierModelConfig(grad="exact")


@pytest.mark.parametrize("linear", [False, True])
def test_backprop_and_checkpoint_gradients_of_a_window_agree_in_float64(linear: bool) -> None:
    """A one-interval window, one step: the two strategies' gradients of every weight, to round-off."""
    u0 = torch.randn(3, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    grads = []
    for grad in ("backprop", "checkpoint"):
        torch.manual_seed(1)
        model = FourierTrajectoryModel(FourierModelConfig(variant="anode", width=4, modes=4, blocks=2, linear=linear,
                                                          grad=grad)).double()
        assert model.ode.block.grad.name == grad
        with torch.no_grad():  # the projection starts at zero, which would zero the other weights' gradients
            for parameter in model.parameters():
                parameter.add_(0.1 * torch.randn_like(parameter))
        model(u0, [0.1, 0.15])[:, 1:].square().sum().backward()
        grads.append([p.grad for p in model.parameters()])
    assert len(grads[0]) == len(grads[1]) > 0
    for backprop, checkpoint in zip(*grads):
        assert backprop.abs().max() > 0
        torch.testing.assert_close(backprop, checkpoint, rtol=1e-12, atol=1e-14)


def test_the_cli_fits_with_the_defaults_and_records_them(fisher_file: Path, tmp_path: Path) -> None:
    assert main(["fit", str(fisher_file), "--out", str(tmp_path / "run"), *TINY, "--epochs", "1"]) == 0
    model = load_checkpoint(tmp_path / "run" / CHECKPOINT)["config"]["model"]
    assert (model["steps_per_interval"], model["grad"]) == (1, "backprop")
    # The linear family keeps its 2 steps.
    assert main(["fit", str(fisher_file), "--out", str(tmp_path / "linear"), "--model", "linear", "--epochs", "1",
                 "--polish", "0", "--no-progress", "--device", "cpu"]) == 0
    assert load_checkpoint(tmp_path / "linear" / CHECKPOINT)["config"]["model"]["steps_per_interval"] == 2


def test_a_run_from_before_the_defaults_resumes_with_its_steps_and_a_new_one_refuses_other_steps(
        fisher_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "old"
    options = [*TINY, "--epochs", "6", "--checkpoint-every", "1"]
    command = [sys.executable, "-m", "physode.cli", "fit", str(fisher_file), "--out", str(run), *options,
               "--steps-per-interval", "2"]
    sigkill_when(command, (run / CHECKPOINT).exists, "its first checkpoint", cwd=REPO,
                 env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)})
    # As if written before `grad` existed: its config has none (the gradient then was the variant's checkpoint).
    state = load_checkpoint(run / CHECKPOINT)
    assert state["epoch"] < 6
    del state["config"]["model"]["grad"]
    save_checkpoint(run / CHECKPOINT, state)
    # Steps given by hand are the user's: a run of 2 steps is not continued with 1.
    capsys.readouterr()
    assert main(["fit", str(fisher_file), "--out", str(run), *options, "--resume", "--steps-per-interval", "1"]) == 2
    # Left out, the steps are the run's.
    assert main(["fit", str(fisher_file), "--out", str(run), *options, "--resume"]) == 0
    resumed = load_checkpoint(run / CHECKPOINT)
    assert resumed["epoch"] == 6 and resumed["config"]["model"]["steps_per_interval"] == 2
    assert resumed["config"]["model"]["grad"] == "backprop"
    err = capsys.readouterr().err
    assert "cannot resume" in err and "'steps_per_interval': 2" in err and "'steps_per_interval': 1" in err


def test_a_stored_config_without_grad_rebuilds() -> None:
    stored = dataclasses.asdict(FourierModelConfig(variant="anode", width=4, modes=4, blocks=1))
    del stored["grad"]
    assert stored_config(stored).grad == "backprop"
