"""The adaptive section of the perf benchmark: physode dopri5 against torchdiffeq dopri5.

Two problems at the same tolerances: Lotka-Volterra with learnable rates (float64, a batch of 16
initial conditions, 11 output times on [0, 10]) and a conv ODE block (16 channels, 32x32, a
conv-tanh-conv vector field with learned weights, float32). Per implementation, in a fresh
process: function evaluations in the forward pass and in the backward pass (counted by wrapping
the vector field), median time of a training step, peak memory, and the gradient's relative
error against a float64 solve at tight tolerances. Run by ``perf.py``.
"""

from __future__ import annotations

import numpy as np
import scipy.integrate
import torch
from torch import nn

import physode

PROBLEMS = {
    # name: (rtol, atol, reference rtol/atol in float64)
    "lotka-volterra": (1e-7, 1e-9, 1e-12),
    "conv-ode": (1e-5, 1e-7, 1e-10),
}
IMPLEMENTATIONS = ("physode-backprop", "physode-checkpoint", "physode-recursive", "physode-adjoint", "tdq-odeint", "tdq-adjoint")
LV_TIMES = torch.linspace(0.0, 10.0, 11)
REFERENCE = "reference"  # physode backprop in float64 at the reference tolerance


class LotkaVolterra(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rates = nn.Parameter(torch.tensor([1.5, 1.0, 3.0, 1.0]))

    def forward(self, t, y: torch.Tensor) -> torch.Tensor:
        a, b, c, d = self.rates
        prey, predator = y[..., 0], y[..., 1]
        return torch.stack([a * prey - b * prey * predator, -c * predator + d * prey * predator], dim=-1)


class ConvField(nn.Module):
    """A conv residual branch as a vector field; weights as after some training (a fixed seed)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.Tanh(), nn.Conv2d(16, 16, 3, padding=1))

    def forward(self, t, y: torch.Tensor) -> torch.Tensor:
        return self.net(y)


class Counted(nn.Module):
    """Counts evaluations of the wrapped vector field."""

    def __init__(self, func: nn.Module) -> None:
        super().__init__()
        self.func = func
        self.calls = 0

    def forward(self, t, y: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.func(t, y)


def setup(problem: str, dtype: torch.dtype, device: torch.device):
    """The vector field (counted), the initial state, the output times and the loss weights."""
    if problem == "lotka-volterra":
        func = LotkaVolterra()
        y0 = 0.9 + 0.2 * torch.rand(16, 2, generator=torch.Generator().manual_seed(1))
        times = LV_TIMES
    else:
        func = ConvField()
        y0 = torch.randn(32, 16, 32, 32, generator=torch.Generator().manual_seed(1))
        times = torch.tensor([0.0, 1.0])
    probe = torch.randn(len(times), *y0.shape, generator=torch.Generator().manual_seed(2))
    to = {"device": device, "dtype": dtype}
    return Counted(func.to(**to)), y0.to(**to), times.to(**to), probe.to(**to)


def solve(impl: str, func: Counted, y0: torch.Tensor, times: torch.Tensor, rtol: float, atol: float) -> torch.Tensor:
    if impl.startswith("physode-"):
        grad = impl.removeprefix("physode-")
        return physode.odeint(func, y0, times, method="dopri5", rtol=rtol, atol=atol, grad=grad)
    import torchdiffeq

    if impl == "tdq-adjoint":
        return torchdiffeq.odeint_adjoint(func, y0, times, method="dopri5", rtol=rtol, atol=atol)
    return torchdiffeq.odeint(func, y0, times, method="dopri5", rtol=rtol, atol=atol)


def worker(args, device: torch.device, measure_training_step) -> tuple[dict, torch.Tensor]:
    """One implementation on one problem: figures and the gradient (for the error column)."""
    rtol, atol, tight = PROBLEMS[args.model]
    impl = args.impl
    if impl == REFERENCE:
        impl, rtol, atol = "physode-backprop", tight, tight
    func, y0, times, probe = setup(args.model, getattr(torch, args.dtype), device)

    def loss() -> torch.Tensor:
        return (solve(impl, func, y0, times, rtol, atol) * probe).sum()

    def step() -> None:
        func.zero_grad(set_to_none=True)
        loss().backward()

    figures = measure_training_step(step, device, min(args.repeats, 3))  # the LV rows are long
    func.zero_grad(set_to_none=True)
    func.calls = 0
    value = loss()
    figures["nfe_forward"] = func.calls
    value.backward()
    figures["nfe_backward"] = func.calls - figures["nfe_forward"]
    grad = torch.cat([p.grad.flatten().double().cpu() for p in func.parameters()])
    return figures, grad


def scipy_agreement() -> float:
    """Max abs difference of physode dopri5 (rtol 1e-7, atol 1e-9) from scipy DOP853 at 1e-13 on
    Lotka-Volterra, y0 = (1, 1), t in [0, 10]."""
    func = LotkaVolterra().double()
    y0 = torch.tensor([1.0, 1.0], dtype=torch.float64)
    with torch.no_grad():
        ours = physode.odeint(func, y0, LV_TIMES.double(), method="dopri5", rtol=1e-7, atol=1e-9).numpy()
        reference = scipy.integrate.solve_ivp(
            lambda t, y: func(t, torch.from_numpy(y)).numpy(), (0.0, 10.0), y0.numpy(),
            method="DOP853", rtol=1e-13, atol=1e-13, t_eval=LV_TIMES.double().numpy(),
        ).y.T
    return float(np.abs(ours - reference).max())


def run(args, tmp, measure) -> list[dict]:
    rows = []
    for problem in PROBLEMS:
        dtype = "float64" if problem == "lotka-volterra" else "float32"
        reference = measure(args, tmp, model=problem, impl=REFERENCE, dtype="float64")["grad"]
        for impl in IMPLEMENTATIONS:
            figures = measure(args, tmp, model=problem, impl=impl, dtype=dtype)
            grad = figures.pop("grad")
            figures["grad_error"] = ((grad - reference).norm() / reference.norm()).item()
            rows.append({"problem": problem, "impl": impl, "dtype": dtype, **figures})
            print(f"{problem:15s} {impl:19s} nfe {figures['nfe_forward']:5d}+{figures['nfe_backward']:5d} "
                  f"{figures['time_ms']:9.1f} ms {figures['peak_mib']:8.1f} MiB err {figures['grad_error']:.1e}", flush=True)
    return rows


def report(rows: list[dict], verdict) -> tuple[list[str], list[str]]:
    """Target lines and the section's table."""

    def find(problem: str, impl: str) -> dict:
        return next(r for r in rows if r["problem"] == problem and r["impl"] == impl)

    def nfe(problem: str, impl: str) -> int:
        return find(problem, impl)["nfe_forward"]

    adjoint, backprop = "physode-adjoint", "physode-backprop"
    nfe_ratio = max(nfe(p, backprop) / nfe(p, "tdq-odeint") for p in PROBLEMS)
    agreement = scipy_agreement()
    rtol, atol, _ = PROBLEMS["lotka-volterra"]
    targets = [
        f"| adaptive dopri5 (rtol {rtol:g}, atol {atol:g}) matches scipy DOP853 at 1e-13 to 1e-5 on Lotka-Volterra | "
        f"max abs difference {agreement:.1e} | {verdict(agreement <= 1e-5)} |",
        f"| adaptive dopri5 forward NFE <= 1.2x torchdiffeq's at the same tolerances (both problems) | "
        f"worst {nfe_ratio:.2f}x | {verdict(nfe_ratio <= 1.2)} |",
        f"| physode adjoint's forward NFE equals the forward solve's (backprop's: the search is its forward pass, no replay) | "
        f"{', '.join(f'{p} {nfe(p, adjoint)} vs {nfe(p, backprop)}' for p in PROBLEMS)} | "
        f"{verdict(all(nfe(p, adjoint) == nfe(p, backprop) for p in PROBLEMS))} |",
    ]
    table = [
        "## Adaptive stepping: physode dopri5 vs torchdiffeq dopri5",
        "",
        "Same problem, tolerances and method (`dopri5`). NFE counted by wrapping the vector field: "
        "evaluations in the forward pass + in the backward pass (physode `checkpoint`/`recursive` "
        "replay the accepted grid in both; physode's adjoint takes the search as its forward pass; the adjoints run "
        "their own reverse solve). Gradient error: relative "
        "L2 error of the parameter gradient against physode backprop in float64 at rtol = atol = "
        "the reference tolerance. Lotka-Volterra: learnable rates, 16 initial conditions, 11 output "
        "times on [0, 10], float64. Conv ODE: conv-tanh-conv (16 channels, 32x32, batch 32), t in [0, 1], float32.",
        "",
        "| problem | rtol / atol (reference) | implementation | NFE forward | NFE backward | time/step (ms) | peak (MiB) | grad rel. error |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        rtol, atol, tight = PROBLEMS[r["problem"]]
        table.append(
            f"| {r['problem']} | {rtol:g} / {atol:g} ({tight:g}) | {r['impl']} | {r['nfe_forward']} | {r['nfe_backward']} | "
            f"{r['time_ms']:.1f} | {r['peak_mib']:.1f} | {r['grad_error']:.1e} |"
        )
    return targets, table
