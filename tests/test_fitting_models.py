"""1-D field models: every variant trains, the layers' symbols are right, exact weights give exact transport."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from physode.errors import InputError
from physode.problems.pde import Exponential, simulate_advection_diffusion, simulate_transport
from physode.problems.fitting.estimates import velocity_estimate
from physode.problems.fitting.models import LAYERS, ModelConfig, build_model, parameter_count
from physode.problems.fitting.schedule import WARMUP, horizon, one_cycle
from physode.trajectories import nrmse
from physode.variants import variant_names

VARIANTS = variant_names()  # the fitting package builds every registered variant

NX = 32
X = np.arange(NX) / NX
DX = 1.0 / NX
TIMES = np.linspace(0.0, 0.5, 6)


def _transport(velocity: str | Exponential, n: int = 4) -> torch.Tensor:
    u = simulate_transport(n, NX, TIMES, velocity, initial="fourier", seed=1).u
    return torch.from_numpy(u)


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_runs_forward_and_backward(variant: str, layer: str) -> None:
    model = build_model(ModelConfig(variant=variant, layer=layer, width=5), X)
    u = _transport("constant:c0=0.7").float()
    pred = model(u[:, 0], TIMES.tolist())
    assert pred.shape == u.shape
    torch.testing.assert_close(pred[:, 0], u[:, 0], rtol=0, atol=0)  # t0 is the input itself
    ((pred - u) ** 2).mean().backward()
    grads = {name: p.grad for name, p in model.named_parameters()}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values()), grads
    assert grads["layer.weight"].abs().sum() > 0
    if variant in ("anodev2", "anodev2-latent"):  # the evolution's own coefficients are trained too
        assert any(name.startswith("block.operators") and g.abs().sum() > 0 for name, g in grads.items())


def test_parameter_budgets() -> None:
    modes = NX // 2 + 1
    counts = {(v, layer): parameter_count(build_model(ModelConfig(variant=v, layer=layer, width=7), X))
              for v in VARIANTS for layer in LAYERS}
    assert counts["anode", "spectral"] == 2 * modes
    assert counts["neuralode", "spectral"] == 4 * modes  # the time channel has its own multipliers
    assert counts["anodev2", "spectral"] == 2 * modes + 2  # a reaction rate for the real, one for the imaginary parts
    assert counts["anode", "stencil"] == 7
    assert counts["anodev2", "stencil"] == 7 + 3  # tau, v, rho
    hidden = ModelConfig().hidden
    assert counts["anodev2-neural", "spectral"] == 2 * modes + (2 * hidden + hidden) + (hidden + 1)
    per_mode = build_model(ModelConfig(variant="anodev2", per_mode_reaction=True), X)
    assert parameter_count(per_mode) == 3 * modes
    # The oscillating operator (latent 5): A (a rate, two oscillators' growth and frequency) and a
    # read-out for the real and one for the imaginary parts; its peer at least as many (8 basis functions each).
    assert counts["anodev2-latent", "spectral"] == 2 * modes + 5 + 5 * 2
    assert counts["galerkin", "spectral"] == 2 * modes + 8 * 2


def test_latent_variant_follows_a_velocity_that_changes_sign() -> None:
    # c(t) = 0.6 sin(2 pi t) starts at zero and changes sign at t = 0.5, which no pointwise
    # dw/dt = q(w) can follow (every weight would cross zero at once); the latent read-out
    # represents it exactly: w0 = 1, r = (0, 0.6, 0) reads out 0.6 sin(omega t).
    times = np.linspace(0.0, 1.0, 9)
    u = torch.from_numpy(simulate_transport(4, NX, times, "sinusoidal:c0=0,amp=0.6,freq=1.0", seed=1).u)
    model = build_model(ModelConfig(variant="anodev2-latent", latent=3, steps_per_interval=32), X).double()
    _set_advection(model, 1.0)
    omega = 2 * math.pi
    operator = model.block.operators[0]
    with torch.no_grad():
        operator.scaled_frequencies.fill_(omega / operator.frequency)
        operator.readout_vector.copy_(torch.tensor([[0.0, 0.6, 0.0]], dtype=torch.float64))
        error = nrmse(model(u[:, 0], times.tolist()), u)
    assert error[1:].max() < 1e-4


def _set_advection(model: torch.nn.Module, c: float) -> None:
    """Spectral multipliers of dz/dt = c dz/dx: i k c, i.e. imaginary weight c in velocity units."""
    with torch.no_grad():
        model.layer.weight.zero_()
        model.layer.weight[1:, 0, 1] = c


def test_exact_spectral_weights_reproduce_constant_transport() -> None:
    u = _transport("constant:c0=0.7").float()
    model = build_model(ModelConfig(variant="anode", steps_per_interval=32), X)
    _set_advection(model, 0.7)
    with torch.no_grad():
        error = nrmse(model(u[:, 0], TIMES.tolist()), u)
    assert error.max() < 1e-4  # RK4 error of the fastest mode (k c dt = 0.1 per step)
    energy = torch.ones(NX // 2 + 1)
    torch.testing.assert_close(velocity_estimate(model.symbols(TIMES.tolist()), NX, DX, energy),
                               torch.full((len(TIMES),), 0.7, dtype=torch.float64))


def test_anodev2_reaction_follows_exponential_velocity_from_the_first_time() -> None:
    """theta(t) = theta0 exp(rho (t - t0)) with rho = a is exact for c(t) = c0 exp(a t)."""
    c0, a = 0.5, 1.5
    u = _transport(Exponential(c0=c0, a=a)).float()
    model = build_model(ModelConfig(variant="anodev2", steps_per_interval=16), X)
    _set_advection(model, c0)
    with torch.no_grad():
        model.block.operators[0].rho.fill_(a)
        error = nrmse(model(u[:, 0], TIMES.tolist()), u)
    assert error.max() < 1e-3
    energy = torch.ones(NX // 2 + 1)
    later = (TIMES + 0.3).tolist()  # the weight path starts at the first given time, not at 0
    c_hat = velocity_estimate(model.symbols(later), NX, DX, energy)
    np.testing.assert_allclose(c_hat.numpy(), c0 * np.exp(a * TIMES), rtol=1e-5)
    static = build_model(ModelConfig(variant="anode", steps_per_interval=16), X)
    _set_advection(static, c0)
    with torch.no_grad():
        assert nrmse(static(u[:, 0], TIMES.tolist()), u).mean() > 100 * error.mean()


def test_anodev2_reaction_is_exact_for_growing_advection_beside_constant_diffusion() -> None:
    """One reaction rate per component: the imaginary parts (advection c0 exp(a t)) grow, the
    real ones (diffusion -nu k^2) stay; a single rate for both could not be exact."""
    c0, a, nu = 0.5, 1.5, 0.01
    modes = np.arange(1, 6)  # resolved: no content at the Nyquist mode, which carries no phase
    u0 = np.stack([np.cos(2 * np.pi * np.outer(X, modes) + phase).sum(-1) / modes.size
                   for phase in np.random.default_rng(1).uniform(0, 2 * np.pi, (4, modes.size))])
    u = torch.from_numpy(simulate_advection_diffusion(4, NX, TIMES, Exponential(c0=c0, a=a), nu, initial=u0).u)
    model = build_model(ModelConfig(variant="anodev2", steps_per_interval=16), X).double()
    k = 2 * math.pi * torch.fft.rfftfreq(NX, d=DX, dtype=torch.float64)
    with torch.no_grad():
        model.layer.weight.zero_()
        model.layer.weight[1:, 0, 0] = -nu * k[1:]  # velocity units: |k| a_k = -nu k^2
        model.layer.weight[1:, 0, 1] = c0
        model.block.operators[0].rho.copy_(torch.tensor([0.0, a]))
        assert nrmse(model(u[:, 0], TIMES.tolist()), u)[1:].max() < 1e-5
        model.block.operators[0].rho.fill_(a)  # both components growing: wrong
        assert nrmse(model(u[:, 0], TIMES.tolist()), u)[1:].max() > 1e-2


def test_stencil_symbol_and_first_moment() -> None:
    model = build_model(ModelConfig(variant="anode", layer="stencil", width=5), X)
    central = torch.tensor([1 / 12, -2 / 3, 0.0, 2 / 3, -1 / 12])  # 4th-order d/dx in cells
    with torch.no_grad():
        model.layer.weight[0, 0] = 0.9 * central
    symbol = model.symbols([0.0, 0.1])[..., 0, 0]
    k_dx = 2 * math.pi * np.fft.rfftfreq(NX)
    exact = 0.9 * (4 / 3 * np.sin(k_dx) - 1 / 6 * np.sin(2 * k_dx)) / DX  # sum_j w_j sin(k o_j dx) / dx
    np.testing.assert_allclose(symbol[0].imag.numpy(), exact, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(symbol[0].real.numpy(), 0.0, atol=1e-4)
    first_moment = float((central * torch.arange(-2, 3)).sum()) * 0.9
    low_energy = torch.zeros(NX // 2 + 1)
    low_energy[1] = 1.0
    assert first_moment == pytest.approx(0.9)
    assert velocity_estimate(symbol[..., None, None], NX, DX, low_energy)[0].item() == pytest.approx(first_moment, rel=1e-3)
    with torch.no_grad():
        model.layer.weight[0, 0, 2] = -0.25  # the centre weight is a reaction rate: f(1) = -0.25
    torch.testing.assert_close(model.layer(torch.ones(1, 1, NX)), torch.full((1, 1, NX), -0.25))
    # The layer applies what its symbol says: compare with a direct FFT multiply.
    u = torch.randn(3, NX)
    direct = torch.fft.irfft(torch.fft.rfft(u) * model.symbols([0.0])[0, :, 0, 0], n=NX)
    torch.testing.assert_close(model.layer(u[:, None])[:, 0], direct, rtol=1e-4, atol=1e-4)


def test_nrmse_matches_a_hand_computation() -> None:
    true = torch.tensor([[[3.0, 4.0], [1.0, 0.0]], [[0.0, 2.0], [6.0, 8.0]]])  # (sample, t, x)
    pred = torch.tensor([[[3.0, 4.0], [1.0, 1.0]], [[1.0, 2.0], [0.0, 0.0]]])
    expected = torch.tensor([[0.0, 1.0 / 1.0], [1.0 / 2.0, 10.0 / 10.0]])  # ||p - y|| / ||y|| per (s, t)
    torch.testing.assert_close(nrmse(pred, true), expected)


@pytest.mark.parametrize("total", [1, 19, 20, 21, 40, 480])
def test_the_one_cycle_schedule_runs_every_length(total: int) -> None:
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([weight], lr=0.1)
    scheduler = one_cycle(optimizer, total)
    for _ in range(total):  # 20 steps divided by zero when the warm-up was 5% of them, one step
        optimizer.step()
        scheduler.step()
    if total != 20:  # every other length keeps the 5% warm-up it was measured with
        assert scheduler._schedule_phases[0]["end_step"] == WARMUP * total - 1


def test_horizon_grows_geometrically_to_every_interval() -> None:
    values = [horizon(step, 100, 40, 0.5) for step in range(100)]
    assert values[0] == 1 and values[-1] == 40 and values[50] == 40
    assert all(b >= a for a, b in zip(values, values[1:]))
    assert values[25] == math.ceil(40**0.5)
    assert horizon(0, 100, 40, 0.0) == 40


@pytest.mark.parametrize(
    ("settings", "match"),
    [({"variant": "resnet"}, "unknown variant"), ({"layer": "fno"}, "unknown layer"),
     ({"width": 4}, "odd"), ({"modes": 0}, "modes"), ({"method": "leapfrog"}, "unknown method"),
     ({"steps_per_interval": 0}, "steps")],
)
def test_bad_model_settings_are_input_errors(settings: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        ModelConfig(**settings)


def test_grid_problems_are_input_errors() -> None:
    with pytest.raises(InputError, match="not uniform"):
        build_model(ModelConfig(), np.array([0.0, 0.1, 0.3, 0.4, 0.5]))
    with pytest.raises(InputError, match="spectral modes"):
        build_model(ModelConfig(modes=NX), X)
    with pytest.raises(InputError, match="exceeds"):
        build_model(ModelConfig(layer="stencil", width=9), X[:8])
