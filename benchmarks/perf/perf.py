"""physode against torchdiffeq, side by side, per training step.

The same ODE block — a ResNet-10-width conv residual branch (16 channels, 32x32) and the
transport model (a periodic 5-point stencil on a 1-D field) — integrated with the same fixed-step
method and step count by physode (`backprop`, `checkpoint`, `recursive`, `adjoint`; static and
ANODEV2 evolving weights) and by torchdiffeq (`odeint`, `odeint_adjoint`; static weights: it has
no weight evolution). Per configuration, in a fresh subprocess: median time of a training step
(forward + backward), peak memory, and the gradient's relative error against float64 backprop.
Also measured: Revolve (`recursive` with 8 snapshots) at the largest Nt, the memory of a
ResNet-10 ANODEV2 (config one) training step against the baseline's, the share of that step spent
evolving the weights, and adaptive stepping side by side with torchdiffeq (`adaptive.py`:
dopri5 on Lotka-Volterra and a conv ODE block, NFE, time, memory, gradient error).

    pip install -e ".[bench]"                 # torchdiffeq, benchmark-only
    python benchmarks/perf/perf.py            # writes results.md and results.png here
    python benchmarks/perf/perf.py --device cuda
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

import physode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import adaptive  # noqa: E402
from harness import measure_training_step, peak_memory_note, run_isolated, save_report, synchronize  # noqa: E402

from physode.io import atomic_write_text

STEPS = (2, 5, 10, 20, 50)
PHYSODE = ("backprop", "checkpoint", "recursive", "adjoint")
REVOLVE = "recursive-8"  # Recursive(snapshots=8), at the largest Nt of the conv block
TORCHDIFFEQ = ("tdq-odeint", "tdq-adjoint")
BATCHES = {"conv": (8, 32), "transport": (32, 256)}
SWEEP_BATCH = {"conv": 32, "transport": 256}  # the batch of the Nt sweep
BATCH_SWEEP_STEPS = 10  # the Nt of the batch sweep
SECTIONS = ("fixed", "ratios", "resnet", "adaptive")


def branch(model: str) -> nn.Module:
    torch.manual_seed(0)
    if model == "conv":
        return nn.Sequential(
            nn.Conv2d(16, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
        )
    return nn.Conv1d(1, 1, 5, padding=2, padding_mode="circular", bias=False)


def evolved_names(model: str) -> list[str]:
    return ["0.weight", "3.weight"] if model == "conv" else ["weight"]


def inputs(model: str, batch: int) -> torch.Tensor:
    shape = (batch, 16, 32, 32) if model == "conv" else (batch, 1, 256)
    return torch.randn(*shape, generator=torch.Generator().manual_seed(1))


class _TimeIgnoring(nn.Module):
    """torchdiffeq calls func(t, y)."""

    def __init__(self, f: nn.Module) -> None:
        super().__init__()
        self.f = f

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.f(y)


def make_solver(model: str, weights: str, impl: str, steps: int, method: str):
    """A module mapping z0 -> z(1) for one implementation."""
    f = branch(model)
    if impl in PHYSODE or impl == REVOLVE:
        impl = physode.Recursive(snapshots=8) if impl == REVOLVE else impl
        if weights == "static":
            return physode.ODEBlock(f, steps=steps, method=method, grad=impl)
        operator = physode.SpectralRDA(diffusion=False, v=0.1, rho=0.1)  # adjoint-safe (no diffusion)
        return physode.CoupledODEBlock(f, evolved_names(model), operator, steps=steps, method=method, grad=impl)
    import torchdiffeq

    func = _TimeIgnoring(f)
    solve = torchdiffeq.odeint_adjoint if impl == "tdq-adjoint" else torchdiffeq.odeint
    options = {"grid_constructor": lambda _f, _y0, t: torch.linspace(t[0], t[-1], steps + 1, dtype=t.dtype, device=t.device)}

    class TorchdiffeqBlock(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.func = func

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            t = torch.tensor([0.0, 1.0], dtype=z.dtype, device=z.device)
            return solve(self.func, z, t, method=method, options=options)[-1]

    return TorchdiffeqBlock()


def worker(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.model.startswith("resnet10"):
        Path(args.json_out).write_text(json.dumps(resnet_worker(args, device)))
        return
    if args.impl and args.impl.startswith("ratios"):
        Path(args.json_out).write_text(json.dumps(ratios_worker(args, device)))
        return
    if args.model in adaptive.PROBLEMS:
        figures, grad = adaptive.worker(args, device, measure_training_step)
        torch.save(grad, args.grad_out)
        Path(args.json_out).write_text(json.dumps(figures))
        return
    dtype = getattr(torch, args.dtype)
    block = make_solver(args.model, args.weights, args.impl, args.steps, args.method).to(device=device, dtype=dtype)
    x = inputs(args.model, args.batch).to(device=device, dtype=dtype)

    def step() -> None:
        block.zero_grad(set_to_none=True)
        block(x).square().mean().backward()

    figures = measure_training_step(step, device, args.repeats)
    torch.save(torch.cat([p.grad.flatten().double().cpu() for p in block.parameters()]), args.grad_out)
    Path(args.json_out).write_text(json.dumps(figures))


def ratios_worker(args: argparse.Namespace, device: torch.device) -> dict:
    """Time ratios to backprop, interleaved in one process so that load on the machine cancels.

    Each round times training steps of backprop, checkpoint (and Revolve where it is measured)
    and forward passes without a graph (checkpoint's floor: backprop plus one of those); each
    ratio is of the fastest rounds.
    """
    x = inputs(args.model, args.batch).to(device)
    impls = ["backprop", "checkpoint"] + ([REVOLVE] if args.impl == "ratios+revolve" else [])
    blocks = {impl: make_solver(args.model, args.weights, impl, args.steps, args.method).to(device) for impl in impls}

    def step(block: nn.Module) -> None:
        block.zero_grad(set_to_none=True)
        block(x).square().mean().backward()

    def forward() -> None:
        with torch.no_grad():
            blocks["backprop"](x)

    timers = {impl: (lambda b=block: step(b)) for impl, block in blocks.items()} | {"forward": forward}

    def clock(timer, calls: int) -> float:
        synchronize(device)
        start = time.perf_counter()
        for _ in range(calls):
            timer()
        synchronize(device)
        return (time.perf_counter() - start) / calls

    # Tiny steps are repeated within a round (at least ~50 ms) so that timer resolution and
    # scheduler hiccups do not dominate; the fastest round is the least disturbed by other load.
    for timer in timers.values():  # warm-up (first calls initialise lazily)
        clock(timer, 2)
    calls = {name: max(1, round(0.05 / clock(timer, 1))) for name, timer in timers.items()}
    best = {name: float("inf") for name in timers}
    for _ in range(args.repeats):
        for name, timer in timers.items():
            best[name] = min(best[name], clock(timer, calls[name]))
    out = {name: best[name] / best["backprop"] for name in timers if name != "backprop"}
    out["floor"] = 1 + out.pop("forward")
    return out


def resnet_worker(args: argparse.Namespace, device: torch.device) -> dict:
    """ResNet-10 training steps: memory and time of a variant, or the weight evolution's share."""
    from physode.problems.cifar10.models import build_model

    variant, _, grad = args.model.split(":")[1].partition("+")
    options = {"grad": grad} if grad else {}
    x = torch.randn(args.batch, 3, 32, 32, generator=torch.Generator().manual_seed(1)).to(device)
    labels = torch.randint(0, 10, (args.batch,), generator=torch.Generator().manual_seed(2)).to(device)

    def stepper(net: nn.Module):
        def step() -> None:
            net.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(net(x), labels).backward()

        return step

    if variant != "evolution-share":
        net = build_model("resnet10", variant, **options).to(device)
        return measure_training_step(stepper(net), device, args.repeats)
    if args.repeats == 0:  # the memory-only run: this measurement is about time
        return {"peak_mib": None}
    # A/B in one process, interleaved: the same config-one network with its evolution switched
    # off (Static operators keep the weights at w0). The time difference is the evolution's cost.
    evolving = build_model("resnet10", "anodev2-c1").to(device)
    frozen = build_model("resnet10", "anodev2-c1").to(device)
    for block in frozen.modules():
        if isinstance(block, physode.CoupledODEBlock):
            block.operators = nn.ModuleList(physode.Static() for _ in block.operators)
    times = {"evolving": [], "frozen": []}
    for _ in range(2 * args.repeats):
        for name, net in (("evolving", evolving), ("frozen", frozen)):
            times[name].append(measure_training_step(stepper(net), device, 1)["time_ms"])
    evolving_ms, frozen_ms = (statistics.median(times[k]) for k in ("evolving", "frozen"))
    return {"time_ms": evolving_ms, "frozen_ms": frozen_ms, "share": (evolving_ms - frozen_ms) / evolving_ms}


def measure(args: argparse.Namespace, tmp: Path, **config) -> dict:
    stem = tmp / "-".join(f"{v}" for v in config.values()).replace(":", "_").replace("+", "_")
    options = [f"--{k.replace('_', '-')}={v}" for k, v in config.items()]
    options += ["--device", args.device, "--threads", str(args.threads), "--method", args.method]
    options += ["--repeats", str(1 if config.get("dtype") == "float64" else args.repeats)]
    wants_grad = "impl" in config
    if wants_grad:
        options += ["--grad-out", f"{stem}.pt"]
    figures = run_isolated(__file__, options, Path(f"{stem}.json"), args.device)
    if wants_grad:
        figures["grad"] = torch.load(f"{stem}.pt", weights_only=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--method", default="euler", help="fixed-step method shared by both libraries")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per configuration (median)")
    parser.add_argument("--resnet-batch", type=int, default=128, help="batch of the ResNet-10 steps")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--nt", type=int, nargs="+", default=list(STEPS), help="step counts of the sweep")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                        help="measure only these sections; the others come from OUT/results.json of an earlier run")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    for name in ("model", "weights", "impl", "dtype", "json-out", "grad-out"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    # Raw figures of every section are kept in results.json; --sections re-measures some of them.
    saved = json.loads((args.out / "results.json").read_text()) if set(args.sections) != set(SECTIONS) else {}
    command = "python benchmarks/perf/perf.py" + "".join(" " + a for a in sys.argv[1:])
    results = {"commands": saved.get("commands", {})}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sections = (("fixed", measure_fixed), ("ratios", measure_ratios), ("resnet", measure_resnet), ("adaptive", adaptive.run))
        for section, run in sections:
            if section in args.sections:
                results[section] = run(args, tmp, measure)
                results["commands"][section] = command
            else:
                results[section] = saved[section]
    atomic_write_text(args.out / "results.json", json.dumps(results, indent=1) + "\n")
    write_results(args, results, float64_equality())


def sweep(args: argparse.Namespace) -> Iterator[tuple[dict, bool]]:
    """The fixed-step configurations (both blocks over Nt and a second batch, static and
    anodev2 weights), each with whether it is the one the Revolve rows run on."""
    for model in ("conv", "transport"):
        configs = [(SWEEP_BATCH[model], n) for n in args.nt]
        configs += [(b, BATCH_SWEEP_STEPS) for b in BATCHES[model] if b != SWEEP_BATCH[model]]
        for batch, steps in configs:
            revolve = model == "conv" and steps == max(args.nt) and batch == SWEEP_BATCH[model]
            for weights in ("static", "anodev2"):
                yield {"model": model, "weights": weights, "steps": steps, "batch": batch}, revolve


def measure_fixed(args: argparse.Namespace, tmp: Path, measure) -> list[dict]:
    """The fixed-step sweep: every implementation on both blocks over Nt and a second batch."""
    rows = []
    for common, revolve in sweep(args):
        reference = measure(args, tmp, **common, impl="backprop", dtype="float64")["grad"]
        impls = PHYSODE + (TORCHDIFFEQ if common["weights"] == "static" else ()) + ((REVOLVE,) if revolve else ())
        for impl in impls:
            figures = measure(args, tmp, **common, impl=impl, dtype="float32")
            grad = figures.pop("grad")
            figures["grad_error"] = ((grad - reference).norm() / reference.norm()).item()
            rows.append({**common, "impl": impl, **figures})
            print(f"{common['model']:9s} {common['weights']:7s} B={common['batch']:3d} Nt={common['steps']:2d} "
                  f"{impl:11s} {figures['time_ms']:9.1f} ms {figures['peak_mib']:8.1f} MiB "
                  f"err {figures['grad_error']:.1e}", flush=True)
    return rows


def measure_ratios(args: argparse.Namespace, tmp: Path, measure) -> list[dict]:
    """Checkpoint's (and Revolve's) time over backprop's, interleaved, for every configuration."""
    rows = []
    for common, revolve in sweep(args):
        impl = "ratios+revolve" if revolve else "ratios"
        json_out = tmp / "ratios.json"
        options = [f"--{k}={v}" for k, v in {**common, "impl": impl}.items()]
        options += ["--device", args.device, "--threads", str(args.threads), "--method", args.method]
        options += ["--repeats", str(max(args.repeats, 5)), "--json-out", str(json_out)]
        subprocess.run([sys.executable, __file__, "--worker", *options], check=True)
        rows.append({**common, **json.loads(json_out.read_text())})
        print("ratios", json.dumps(rows[-1]), flush=True)
    return rows


def measure_resnet(args: argparse.Namespace, tmp: Path, measure) -> dict:
    resnet = {
        variant: measure(args, tmp, model=f"resnet10:{variant}", batch=args.resnet_batch)
        for variant in ("baseline", "anodev2-c1", "anodev2-c1+recursive", "evolution-share")
    }
    print("resnet10", json.dumps(resnet), flush=True)
    return resnet


def float64_equality() -> float:
    """Largest relative difference of checkpoint and recursive gradients from backprop, float64."""
    worst = 0.0
    for model in ("conv", "transport"):
        for weights in ("static", "anodev2"):
            grads = {}
            for impl in ("backprop", "checkpoint", "recursive"):
                block = make_solver(model, weights, impl, 10, "euler").double()
                block(inputs(model, 4).double()).square().mean().backward()
                grads[impl] = torch.cat([p.grad.flatten() for p in block.parameters()])
            for impl in ("checkpoint", "recursive"):
                diff = (grads[impl] - grads["backprop"]).abs().max() / grads["backprop"].abs().max()
                worst = max(worst, diff.item())
    return worst


def write_results(args: argparse.Namespace, results: dict, f64_diff: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, resnet, adaptive_rows = results["fixed"], results["resnet"], results["adaptive"]
    nt = sorted({r["steps"] for r in rows if r["batch"] == SWEEP_BATCH[r["model"]]})

    def find(**keys) -> dict:
        return next(r for r in rows if all(r[k] == v for k, v in keys.items()))

    def same_config(r: dict, impl: str) -> dict:
        return find(model=r["model"], weights=r["weights"], steps=r["steps"], batch=r["batch"], impl=impl)

    checkpoints = [r for r in rows if r["impl"] == "checkpoint"]
    static_checkpoints = [r for r in checkpoints if r["weights"] == "static"]
    # Time ratios to backprop from the interleaved section (load on the machine cancels).
    ratios = results["ratios"]
    worst = max(ratios, key=lambda r: r["checkpoint"])
    time_ratio = worst["checkpoint"]
    excess = max(r["checkpoint"] - r["floor"] for r in ratios)
    revolve_time = max(r[REVOLVE] for r in ratios if REVOLVE in r)
    revolve_memory = max(r["peak_mib"] / same_config(r, "backprop")["peak_mib"] for r in rows if r["impl"] == REVOLVE)
    vs_adjoint = max(r["time_ms"] / same_config(r, "tdq-adjoint")["time_ms"] for r in static_checkpoints)
    vs_odeint = max(r["time_ms"] / same_config(r, "tdq-odeint")["time_ms"] for r in static_checkpoints)
    flat = {
        (model, weights): find(model=model, weights=weights, steps=max(nt), batch=SWEEP_BATCH[model], impl="checkpoint")["peak_mib"]
        / find(model=model, weights=weights, steps=min(nt), batch=SWEEP_BATCH[model], impl="checkpoint")["peak_mib"]
        for model in ("conv", "transport")
        for weights in ("static", "anodev2")
    }
    flat_conv = max(v for (m, _), v in flat.items() if m == "conv")
    memory_ratio = resnet["anodev2-c1"]["peak_mib"] / resnet["baseline"]["peak_mib"]
    recursive_ratio = resnet["anodev2-c1+recursive"]["peak_mib"] / resnet["baseline"]["peak_mib"]
    share = resnet["evolution-share"]["share"]
    tdq_err = max(r["grad_error"] for r in rows if r["impl"] == "tdq-adjoint")
    ours_err = max(r["grad_error"] for r in rows if r["impl"] == "checkpoint")

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**not met**"

    adaptive_targets, adaptive_table = adaptive.report(adaptive_rows, verdict)

    device = args.device
    lines = [
        "# physode vs torchdiffeq: time, memory and gradient error per training step",
        "",
        "Commands: " + "; ".join(f"{section}: `{cmd}`" for section, cmd in results["commands"].items()) + " "
        f"(device `{device}`, torch {torch.__version__}, {args.threads} threads, method `{args.method}`, "
        f"median of {args.repeats} steps, every row a fresh process; peak memory = "
        + peak_memory_note(device)
        + "). Gradient error: relative L2 error of the float32 gradient against float64 backprop of the same discrete solve.",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        f"| checkpoint (and recursive) gradients equal backprop to float64 round-off | max rel. diff {f64_diff:.1e} "
        f"(float32 errors: checkpoint max {ours_err:.1e}, torchdiffeq adjoint max {tdq_err:.1e}) | {verdict(f64_diff < 1e-12)} |",
        f"| checkpoint peak memory flat (within 10%) from Nt={min(nt)} to Nt={max(nt)}, conv block | "
        f"peak({max(nt)})/peak({min(nt)}) = {flat_conv:.2f} "
        f"(transport: {max(v for (m, _), v in flat.items() if m == 'transport'):.2f}) | {verdict(flat_conv <= 1.10)} |",
        f"| ResNet-10 ANODEV2 config-one step memory <= 1.25x baseline step | {memory_ratio:.2f}x "
        f"({resnet['anodev2-c1']['peak_mib']:.0f} vs {resnet['baseline']['peak_mib']:.0f} MiB, batch {args.resnet_batch}); "
        f"with `recursive` gradients {recursive_ratio:.2f}x at {resnet['anodev2-c1+recursive']['time_ms'] / resnet['anodev2-c1']['time_ms']:.2f}x the time "
        f"| {verdict(memory_ratio <= 1.25)} |",
        f"| checkpoint step time <= 1.4x backprop (every config; interleaved) | worst {time_ratio:.2f}x ({worst['model']} {worst['weights']} "
        f"B={worst['batch']} Nt={worst['steps']}, where backprop + one no-grad forward is {worst['floor']:.2f}x); "
        f"largest excess over that floor, any config: {excess:+.2f}x | {verdict(time_ratio <= 1.4)} |",
        f"| recursive with 8 snapshots (Revolve) at Nt={max(nt)}, conv block: <= 1.8x backprop time (interleaved) at <= 15% of its peak memory | "
        f"worst {revolve_time:.2f}x time, {100 * revolve_memory:.0f}% memory | {verdict(revolve_time <= 1.8 and revolve_memory <= 0.15)} |",
        f"| checkpoint faster than torchdiffeq odeint_adjoint (every config) | worst ratio {vs_adjoint:.2f} | {verdict(vs_adjoint < 1.0)} |",
        f"| checkpoint no slower than torchdiffeq odeint (every config) | worst ratio {vs_odeint:.2f} | {verdict(vs_odeint <= 1.0)} |",
        f"| SpectralRDA evolution < 3% of a ResNet-10 ANODEV2 training step | {100 * share:.1f}% "
        f"({resnet['evolution-share']['time_ms']:.0f} ms vs {resnet['evolution-share']['frozen_ms']:.0f} ms frozen) | {verdict(share < 0.03)} |",
        *adaptive_targets,
        "",
        "## Time over backprop, interleaved",
        "",
        "Each configuration in one process: rounds of one backprop step, one checkpoint step (and one Revolve step), "
        "one forward pass without a graph; ratios of the fastest rounds (the least disturbed by other load on the machine). "
        "Floor: backprop + one no-grad forward, what an exact recompute cannot avoid.",
        "",
        "| model | weights | batch | Nt | checkpoint / backprop | floor | recursive-8 / backprop |",
        "|---|---|---:|---:|---:|---:|---:|",
        *(
            f"| {r['model']} | {r['weights']} | {r['batch']} | {r['steps']} | {r['checkpoint']:.2f} | {r['floor']:.2f} | "
            + (f"{r[REVOLVE]:.2f} |" if REVOLVE in r else "|")
            for r in ratios
        ),
        "",
        "## All configurations",
        "",
        "Each row a fresh process (times from separate processes drift with the load on the machine).",
        "",
        "| model | weights | batch | Nt | implementation | time/step (ms) | x checkpoint | peak (MiB) | grad rel. error |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = r["time_ms"] / same_config(r, "checkpoint")["time_ms"]
        lines.append(
            f"| {r['model']} | {r['weights']} | {r['batch']} | {r['steps']} | {r['impl']} | {r['time_ms']:.1f} | "
            f"{ratio:.2f} | {r['peak_mib']:.1f} | {r['grad_error']:.1e} |"
        )
    lines += ["", *adaptive_table]

    fig, axes = plt.subplots(3, 2, figsize=(12, 12))
    for row, model in enumerate(("conv", "transport")):
        for impl in PHYSODE + TORCHDIFFEQ:
            sel = [r for r in rows if r["model"] == model and r["weights"] == "static" and r["impl"] == impl and r["batch"] == SWEEP_BATCH[model]]
            style = "--" if impl.startswith("tdq") else "-"
            for col, key in enumerate(("time_ms", "peak_mib")):
                axes[row, col].plot([r["steps"] for r in sel], [r[key] for r in sel], style, marker="o", label=impl)
        axes[row, 0].set_title(f"{model} block (static weights): time per training step (ms)")
        axes[row, 1].set_title(f"{model} block (static weights): peak memory (MiB)")
        for ax in axes[row]:
            ax.set_xlabel("Nt")
            ax.set_xscale("log")
            ax.set_xticks(nt, [str(n) for n in nt])
            ax.minorticks_off()
    axes[0, 0].legend(fontsize=8)
    for col, problem in enumerate(adaptive.PROBLEMS):
        sel = [r for r in adaptive_rows if r["problem"] == problem]
        ax = axes[2, col]
        ax.bar(range(len(sel)), [r["time_ms"] for r in sel], color=["C0" if r["impl"].startswith("physode") else "C1" for r in sel])
        ax.set_xticks(range(len(sel)), [r["impl"] for r in sel], rotation=30, ha="right", fontsize=8)
        for i, r in enumerate(sel):
            ax.annotate(f"NFE {r['nfe_forward']}+{r['nfe_backward']}", (i, r["time_ms"]), ha="center", va="bottom", fontsize=7)
        ax.set_title(f"adaptive dopri5, {problem}: time per training step (ms)")
    save_report(args.out, lines, fig)


if __name__ == "__main__":
    main()
