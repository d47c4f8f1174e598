"""The peers package (physode.problems.peers): the FNO peers train as documented (seeded, early-stopped on
the validation split only, within a wall-time budget), answer the times they can and refuse the others,
and the autoregressive one beats persistence; the reference predictors."""

from __future__ import annotations

import math
import shutil
import sys
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from physode.errors import InputError
from physode.problems import pde
from physode.problems.fitting.samples import Splits
from physode.problems.peers import PEERS, PeerData, fit_peer
from physode.trajectories import TrajectoryFile, rollout_errors, write

TIMES = np.linspace(0.0, 1.0, 9)


@pytest.fixture(scope="module")
def diffusion(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Diffusion with nu(t) = 0.001 exp(1.5 t): 48 samples (12 test), 16 points, 9 times."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = pde.simulate_diffusion(48, 16, TIMES, nu="exponential:c0=0.001,a=1.5",
                                      initial=pde.FourierSeries(max_wavenumber=3), seed=0)
    return write(tmp_path_factory.mktemp("peers") / "diffusion.h5", data, seed=0, test_fraction=0.25)


def held_out(path: Path) -> torch.Tensor:
    with TrajectoryFile(path) as data:
        return data.batch(data.test)[:, :, None]


def test_the_split_is_physode_fits(diffusion: Path) -> None:
    """PeerData's fit and validation samples are those `physode fit` trains and validates on, seed for seed."""
    for seed in (0, 1):
        peer_data = PeerData.from_file(diffusion, seed=seed, validation_fraction=0.2)
        with TrajectoryFile(diffusion) as data:
            splits = Splits.carve(data, 0.2, seed, cache_limit_bytes=1 << 20)
            assert splits.validation is not None and len(peer_data.validation) == len(splits.validation) > 0
            assert torch.equal(peer_data.fit[:, :, 0], splits.fit.read(np.arange(len(splits.fit))))
            assert torch.equal(peer_data.validation[:, :, 0], splits.validation.read(np.arange(len(splits.validation))))
            assert not set(splits.fit.indices) & set(data.test)
    assert len(PeerData.from_file(diffusion, seed=0).validation) == 0  # 36 samples: physode fit holds none out


def test_the_reference_predictors(diffusion: Path) -> None:
    data = PeerData.from_file(diffusion, seed=0)
    true = held_out(diffusion)
    zero, persistence = (fit_peer(name, data, seed=0) for name in ("zero", "persistence"))
    assert zero.parameters == persistence.parameters == 0 and zero.stopped == "not trained"
    assert rollout_errors(zero.predict(true[:, 0], data.times), true).nrmse_predicted == 1.0
    repeated = persistence.predict(true[:, 0], data.times)
    assert torch.equal(repeated, true[:, :1].expand_as(true))
    assert PEERS["persistence"].can_extrapolate and not PEERS["fno"].can_extrapolate


def test_the_autoregressive_peer_beats_persistence(diffusion: Path) -> None:
    pytest.importorskip("neuralop")
    data = PeerData.from_file(diffusion, seed=0, validation_fraction=0.2)
    true = held_out(diffusion)
    persistence = rollout_errors(true[:, :1].expand_as(true), true).nrmse_predicted
    fit = fit_peer("fno-ar", data, seed=0, max_epochs=40, modes=8)
    scored = rollout_errors(fit.predict(true[:, 0], data.times), true).nrmse_predicted
    assert scored < 0.5 * persistence, (scored, persistence)
    assert fit.epochs <= 40 and fit.parameters > 0 and fit.device == "cpu"


def test_each_fno_answers_the_times_it_can(diffusion: Path) -> None:
    """fno-time predicts between and beyond the stored times; fno refuses both, fno-ar refuses between."""
    pytest.importorskip("neuralop")
    data = PeerData.from_file(diffusion, seed=0, validation_fraction=0.2)
    u0 = held_out(diffusion)[:3, 0]
    between, beyond = torch.tensor([0.0, 0.0625, 0.5]), torch.tensor([0.0, 1.5])
    fits = {name: fit_peer(name, data, seed=0, max_epochs=1, modes=4) for name in ("fno", "fno-time", "fno-ar")}
    for times in (between, beyond):
        predicted = fits["fno-time"].predict(u0, times)
        assert predicted.shape == (3, len(times), 1, 16) and torch.isfinite(predicted).all()
        assert torch.equal(predicted[:, 0], u0)  # the given frame
        with pytest.raises(InputError, match="only the stored times"):
            fits["fno"].predict(u0, times)
    assert fits["fno-ar"].predict(u0, beyond).shape == (3, 2, 1, 16)
    with pytest.raises(InputError, match="t0 \\+ k dt"):
        fits["fno-ar"].predict(u0, between)
    stored = fits["fno"].predict(u0, data.times[[0, 4, 8]])  # a subset of the stored times
    assert torch.equal(stored, fits["fno"].predict(u0, data.times)[:, [0, 4, 8]])
    with pytest.raises(InputError, match="shape"):
        fits["fno"].predict(u0[:, 0], data.times)


def poisoned_copy(path: Path, tmp_path: Path) -> Path:
    """A copy of ``path`` whose test samples are NaN, every other one 1e30: a fit that read them would change."""
    poisoned = Path(shutil.copy(path, tmp_path / "poisoned.h5"))
    with h5py.File(poisoned, "r+") as raw, TrajectoryFile(path) as clean:
        field = raw["u"][...]
        field[clean.test] = np.nan
        field[clean.test[::2]] = 1e30
        raw["u"][...] = field
    return poisoned


def test_early_stopping_never_reads_the_test_split(diffusion: Path, tmp_path: Path) -> None:
    """The test samples replaced by NaN and huge values: the same fit, the same predictions, seed for
    seed; another seed gives another fit."""
    pytest.importorskip("neuralop")
    poisoned = poisoned_copy(diffusion, tmp_path)
    u0 = held_out(diffusion)[:, 0]
    fits = [fit_peer("fno", PeerData.from_file(path, seed=0, validation_fraction=0.2), seed=seed, max_epochs=4,
                     modes=4) for path, seed in ((diffusion, 0), (poisoned, 0), (diffusion, 1))]
    assert fits[0].epochs == fits[1].epochs == 4
    first, again, other = (fit.predict(u0, fit.predictor.stored) for fit in fits)
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_the_budget_stops_the_fit(diffusion: Path) -> None:
    pytest.importorskip("neuralop")
    data = PeerData.from_file(diffusion, seed=0, validation_fraction=0.2)
    fit = fit_peer("fno-time", data, seed=0, budget_seconds=0.5, modes=4)
    assert fit.stopped == "budget" and math.isfinite(fit.fit_seconds)
    assert 0.5 <= fit.fit_seconds < 5.0  # at most one batch and one validation past the budget
    capped = fit_peer("fno", data, seed=0, max_epochs=2, modes=4)
    assert capped.stopped == "epoch cap" and capped.epochs == 2


def test_bad_requests_are_input_errors(diffusion: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = PeerData.from_file(diffusion, seed=0)
    with pytest.raises(InputError, match="unknown peer 'unet'"):
        fit_peer("unet", data, seed=0)
    with pytest.raises(InputError, match="budget_seconds must be positive"):
        fit_peer("fno", data, seed=0, budget_seconds=0)
    monkeypatch.setitem(sys.modules, "neuralop.models", None)  # as if neuraloperator were not installed
    with pytest.raises(InputError, match=r"pip install 'physode\[bench\]'"):
        fit_peer("fno", data, seed=0)


class CountingStep(torch.nn.Module):
    """A step that adds nothing and records, per call, whether autograd tracks it."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.zeros(()))
        self.tracked: list[bool] = []

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        self.tracked.append(torch.is_grad_enabled())
        return self.scale * u


def test_the_pushforward_phase_unrolls_without_gradient_then_trains_one_step() -> None:
    from physode.problems.peers.autoregressive import PUSHFORWARD, AutoregressiveTask

    task = AutoregressiveTask(torch.tensor(TIMES), phases=2)
    batch = torch.rand(5, len(TIMES), 1, 16, generator=torch.Generator().manual_seed(0)) + 1.0
    step = CountingStep()
    generator = torch.Generator().manual_seed(0)
    task.loss(step, batch, None, generator, phase=0)
    assert step.tracked == [True]  # teacher forcing: one step from a true state
    unrolled = set()
    for _ in range(20):
        step.tracked.clear()
        loss = task.loss(step, batch, None, generator, phase=1)
        assert step.tracked[-1] and not any(step.tracked[:-1]) and loss.requires_grad
        unrolled.add(len(step.tracked) - 1)
    assert unrolled == set(range(1, PUSHFORWARD + 1))
