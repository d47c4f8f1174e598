import copy
import math

import pytest
import torch
from torch import nn

import physode
from physode.errors import InputError
from physode.grids import subdivide
from physode.steppers import get_method

from fields import Scale


def reaction_block(w0: float, rho: float, steps: int, method: str, grad: str = "checkpoint"):
    # dz/dt = w(t) z, dw/dt = rho w  =>  w(t) = w0 exp(rho t) exactly (spectral propagator).
    op = physode.SpectralRDA(diffusion=False, advection=False, rho=rho)
    return physode.CoupledODEBlock(Scale(w0), ["theta"], op, steps=steps, method=method, grad=grad).double()


@pytest.mark.parametrize("grad", ["backprop", "checkpoint"])
def test_closed_form_discrete_map(grad: str) -> None:
    # Euler: z_N = z0 prod_n (1 + h w0 e^{rho t_n}); its gradients in closed form.
    w0, rho, z0_value, steps = 0.7, -0.4, 1.3, 17
    block = reaction_block(w0, rho, steps, "euler", grad)
    z0 = torch.tensor([z0_value], dtype=torch.float64, requires_grad=True)
    z1 = block(z0)
    z1.backward()
    h = 1.0 / steps
    factors = [1 + h * w0 * math.exp(rho * n * h) for n in range(steps)]
    expected = z0_value * math.prod(factors)
    dlog_dw0 = sum(h * math.exp(rho * n * h) / f for n, f in zip(range(steps), factors))
    dlog_drho = sum(h * w0 * n * h * math.exp(rho * n * h) / f for n, f in zip(range(steps), factors))
    assert z1.item() == pytest.approx(expected, rel=1e-13)
    assert z0.grad.item() == pytest.approx(expected / z0_value, rel=1e-12)
    assert block.f.theta.grad.item() == pytest.approx(expected * dlog_dw0, rel=1e-12)
    assert block.operators[0].rho.grad.item() == pytest.approx(expected * dlog_drho, rel=1e-12)


def test_closed_form_continuous_solution() -> None:
    # RK4 on a fine grid reaches z(1) = z0 exp(w0 (e^rho - 1) / rho) and its gradients to 1e-10.
    w0, rho, z0_value = 0.7, -0.4, 1.3
    block = reaction_block(w0, rho, 400, "rk4")
    z0 = torch.tensor([z0_value], dtype=torch.float64, requires_grad=True)
    z1 = block(z0)
    z1.backward()
    growth = (math.exp(rho) - 1) / rho
    expected = z0_value * math.exp(w0 * growth)
    assert z1.item() == pytest.approx(expected, rel=1e-10)
    assert z0.grad.item() == pytest.approx(expected / z0_value, rel=1e-10)
    assert block.f.theta.grad.item() == pytest.approx(expected * growth, rel=1e-10)
    d_growth = (rho * math.exp(rho) - math.exp(rho) + 1) / rho**2
    assert block.operators[0].rho.grad.item() == pytest.approx(expected * w0 * d_growth, rel=1e-10)


def residual_branch() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 3, 3, padding=1, bias=False),
        nn.BatchNorm2d(3),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Conv2d(3, 3, 3, padding=1, bias=False),
    )


def run(block: nn.Module, seed: int = 1):
    x = torch.randn(4, 3, 6, 6, generator=torch.Generator().manual_seed(seed), requires_grad=True)
    torch.manual_seed(seed)
    y = block(x)
    y.square().mean().backward()
    after = torch.rand(3)  # the RNG stream the caller sees after backward
    return y.detach(), [x.grad, *[p.grad for p in block.parameters()]], after


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_static_operator_reproduces_static_block_exactly(method: str) -> None:
    f = residual_branch()
    static = physode.ODEBlock(copy.deepcopy(f), steps=3, method=method)
    coupled = physode.CoupledODEBlock(copy.deepcopy(f), ["0.weight", "4.weight"], physode.Static(), steps=3, method=method)
    y_s, g_s, _ = run(static)
    y_c, g_c, _ = run(coupled)
    assert torch.equal(y_s, y_c)
    for a, b in zip(g_s, g_c):
        assert torch.equal(a, b)


@pytest.mark.parametrize("coupled", [False, True])
def test_checkpoint_batchnorm_and_dropout_behave_as_backprop(coupled: bool) -> None:
    results = {}
    for grad in ("backprop", "checkpoint"):
        torch.manual_seed(0)
        f = residual_branch()
        block = (
            physode.CoupledODEBlock(f, ["0.weight"], physode.SpectralRDA(rho=0.2), steps=3, grad=grad)
            if coupled
            else physode.ODEBlock(f, steps=3, grad=grad)
        )
        y, grads, after = run(block)
        bn = block.f[1]
        results[grad] = (y, grads, after, bn.running_mean.clone(), bn.running_var.clone(), bn.num_batches_tracked.item())
    (y_b, g_b, r_b, m_b, v_b, n_b), (y_c, g_c, r_c, m_c, v_c, n_c) = results.values()
    assert torch.equal(y_b, y_c)
    for a, b in zip(g_b, g_c):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)  # same dropout masks
    # BatchNorm statistics are updated once per forward evaluation of f, not again in recompute.
    assert n_b == n_c == 3
    assert torch.equal(m_b, m_c) and torch.equal(v_b, v_c)
    assert torch.equal(r_b, r_c)  # backward leaves the caller's RNG stream untouched


def count_saved(block: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    saved = []

    def pack(t: torch.Tensor):
        saved.append(t.numel())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        block(x)
    return len(saved), sum(saved)


@pytest.mark.parametrize("operator", [physode.Static, physode.SpectralRDA, physode.Neural])
def test_checkpoint_saved_tensors_do_not_grow_with_steps(operator) -> None:
    x = torch.randn(2, 3, 6, 6)
    counts = {}
    for grad in ("checkpoint", "backprop"):
        for steps in (2, 20):
            torch.manual_seed(0)
            block = physode.CoupledODEBlock(residual_branch(), ["0.weight"], operator(), steps=steps, weight_steps=2 * steps, method="rk4", grad=grad)
            counts[grad, steps] = count_saved(block, x)
    assert counts["checkpoint", 2] == counts["checkpoint", 20]
    assert counts["backprop", 20][1] > 5 * counts["backprop", 2][1]  # the counter does see growth


def test_autocast_bfloat16_forward_and_backward() -> None:
    block = physode.CoupledODEBlock(residual_branch(), ["0.weight"], physode.SpectralRDA(rho=0.1), steps=3)
    x = torch.randn(2, 3, 6, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = block(x)
    y.float().sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in block.parameters() if p.grad is not None)


def test_exponential_memory_follows_closed_form() -> None:
    # w = w0 e^{rho t}, dtheta/dt = (w - theta)/l, theta(0) = w0:
    # theta = A e^{rho t} + (w0 - A) e^{-t/l}, A = w0 / (1 + l rho).
    w0, rho, scale = 0.8, 0.5, 0.3
    block = physode.CoupledODEBlock(
        Scale(w0),
        ["theta"],
        physode.SpectralRDA(diffusion=False, advection=False, rho=rho),
        kernel=physode.ExponentialMemory(scale, learnable=False),
        steps=2,
        weight_steps=2000,
    ).double()
    times = [0.0, 0.25, 0.5, 1.0]
    theta = block.weight_trajectory(times)["theta"].squeeze(-1)
    amp = w0 / (1 + scale * rho)
    expected = torch.tensor([amp * math.exp(rho * t) + (w0 - amp) * math.exp(-t / scale) for t in times], dtype=torch.float64)
    torch.testing.assert_close(theta, expected, rtol=1e-6, atol=0)


def test_spectral_propagator_is_exact_for_linear_rda() -> None:
    # One step of length 1 equals ten steps of 0.1 (identity sigma): the propagator is exact.
    op = physode.SpectralRDA(tau=0.2, v=0.7, rho=-0.3)
    w = torch.randn(2, 3, 5, 4, dtype=torch.float64)
    op.bind(w)
    op.double()
    method = get_method("euler")  # unused by the exact propagator
    once = op.step(w, 0.0, 1.0, method)
    many = w
    for n in range(10):
        many = op.step(many, n * 0.1, 0.1, method)
    torch.testing.assert_close(once, many, rtol=1e-12, atol=1e-12)


def test_spectral_advection_by_whole_cells_is_a_roll() -> None:
    op = physode.SpectralRDA(diffusion=False, reaction=False, v=1.0, axes=(-1,))
    w = torch.randn(3, 2, 7, dtype=torch.float64)
    op.bind(w)
    op.double()
    # dw/dt = v dw/dx: w(x, t) = w(x + v t); after t = 2 with v = 1 the signal moved 2 cells left.
    moved = op.step(w, 0.0, 2.0, get_method("euler"))
    torch.testing.assert_close(moved, torch.roll(w, shifts=-2, dims=-1), rtol=1e-12, atol=1e-12)


def test_weight_trajectory_starts_at_initial_weights() -> None:
    block = physode.CoupledODEBlock(residual_branch(), ["0.weight"], physode.SpectralRDA(rho=0.5, tau=0.1), steps=5)
    traj = block.weight_trajectory([0.0, 0.5, 1.0])["0.weight"]
    assert traj.shape == (3, 3, 3, 3, 3)
    assert torch.equal(traj[0], block.f[0].weight.detach()) or torch.allclose(traj[0], block.f[0].weight)


def test_trajectory_output_at_times() -> None:
    block = reaction_block(0.5, 0.0, 4, "rk4")
    zs = block(torch.ones(1, dtype=torch.float64), times=[0.0, 0.5, 1.0])
    assert zs.shape == (3, 1)
    torch.testing.assert_close(zs.squeeze(-1), torch.exp(0.5 * torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)), rtol=1e-5, atol=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "steps must be an integer >= 1"),
        ({"steps": 2.5}, "steps must be an integer >= 1"),
        ({"weight_steps": -1}, "weight_steps must be an integer >= 1"),
        ({"method": "rk45"}, "unknown method"),
        ({"grad": "reverse"}, "unknown gradient strategy"),
        ({"t1": 0.0}, "t1 must be > 0"),
        ({"evolve": ["nope.weight"]}, "has no parameter 'nope.weight'"),
    ],
)
def test_bad_block_arguments(kwargs: dict, message: str) -> None:
    options = {"evolve": ["0.weight"], **kwargs}
    with pytest.raises(InputError, match=message):
        physode.CoupledODEBlock(residual_branch(), **options)


def test_negative_diffusion_is_rejected() -> None:
    with pytest.raises(InputError, match="tau must be > 0.*diffusion=False"):
        physode.SpectralRDA(tau=-0.1)
    with pytest.raises(InputError, match="unknown sigma"):
        physode.SpectralRDA(sigma="relu")


def test_non_increasing_output_times_rejected() -> None:
    block = physode.ODEBlock(residual_branch())
    with pytest.raises(InputError, match="strictly increasing"):
        block(torch.randn(1, 3, 6, 6), times=[0.0, 0.5, 0.5])


def test_recursive_stores_log_n_states_at_1000_steps() -> None:
    # Transport-like: a periodic stencil on a 1-D field, Nt = 1000.
    f = nn.Conv1d(1, 1, 5, padding=2, padding_mode="circular", bias=False)
    strategy = physode.Recursive()
    block = physode.CoupledODEBlock(f, ["weight"], physode.SpectralRDA(rho=0.1), steps=1000, grad=strategy).double()
    x = torch.randn(2, 1, 16, dtype=torch.float64)
    n_saved, _ = count_saved(block, x)
    short = physode.CoupledODEBlock(copy.deepcopy(f), ["weight"], physode.SpectralRDA(rho=0.1), steps=10, grad="recursive").double()
    # The forward pass saves its input and the graph of one step (the first to be reversed).
    assert n_saved == count_saved(short, x)[0]
    block(x).sum().backward()
    assert strategy.peak_snapshots == math.ceil(math.log2(1000))
    reference = physode.CoupledODEBlock(copy.deepcopy(f), ["weight"], physode.SpectralRDA(rho=0.1), steps=1000, grad="backprop").double()
    reference(x).sum().backward()
    # Same arithmetic per step; only the order of summing 1000 contributions differs.
    torch.testing.assert_close(block.f.weight.grad, reference.f.weight.grad, rtol=1e-8, atol=1e-12)


def test_recursive_dropout_and_batchnorm_as_backprop() -> None:
    results = []
    for grad in ("backprop", physode.Recursive()):
        torch.manual_seed(0)
        block = physode.ODEBlock(residual_branch(), steps=5, grad=grad)
        y, grads, after = run(block)
        results.append((y, grads, after, block.f[1].running_mean.clone()))
    (y_b, g_b, r_b, m_b), (y_r, g_r, r_r, m_r) = results
    assert torch.equal(y_b, y_r) and torch.equal(r_b, r_r) and torch.equal(m_b, m_r)
    for a, b in zip(g_b, g_r):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_spectral_coefficients_survive_channels_last() -> None:
    block = physode.CoupledODEBlock(residual_branch(), ["0.weight"], physode.SpectralRDA(per_channel=True), steps=2)
    block.to(memory_format=torch.channels_last)
    op = block.operators[0]
    assert op.v.shape == (2, 3) and op.rho.shape == (3,) and op.raw_tau.shape == (3,)
    block(torch.randn(2, 3, 6, 6).to(memory_format=torch.channels_last)).sum().backward()


def test_weight_trajectory_follows_the_forward_path() -> None:
    # A time-dependent q: the weights seen by forward(z, times) are those weight_trajectory gives.
    op = physode.Neural(hidden=4, time_input=True)
    block = physode.CoupledODEBlock(Scale(0.5), ["theta"], op, steps=3, method="rk4").double()
    nn.init.normal_(block.operators[0].net[-1].weight, std=0.5)
    times = [0.5, 1.0, 2.0]
    theta = block.weight_trajectory(times, output_times=times)["theta"]
    # The forward pass's weight path: from w0 at times[0], rk4 steps on the z grid (3 per interval).
    grid, _ = subdivide(times, 3)
    w, expected = block.f.theta.detach(), [block.f.theta.detach()]
    for a, b in zip(grid, grid[1:]):
        w = block.operators[0].step(w, a, b - a, get_method("rk4"))
        if b in times:
            expected.append(w)
    torch.testing.assert_close(theta, torch.stack(expected), rtol=1e-12, atol=1e-12)
    assert not torch.allclose(theta[0], theta[-1])  # q does move the weights
    with pytest.raises(InputError, match="outside the block's span"):
        block.weight_trajectory([0.0], output_times=times)


class _Raising(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("f failed")


def test_evolved_weights_reach_every_tied_alias_and_are_put_back() -> None:
    # Two layers share one weight: both apply theta(t) = w0 exp(rho t), as functional_call would.
    torch.manual_seed(0)
    f = nn.Sequential(nn.Linear(3, 3, bias=False), nn.Tanh(), nn.Linear(3, 3, bias=False)).double()
    f[2].weight = f[0].weight
    rho, steps = 0.8, 2
    op = physode.SpectralRDA(diffusion=False, advection=False, rho=rho)
    block = physode.CoupledODEBlock(f, ["0.weight"], op, steps=steps, method="euler", grad="backprop")
    z = torch.linspace(-1.0, 1.0, 6, dtype=torch.float64).reshape(2, 3)
    w0 = f[0].weight.detach().clone()
    expected = z
    for n in range(steps):
        theta = w0 * math.exp(rho * n / steps)
        expected = expected + torch.tanh(expected @ theta.T) @ theta.T / steps
    torch.testing.assert_close(block(z), expected, rtol=1e-13, atol=1e-13)
    assert isinstance(f[0].weight, nn.Parameter) and f[2].weight is f[0].weight
    raising = physode.CoupledODEBlock(_Raising(), ["weight"], physode.SpectralRDA(), steps=1)
    parameter = raising.f.weight
    with pytest.raises(RuntimeError, match="f failed"):
        raising(torch.ones(2))
    assert raising.f.weight is parameter
