"""The peers on 2-D files (sample, t, channel, y, x): each FNO peer trains over both spatial axes and
beats the zero predictor, the autoregressive one beats persistence, a walled field gets FNO's domain
padding (a periodic one none), and early stopping never reads the test split."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from physode.errors import InputError
from physode.problems.pde.diffusion_reaction2d import simulate_diffusion_reaction2d
from physode.problems.pde.transport2d import simulate_transport2d
from physode.problems.peers import PeerData, Schedule, fit_peer
from physode.trajectories import TrajectoryFile, rollout_errors, write

from test_peers import poisoned_copy

N = 16  # grid points per axis
TIMES = np.linspace(0.0, 0.5, 6)
SMALL_BATCHES = Schedule(batch=4)  # 6 steps an epoch on 24 fit samples: a few epochs learn something


@pytest.fixture(scope="module")
def transport(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2-D transport of Gaussian bumps at the constant velocity (0.6, -0.3): 40 samples (10 test), 16 x 16
    points, 6 times."""
    data = simulate_transport2d(40, N, TIMES, 0.6, -0.3, initial="gaussian", seed=0)
    return write(tmp_path_factory.mktemp("peers2d") / "transport2d.h5", data, seed=0, test_fraction=0.25)


@pytest.fixture(scope="module")
def walled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """diffusion-reaction2d (no-flux walls, channels u and v): 24 samples, 16 x 16 cells, 6 times."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = simulate_diffusion_reaction2d(24, N, np.linspace(0.0, 1.0, 6), seed=0)
    return write(tmp_path_factory.mktemp("peers2d") / "diffusion_reaction2d.h5", data, seed=0, test_fraction=0.25)


def held_out(path: Path) -> torch.Tensor:
    with TrajectoryFile(path) as data:
        return data.batch(data.test)


def scored(prediction: torch.Tensor, true: torch.Tensor) -> float:
    """The test nRMSE as the benchmarks score 2-D fields: per sample, time and channel over both axes."""
    return rollout_errors(prediction.flatten(3), true.flatten(3)).nrmse_predicted


def test_peer_data_keeps_both_axes_and_the_walls(transport: Path, walled: Path) -> None:
    periodic = PeerData.from_file(transport, seed=0, validation_fraction=0.2)
    assert periodic.fit.shape[1:] == (len(TIMES), 1, N, N) and periodic.space_shape == (N, N) and periodic.periodic
    walls = PeerData.from_file(walled, seed=0, validation_fraction=0.2)
    assert walls.channels == 2 and not walls.periodic


@pytest.mark.parametrize("name", ["fno", "fno-time", "fno-ar"])
def test_each_2d_peer_beats_the_zero_predictor(transport: Path, name: str) -> None:
    pytest.importorskip("neuralop")
    data = PeerData.from_file(transport, seed=0, validation_fraction=0.2)
    true = held_out(transport)
    fit = fit_peer(name, data, seed=0, max_epochs=10, modes=8, schedule=SMALL_BATCHES)
    predicted = fit.predict(true[:, 0], data.times)
    assert predicted.shape == true.shape and torch.equal(predicted[:, 0], true[:, 0])
    zero = scored(fit_peer("zero", data, seed=0).predict(true[:, 0], data.times), true)
    assert zero == pytest.approx(1.0)
    assert scored(predicted, true) < 0.7 * zero, scored(predicted, true)
    with pytest.raises(InputError, match=r"\(samples, 1, 16, 16\) \(samples, channel, y, x\)"):
        fit.predict(true[:, 0, 0], data.times)


def test_the_2d_autoregressive_peer_beats_persistence(transport: Path) -> None:
    pytest.importorskip("neuralop")
    data = PeerData.from_file(transport, seed=0, validation_fraction=0.2)
    true = held_out(transport)
    persistence = scored(fit_peer("persistence", data, seed=0).predict(true[:, 0], data.times), true)
    fit = fit_peer("fno-ar", data, seed=0, max_epochs=15, modes=8, schedule=SMALL_BATCHES)
    assert scored(fit.predict(true[:, 0], data.times), true) < 0.5 * persistence


def test_a_walled_field_gets_fnos_domain_padding(transport: Path, walled: Path) -> None:
    """diffusion-reaction2d's no-flux walls: the FNO pads its domain (neuraloperator's domain_padding) and
    still beats the zero predictor on both channels; a periodic field is not padded."""
    pytest.importorskip("neuralop")
    data = PeerData.from_file(walled, seed=0, validation_fraction=0.2)
    true = held_out(walled)
    fit = fit_peer("fno", data, seed=0, max_epochs=20, modes=8, schedule=SMALL_BATCHES)
    assert fit.model is not None and fit.model.domain_padding is not None
    per_channel = rollout_errors(fit.predict(true[:, 0], data.times).flatten(3), true.flatten(3)).nrmse_per_channel
    assert max(per_channel) < 0.5, per_channel
    periodic = fit_peer("fno", PeerData.from_file(transport, seed=0), seed=0, max_epochs=1, modes=4)
    assert periodic.model is not None and periodic.model.domain_padding is None


def test_2d_early_stopping_never_reads_the_test_split(transport: Path, tmp_path: Path) -> None:
    """The test samples replaced by NaN and huge values: the same fit and predictions, epoch for epoch."""
    pytest.importorskip("neuralop")
    poisoned = poisoned_copy(transport, tmp_path)
    u0 = held_out(transport)[:, 0]
    fits = [fit_peer("fno-ar", PeerData.from_file(path, seed=0, validation_fraction=0.2), seed=0, max_epochs=3,
                     modes=4) for path in (transport, poisoned)]
    assert fits[0].epochs == fits[1].epochs == 3
    times = torch.as_tensor(TIMES)
    assert torch.equal(fits[0].predict(u0, times), fits[1].predict(u0, times))
