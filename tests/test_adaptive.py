"""Adaptive stepping: embedded pairs, the step-size controller, and exact gradients of the
accepted discrete solve."""

import math

import numpy as np
import pytest
import scipy.integrate
import torch
from torch import nn

import physode
from physode.errors import InputError, RunError, SolverError
from physode.steppers import DOPRI5, StepSizeController


def lotka_volterra(t: float, y: torch.Tensor) -> torch.Tensor:
    prey, predator = y[..., 0], y[..., 1]
    return torch.stack([1.5 * prey - prey * predator, -3.0 * predator + prey * predator], dim=-1)


class LotkaVolterra(nn.Module):
    """Lotka-Volterra with learnable rates."""

    def __init__(self) -> None:
        super().__init__()
        self.rates = nn.Parameter(torch.tensor([1.5, 1.0, 3.0, 1.0], dtype=torch.float64))

    def forward(self, t: float, y: torch.Tensor) -> torch.Tensor:
        a, b, c, d = self.rates
        prey, predator = y[..., 0], y[..., 1]
        return torch.stack([a * prey - b * prey * predator, -c * predator + d * prey * predator], dim=-1)


T = [0.0, 2.5, 5.0, 7.5, 10.0]


def test_dopri5_matches_scipy_dop853_on_lotka_volterra() -> None:
    y0 = torch.tensor([1.0, 1.0], dtype=torch.float64)
    ys = physode.odeint(lotka_volterra, y0, T, method="dopri5", rtol=1e-7, atol=1e-9)
    reference = scipy.integrate.solve_ivp(
        lambda t, y: lotka_volterra(t, torch.from_numpy(y)).numpy(),
        (T[0], T[-1]), y0.numpy(), method="DOP853", rtol=1e-13, atol=1e-13, t_eval=T,
    )
    assert np.abs(ys.numpy() - reference.y.T).max() < 1e-5


def test_solution_statistics_and_exact_output_times() -> None:
    y0 = torch.tensor([1.0, 1.0], dtype=torch.float64)
    solution = physode.odesolve(lotka_volterra, y0, T, method="dopri5", rtol=1e-7, atol=1e-9)
    assert set(T) <= set(solution.grid)  # every requested time is a grid point
    assert len(solution.grid) == solution.n_accepted + 1
    trials = solution.n_accepted + solution.n_rejected
    # FSAL: 6 new evaluations per trial step, plus k0 and the first-step probe.
    assert 6 * trials <= solution.nfe <= 6 * trials + 2 + len(T)
    loose = physode.odesolve(lotka_volterra, y0, T, method="dopri5", rtol=1e-4, atol=1e-6)
    assert loose.nfe < solution.nfe / 2
    bosh3 = physode.odesolve(lotka_volterra, y0, T, method="bosh3", rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(bosh3.ys, solution.ys, rtol=1e-3, atol=1e-3)


def test_pi_control_rejects_fewer_steps_than_integral_control() -> None:
    y0 = torch.tensor([1.0, 1.0], dtype=torch.float64)
    runs = {
        beta: physode.odesolve(lotka_volterra, y0, T, method="dopri5", controller=StepSizeController(1e-7, 1e-9, beta=beta))
        for beta in (0.0, 0.04)
    }
    assert runs[0.04].n_rejected < runs[0.0].n_rejected
    torch.testing.assert_close(runs[0.04].ys, runs[0.0].ys, rtol=1e-5, atol=1e-6)


def test_float32_adaptive_keeps_dtype() -> None:
    ys = physode.odeint(lotka_volterra, torch.ones(3, 2), T, method="dopri5", rtol=1e-5, atol=1e-6)
    assert ys.dtype == torch.float32 and ys.shape == (len(T), 3, 2)


@pytest.mark.parametrize("grad", ["checkpoint", "recursive", physode.Recursive(snapshots=1)])
def test_replayed_grid_gradients_equal_backprop(grad) -> None:
    """The strategies replay the accepted grid: the gradient of the same discrete solve."""
    grads = {}
    for name, strategy in (("backprop", "backprop"), ("other", grad)):
        func = LotkaVolterra()
        y0 = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
        ys = physode.odeint(func, y0, T, method="dopri5", rtol=1e-7, atol=1e-9, grad=strategy)
        (ys * torch.linspace(-1, 1, ys.numel(), dtype=torch.float64).view_as(ys)).sum().backward()
        grads[name] = torch.cat([y0.grad, func.rates.grad])
        outputs = ys.detach()
        grads[name + "-ys"] = outputs
    assert torch.equal(grads["backprop-ys"], grads["other-ys"])
    diff = (grads["other"] - grads["backprop"]).abs().max() / grads["backprop"].abs().max()
    assert diff <= 1e-12


WEIGHTS = np.linspace(-1, 1, 2 * len(T)).reshape(len(T), 2)


def reference_loss(point: np.ndarray) -> float:
    """The loss from a tight scipy DOP853 solve; ``point`` is ``(y0, rates)``."""
    a, b, c, d = point[2:]

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        return np.array([a * y[0] - b * y[0] * y[1], -c * y[1] + d * y[0] * y[1]])

    solution = scipy.integrate.solve_ivp(rhs, (T[0], T[-1]), point[:2], method="DOP853", rtol=1e-13, atol=1e-13, t_eval=T)
    return float((solution.y.T * WEIGHTS).sum())


@pytest.fixture(scope="module")
def finite_difference_gradient() -> np.ndarray:
    point, eps = np.array([1.0, 1.0, 1.5, 1.0, 3.0, 1.0]), 1e-5
    return np.array([(reference_loss(point + eps * e) - reference_loss(point - eps * e)) / (2 * eps) for e in np.eye(6)])


@pytest.mark.parametrize("grad", ["backprop", "checkpoint", "recursive", "adjoint"])
def test_gradients_match_finite_differences_of_a_tight_solve(grad: str, finite_difference_gradient) -> None:
    func = LotkaVolterra()
    y0 = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    ys = physode.odeint(func, y0, T, method="dopri5", rtol=1e-7, atol=1e-9, grad=grad)
    (ys * torch.from_numpy(WEIGHTS)).sum().backward()
    analytic = torch.cat([y0.grad, func.rates.grad]).numpy()
    numeric = finite_difference_gradient
    assert np.abs(analytic - numeric).max() / np.abs(numeric).max() < 1e-4


def test_blow_up_raises_one_line_error_naming_t() -> None:
    with pytest.raises(SolverError) as error:
        physode.odeint(lambda t, y: y**2, torch.ones((), dtype=torch.float64), [0.0, 2.0], method="dopri5")
    message = str(error.value)
    assert "\n" not in message and "underflow" in message
    t = float(message.split("at t = ")[1].split(":")[0])
    assert t == pytest.approx(1.0, abs=1e-3)
    # A run that cannot finish, not bad input (the command line prints it as one line too).
    assert isinstance(error.value, RunError) and not isinstance(error.value, ValueError)


def test_too_many_steps_raises_naming_t() -> None:
    controller = StepSizeController(rtol=1e-10, atol=1e-12, max_steps=20)
    with pytest.raises(SolverError, match=r"stopped at t = [0-9.]+: 20 trial steps"):
        physode.odeint(lotka_volterra, torch.ones(2, dtype=torch.float64), [0.0, 10.0], method="dopri5", controller=controller)


def test_bad_adaptive_arguments() -> None:
    y0 = torch.ones(2)
    with pytest.raises(InputError, match="has no error estimate"):
        physode.odeint(lotka_volterra, y0, T, method="rk4", rtol=1e-6)
    with pytest.raises(InputError, match="not both"):
        physode.odeint(lotka_volterra, y0, T, method="dopri5", rtol=1e-6, step_size=0.1)
    with pytest.raises(InputError, match="rtol"):
        StepSizeController(rtol=-1.0)
    with pytest.raises(InputError, match="both be 0"):
        StepSizeController(rtol=0.0, atol=0.0)
    with pytest.raises(InputError, match="max_steps"):
        StepSizeController(max_steps=0)


def test_embedded_method_with_step_size_is_fixed_step() -> None:
    y0 = torch.ones((), dtype=torch.float64)
    solution = physode.odesolve(lambda t, y: -y, y0, [0.0, 1.0], method="dopri5", step_size=0.25)
    assert solution.grid == (0.0, 0.25, 0.5, 0.75, 1.0) and solution.n_rejected == 0
    assert solution.ys[-1].item() == pytest.approx(math.exp(-1.0), rel=1e-6)


def test_adaptive_adjoint_is_close_to_the_exact_gradient() -> None:
    grads = {}
    for grad in ("backprop", "adjoint"):
        func = LotkaVolterra()
        physode.odeint(func, torch.ones(2, dtype=torch.float64), T, method="dopri5", grad=grad).sum().backward()
        grads[grad] = func.rates.grad
    torch.testing.assert_close(grads["adjoint"], grads["backprop"], rtol=1e-5, atol=1e-7)


# Tableau validation: the order conditions of both weight vectors.


def test_builtin_pairs_pass_their_order_conditions() -> None:
    assert DOPRI5.embedded and DOPRI5.fsal and (DOPRI5.order, DOPRI5.order_low) == (5, 4)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"b": (0.5, 0.6)}, r"order-1 condition sum\(b\) = 1"),
        ({"c": (0.0, 0.6)}, r"c\[1\] = 0.6 but row 1 of a sums to 0.5"),
        ({"order": 3, "b": (0.0, 1.0)}, r"order-3 condition sum\(b \* c\^2\) = 1/3"),
        ({"b": (0.25, 0.75)}, r"order-2 condition sum\(b \* c\) = 1/2"),
        ({"b_low": (1.0, 0.1), "order_low": 1}, r"b_low violates the order-1 condition"),
        ({"b_low": (1.0, 0.0)}, r"give both b_low and order_low"),
    ],
)
def test_invalid_tableau_names_the_failed_condition(options: dict, message: str) -> None:
    midpoint = {"name": "m", "order": 2, "a": ((), (0.5,)), "b": (0.0, 1.0), "c": (0.0, 0.5)}
    with pytest.raises(InputError, match=message):
        physode.ButcherTableau(**{**midpoint, **options})


def test_fourth_order_conditions_are_checked() -> None:
    rk4 = physode.steppers.RK4
    perturbed = (rk4.b[0], rk4.b[1] + 1e-3, rk4.b[2] - 1e-3, rk4.b[3])  # order 1, 2 ok; 3 not
    with pytest.raises(InputError, match="order-3 condition"):
        physode.ButcherTableau("x", 4, a=rk4.a, b=perturbed, c=rk4.c)
    # The 3/8 rule is fourth order with different coefficients: accepted.
    physode.ButcherTableau(
        "3/8", 4, a=((), (1 / 3,), (-1 / 3, 1.0), (1.0, -1.0, 1.0)), b=(1 / 8, 3 / 8, 3 / 8, 1 / 8), c=(0.0, 1 / 3, 2 / 3, 1.0)
    )
    with pytest.raises(InputError, match=r"order-4 condition sum\(b \* c \* A\(c\)\) = 1/8"):
        # Declared 4th order but a 3rd-order tableau (Kutta's third-order method padded).
        physode.ButcherTableau("k3", 4, a=((), (0.5,), (-1.0, 2.0)), b=(1 / 6, 2 / 3, 1 / 6), c=(0.0, 0.5, 1.0))


# Blocks: the same adaptive stepping, passed through.


def conv_branch() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 2, 3, padding=1), nn.BatchNorm2d(2), nn.Tanh(), nn.Conv2d(2, 2, 3, padding=1)).double()


@pytest.mark.parametrize("grad", ["checkpoint", "recursive"])
def test_adaptive_block_gradients_equal_backprop(grad: str) -> None:
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    results = []
    for strategy in ("backprop", grad):
        block = physode.ODEBlock(conv_branch(), method="dopri5", grad=strategy, rtol=1e-6, atol=1e-8)
        out = block(x, times=[0.0, 0.5, 1.0])
        out.square().sum().backward()
        results.append((out.detach(), [p.grad for p in block.parameters()], block.f[1].running_mean.clone(), block.stats))
    (out_b, g_b, m_b, stats_b), (out_o, g_o, m_o, stats_o) = results
    assert torch.equal(out_b, out_o) and torch.equal(m_b, m_o)
    assert stats_b.grid == stats_o.grid and stats_b.n_accepted > 2 and stats_b.nfe > 6 * stats_b.n_accepted
    for a, b in zip(g_b, g_o):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_adaptive_coupled_block_steps_the_weights_on_the_accepted_grid() -> None:
    block = physode.CoupledODEBlock(conv_branch(), ["0.weight"], physode.SpectralRDA(v=0.3, rho=0.2), method="bosh3", rtol=1e-5, atol=1e-7)
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64)
    out = block(x)
    fixed = physode.CoupledODEBlock(block.f, ["0.weight"], physode.SpectralRDA(v=0.3, rho=0.2), method="bosh3", steps=40)
    fixed.operators.load_state_dict(block.operators.state_dict())
    torch.testing.assert_close(out, fixed(x), rtol=1e-4, atol=1e-5)  # both near the exact flow
    assert gradcheck_block_input(block, x)
    with pytest.raises(InputError, match="no error estimate"):
        physode.ODEBlock(conv_branch(), method="rk4", rtol=1e-6)
    with pytest.raises(InputError, match="not both"):
        physode.ODEBlock(conv_branch(), method="dopri5", steps=4, rtol=1e-6)


def gradcheck_block_input(block: nn.Module, x: torch.Tensor) -> bool:
    block.eval()  # fixed BatchNorm statistics: a deterministic function for gradcheck
    return torch.autograd.gradcheck(lambda z: block(z).sum(), (x.clone().requires_grad_(),), atol=1e-6, fast_mode=True)


class Counted(nn.Module):
    """Counts evaluations of the wrapped vector field."""

    def __init__(self, func: nn.Module) -> None:
        super().__init__()
        self.func = func
        self.calls = 0

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.func(*args)


def test_adaptive_adjoint_takes_the_search_as_its_forward_pass() -> None:
    # The search's states are the forward pass: as many evaluations as backprop's, no replay.
    y0 = torch.tensor([1.0, 1.0], dtype=torch.float64)
    runs = {}
    for grad in ("backprop", "checkpoint", "adjoint"):
        func = Counted(LotkaVolterra())
        solution = physode.odesolve(func, y0, T, method="dopri5", rtol=1e-7, atol=1e-9, grad=grad)
        runs[grad] = (func.calls, solution)
    calls, solution = runs["adjoint"]
    assert calls == solution.nfe == runs["backprop"][0] > 6 * solution.n_accepted
    assert runs["checkpoint"][0] == calls + DOPRI5.evaluations * solution.n_accepted  # its replay
    assert torch.equal(solution.ys, runs["backprop"][1].ys)


@pytest.mark.parametrize("grad", ["checkpoint", "adjoint"])
def test_adaptive_block_adjoint_runs_the_forward_once(grad: str) -> None:
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    branch = Counted(conv_branch())
    block = physode.CoupledODEBlock(branch, ["func.0.weight"], physode.SpectralRDA(v=0.3, rho=0.2, diffusion=False),
                                    method="dopri5", grad=grad, rtol=1e-6, atol=1e-8)
    out = block(x, times=[0.0, 0.5, 1.0])
    forward_calls = branch.calls
    out.square().sum().backward()
    replay = 0 if grad == "adjoint" else DOPRI5.evaluations * block.stats.n_accepted
    assert forward_calls == block.stats.nfe + replay
    assert block.f.func[1].running_mean.abs().sum() > 0  # the forward pass updated BatchNorm
