"""Evolution operators as continuous-time systems: grid independence, the oscillating operator,
the Galerkin peer and configuration two's alignment."""

import math

import pytest
import torch

import physode
from physode.errors import InputError
from physode.steppers import get_method

from fields import PeriodicConv, Scale


def run_block(operator_factory, weight_steps: int, **options):
    torch.manual_seed(0)
    block = physode.CoupledODEBlock(
        PeriodicConv(), ["conv.weight"], operator_factory(), steps=4, weight_steps=weight_steps, method="rk4", **options
    ).double()
    z0 = torch.randn(2, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    out = block(z0)
    out.pow(2).sum().backward()
    return out.detach(), torch.cat([p.grad.flatten() for p in block.parameters()])


@pytest.mark.parametrize("sigma", ["tanh", "sigmoid"])
def test_spectral_sigma_readout_does_not_depend_on_weight_steps(sigma: str) -> None:
    factory = lambda: physode.SpectralRDA(sigma=sigma, tau=0.1, v=0.4, rho=0.5, per_channel=True)  # noqa: E731
    out_10, grad_10 = run_block(factory, 10)
    out_40, grad_40 = run_block(factory, 40)
    torch.testing.assert_close(out_10, out_40, rtol=0, atol=1e-12)  # exact propagator: round-off
    torch.testing.assert_close(grad_10, grad_40, rtol=1e-10, atol=1e-12)


def test_per_step_sigma_depends_on_the_grid() -> None:
    factory = lambda: physode.SpectralRDA(sigma="tanh", sigma_placement="each_step", rho=0.5)  # noqa: E731
    out_10, _ = run_block(factory, 10)
    out_40, _ = run_block(factory, 40)
    assert (out_10 - out_40).abs().max() > 1e-3


def test_sigma_around_the_rate_converges_with_the_weight_grid() -> None:
    # Eq. 8 is one nonlinear ODE stepped by RK4: weight_steps sets its discretization error only.
    factory = lambda: physode.SpectralRDA(sigma="tanh", sigma_placement="rate", tau=0.1, v=0.4, rho=0.5)  # noqa: E731
    outs = [run_block(factory, weight_steps)[0] for weight_steps in (4, 8, 16)]
    coarse, fine = (outs[0] - outs[2]).abs().max(), (outs[1] - outs[2]).abs().max()
    assert 0 < fine < coarse / 8


def test_three_sigma_placements_differ() -> None:
    outs = {
        placement: run_block(lambda: physode.SpectralRDA(sigma="tanh", sigma_placement=placement, rho=0.5), 4)[0]  # noqa: B023
        for placement in ("readout", "rate", "each_step")
    }
    for a, b in [("readout", "rate"), ("readout", "each_step"), ("rate", "each_step")]:
        assert (outs[a] - outs[b]).abs().max() > 1e-3, (a, b)
    # With the identity there is one linear flow, stepped exactly by all three.
    identity = [
        run_block(lambda: physode.SpectralRDA(rho=0.5, sigma_placement=placement), 4)[0]  # noqa: B023
        for placement in ("readout", "rate", "each_step")
    ]
    assert torch.equal(identity[0], identity[1]) and torch.equal(identity[0], identity[2])
    with pytest.raises(InputError, match="unknown sigma_placement 'around'"):
        physode.SpectralRDA(sigma_placement="around")


@pytest.mark.parametrize(
    "operator",
    [
        lambda: physode.LinearLatent(3, per_channel=True),
        lambda: physode.Galerkin(3, per_channel=True),
        lambda: physode.Galerkin(2, basis="polynomial"),
    ],
)
@pytest.mark.parametrize("grad", ["checkpoint", "adjoint"])
def test_gradcheck_new_operators(operator, grad: str) -> None:
    torch.manual_seed(0)
    block = physode.CoupledODEBlock(
        PeriodicConv(), ["conv.weight", "mix.weight"], operator(), steps=3 if grad == "checkpoint" else 40,
        weight_steps=5, method="rk4", grad=grad,
    ).double()
    with torch.no_grad():  # away from the static start, so every parameter's gradient is non-trivial
        for op in block.operators:
            for p in op.parameters():
                p.add_(0.5 * torch.randn_like(p))
    z0 = torch.randn(2, 2, 5, dtype=torch.float64, requires_grad=True)
    probe = torch.randn(2, 2, 5, dtype=torch.float64)
    params = [p for p in block.parameters() if p.requires_grad]
    tolerance = {} if grad == "checkpoint" else {"atol": 1e-4, "rtol": 1e-3, "fast_mode": True}
    assert torch.autograd.gradcheck(lambda z, *ps: (block(z) * probe).sum(), (z0, *params), **tolerance)


def test_linear_latent_follows_a_sinusoid_through_zero_exactly() -> None:
    # One constant mode and one oscillator at w: x = (1, sin(w t), cos(w t)); r = (1, amplitude, 0).
    omega, amplitude, w0 = 2 * math.pi, 3.0, 0.8
    op = physode.LinearLatent(3)
    op.bind(torch.ones(1, dtype=torch.float64))
    op.double()
    with torch.no_grad():
        op.scaled_frequencies.fill_(omega / op.frequency)
        op.readout_vector.copy_(torch.tensor([[1.0, amplitude, 0.0]], dtype=torch.float64))
    # w(t) = w0 (1 + amplitude sin(omega t)): passes through zero and turns around.
    state = op.initial_state(torch.tensor([w0], dtype=torch.float64))
    euler = get_method("euler")  # unused: the propagator is exact
    times = torch.linspace(0, 1, 9, dtype=torch.float64)
    values = []
    for a, b in zip(times, times[1:]):
        values.append(op.readout(state, float(a)))
        state = op.step(state, float(a), float(b - a), euler)
    values.append(op.readout(state, 1.0))
    expected = w0 * (1 + amplitude * torch.sin(omega * times))
    torch.testing.assert_close(torch.cat(values), expected, rtol=0, atol=1e-12)
    assert expected.min() < 0 < expected.max()
    # One step of any length is the same flow.
    once = op.step(op.initial_state(torch.tensor([w0], dtype=torch.float64)), 0.0, 1.0, euler)
    torch.testing.assert_close(op.readout(once, 1.0), expected[-1:], rtol=0, atol=1e-12)


@pytest.mark.parametrize("latent", [1, 2, 3, 4, 7])
def test_linear_latent_step_is_the_matrix_exponential_of_its_generator(latent: int) -> None:
    # The closed-form step against torch's matrix exponential of A dt, values and gradients (float64).
    torch.manual_seed(latent)
    op = physode.LinearLatent(latent, per_channel=True)
    weight = torch.randn(3, 2, dtype=torch.float64)
    op.bind(weight)
    with torch.no_grad():
        for p in (op.scaled_rates, op.scaled_growth, op.scaled_frequencies):
            p.add_(0.4 * torch.randn_like(p))
    state = op.initial_state(weight) + torch.randn(3, 2, latent, dtype=torch.float64)
    euler = get_method("euler")
    parameters = op.generator_parameters()
    step = op.step(state, 0.0, 0.3, euler)
    exact = state @ torch.linalg.matrix_exp(op.generator * 0.3).T
    torch.testing.assert_close(step, exact, rtol=1e-12, atol=1e-12)
    probe = torch.randn_like(step)
    def gradients(output: torch.Tensor) -> tuple[torch.Tensor, ...]:  # no oscillators: two are empty
        return torch.autograd.grad((output * probe).sum(), parameters, allow_unused=True, materialize_grads=True)

    for ours, theirs in zip(gradients(step), gradients(exact)):
        torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12)


def test_linear_latent_starts_static_and_counts_parameters() -> None:
    f = PeriodicConv()
    block = physode.CoupledODEBlock(f, ["conv.weight"], physode.LinearLatent(3, per_channel=True), steps=2)
    theta = block.weight_trajectory([0.0, 0.5, 1.0])["conv.weight"]
    for th in theta:
        torch.testing.assert_close(th, f.conv.weight.detach())
    # A: one rate, one oscillator's growth and frequency; a read-out per channel.
    assert sum(p.numel() for p in block.operators.parameters()) == 3 + 2 * 3


def test_galerkin_readout_is_the_basis_expansion() -> None:
    op = physode.Galerkin(4)
    weight = torch.randn(2, 3, dtype=torch.float64)
    op.bind(weight)
    with torch.no_grad():
        op.coefficients.copy_(torch.tensor([[0.5, -0.2, 0.1, 0.3]], dtype=torch.float64))
    t = 0.7
    gain = 0.5 - 0.2 * math.sin(t) + 0.1 * math.cos(t) + 0.3 * math.sin(2 * t)
    torch.testing.assert_close(op.readout(weight, t), weight * gain, rtol=1e-14, atol=0)


def test_coefficients_per_entry_of_any_channel_axis() -> None:
    """per_channel groups along ``channel_axis``: here the last axis, each entry its own gain/rate."""
    weight = torch.randn(5, 1, 2, dtype=torch.float64)
    galerkin = physode.Galerkin(2, per_channel=True, channel_axis=-1)
    galerkin.bind(weight)
    with torch.no_grad():
        galerkin.coefficients.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64))
    gain = torch.tensor([1.0, 2.0 * math.sin(0.3)], dtype=torch.float64)
    torch.testing.assert_close(galerkin.readout(weight, 0.3), weight * gain, rtol=1e-14, atol=0)
    latent = physode.LinearLatent(3, per_channel=True, channel_axis=-1)
    latent.bind(weight)
    assert latent.readout_vector.shape == (2, 3)
    rda = physode.SpectralRDA(axes=(), per_channel=True, channel_axis=2)
    rda.bind(weight)
    with torch.no_grad():
        rda.rho.copy_(torch.tensor([0.0, 1.0]))
    moved = rda.readout(rda.step(weight, 0.0, 0.5, get_method("rk4")), 0.5)
    torch.testing.assert_close(moved, weight * torch.tensor([1.0, math.exp(0.5)], dtype=torch.float64))
    with pytest.raises(InputError, match="spatial axes"):
        physode.SpectralRDA(axes=(-1,), per_channel=True, channel_axis=-1).bind(weight)
    with pytest.raises(InputError, match="out of range"):
        physode.Galerkin(2, per_channel=True, channel_axis=3).bind(weight)


def test_bad_operator_arguments() -> None:
    with pytest.raises(InputError, match="latent dimension"):
        physode.LinearLatent(0)
    with pytest.raises(InputError, match="unknown basis"):
        physode.Galerkin(3, basis="chebyshev")
    with pytest.raises(InputError, match="unknown alignment"):
        physode.CoupledODEBlock(Scale(1.0), ["theta"], alignment="middle")


@pytest.mark.parametrize("alignment, effective_steps", [("endpoints", range(10)), ("stage", range(5))])
def test_every_weight_step_reaches_the_output_with_endpoint_alignment(alignment: str, effective_steps) -> None:
    # Configuration two: Nt_z = 2, 10 weight steps. "endpoints" applies w0 and w1, so each of the
    # ten weight steps changes the output; "stage" (Euler) applies theta(0) and theta(0.5) only.
    class Nudged(physode.Neural):
        """A non-exact operator whose k-th step is nudged, to see which steps reach z."""

        nudged: int | None = None

        def step(self, state, t, dt, method):
            out = super().step(state, t, dt, method)
            return out + 1e-3 if round(t * 10) == self.nudged else out

    block = physode.CoupledODEBlock(Scale(0.5), ["theta"], Nudged(), steps=2, weight_steps=10, alignment=alignment).double()
    z0 = torch.ones(1, dtype=torch.float64)
    base = block(z0)
    changed = []
    for k in range(10):
        block.operators[0].nudged = k
        changed.append(not torch.equal(block(z0), base))
    assert [k for k, c in enumerate(changed) if c] == list(effective_steps)


def test_endpoint_alignment_applies_w0_then_w1() -> None:
    # dz/dt = w(t) z, w = w0 e^{rho t}; Euler with 2 steps applies w(0) then w(1).
    w0, rho = 0.7, -0.4
    op = physode.SpectralRDA(diffusion=False, advection=False, rho=rho)
    block = physode.CoupledODEBlock(Scale(w0), ["theta"], op, steps=2, weight_steps=10, alignment="endpoints").double()
    z1 = block(torch.ones(1, dtype=torch.float64))
    expected = (1 + 0.5 * w0) * (1 + 0.5 * w0 * math.exp(rho))
    assert z1.item() == pytest.approx(expected, rel=1e-13)
