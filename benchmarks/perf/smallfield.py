"""The small-field section: the solver loop's own cost per step, physode against torchdiffeq and torchode.

An MLP vector field (8 -> 64 -> 8, tanh), batch 16, float32, one thread: the field costs little, so
what a library does around it (stage arithmetic, bookkeeping, autograd nodes) is most of the time.
Fixed steps: Heun's method, 100 equal steps on [0, 1], the solution at all 101 times. Adaptive:
dopri5 at rtol 1e-7, atol 1e-9 (torchdiffeq's defaults) on [0, 10], the solution at t = 10 (each
library picks its own steps; times are per solve, with its step count).

Implementations, each run as its users run it: physode ``odeint`` (``backprop``, ``checkpoint``,
and ``compile=True``); torchdiffeq ``odeint`` (``heun2``, ``dopri5``); torchode eager
(``AutoDiffAdjoint`` with ``FixedStepController`` and ``dt0``, or ``IntegralController``) and
compiled as its documentation shows (``torch.jit.script`` of the solver; torchode is written for
TorchScript). Timed in ONE process, interleaved rounds, the fastest round of each by the process's
CPU time (``clock.py``; load from other work on the machine cancels in the ratios). Forward:
without a graph (inference); forward + backward: a training step of ``sum(y * probe)``.

    python -m benchmarks.perf.smallfield             # prints the rows
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

import physode
from benchmarks.perf.clock import work_clock

BATCH, DIM, HIDDEN, STEPS = 16, 8, 64, 100
ADAPTIVE_SPAN, RTOL, ATOL = 10.0, 1e-7, 1e-9
PHYSODE = ("physode-backprop", "physode-checkpoint", "physode-compiled")
TORCHODE = ("torchode", "torchode-jit")
HAND_WRITTEN = "hand-written"  # Heun as a plain loop, no library: the floor of any solver calling this field
IMPLEMENTATIONS = (*PHYSODE, "torchdiffeq", *TORCHODE, HAND_WRITTEN)
FIXED_ONLY = ("physode-compiled", HAND_WRITTEN)
# torch.compile of torchode's solve: graph breaks (a data-dependent nonzero), 5+ min to compile
# here, so measured only on request (--torchode-compile), Heun only.
TORCHODE_COMPILED = "torchode-compiled"
MODES = ("forward", "forward+backward")


def implementations(method: str, torchode_compile: bool = False) -> tuple[str, ...]:
    """Who runs ``method``: physode's compiled steps only where the steps are fixed (an adaptive
    trial step runs eagerly, see ``physode.steppers.compiled``), the hand-written loop is Heun's."""
    if method != "heun":
        return tuple(i for i in IMPLEMENTATIONS if i not in FIXED_ONLY)
    return IMPLEMENTATIONS + ((TORCHODE_COMPILED,) if torchode_compile else ())


def hand_written_heun(field: MLPField, y0: torch.Tensor) -> torch.Tensor:
    """Heun's method in a plain loop, the fewest kernels a step can take (all states stacked)."""
    y, dt, states = y0, 1.0 / STEPS, [y0]
    for n in range(STEPS):
        k0 = field(n * dt, y)
        k1 = field((n + 1) * dt, torch.add(y, k0, alpha=dt))
        y = torch.add(torch.add(y, k0, alpha=dt / 2), k1, alpha=dt / 2)
        states.append(y)
    return torch.stack(states)
METHODS = ("heun", "dopri5")


class MLPField(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(DIM, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, DIM))

    def forward(self, t: torch.Tensor | float, y: torch.Tensor) -> torch.Tensor:
        return self.net(y)


def solver(impl: str, method: str, field: MLPField, y0: torch.Tensor) -> Callable[[], torch.Tensor]:
    """A function returning the solution at the output times, shape (times, batch, dim)."""
    fixed = method == "heun"
    times = torch.linspace(0.0, 1.0, STEPS + 1) if fixed else torch.tensor([0.0, ADAPTIVE_SPAN])
    tolerances = {} if fixed else {"rtol": RTOL, "atol": ATOL}
    if impl in PHYSODE:
        grad = "backprop" if impl == "physode-compiled" else impl.removeprefix("physode-")
        compiled = impl == "physode-compiled"
        return lambda: physode.odeint(field, y0, times, method=method, grad=grad, compile=compiled, **tolerances)
    if impl == HAND_WRITTEN:
        return lambda: hand_written_heun(field, y0)
    if impl == "torchdiffeq":
        import torchdiffeq

        name = "heun2" if fixed else "dopri5"
        return lambda: torchdiffeq.odeint(field, y0, times, method=name, **tolerances)
    import torchode

    term = torchode.ODETerm(field)
    if fixed:
        step_method, controller = torchode.Heun(term=term), torchode.FixedStepController()
        dt0 = torch.full((BATCH,), 1.0 / STEPS)
    else:
        step_method, controller = torchode.Dopri5(term=term), torchode.IntegralController(atol=ATOL, rtol=RTOL, term=term)
        dt0 = None
    solver = torchode.AutoDiffAdjoint(step_method, controller)
    if impl == "torchode-jit":
        solver = torch.jit.script(solver)
    solve = torch.compile(solver.solve) if impl == TORCHODE_COMPILED else solver.solve
    problem = torchode.InitialValueProblem(y0=y0, t_eval=times.repeat(BATCH, 1))
    return lambda: solve(problem, dt0=dt0).ys.transpose(0, 1)  # torchode: (batch, times, dim)


def count_steps(impl: str, method: str, field: MLPField, y0: torch.Tensor) -> int:
    """Steps of one solve, rejected trials included (the fixed grid's for Heun)."""
    if method == "heun":
        return STEPS
    span = torch.tensor([0.0, ADAPTIVE_SPAN])
    if impl in PHYSODE:
        found = physode.odesolve(field, y0, span, method=method, rtol=RTOL, atol=ATOL)
        return found.n_accepted + found.n_rejected
    if impl == "torchdiffeq":
        import torchdiffeq

        calls = []

        def counted(t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            calls.append(t)
            return field(t, y)

        with torch.no_grad():
            torchdiffeq.odeint(counted, y0, span, rtol=RTOL, atol=ATOL)
        return (len(calls) - 2) // 6  # 2 evaluations pick the first step; dopri5 makes 6 per step (FSAL)
    import torchode

    term = torchode.ODETerm(field)
    solve = torchode.AutoDiffAdjoint(torchode.Dopri5(term=term), torchode.IntegralController(atol=ATOL, rtol=RTOL, term=term))
    with torch.no_grad():
        stats = solve.solve(torchode.InitialValueProblem(y0=y0, t_eval=span.repeat(BATCH, 1))).stats
    return int(stats["n_steps"].max())


def measure(repeats: int, torchode_compile: bool = False) -> list[dict]:
    """Every implementation, method and mode, interleaved in this process; the fastest rounds."""
    field = MLPField()
    y0 = torch.randn(BATCH, DIM, generator=torch.Generator().manual_seed(1))
    timers: dict[tuple[str, str, str], Callable[[], None]] = {}
    solutions = {}
    for method in METHODS:
        for impl in implementations(method, torchode_compile):
            solve = solver(impl, method, field, y0)
            solutions[impl, method] = solve
            probe = torch.randn(2 if method == "dopri5" else STEPS + 1, BATCH, DIM, generator=torch.Generator().manual_seed(2))

            def forward(solve=solve) -> None:
                with torch.no_grad():
                    solve()

            def training(solve=solve, probe=probe) -> None:
                field.zero_grad(set_to_none=True)
                (solve() * probe).sum().backward()

            timers[impl, method, "forward"], timers[impl, method, "forward+backward"] = forward, training

    now = work_clock(torch.device("cpu"))  # one thread: the process's CPU time, blind to other load

    def clock(timer: Callable[[], None], calls: int) -> float:
        start = now()
        for _ in range(calls):
            timer()
        return (now() - start) / calls

    warm_up = {}
    for key, timer in timers.items():  # first calls compile (physode-compiled, torchode-jit) and initialise
        start = time.perf_counter()  # wall time: compilation also runs in worker processes
        clock(timer, 3)
        warm_up[key] = time.perf_counter() - start
    calls = {key: max(1, round(0.05 / clock(timer, 1))) for key, timer in timers.items()}
    best = {key: float("inf") for key in timers}
    for _ in range(repeats):
        for key, timer in timers.items():
            best[key] = min(best[key], clock(timer, calls[key]))
    rows = []
    for (impl, method, mode), seconds in best.items():
        steps = count_steps(impl, method, field, y0)
        reference = solutions["physode-backprop", method]
        with torch.no_grad():
            difference = (solutions[impl, method]()[-1] - reference()[-1]).abs().max().item()
        rows.append({
            "impl": impl, "method": method, "mode": mode, "steps": steps, "time_ms": 1e3 * seconds,
            "us_per_step": 1e6 * seconds / steps, "warm_up_s": warm_up[impl, method, mode],
            "max_diff_from_physode": difference,
        })
        print(json.dumps(rows[-1]), flush=True)
    return rows


def run(args: argparse.Namespace, tmp: Path, _measure=None) -> list[dict]:
    """The section in a fresh process (perf.py's entry)."""
    json_out = tmp / "smallfield.json"
    command = [sys.executable, "-m", "benchmarks.perf.smallfield", "--repeats", str(max(args.repeats, 7)),
               "--json-out", str(json_out)]
    # An empty inductor cache: the first calls' column shows what compiling costs a new user.
    subprocess.run(command, check=True, env={**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp / "inductor")})
    return json.loads(json_out.read_text())


def report(rows: list[dict], verdict) -> tuple[list[str], list[str]]:
    """Target lines and the section's table."""

    def row(impl: str, method: str, mode: str) -> dict:
        return next(r for r in rows if (r["impl"], r["method"], r["mode"]) == (impl, method, mode))

    def per_step(impl: str, method: str, mode: str = "forward+backward") -> float:
        return row(impl, method, mode)["us_per_step"]

    targets = []
    floor = per_step(HAND_WRITTEN, "heun") / per_step("torchdiffeq", "heun")
    for method in METHODS:
        ours = per_step("physode-backprop", method)
        vs_tdq, vs_jit = ours / per_step("torchdiffeq", method), ours / per_step("torchode-jit", method)
        name = "Heun, fixed steps" if method == "heun" else "dopri5, adaptive"
        targets += [
            f"| small field ({name}): physode forward+backward per step <= 0.5x torchdiffeq's | "
            f"{vs_tdq:.2f}x ({ours:.0f} vs {per_step('torchdiffeq', method):.0f} us)"
            + (f"; a hand-written Heun loop, no library: {floor:.2f}x" if method == "heun" else "")
            + f" | {verdict(vs_tdq <= 0.5)} |",
            f"| small field ({name}): physode forward+backward per step <= compiled (TorchScript) torchode's | "
            f"{vs_jit:.2f}x ({ours:.0f} vs {per_step('torchode-jit', method):.0f} us) | {verdict(vs_jit <= 1.0)} |",
        ]
    compiled, tdq = per_step("physode-compiled", "heun"), per_step("torchdiffeq", "heun")
    compiling = sum(row("physode-compiled", "heun", mode)["warm_up_s"] for mode in ("forward", "forward+backward"))
    targets.append(
        "| small field (Heun, fixed steps): physode `compile=True` forward+backward per step <= 0.5x torchdiffeq's | "
        f"{compiled / tdq:.2f}x ({compiled:.0f} vs {tdq:.0f} us), after {compiling:.0f} s of compiling (first calls, "
        f"empty cache) | {verdict(compiled / tdq <= 0.5)} |"
    )
    checkpoint = per_step("physode-checkpoint", "heun") / per_step("torchdiffeq", "heun")
    targets.append(f"| small field (Heun): checkpoint forward+backward <= 1.0x torchdiffeq `odeint` | {checkpoint:.2f}x | {verdict(checkpoint <= 1.0)} |")
    table = [
        "## Small field: the solver loop per step, physode vs torchdiffeq vs torchode",
        "",
        f"MLP field ({DIM} -> {HIDDEN} -> {DIM}, tanh), batch {BATCH}, float32, one thread. Heun: {STEPS} fixed steps on "
        f"[0, 1], all {STEPS + 1} states returned; dopri5: rtol {RTOL:g}, atol {ATOL:g} on [0, {ADAPTIVE_SPAN:g}], each "
        "library's own steps (rejected trials counted). One process, interleaved rounds, the fastest round of each by the process's CPU time "
        "(`python -m benchmarks.perf.smallfield`). Forward: no graph. First calls: the first 3 forward "
        "and 3 training calls, compilation included (inductor's on-disk cache empty). Difference: largest |y(t_end)| difference from physode backprop.",
        "",
        "| method | implementation | steps | forward (us/step) | forward+backward (us/step) | fwd+bwd x torchdiffeq | first calls (s) | difference |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for training in (r for r in rows if r["mode"] == "forward+backward"):
        impl, method = training["impl"], training["method"]
        table.append(
            f"| {method} | {impl} | {training['steps']} | {per_step(impl, method, 'forward'):.0f} | {training['us_per_step']:.0f} | "
            f"{training['us_per_step'] / per_step('torchdiffeq', method):.2f} | "
            f"{training['warm_up_s'] + row(impl, method, 'forward')['warm_up_s']:.1f} | "
            f"{training['max_diff_from_physode']:.1e} |"
        )
    return targets, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds (the fastest is kept)")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--torchode-compile", action="store_true", help=f"also time {TORCHODE_COMPILED} (Heun; compiles 5+ min)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = measure(args.repeats, args.torchode_compile)
    if args.json_out:
        args.json_out.write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
