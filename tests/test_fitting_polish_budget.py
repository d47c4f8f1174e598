"""A time budget (``physode fit --budget``) holds Adam and the L-BFGS polish together: the polish stops
when the next evaluation would end past it, and does not start without room for one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import ModelConfig, build_model
from physode.problems.fitting.polish import polish
from physode.problems.fitting.samples import TrainSplit
from physode.problems.pde import simulate_transport_to_file
from physode.trajectories import TrajectoryFile
from physode.training import METRICS, DistContext, read_metrics

ONE = DistContext(0, 1, torch.device("cpu"))


@pytest.fixture(scope="module")
def transport_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "transport.h5"
    return simulate_transport_to_file(path, 40, 16, np.linspace(0.0, 0.3, 7), "exponential:c0=0.5,a=1.5",
                                      initial="fourier", seed=0, test_fraction=0.25)


class CountingClock:
    """A clock that advances one second each time it is read: a polish's timing without real time."""

    def __init__(self) -> None:
        self.readings: list[float] = []

    def __call__(self) -> float:
        self.readings.append(float(len(self.readings)))
        return self.readings[-1]


def _polish(data: TrajectoryFile, **options: object):
    split = TrainSplit(data, 2**30)
    torch.manual_seed(0)
    model = build_model(ModelConfig(variant="anodev2"), data.x).double()
    return polish(model, split, data.t.tolist(), budget=60, kind="mse", weight=1.0, ctx=ONE, chunk=8,
                  dtype=torch.float64, **options)


def test_the_polish_starts_no_evaluation_that_would_end_past_its_seconds(transport_file: Path) -> None:
    clock = CountingClock()
    with TrajectoryFile(transport_file) as data:
        unbounded = _polish(data)
        bounded = _polish(data, seconds=12.0, clock=clock)
    assert unbounded.stop != "time" and unbounded.evaluations > 10  # it would run on
    # The polish reads the clock once as it begins, then at each evaluation's start and end: each takes a
    # second and starts a second after the last ended, so the 6th ends at 12 s and a 7th would end at 14 s.
    assert bounded.stop == "time" and bounded.evaluations == 6
    assert bounded.loss_after <= bounded.loss_before


def test_a_budgeted_fit_polishes_within_the_time_adam_left(transport_file: Path, tmp_path: Path) -> None:
    """The recorded phases: Adam's epochs, then a polish cut by the budget, together within it (plus a
    slack for one evaluation, a few milliseconds here, timed on a shared machine). Unbudgeted, this polish
    takes ~500 evaluations, 3.8 s on a loaded machine."""
    budget = 1.0
    config = FitConfig(model=ModelConfig(variant="anodev2-latent"), epochs=2, batch_size=8, polish=10**5,
                       validation_fraction=0, budget_seconds=budget, progress=False, dtype="float64")
    summary = fit(transport_file, tmp_path / "run", config, device="cpu")
    *adam, last = read_metrics(tmp_path / "run" / METRICS)
    assert adam[-1]["stop"] == "epochs" and adam[-1]["time_s"] < budget
    assert last["phase"] == "polish" and last["stop"] == "time" and last["evaluations"] > 1
    assert summary["fit_time_s"] == pytest.approx(last["time_s"]) and summary["fit_time_s"] <= budget + 0.5


def test_a_spent_budget_leaves_no_polish(transport_file: Path, tmp_path: Path) -> None:
    config = FitConfig(model=ModelConfig(variant="anodev2"), epochs=5, batch_size=8, polish=100,
                       budget_seconds=1e-6, progress=False)
    summary = fit(transport_file, tmp_path / "run", config, device="cpu")
    records = read_metrics(tmp_path / "run" / METRICS)
    assert summary["stopped"] == "budget" and len(records) == 1 and "phase" not in records[-1]
