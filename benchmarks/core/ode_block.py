"""Gradient strategies side by side on one ResNet-style ODE block.

For static (ANODE) and evolving (ANODEV2, SpectralRDA) weights and Nt in {2, 5, 10, 20}, prints
and saves per training step (forward + backward): median time, peak memory, and the gradient's
relative error against a float64 backprop reference. Every configuration runs in a fresh
subprocess so its peak memory is its own: the growth of peak RSS over the first step on CPU,
``torch.cuda.max_memory_allocated`` on CUDA.

    python -m benchmarks.core.ode_block                 # writes results.md / results.png here
    python -m benchmarks.core.ode_block --device cuda --batch 128
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch
from torch import nn

import physode
from benchmarks.common.measure import measure_training_step, peak_memory_note, run_isolated, save_report

HERE = Path(__file__).resolve().parent
STRATEGIES = ("backprop", "checkpoint", "adjoint")
STEPS = (2, 5, 10, 20)
VARIANTS = ("anode", "anodev2")


def residual_branch(width: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(width, width, 3, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1, bias=False),
        nn.BatchNorm2d(width),
    )


def make_block(variant: str, steps: int, grad: str, width: int) -> nn.Module:
    torch.manual_seed(0)
    f = residual_branch(width)
    if variant == "anode":
        return physode.ODEBlock(f, steps=steps, grad=grad)
    # Advection-reaction only: the adjoint's reverse solve of a diffusion is ill-posed.
    operator = physode.SpectralRDA(diffusion=False, v=0.1, rho=0.1)
    return physode.CoupledODEBlock(f, ["0.weight", "3.weight"], operator, steps=steps, grad=grad)


def worker(args: argparse.Namespace) -> None:
    """One configuration in its own process; writes its figures as JSON and its gradient."""
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype)
    x = torch.randn(args.batch, args.width, 32, 32, generator=torch.Generator().manual_seed(1))
    x = x.to(device=device, dtype=dtype)
    block = make_block(args.variant, args.steps, args.grad, args.width).to(device=device, dtype=dtype)

    def train_step() -> None:
        block.zero_grad(set_to_none=True)
        block(x).square().mean().backward()

    figures = measure_training_step(train_step, device, args.repeats)
    torch.save(torch.cat([p.grad.flatten().double().cpu() for p in block.parameters()]), args.grad_out)
    Path(args.json_out).write_text(json.dumps(figures))


def run_config(
    args: argparse.Namespace, variant: str, steps: int, grad: str, dtype: str, tmp: Path
) -> tuple[dict, torch.Tensor]:
    stem = tmp / f"{variant}-{steps}-{grad}-{dtype}"
    options = [
        "--variant", variant, "--steps", str(steps), "--grad", grad, "--dtype", dtype,
        "--device", args.device, "--batch", str(args.batch), "--width", str(args.width),
        "--repeats", str(args.repeats if dtype == "float32" else 1), "--threads", str(args.threads),
        "--grad-out", f"{stem}.pt",
    ]
    figures = run_isolated(__spec__.name, options, Path(f"{stem}.json"), args.device)
    return figures, torch.load(f"{stem}.pt", weights_only=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--width", type=int, default=16, help="channels of the block (ResNet-10 stage 1: 16)")
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per configuration (median)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE)
    # Worker-only options.
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--grad", choices=STRATEGIES, help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default="float32", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    parser.add_argument("--grad-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for variant in VARIANTS:
            for steps in STEPS:
                _, reference = run_config(args, variant, steps, "backprop", "float64", Path(tmp))
                for grad in STRATEGIES:
                    figures, g = run_config(args, variant, steps, grad, "float32", Path(tmp))
                    error = ((g - reference).norm() / reference.norm()).item()
                    rows.append({"variant": variant, "steps": steps, "grad": grad, **figures, "grad_rel_error": error})
                    print(f"{variant:8s} Nt={steps:3d} {grad:10s} {figures['time_ms']:9.1f} ms  "
                          f"{figures['peak_mib']:8.1f} MiB  grad err {error:.2e}", flush=True)
    write_results(args, rows)


def write_results(args: argparse.Namespace, rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = [
        "# Gradient strategies on one ResNet-style ODE block",
        "",
        f"Block: conv3x3-BN-ReLU-conv3x3-BN, {args.width} channels, 32x32, batch {args.batch}, Euler steps; "
        f"device `{args.device}`, torch {torch.__version__}, {args.threads} threads. Time: median of "
        f"{args.repeats} training steps (forward + backward). Peak: "
        + peak_memory_note(args.device)
        + ", fresh process per row. Error: relative L2 error of the float32 gradient against float64 backprop.",
        "",
        "Command: `python -m benchmarks.core.ode_block" + (f" --device {args.device}" if args.device != "cpu" else "") + "`",
        "",
        "| variant | Nt | strategy | time / step (ms) | peak memory (MiB) | grad rel. error vs float64 backprop |",
        "|---|---:|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r['variant']} | {r['steps']} | {r['grad']} | {r['time_ms']:.1f} | {r['peak_mib']:.1f} | {r['grad_rel_error']:.2e} |"
        for r in rows
    ]

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for variant, style in zip(VARIANTS, ("-", "--")):
        for grad in STRATEGIES:
            sel = [r for r in rows if r["variant"] == variant and r["grad"] == grad]
            label = f"{variant} {grad}"
            for ax, key in zip(axes, ("time_ms", "peak_mib", "grad_rel_error")):
                ax.plot([r["steps"] for r in sel], [r[key] for r in sel], style, marker="o", label=label)
    for ax, title in zip(axes, ("time per training step (ms)", "peak memory (MiB)", "gradient error vs float64")):
        ax.set_xlabel("Nt")
        ax.set_title(title)
    axes[2].set_yscale("log")
    axes[0].legend(fontsize=7)
    save_report(args.out, lines, fig)


if __name__ == "__main__":
    main()
