"""Every stepper x gradient strategy x evolution operator, checked against gradcheck in float64."""

import warnings

import pytest
import torch
from torch import nn

import physode
from physode.errors import InputError
from physode.steppers import TABLEAUS

from fields import PeriodicConv

OPERATORS = {
    "static": lambda: physode.Static(),
    "spectral": lambda: physode.SpectralRDA(tau=0.05, v=0.3, rho=0.2),
    "neural": lambda: physode.Neural(hidden=4),
}


def make_block(operator: str, method: str, grad: str, steps: int = 3, weight_steps: int | None = None):
    torch.manual_seed(0)
    block = physode.CoupledODEBlock(
        PeriodicConv(),
        ["conv.weight"],
        OPERATORS[operator](),
        steps=steps,
        weight_steps=weight_steps,
        method=method,
        grad=grad,
    ).double()
    for op in block.operators:
        if isinstance(op, physode.Neural):  # start away from q = 0 so its gradients are non-trivial
            nn.init.normal_(op.net[-1].weight, std=0.3)
    return block


def gradcheck_block(block, **options) -> bool:
    """gradcheck with respect to the input and every parameter (the module's own tensors)."""
    z0 = torch.randn(2, 2, 5, dtype=torch.float64, requires_grad=True)
    probe = torch.randn(2, 2, 5, dtype=torch.float64)  # a scalar loss keeps backward passes few
    params = [p for p in block.parameters() if p.requires_grad]
    return torch.autograd.gradcheck(lambda z, *ps: (block(z) * probe).sum(), (z0, *params), **options)


@pytest.mark.filterwarnings("ignore:the adjoint integrates")
@pytest.mark.parametrize("operator", sorted(OPERATORS))
@pytest.mark.parametrize("grad", ["backprop", "checkpoint", "recursive", "adjoint"])
@pytest.mark.parametrize("method", sorted(TABLEAUS))
def test_gradcheck(method: str, grad: str, operator: str) -> None:
    if grad == "adjoint":
        # The adjoint differentiates the continuous problem: its error shrinks like dt^order, so
        # it is checked on a fine grid with a tolerance above that discretization error.
        order = TABLEAUS[method].order
        block = make_block(operator, method, grad, steps={1: 400, 2: 40, 3: 15, 4: 10, 5: 6}[order])
        assert gradcheck_block(block, atol=1e-3, rtol=1e-3, fast_mode=True)
    else:
        assert gradcheck_block(make_block(operator, method, grad))


@pytest.mark.parametrize("steps, weight_steps", [(2, 10), (3, 4), (4, 2)])
@pytest.mark.parametrize("grad", ["backprop", "checkpoint"])
def test_gradcheck_any_pair_of_grids(steps: int, weight_steps: int, grad: str) -> None:
    assert gradcheck_block(make_block("spectral", "rk4", grad, steps=steps, weight_steps=weight_steps))


@pytest.mark.parametrize("placement", ["readout", "rate", "each_step"])
@pytest.mark.parametrize("sigma", ["tanh", "sigmoid"])
def test_gradcheck_nonlinear_sigma(sigma: str, placement: str) -> None:
    operator = physode.SpectralRDA(sigma=sigma, sigma_placement=placement, per_channel=True)
    block = physode.CoupledODEBlock(
        PeriodicConv(), ["conv.weight"], operator, steps=2, weight_steps=3, method="rk4", grad="checkpoint"
    ).double()
    assert gradcheck_block(block)


def test_gradcheck_exponential_memory_kernel() -> None:
    block = physode.CoupledODEBlock(
        PeriodicConv(),
        ["conv.weight", "mix.weight"],
        physode.SpectralRDA(rho=0.3),
        kernel=physode.ExponentialMemory(0.3),
        steps=3,
        weight_steps=6,
        method="midpoint",
        grad="checkpoint",
    ).double()
    assert gradcheck_block(block)


@pytest.mark.parametrize("operator", sorted(OPERATORS))
@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_checkpoint_equals_backprop_float64(method: str, operator: str) -> None:
    grads = {}
    for grad in ("backprop", "checkpoint"):
        block = make_block(operator, method, grad, steps=5, weight_steps=10)
        z0 = torch.randn(3, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
        out = block(z0, times=[0.0, 0.4, 1.0])
        out.pow(2).sum().backward()
        grads[grad] = [z0.grad, *[p.grad for p in block.parameters()]], out
    (g_b, out_b), (g_c, out_c) = grads["backprop"], grads["checkpoint"]
    assert torch.equal(out_b, out_c)
    for a, b in zip(g_b, g_c):
        assert torch.equal(a, b)  # same graph, same order: bit-identical


def test_checkpoint_matches_backprop_float32() -> None:
    grads = {}
    for grad in ("backprop", "checkpoint"):
        torch.manual_seed(0)
        block = physode.CoupledODEBlock(PeriodicConv(), ["conv.weight"], physode.SpectralRDA(rho=0.1), steps=10, method="rk4", grad=grad)
        z0 = torch.randn(3, 2, 5, generator=torch.Generator().manual_seed(1))
        block(z0).sum().backward()
        grads[grad] = torch.cat([p.grad.flatten() for p in block.parameters()])
    rel = (grads["checkpoint"] - grads["backprop"]).norm() / grads["backprop"].norm()
    assert rel < 1e-6


@pytest.mark.filterwarnings("ignore:the adjoint integrates")
def test_adjoint_converges_to_backprop() -> None:
    errors = []
    for steps in (10, 20, 40, 80):
        grads = {}
        for grad in ("backprop", "adjoint"):
            block = make_block("spectral", "euler", grad, steps=steps)
            block.operators[0] = _no_diffusion_copy(block)
            z0 = torch.randn(2, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
            block(z0).pow(2).sum().backward()
            grads[grad] = torch.cat([p.grad.flatten() for p in block.parameters()])
        errors.append(((grads["adjoint"] - grads["backprop"]).norm() / grads["backprop"].norm()).item())
    # First order (Euler): each halving of the step halves the adjoint's error.
    for coarse, fine in zip(errors, errors[1:]):
        assert 1.7 < coarse / fine < 2.3
    assert errors[-1] < 5e-3


def _no_diffusion_copy(block):
    op = physode.SpectralRDA(diffusion=False, v=0.3, rho=0.2)
    op.bind(block.f.conv.weight.detach())
    return op.double()


def test_adjoint_warns_for_diffusion() -> None:
    with pytest.warns(UserWarning, match="ill-posed"):
        physode.CoupledODEBlock(PeriodicConv(), ["conv.weight"], physode.SpectralRDA(), grad="adjoint")


def test_gradient_strategies_accept_objects() -> None:
    block = physode.ODEBlock(PeriodicConv(), steps=2, grad=physode.Adjoint(method="rk4"))
    assert "rk4" in repr(block)


@pytest.mark.parametrize("snapshots", [None, 2, 0])
@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_recursive_equals_backprop(operator: str, snapshots) -> None:
    grads = {}
    for grad in ("backprop", physode.Recursive(snapshots)):
        block = make_block(operator, "rk4", grad, steps=7, weight_steps=14)
        z0 = torch.randn(3, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
        out = block(z0, times=[0.0, 0.4, 1.0])
        out.pow(2).sum().backward()
        grads[str(grad)] = (out, [z0.grad, *[p.grad for p in block.parameters()]])
    (out_b, g_b), (out_r, g_r) = grads.values()
    assert torch.equal(out_b, out_r)
    for a, b in zip(g_b, g_r):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_recursive_backward_twice_equals_backprop() -> None:
    # A repeated backward (retain_graph) runs the first sweep again: its taped steps reuse fresh
    # leaves of the propagator, whose gradients join the parameters' once per backward call.
    grads = {}
    for grad in ("backprop", physode.Recursive(2)):
        block = make_block("spectral", "euler", grad, steps=9)
        loss = block(torch.randn(3, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))).pow(2).sum()
        loss.backward(retain_graph=True)
        loss.backward()
        grads[str(grad)] = [p.grad for p in block.parameters()]
    for a, b in zip(*grads.values()):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_adjoint_restarts_from_stored_states_on_a_stiff_problem() -> None:
    # dy/dt = a y with a fast and a slow rate, float32, outputs every 0.5 up to t = 4. Reversing
    # the fast decay over the whole horizon from the final state would amplify round-off by
    # e^160; restarting at every output time keeps the adjoint gradient at backprop's.
    grads = {}
    for grad in ("backprop", "adjoint"):
        a = torch.tensor([-40.0, -0.5], requires_grad=True)
        t = torch.arange(0.0, 4.0001, 0.5)
        ys = physode.odeint(lambda t, y: a * y, torch.ones(2), t, method="rk4", step_size=0.01, grad=grad, params=[a])
        ys.sum().backward()
        grads[grad] = a.grad
    rel = (grads["adjoint"] - grads["backprop"]).norm() / grads["backprop"].norm()
    assert rel < 1e-3
    # The fast rate's own gradient (about 1e-9) is right too, up to the reverse solve's error.
    torch.testing.assert_close(grads["adjoint"], grads["backprop"], rtol=1e-2, atol=0)


def sigma_block(sigma: str, steps: int, grad: str, **options) -> physode.CoupledODEBlock:
    torch.manual_seed(0)
    operator = physode.SpectralRDA(sigma=sigma, diffusion=False, v=0.3, rho=0.4, per_channel=True, **options)
    return physode.CoupledODEBlock(PeriodicConv(), ["conv.weight"], operator, steps=steps, method="rk4", grad=grad).double()


@pytest.mark.parametrize("sigma", ["tanh", "sigmoid"])
def test_adjoint_converges_with_a_sigma_readout(sigma: str) -> None:
    # sigma is a read-out of the continuous weight path, so the adjoint differentiates the ODE the
    # forward pass discretizes: its distance to the exact discrete gradient shrinks with the step.
    errors = []
    z0 = torch.randn(2, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    for steps in (2, 8, 32):
        grads = {}
        for grad in ("checkpoint", "adjoint"):
            block = sigma_block(sigma, steps, grad)
            block(z0).pow(2).sum().backward()
            grads[grad] = torch.cat([p.grad.flatten() for p in block.parameters()])
        errors.append(((grads["adjoint"] - grads["checkpoint"]).norm() / grads["checkpoint"].norm()).item())
    # RK4: a 4x finer step shrinks the error by ~4^4 (at least 4^3 allowing pre-asymptotics).
    assert errors[0] > 64 * errors[1] > 64 * 64 * errors[2]
    assert errors[-1] < 1e-6


def test_adjoint_refuses_a_per_step_sigma() -> None:
    message = r"^grad='adjoint' needs continuous dynamics.*grad='checkpoint' or grad='recursive'$"
    with pytest.raises(InputError, match=message):
        sigma_block("tanh", 2, "adjoint", sigma_placement="each_step")
    # The same block is fine with the discrete strategies, and an identity sigma has dynamics.
    sigma_block("tanh", 2, "recursive", sigma_placement="each_step")(torch.randn(1, 2, 5, dtype=torch.float64))
    sigma_block("identity", 2, "adjoint", sigma_placement="each_step")


def test_diffusion_warning_needs_spatial_axes() -> None:
    # A linear layer's weight has no spatial axes: SpectralRDA's diffusion does not act on it.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        physode.CoupledODEBlock(nn.Linear(3, 3), ["weight"], physode.SpectralRDA(), grad="adjoint")


def modify_parameter(block: nn.Module, z: torch.Tensor) -> None:
    with torch.no_grad():
        block.f.mix.weight.mul_(2.0)


def modify_input(block: nn.Module, z: torch.Tensor) -> None:
    with torch.no_grad():
        z.add_(1.0)


def switch_mode(block: nn.Module, z: torch.Tensor) -> None:
    block.eval()


@pytest.mark.parametrize("change", [modify_parameter, modify_input, switch_mode])
@pytest.mark.parametrize("grad", ["checkpoint", "recursive", "adjoint"])
def test_changes_between_forward_and_backward_are_detected(grad: str, change) -> None:
    block = make_block("spectral" if grad != "adjoint" else "neural", "rk4", grad)
    z = torch.randn(2, 2, 5, dtype=torch.float64, requires_grad=True) * 1.0  # a non-leaf input
    loss = block(z).sum()
    change(block, z)
    with pytest.raises(RuntimeError, match="inplace operation|training mode changed"):
        loss.backward()


def test_backprop_raises_the_same_kind_of_error() -> None:
    block = make_block("spectral", "rk4", "backprop")
    loss = block(torch.randn(2, 2, 5, dtype=torch.float64)).sum()
    modify_parameter(block, None)
    with pytest.raises(RuntimeError, match="inplace operation"):
        loss.backward()
