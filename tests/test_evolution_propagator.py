"""SpectralRDA's step propagator: dense matrices on kernel-sized weights equal the FFT round trip,
and the propagator is computed once per pass of a solve, its gradients those of backprop."""

import pytest
import torch

import physode
from physode.grids import linspace
from physode.steppers import get_method

from fields import PeriodicConv

EULER = get_method("euler")


def _operator(shape: tuple[int, ...], **options) -> tuple[physode.SpectralRDA, torch.Tensor]:
    torch.manual_seed(0)
    weight = torch.randn(*shape, dtype=torch.float64)
    operator = physode.SpectralRDA(tau=0.2, v=0.7, rho=0.3, **options)
    operator.bind(weight)
    with torch.no_grad():  # distinct coefficients per channel
        for p in operator.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return operator.double(), weight


@pytest.mark.parametrize(("shape", "options", "dense"), [
    ((4, 3, 3, 3), {}, True),  # a conv2d kernel
    ((4, 3, 3, 3), {"per_channel": True}, True),
    ((3, 4, 5), {"per_channel": True, "channel_axis": 1}, True),  # conv1d kernel, channels on axis 1
    ((3, 3, 4, 2), {"axes": (0, 2), "per_channel": True, "channel_axis": 3}, True),  # spatial axes not last
    ((2, 2, 100), {"per_channel": True}, False),  # 100 points: the FFT round trip
])
def test_step_equals_the_fourier_propagator(shape: tuple[int, ...], options: dict, dense: bool) -> None:
    operator, weight = _operator(shape, **options)
    assert operator.dense == dense
    stepped = operator.step(weight, 0.0, 0.4, EULER)
    fourier = operator.weights_at(weight, 0.0, [0.4])[0]  # the batched FFT path, sigma = identity
    torch.testing.assert_close(stepped, fourier, rtol=0, atol=1e-13)
    rate = operator.rate(weight, 0.0)
    step = 1e-6
    torch.testing.assert_close(rate, (operator.weights_at(weight, 0.0, [step])[0] - weight) / step,
                               rtol=0, atol=1e-5 * rate.abs().max().item())


@pytest.mark.parametrize("grad", ["backprop", "checkpoint", "recursive"])
def test_propagator_computed_once_per_pass(grad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    exponent = physode.SpectralRDA.exponent
    monkeypatch.setattr(physode.SpectralRDA, "exponent", lambda self: calls.append(1) or exponent(self))
    block = _block(grad)
    block(torch.randn(2, 2, 5, dtype=torch.float64)).sum().backward()
    # backprop: one pass; checkpoint: the forward pass and its recompute; recursive: the
    # graph-free sweeps (one pass, kept) and its 4 taped steps (one backward call each, all
    # reusing one propagator as a leaf, its graph back-propagated once).
    assert len(calls) == {"backprop": 1, "checkpoint": 2, "recursive": 2}[grad]


@pytest.mark.parametrize("steps", [10, 50])
def test_uniform_grid_builds_one_propagator_per_pass(steps: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # The grid's rounded times differ by 4 (10 steps) and 7 (50 steps) distinct floats; the steps
    # all take the nominal step 1/steps, so one pass builds a single propagator.
    grid = linspace(0.0, 1.0, steps)
    assert len({b - a for a, b in zip(grid, grid[1:])}) > 1
    calls = []
    exponent = physode.SpectralRDA.exponent
    monkeypatch.setattr(physode.SpectralRDA, "exponent", lambda self: calls.append(1) or exponent(self))
    _block("backprop", steps=steps)(torch.randn(2, 2, 5, dtype=torch.float64)).sum().backward()
    assert len(calls) == 1


@pytest.mark.parametrize("grad", ["checkpoint", "recursive"])
def test_gradients_equal_backprop_on_a_long_uniform_grid(grad: str) -> None:
    z0 = torch.randn(2, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    results = {}
    for name in ("backprop", grad):
        block = _block(name, steps=50)
        out = block(z0)
        out.pow(2).sum().backward()
        results[name] = (out.detach(), [p.grad for p in block.parameters()])
    torch.testing.assert_close(results[grad][0], results["backprop"][0], rtol=0, atol=1e-14)
    for mine, reference in zip(results[grad][1], results["backprop"][1]):
        torch.testing.assert_close(mine, reference, rtol=1e-12, atol=1e-14)


def test_revolve_keeps_graph_free_propagators_between_taped_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    # 12 steps, 1 snapshot: the backward re-advances graph-free between its taped steps. Those
    # sweeps reuse the forward's propagators (the parameters do not change within one backward);
    # only what each taped step builds with a graph is its own.
    graph_free = []
    exponent = physode.SpectralRDA.exponent
    monkeypatch.setattr(physode.SpectralRDA, "exponent",
                        lambda self: graph_free.append(not torch.is_grad_enabled()) or exponent(self))
    strategy = physode.gradients.Recursive(snapshots=1)
    block = _block(strategy, steps=12)
    out = block(torch.randn(2, 2, 5, dtype=torch.float64))
    forward = sum(graph_free)  # the forward sweep's propagator
    out.sum().backward()
    assert strategy.untaped_steps > 12  # the schedule did re-advance
    assert sum(graph_free) == forward


def _block(grad: str | physode.gradients.GradientStrategy, steps: int = 4) -> physode.CoupledODEBlock:
    torch.manual_seed(0)
    operator = physode.SpectralRDA(sigma="tanh", sigma_placement="each_step", tau=0.1, v=0.4, rho=0.2,
                                   per_channel=True)
    return physode.CoupledODEBlock(PeriodicConv(), ["conv.weight"], operator, steps=steps, grad=grad).double()


@pytest.mark.parametrize("grad", ["checkpoint", "recursive"])
def test_gradients_equal_backprop_across_optimizer_steps(grad: str) -> None:
    # Checkpoint and recursive run graph-free passes (which keep the propagator) before their
    # recomputes: over optimizer steps, their outputs and gradients stay backprop's.
    blocks = {name: _block(name) for name in ("backprop", grad)}
    optimizers = {name: torch.optim.SGD(b.parameters(), lr=0.5) for name, b in blocks.items()}
    z0 = torch.randn(2, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    outputs = []
    for _ in range(3):
        results = {}
        for name, block in blocks.items():
            optimizers[name].zero_grad()
            out = block(z0)
            out.pow(2).sum().backward()
            results[name] = (out.detach(), [p.grad.clone() for p in block.parameters()])
            optimizers[name].step()
        torch.testing.assert_close(results[grad][0], results["backprop"][0], rtol=0, atol=1e-14)
        for mine, reference in zip(results[grad][1], results["backprop"][1]):
            torch.testing.assert_close(mine, reference, rtol=1e-12, atol=1e-14)
        outputs.append(results[grad][0])
    assert (outputs[0] - outputs[1]).abs().max() > 1e-3  # the updates changed the solve
