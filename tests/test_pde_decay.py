"""`physode simulate` warns, naming the sample count, when trajectories decay below 5% of their norm."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from physode.cli import main
from physode.problems.pde import simulate_wave
from physode.problems.pde.decay import DECAY_FLOOR, decayed_samples, warn_if_decayed
from physode.trajectories import TrajectoryFile, write, write_trajectories


def test_decayed_samples_counts_any_stored_state_below_the_floor(tmp_path: Path) -> None:
    x, t = np.arange(16) / 16, np.linspace(0.0, 1.0, 6)
    rates = np.array([0.0, 1.0, 2.9, 3.1, 8.0])  # exp(-3) = 0.0498: the last two end below 5%
    u = np.exp(-rates[:, None, None] * t[:, None]) * np.sin(2 * np.pi * x) * np.arange(1, 6)[:, None, None]
    u[0, 2] *= 0.04  # one state of a steady sample dips below the floor and recovers: it counts
    path = write_trajectories(tmp_path / "u.h5", u, t, x, equation="test")
    with TrajectoryFile(path) as data:
        assert decayed_samples(data) == 3
        assert decayed_samples(data, batch_size=2) == 3  # counted across blocks
        assert decayed_samples(data, floor=0.01) == 1
        with pytest.warns(UserWarning, match=rf"test: 3 of 5 samples have a state below {DECAY_FLOOR:g} of its"):
            assert warn_if_decayed("test", data) == 3


def test_simulate_warns_on_strong_diffusion_and_not_on_transport(tmp_path: Path, capsys) -> None:
    common = ["--samples", "6", "--nx", "32", "--nt", "5", "--t-final", "1"]
    expected = r"diffusion: 6 of 6 samples have a state below 0.05 of its channel.s largest L2 norm"
    with pytest.warns(UserWarning, match=expected):
        assert main(["simulate", "diffusion", "--nu", "1", "--out", str(tmp_path / "d.h5"), *common]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["simulate", "transport", "--out", str(tmp_path / "t.h5"), *common]) == 0
    assert "wrote" in capsys.readouterr().out


def test_a_channel_through_zero_counts_and_a_travelling_wave_does_not(tmp_path: Path) -> None:
    """nRMSE normalises per channel: u_t of a wave at rest starts at zero (and a standing wave's u
    passes through it), so the file warns; started travelling, every channel keeps its norm."""
    times = np.linspace(0.0, 1.0, 11)
    for rate, expected in (("rest", 5), ("transport", 0)):
        path = write(tmp_path / f"{rate}.h5", simulate_wave(5, 32, times, "constant:c0=0.7", seed=0, initial_rate=rate),
                     seed=0)
        with TrajectoryFile(path) as data:
            assert decayed_samples(data) == expected
