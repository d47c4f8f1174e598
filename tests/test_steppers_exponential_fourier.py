"""The integrating-factor step of the Fourier-ODE's learned linear term (one rate per Fourier mode):
exact on the linear part at any step, exact gradients, fourth order against RK4, refused where it
cannot be right."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

import physode
from physode.cli import main
from physode.errors import InputError
from physode.models import FourierODE, FourierODEConfig
from physode.nn import FourierField, SpectralRates
from physode.nn.fourier2d import FourierField2d
from physode.nn.semilinear_block import SemilinearODEBlock
from physode.problems.fitting.choose import candidates
from physode.problems.fitting.models import FourierModelConfig
from physode.problems.fitting.models.family import Grid
from physode.problems.pde import simulate_transport_to_file
from physode.trajectories import TrajectoryFile

F64 = torch.float64
N_X = 16


def stiff_model(steps: int, *, network: float = 0.0, seed: int = 0) -> FourierODE:
    """A float64 Fourier-ODE stepped by ifrk4, its linear term on every mode set far from zero (stiff: the
    top mode's rate is about -1e3 + 2e2 i), its network's output scaled by ``network`` (0: N = 0)."""
    torch.manual_seed(seed)
    config = FourierODEConfig(variant="anode", width=6, modes=4, linear=True, linear_modes=N_X // 2 + 1,
                              method="ifrk4", steps_per_interval=steps)
    model = FourierODE(config, channels=1).to(F64)
    with torch.no_grad():
        model.field.linear.log_diffusivity.uniform_(math.log(0.02), math.log(0.2))
        model.field.linear.velocity.uniform_(-0.5, 0.5)
        model.field.projection.weight.normal_(0.0, network)
    return model


def linear_matrix(rates: SpectralRates) -> torch.Tensor:
    """``L`` as an ``(N_X, N_X)`` matrix in physical space (its action on each unit vector)."""
    basis = torch.eye(N_X, dtype=F64)[:, None]
    return rates(basis)[:, 0].T


def test_the_step_of_a_purely_linear_field_is_the_exact_exponential() -> None:
    model = stiff_model(steps=1)  # N = 0: the projection is zero
    u0 = torch.randn(3, 1, N_X, dtype=F64)
    dt = 0.5  # |rate dt| up to ~500: explicit RK4 would blow up
    exact = torch.linalg.matrix_exp(dt * linear_matrix(model.field.linear))
    predicted = model(u0, [0.0, dt])[:, -1, 0]
    torch.testing.assert_close(predicted, u0[:, 0] @ exact.T, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(predicted, u0[:, 0], atol=1e-3)  # the linear term did act


def test_rates_are_stable_and_real_on_the_nyquist_and_mean_modes() -> None:
    rates = stiff_model(steps=1).field.linear.rates(N_X)
    assert (rates.real <= 0).all() and rates[:, 0].imag.item() == 0 and rates[:, -1].imag.item() == 0
    # A field on a finer grid than the term's modes: the modes above pass unchanged.
    coarse = SpectralRates(1, 3).to(F64)
    u = torch.randn(2, 1, N_X, dtype=F64)
    high = torch.fft.rfft(coarse.propagate(u, 0.3))[..., 3:]
    torch.testing.assert_close(high, torch.fft.rfft(u)[..., 3:])


def test_gradients_pass_gradcheck() -> None:
    # Through two steps of each of two output intervals, with respect to the input, the linear term's
    # two parameters and the network's projection. Backprop: the checkpointed solve recomputes with the
    # module's own parameters, not functional_call's (it equals backprop: the next test).
    field = stiff_model(steps=1, network=0.3).field
    block = SemilinearODEBlock(field, steps=2, grad="backprop")
    names = ("linear.log_diffusivity", "linear.velocity", "projection.weight")
    weights = [dict(field.named_parameters())[name].detach().clone().requires_grad_() for name in names]

    def run(u: torch.Tensor, *values: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(block, {f"f.{n}": v for n, v in zip(names, values)}, (u, [0.0, 0.1, 0.3]))

    u = torch.randn(2, 1, N_X, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(run, (u, *weights))


def test_checkpoint_gradients_equal_backprop() -> None:
    model = stiff_model(steps=1, network=0.3)
    u0 = torch.randn(2, 1, N_X, dtype=F64)
    grads = []
    for grad in ("checkpoint", "backprop"):
        block = SemilinearODEBlock(model.field, steps=2, grad=grad)
        model.zero_grad()
        (block(u0, [0.0, 0.2, 0.4]) ** 2).sum().backward()
        grads.append([p.grad.clone() for p in model.field.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_ifrk4_and_rk4_agree_on_a_non_stiff_field_at_fourth_order() -> None:
    model = stiff_model(steps=1, network=0.5)
    with torch.no_grad():  # non-stiff: rates of order one
        model.field.linear.log_diffusivity.fill_(math.log(1e-3))
        model.field.linear.velocity.uniform_(-0.05, 0.05)
    u0 = torch.randn(2, 1, N_X, dtype=F64)
    reference = physode.odeint(lambda t, u: model.field(u), u0, [0.0, 0.2], method="rk4", step_size=1e-4)[-1]
    errors = []
    for steps in (2, 4, 8):
        stepped = stiff_model(steps=steps)
        stepped.load_state_dict(model.state_dict())
        errors.append((stepped(u0, [0.0, 0.2])[:, -1] - reference).abs().max().item())
    assert errors[-1] < 1e-7
    for coarse, fine in zip(errors, errors[1:]):
        assert 12 < coarse / fine < 20  # 2^4 = 16


def test_combinations_that_cannot_be_right_are_refused() -> None:
    with pytest.raises(InputError, match="integrates the linear term exactly, and this model has none"):
        FourierODEConfig(variant="anode", method="ifrk4")
    for variant, why in (("anodev2", "evolves weights in time"), ("neuralode", "takes time as an input")):
        with pytest.raises(InputError, match=why):
            FourierODEConfig(variant=variant, linear=True, method="ifrk4")
    with pytest.raises(InputError, match="has no adjoint here"):
        SemilinearODEBlock(FourierField(1, linear=True, diagonal_linear=True), grad="adjoint")
    with pytest.raises(InputError, match="steps one vector field"):
        SemilinearODEBlock(FourierField(1, linear=True, diagonal_linear=True), method="rk4")
    with pytest.raises(InputError, match="diagonal_linear is a form of the linear term: set linear=True"):
        FourierField2d(1, diagonal_linear=True)
    with pytest.raises(InputError, match="no diagonal linear term"):
        FourierField(1, linear=True).propagate(torch.zeros(1, 1, N_X), 0.1)


def test_the_fitting_family_takes_every_mode_of_the_grid_and_the_choice_tries_it() -> None:
    config = FourierModelConfig(variant="anode", linear=True, method="ifrk4")
    assert config.linear_modes is None  # no RK4 stability cap
    model = config.build(Grid((N_X,), (1.0 / N_X,)))
    assert model.ode.field.linear.modes == N_X // 2 + 1
    stiff = next(c for c in candidates(N_X, training_values=10**6) if c.name == "fourier-if")
    assert (stiff.model.method, stiff.model.variant, stiff.model.linear) == ("ifrk4", "anode", True)


def test_physode_fit_with_ifrk4_fits_loads_and_refuses_it_without_a_linear_term(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = simulate_transport_to_file(tmp_path / "transport.h5", 12, N_X, np.linspace(0.0, 0.2, 4), "constant:c0=0.5",
                                      initial="fourier", seed=0, test_fraction=0.25)
    model = ["--model", "fourier", "--variant", "anode", "--method", "ifrk4", "--hidden-channels", "4", "--modes", "3"]
    common = ["--epochs", "1", "--no-progress", "--device", "cpu"]
    assert main(["fit", str(data), "--out", str(tmp_path / "a"), *model, *common]) == 2
    assert "integrates the linear term exactly, and this model has none" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()
    assert main(["fit", str(data), "--out", str(tmp_path / "b"), *model, "--linear-term", *common]) == 0
    fitted = physode.load(tmp_path / "b")
    assert fitted.run.model.ode.field.linear.modes == N_X // 2 + 1  # rebuilt as fit built it
    with TrajectoryFile(data) as file:
        u0 = torch.from_numpy(file[file.test][:, 0])
    predicted = fitted.predict(u0)
    assert predicted.shape[:2] == (len(u0), 4) and torch.isfinite(predicted).all()
