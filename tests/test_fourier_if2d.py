"""The integrating-factor Fourier-ODE on 2-D grids: one learned rate per 2-D mode propagated exactly
(the exact exponential of the operator it applies, at any step), exact float64 gradients, shift
equivariance, the walled field's doubled domain giving the Neumann heat equation's exact flow, and
``physode fit --method ifrk4`` on a 2-D file."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

import physode
from physode.cli import main
from physode.nn.fourier2d import FourierField2d, SpectralRates2d
from physode.nn.semilinear_block import SemilinearODEBlock
from physode.problems.fitting.models import FourierModelConfig, Grid
from physode.trajectories import TrajectoryFile

F64 = torch.float64
SHIFTS = [(1, 0), (0, 1), (3, 2), (-2, 5)]


def stiff(rates: SpectralRates2d, seed: int = 0) -> SpectralRates2d:
    """``rates`` set far from zero (the top modes' rates about -1e3 + 1e2 i on these grids)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        rates.log_diffusivity.uniform_(math.log(0.02), math.log(0.2))
        rates.velocity.uniform_(-1.0, 1.0)
    return rates


def matrix(rates: SpectralRates2d, shape: tuple[int, int], channel: int) -> torch.Tensor:
    """``L`` of one channel as a matrix over the grid's points (its action on each unit field)."""
    n = shape[0] * shape[1]
    basis = torch.eye(n, dtype=F64).reshape(n, 1, *shape).expand(n, rates.channels, *shape)
    return rates(basis.contiguous())[:, channel].reshape(n, n).T


@pytest.mark.parametrize("shape, modes", [((6, 5), 4), ((6, 6), 4), ((5, 8), 5), ((8, 8), 3)])
def test_propagate_is_the_exact_exponential_of_the_operator_applied(shape, modes) -> None:
    # Even and odd sizes (Nyquist row and column), every mode kept or only the lowest: exp(L dt) is what a
    # linear ODE with the L that forward applies gives, which needs the conjugate rows tied.
    rates = stiff(SpectralRates2d(2, modes).to(F64))
    u = torch.randn(3, 2, *shape, dtype=F64)
    dt = 0.4
    propagated = rates.propagate(u, dt)
    for channel in range(2):
        exact = torch.linalg.matrix_exp(dt * matrix(rates, shape, channel))
        torch.testing.assert_close(propagated[:, channel].flatten(1), u[:, channel].flatten(1) @ exact.T,
                                   rtol=1e-10, atol=1e-12)
    assert (propagated - u).abs().max() > 0.5  # the term did act
    full = rates.rates(*shape)
    assert (full.real <= 0).all() and full.abs().max() > 20  # stable, and far from zero


def test_the_modes_not_kept_pass_unchanged() -> None:
    rates = stiff(SpectralRates2d(1, 2).to(F64))
    u = torch.randn(2, 1, 8, 8, dtype=F64)
    before, after = torch.fft.rfft2(u), torch.fft.rfft2(rates.propagate(u, 0.3))
    k_y = torch.fft.fftfreq(8, 1 / 8).abs()
    outside = (k_y[:, None] >= 2) | (torch.arange(5)[None, :] >= 2)
    torch.testing.assert_close(after[..., outside], before[..., outside])
    assert not torch.allclose(after[..., ~outside], before[..., ~outside])


def field(seed: int = 0, linear_modes: int = 4) -> FourierField2d:
    torch.manual_seed(seed)
    f = FourierField2d(2, width=4, modes=2, blocks=1, linear=True, linear_modes=linear_modes,
                       diagonal_linear=True).to(F64)
    stiff(f.linear, seed)
    torch.nn.init.normal_(f.projection.weight, std=0.3)  # starts at zero: N = 0
    return f


def test_the_field_and_its_exponential_commute_with_periodic_shifts() -> None:
    f = field()
    u = torch.randn(2, 2, 6, 5, dtype=F64)
    out, moved = f(u), f.propagate(u, 0.2)
    for shift in SHIFTS:
        rolled = torch.roll(u, shift, dims=(-2, -1))
        torch.testing.assert_close(f(rolled), torch.roll(out, shift, dims=(-2, -1)), rtol=0, atol=1e-12)
        torch.testing.assert_close(f.propagate(rolled, 0.2), torch.roll(moved, shift, dims=(-2, -1)),
                                   rtol=0, atol=1e-12)


def test_the_if_step_of_a_field_with_no_network_is_the_exact_exponential() -> None:
    f = field()
    torch.nn.init.zeros_(f.projection.weight)
    torch.nn.init.zeros_(f.projection.bias)
    u0 = torch.randn(2, 2, 6, 5, dtype=F64)
    dt = 0.5  # |rate dt| up to ~400: RK4 would blow up
    predicted = SemilinearODEBlock(f, steps=1)(u0, [0.0, dt])[-1]
    for channel in range(2):
        exact = torch.linalg.matrix_exp(dt * matrix(f.linear, (6, 5), channel))
        torch.testing.assert_close(predicted[:, channel].flatten(1), u0[:, channel].flatten(1) @ exact.T,
                                   rtol=1e-10, atol=1e-12)


def test_a_tiny_2d_if_step_passes_gradcheck_and_checkpoint_equals_backprop() -> None:
    f = field(linear_modes=3)
    names = ("linear.log_diffusivity", "linear.velocity", "projection.weight")
    weights = [dict(f.named_parameters())[name].detach().clone().requires_grad_() for name in names]
    with torch.no_grad():
        f.linear.log_diffusivity.fill_(math.log(0.01))  # keep gradcheck's finite differences well conditioned
        weights[0].fill_(math.log(0.01))
    block = SemilinearODEBlock(f, steps=1, grad="backprop")

    def run(u: torch.Tensor, *values: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(block, {f"f.{n}": v for n, v in zip(names, values)}, (u, [0.0, 0.1, 0.25]))

    u = torch.randn(1, 2, 5, 4, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(run, (u, *weights))
    grads = []
    for strategy in ("checkpoint", "backprop"):
        f.zero_grad()
        SemilinearODEBlock(f, steps=2, grad=strategy)(u.detach(), [0.0, 0.1, 0.25]).square().sum().backward()
        grads.append([p.grad.clone() for p in f.parameters()])
    for got, want in zip(*grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(8, 8), (6, 10)])
def test_a_walled_field_is_the_neumann_heat_equation_exactly(shape) -> None:
    """The mirror extension makes the cell-centred no-flux field periodic on the doubled grid: a diffusion rate
    on every extended mode evolves each cosine mode, the highest included, by its exact decay."""
    n_y, n_x = shape
    config = FourierModelConfig(variant="anode", width=4, modes=2, blocks=1, linear=True, method="ifrk4")
    model = config.build(Grid(shape, (1 / n_y, 1 / n_x), periodic=False), 1).to(F64)
    assert model.ode.field.linear.modes == max(n_y, n_x) + 1  # every mode of the 2 Ny x 2 Nx extension
    nu, dt = 0.05, 0.5  # the top mode's rate dt: about 150
    with torch.no_grad():
        model.ode.field.linear.log_diffusivity.fill_(math.log(nu))  # the network's projection starts at zero
    y, x = (torch.arange(n, dtype=F64) + 0.5 for n in shape)
    u0, exact = torch.zeros(1, 1, *shape, dtype=F64), torch.zeros(1, 1, *shape, dtype=F64)
    for p, q, amplitude in ((0, 0, 1.0), (1, 0, 0.5), (2, 3, -0.7), (n_y - 1, n_x - 1, 0.3)):
        mode = amplitude * torch.cos(math.pi * p * y / n_y)[:, None] * torch.cos(math.pi * q * x / n_x)[None, :]
        u0[0, 0] += mode
        # Wave p of the doubled grid: the rate -nu (2 pi)^2 (p^2 + q^2) in its units.
        exact[0, 0] += mode * math.exp(-nu * (2 * math.pi) ** 2 * (p**2 + q**2) * dt)
    torch.testing.assert_close(model(u0, [0.0, dt])[:, -1], exact, rtol=0, atol=1e-12)


def test_physode_fit_with_ifrk4_on_a_walled_2d_file_fits_and_loads(tmp_path: Path) -> None:
    data = tmp_path / "dr.h5"
    with pytest.warns(UserWarning, match="under-resolved"):  # 8 cells: a small file, not an accurate one
        assert main(["simulate", "diffusion-reaction2d", "--out", str(data), "--samples", "6", "--nx", "8",
                     "--nt", "3"]) == 0
    run = tmp_path / "run"
    assert main(["fit", str(data), "--out", str(run), "--model", "fourier", "--variant", "anode", "--method", "ifrk4",
                 "--linear-term", "--hidden-channels", "4", "--modes", "3", "--epochs", "1", "--no-progress",
                 "--device", "cpu"]) == 0
    fitted = physode.load(run)
    assert fitted.run.model.ode.field.linear.modes == 9  # rebuilt as fit built it: the 16 x 16 extension's
    with TrajectoryFile(data) as file:
        u0 = torch.from_numpy(file[file.test][:, 0])
    predicted = fitted.predict(u0)
    assert predicted.shape[:3] == (len(u0), 3, 2) and torch.isfinite(predicted).all()
