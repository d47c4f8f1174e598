"""A closed-form weight path (``EvolutionOperator.weights_at``) is the stepped one: values and
gradients agree to round-off in float64, for every stepper, gradient strategy and solver that can
carry the operators that offer it (the latent ODE, the Galerkin peer, SpectralRDA's Fourier
propagator). The reference is the same operator with the capability switched off, so the block
steps it as it does any operator."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

import physode
from physode.problems.fitting.models import ModelConfig, build_model
from physode.steppers import TABLEAUS, get_method

from fields import PeriodicConv

TIMES = [0.0, 0.15, 0.4, 0.45, 1.0]  # uneven intervals
#: Each operator with a closed-form path, per-channel, and the linear family's variant that uses it.
OPERATORS = {
    "latent": (physode.LinearLatent, lambda: physode.LinearLatent(5, per_channel=True), "anodev2-latent"),
    "galerkin": (physode.Galerkin, lambda: physode.Galerkin(5, per_channel=True), "galerkin"),
    "spectral": (physode.SpectralRDA, lambda: physode.SpectralRDA(sigma="tanh", per_channel=True), "anodev2"),
}
Outcome = tuple[torch.Tensor, tuple[torch.Tensor, ...]]


def _away_from_the_static_start(module: torch.nn.Module) -> None:
    # Every rate, growth, frequency and read-out non-trivial, so each gradient is exercised.
    torch.manual_seed(3)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.4 * torch.randn_like(p))


def _closed_form_and_stepped(run: Callable[[], Outcome], operator: str,
                             monkeypatch: pytest.MonkeyPatch) -> tuple[Outcome, Outcome]:
    closed_form = run()
    monkeypatch.setattr(OPERATORS[operator][0], "has_weights_at", False)
    return closed_form, run()


def _assert_same(closed_form: Outcome, stepped: Outcome) -> None:
    torch.testing.assert_close(closed_form[0], stepped[0], rtol=1e-10, atol=1e-10)
    assert len(closed_form[1]) == len(stepped[1])
    for ours, theirs in zip(closed_form[1], stepped[1]):
        torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("latent", [1, 2, 3, 5, 8])
def test_linear_latent_weights_at_equal_its_chained_steps(latent: int) -> None:
    op = physode.LinearLatent(latent, per_channel=True)
    weight = torch.randn(3, 2, dtype=torch.float64)
    op.bind(weight)
    op.double()
    _away_from_the_static_start(op)
    state = (op.initial_state(weight) + torch.randn(3, 2, latent, dtype=torch.float64)).requires_grad_()
    inputs = (state, *op.parameters())
    probe = torch.randn(len(TIMES), 3, 2, dtype=torch.float64)
    table = op.weights_at(state, 0.2, [0.2 + t for t in TIMES])
    stepped, s, at = [], state, 0.2
    for t in TIMES:
        s = op.step(s, at, 0.2 + t - at, get_method("euler"))  # the stepper is unused: the step is exact
        stepped.append(op.readout(s, 0.2 + t))
        at = 0.2 + t
    stepped = torch.stack(stepped)
    assert table.shape == (len(TIMES), 3, 2)
    grads = [torch.autograd.grad((w * probe).sum(), inputs, allow_unused=True, materialize_grads=True)
             for w in (table, stepped)]
    _assert_same((table, grads[0]), (stepped, grads[1]))


def _block_run(operator: str, method: str, steps: int = 3, weight_steps: int | None = 5,
               **options) -> Callable[[], Outcome]:
    def run() -> Outcome:
        torch.manual_seed(0)
        block = physode.CoupledODEBlock(
            PeriodicConv(), ["conv.weight", "mix.weight"], OPERATORS[operator][1](),
            steps=steps, weight_steps=weight_steps, method=method, **options,
        ).double()
        _away_from_the_static_start(block.operators)
        z0 = torch.randn(2, 2, 5, dtype=torch.float64, requires_grad=True)
        out = block(z0, times=TIMES)
        inputs = (z0, *block.parameters())
        grads = torch.autograd.grad((out * torch.randn_like(out)).sum(), inputs, allow_unused=True,
                                    materialize_grads=True)
        return out, grads
    return run


@pytest.mark.parametrize("grad", ["backprop", "checkpoint"])
@pytest.mark.parametrize("method", list(TABLEAUS))
@pytest.mark.parametrize("operator", list(OPERATORS))
def test_block_reads_the_closed_form_path_as_its_steps(
    operator: str, method: str, grad: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _assert_same(*_closed_form_and_stepped(_block_run(operator, method, grad=grad), operator, monkeypatch))


@pytest.mark.parametrize("options", [
    {"alignment": "endpoints", "steps": 2},
    {"rtol": 1e-6, "atol": 1e-8, "steps": 1, "weight_steps": None},  # the adaptive grid
    {"grad": "adjoint", "steps": 6},
    {"kernel": physode.ExponentialMemory(0.3)},  # theta has memory: stepped either way
], ids=["endpoints", "adaptive", "adjoint", "memory-kernel"])
@pytest.mark.parametrize("operator", list(OPERATORS))
@pytest.mark.filterwarnings("ignore:the adjoint integrates the weight evolution backwards")  # SpectralRDA's diffusion
def test_block_options_read_the_closed_form_path_as_their_steps(
    operator: str, options: dict, monkeypatch: pytest.MonkeyPatch,
) -> None:
    method = "dopri5" if "rtol" in options else "rk4"
    _assert_same(*_closed_form_and_stepped(_block_run(operator, method, **options), operator, monkeypatch))


@pytest.mark.parametrize("operator", list(OPERATORS))
def test_weight_trajectory_is_the_stepped_path(operator: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def run() -> Outcome:
        torch.manual_seed(0)
        block = physode.CoupledODEBlock(PeriodicConv(), ["conv.weight"], OPERATORS[operator][1](), steps=4,
                                        weight_steps=7, method="rk4").double()
        _away_from_the_static_start(block.operators)
        path = block.weight_trajectory([0.0, 0.1, 0.33, 0.5, 0.5, 0.9, 1.0])["conv.weight"]
        return path, torch.autograd.grad(path.square().sum(), tuple(block.operators.parameters()))
    _assert_same(*_closed_form_and_stepped(run, operator, monkeypatch))


def _linear_run(operator: str, method: str, solver: str) -> Callable[[], Outcome]:
    def run() -> Outcome:
        torch.manual_seed(0)
        config = ModelConfig(variant=OPERATORS[operator][2], method=method, latent=5, init_scale=0.3, steps_per_interval=2,
                             solver=solver)
        model = build_model(config, np.arange(12) / 12).double()
        _away_from_the_static_start(model)
        out = model(torch.randn(3, 12, dtype=torch.float64), TIMES)
        return out, torch.autograd.grad((out * torch.randn_like(out)).sum(), tuple(model.parameters()))
    return run


@pytest.mark.parametrize("solver", ["multipliers", "stages"])
@pytest.mark.parametrize("method", list(TABLEAUS))
@pytest.mark.parametrize("operator", list(OPERATORS))
def test_linear_family_reads_the_closed_form_path_as_its_steps(
    operator: str, method: str, solver: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _assert_same(*_closed_form_and_stepped(_linear_run(operator, method, solver), operator, monkeypatch))


@pytest.mark.parametrize("operator", list(OPERATORS))
def test_linear_family_passes_gradcheck_on_the_closed_form_path(operator: str) -> None:
    torch.manual_seed(0)
    config = ModelConfig(variant=OPERATORS[operator][2], latent=5, init_scale=0.3, steps_per_interval=2)
    model = build_model(config, np.arange(8) / 8).double()
    _away_from_the_static_start(model)
    u0, probe = torch.randn(2, 8, dtype=torch.float64), torch.randn(2, 3, 8, dtype=torch.float64)
    names = [name for name, _ in model.named_parameters()]

    def loss(*params: torch.Tensor) -> torch.Tensor:
        out = torch.func.functional_call(model, dict(zip(names, params)), (u0, [0.0, 0.3, 0.5]))
        return (out * probe).sum()

    assert torch.autograd.gradcheck(loss, tuple(p.detach().requires_grad_() for p in model.parameters()))


@pytest.mark.parametrize("basis", ["fourier", "polynomial"])
def test_galerkin_weights_at_equal_its_readouts(basis: str) -> None:
    op = physode.Galerkin(4, basis=basis, per_channel=True, channel_axis=-1)
    weight = torch.randn(3, 2, dtype=torch.float64)
    op.bind(weight)
    op.double()
    _away_from_the_static_start(op)
    table = op.weights_at(weight, 0.0, TIMES)
    torch.testing.assert_close(table, torch.stack([op.readout(weight, t) for t in TIMES]), rtol=0, atol=0)


def test_spectral_rda_offers_weights_at_only_where_sigma_is_outside_the_flow() -> None:
    offered = {(sigma, placement): physode.SpectralRDA(sigma=sigma, sigma_placement=placement).has_weights_at
               for sigma in ("identity", "tanh") for placement in ("readout", "rate", "each_step")}
    assert offered == {("identity", "readout"): True, ("identity", "rate"): True, ("identity", "each_step"): True,
                       ("tanh", "readout"): True, ("tanh", "rate"): False, ("tanh", "each_step"): False}
