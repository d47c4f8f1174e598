"""Models, fits, metrics and plots of systems of fields: the wave equation's (u, u_t)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from physode.cli import main
from physode.errors import InputError
from physode.problems.pde import simulate_transport_to_file, simulate_wave
from physode.problems.fitting.estimates import wave_speed_estimate
from physode.problems.fitting.evaluate import channel_weights, evaluate_run
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import LAYERS, ModelConfig, build_model
from physode.trajectories import TrajectoryFile, nrmse, write
from physode.variants import variant_names

NX = 32
X = np.arange(NX) / NX
TIMES = np.linspace(0.0, 0.5, 6)


def _wave(velocity: str, n: int = 4) -> torch.Tensor:
    return torch.from_numpy(simulate_wave(n, NX, TIMES, velocity, "fourier", seed=1).u)


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("variant", variant_names())
def test_every_variant_takes_channels(variant: str, layer: str) -> None:
    model = build_model(ModelConfig(variant=variant, layer=layer, width=5), X, channels=2)
    u = _wave("constant:c0=0.7").float()
    pred = model(u[:, 0], TIMES.tolist())
    assert pred.shape == u.shape == (4, 6, 2, NX)
    ((pred - u) ** 2).mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    symbols = model.symbols(TIMES.tolist())
    assert symbols.shape == (6, NX // 2 + 1, 2, 3 if variant == "neuralode" else 2)
    # The layer applies what its symbol says, channel mixing included.
    v = torch.randn(3, symbols.shape[-1], NX)
    direct = torch.fft.irfft(torch.einsum("oik,bik->bok", symbols[0].permute(1, 2, 0), torch.fft.rfft(v)), n=NX)
    torch.testing.assert_close(model.layer(v), direct, rtol=1e-4, atol=1e-4)


def test_exact_spectral_weights_reproduce_the_wave_equation() -> None:
    """[[0, 1], [-c^2 k^2, 0]] on every mode is the weights [[0, 1], [-c^2, 0]] (see SpectralLayer)."""
    speed = 0.8
    model = build_model(ModelConfig(variant="anode", steps_per_interval=64), X, channels=2).double()
    with torch.no_grad():
        weight = model.layer.weight.zero_()  # (pairs (o, i) = 00, 01, 10, 11; modes; re/im)
        weight[1, :, 0] = 1.0
        weight[2, :, 0] = -speed**2
    u = _wave(f"constant:c0={speed}")
    with torch.no_grad():
        error = nrmse(model(u[:, 0], TIMES.tolist()), u)[:, 1:]
    assert error.max() < 1e-5
    energy = torch.ones(NX // 2 + 1)
    c_hat = wave_speed_estimate(model.symbols(TIMES.tolist()), NX, 1 / NX, energy)
    torch.testing.assert_close(c_hat, torch.full((6,), speed, dtype=torch.float64))
    with torch.no_grad():  # u -> u_t with the wrong sign: no wave, so no speed (NaN, not a speed of 0)
        weight[2, :, 0] = speed**2
    assert model.symbols(TIMES.tolist()).isfinite().all()
    assert wave_speed_estimate(model.symbols(TIMES.tolist()), NX, 1 / NX, energy).isnan().all()


def test_per_mode_reaction_is_refused_for_channels() -> None:
    with pytest.raises(InputError, match="per-mode-reaction is for single-field data"):
        build_model(ModelConfig(variant="anodev2", per_mode_reaction=True), X, channels=2)
    with pytest.raises(InputError, match="takes 2 channel"):
        build_model(ModelConfig(), X, channels=2)(torch.zeros(1, NX), [0.0, 0.1])


@pytest.fixture(scope="module")
def wave_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = simulate_wave(20, 16, np.linspace(0, 0.3, 5), "sinusoidal:c0=0.5,amp=0.25,freq=2", "fourier",
                         seed=0, initial_rate="transport")
    return write(tmp_path_factory.mktemp("data") / "wave.h5", data, seed=0, test_fraction=0.25)


def test_fit_evaluate_and_plot_a_wave_file(wave_file: Path, tmp_path: Path) -> None:
    runs = []
    for variant in ("anode", "anodev2"):
        config = FitConfig(model=ModelConfig(variant=variant), epochs=3, batch_size=5, eval_every=0, progress=False)
        summary = fit(wave_file, tmp_path / variant, config, device="cpu")
        runs.append(tmp_path / variant)
    assert np.isfinite(summary["test_nrmse"])
    evaluated = evaluate_run(tmp_path / "anodev2", device="cpu")
    assert evaluated["nrmse_predicted"] == pytest.approx(summary["test_nrmse"])
    per_channel = evaluated["nrmse_per_channel"]
    assert set(per_channel) == {"u", "u_t"}
    assert evaluated["nrmse_predicted"] == pytest.approx(np.mean(list(per_channel.values())))
    out = tmp_path / "wave.png"
    assert main(["plot", *map(str, runs), "--out", str(out), "--panels", "3"]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_a_model_is_refused_on_data_with_other_channels(wave_file: Path, tmp_path: Path) -> None:
    fit(wave_file, tmp_path / "run", FitConfig(epochs=1, batch_size=15, eval_every=0, progress=False), device="cpu")
    with TrajectoryFile(wave_file) as f:
        single = simulate_transport_to_file(tmp_path / "t.h5", 8, f.n_x, f.t, 0.5, test_fraction=0.25)
    with pytest.raises(InputError, match=r"channels \['u'\] but the model .* was fit to \['u', 'u_t'\]"):
        evaluate_run(tmp_path / "run", data=single, device="cpu")
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["n_test"] == 5


def test_channel_weights_balance_the_loss(wave_file: Path, tmp_path: Path) -> None:
    with TrajectoryFile(wave_file) as f:
        weights = channel_weights(f, f.train)
        first = f[f.train].astype(np.float64)
        expected = 1 / np.square(first).mean(axis=(0, 1, 3))
        np.testing.assert_allclose(weights[:, 0].numpy(), expected, rtol=1e-12)
        assert weights.shape == (2, 1) and weights[1, 0] < weights[0, 0] / 10  # u_t is much larger
        single = simulate_transport_to_file(tmp_path / "t.h5", 6, f.n_x, f.t, 0.5, test_fraction=0.25)
    with TrajectoryFile(single) as f:
        assert torch.equal(channel_weights(f, f.train), torch.ones(1))  # one field: the plain MSE
