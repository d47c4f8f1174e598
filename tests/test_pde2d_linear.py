"""2-D transport (exact phase shifts) and wave (exact for constant c, fourth order otherwise), float64,
and the files `physode simulate` writes for them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from physode.cli import main
from physode.problems.pde import runners2d
from physode.problems.pde.coefficients import Linear, Sinusoidal
from physode.problems.pde.decay import smallest_norm_ratios
from physode.problems.pde.plane import Plane, initial_state_2d
from physode.problems.pde.transport2d import simulate_transport2d
from physode.problems.pde.wave2d import simulate_wave2d
from physode.trajectories import TrajectoryFile

N, TIMES = 32, np.linspace(0.0, 1.0, 6)
Y, X = np.meshgrid(Plane(N, 1.0).axis, Plane(N, 1.0).axis, indexing="ij")


def _profile(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * (3 * x - 2 * y) + 0.3) + 0.5 * np.cos(2 * np.pi * (x + 4 * y)) + 0.2


@pytest.mark.parametrize("cx, cy", [
    (Sinusoidal(amp=0.5, freq=0.5, phase=np.pi / 2), Sinusoidal(amp=0.5, freq=0.5)),  # rotating
    (Linear(c0=-0.3, slope=1.1), Sinusoidal(c0=0.2, amp=0.7, freq=1.3, phase=0.4)),
])
def test_transport2d_is_the_exact_shift_to_rounding(cx, cy) -> None:
    data = simulate_transport2d(1, N, TIMES, cx, cy, _profile(Y, X)[None])
    shifts_x, shifts_y = cx.C(TIMES), cy.C(TIMES)
    exact = np.stack([_profile(Y + sy, X + sx) for sx, sy in zip(shifts_x, shifts_y)])
    assert np.abs(data.u[0, :, 0] - exact).max() < 1e-13
    np.testing.assert_allclose(data.coefficients["cx"], cx.c(TIMES), rtol=1e-15)


def test_wave2d_constant_speed_is_exact_per_plane_wave() -> None:
    """From rest a plane wave sin(k . x) oscillates in place: u = cos(c |k| t) sin(k . x)."""
    speed, k = 0.8, 2 * np.pi * np.array([3.0, -2.0])
    u0 = np.sin(k[0] * X + k[1] * Y)
    data = simulate_wave2d(1, N, TIMES, speed, u0[None])
    omega = speed * np.linalg.norm(k)
    exact = np.cos(omega * TIMES)[:, None, None] * u0
    assert np.abs(data.u[0, :, 0] - exact).max() < 1e-12
    np.testing.assert_allclose(data.u[0, :, 1], -omega * np.sin(omega * TIMES)[:, None, None] * u0, atol=1e-11)


def test_wave2d_time_varying_speed_converges_with_fourth_order() -> None:
    velocity = "sinusoidal:c0=1,amp=0.5,freq=1"
    reference = simulate_wave2d(2, N, TIMES, velocity, "fourier", seed=1, dt=0.01 / 16).u
    errors = [np.abs(simulate_wave2d(2, N, TIMES, velocity, "fourier", seed=1, dt=dt).u - reference).max()
              for dt in (0.01, 0.005)]
    assert 12 < errors[0] / errors[1] < 22  # 2^4 = 16
    assert errors[1] / np.abs(reference).max() < 1e-5


def test_streamed_cli_files_equal_unblocked_ones_and_open_in_xarray(tmp_path, monkeypatch, capsys) -> None:
    argv = ["--samples", "5", "--nx", "16", "--nt", "3", "--t-final", "0.5", "--seed", "2"]
    assert main(["simulate", "transport2d", "--out", str(tmp_path / "one.h5"), *argv]) == 0
    monkeypatch.setattr(runners2d, "BLOCK_BYTES", 2 * 3 * 16 * 16 * 8)  # 2 samples a block: 3 blocks
    assert main(["simulate", "transport2d", "--out", str(tmp_path / "blocks.h5"), *argv]) == 0
    assert (tmp_path / "one.h5").read_bytes() == (tmp_path / "blocks.h5").read_bytes()
    assert "x 16 x 16 points" in capsys.readouterr().out
    expected = simulate_transport2d(5, 16, np.linspace(0, 0.5, 3), seed=2)
    with xr.open_dataset(tmp_path / "one.h5", engine="h5netcdf") as ds:
        assert ds["u"].dims == ("sample", "t", "channel", "y", "x")
        np.testing.assert_array_equal(ds["u"].values, expected.u.astype(np.float32))
        assert json.loads(ds.attrs["generator"])["pde"] == "transport2d"
        assert {"cx", "cy"} <= set(ds.data_vars)


def test_wave2d_cli_writes_two_channels_and_the_decay_check_sees_both_axes(tmp_path) -> None:
    with pytest.warns(UserWarning, match="5 of 5 samples have a state below"):  # u_t starts at rest: zero norm
        assert main(["simulate", "wave2d", "--out", str(tmp_path / "w.h5"), "--samples", "5", "--nx", "16",
                     "--nt", "3", "--velocity", "constant:c0=1"]) == 0
    with TrajectoryFile(tmp_path / "w.h5") as f:
        assert f.channels == ("u", "u_t") and f.sample_shape == (3, 2, 16, 16)
    field = np.ones((1, 2, 4, 4))
    field[0, 1, :2] = 0.0  # half of the plane emptied: the norm over both axes halves in square
    assert smallest_norm_ratios(field, space_dims=2)[0] == pytest.approx(np.sqrt(0.5))


def test_2d_initial_families_are_seeded_and_refuse_unknown_names(tmp_path, capsys) -> None:
    plane = Plane(16, 1.0)
    np.testing.assert_array_equal(initial_state_2d("gaussian", 3, plane, 5), initial_state_2d("gaussian", 3, plane, 5))
    assert main(["simulate", "transport2d", "--initial", "windowed", "--samples", "2", "--nx", "16",
                 "--out", str(tmp_path / "x.h5")]) == 2
    assert "unknown 2-D initial condition 'windowed'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_wave2d_transport_start_moves_along_x() -> None:
    """u_t(0) = c(0) u_x(0); for a plane wave along x alone that is transport's u0(x + c t) exactly."""
    speed = 0.6
    u0 = np.sin(2 * np.pi * 3 * X + 0.4)
    data = simulate_wave2d(1, N, TIMES, speed, u0[None], initial_rate="transport")
    exact = np.stack([np.sin(2 * np.pi * 3 * (X + speed * time) + 0.4) for time in TIMES])
    assert np.abs(data.u[0, :, 0] - exact).max() < 1e-12


def test_help_lists_the_2d_pdes_and_their_options(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = capsys.readouterr().out
    for word in ("transport2d", "wave2d", "navier-stokes2d", "diffusion-reaction2d", "--velocity-x", "--velocity-y",
                 "--forcing", "--diffusivity-u", "--diffusivity-v", "--reaction-k"):
        assert word in text
