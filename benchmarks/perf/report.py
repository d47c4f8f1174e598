"""The perf benchmark's report: every target marked met or not, the tables and the plot."""

from __future__ import annotations

import argparse

import torch

from benchmarks.common.measure import peak_memory_note, save_report
from benchmarks.perf import adaptive, smallfield
from benchmarks.perf.sections import SWEEP_BATCH
from benchmarks.perf.solvers import PHYSODE, REVOLVE, TORCHDIFFEQ


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
    # Interleaved (one process): checkpoint against odeint where overhead dominates (transport),
    # against the recompute floor where compute does (conv).
    overhead_bound = [r for r in ratios if r["model"] == "transport" and "tdq-odeint" in r]
    worst_overhead_bound = max(overhead_bound, key=lambda r: r["checkpoint"] / r["tdq-odeint"]) if overhead_bound else None
    conv_excess = max(r["checkpoint"] - r["floor"] for r in ratios if r["model"] == "conv")
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
    small_targets, small_table = smallfield.report(results["small"], verdict) if "small" in results else ([], [])

    device = args.device
    lines = [
        "# physode vs torchdiffeq: time, memory and gradient error per training step",
        "",
        *([args.note, ""] if args.note else []),
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
        f"| checkpoint no slower than torchdiffeq odeint (every config) | worst ratio {vs_odeint:.2f} (separate processes) | {verdict(vs_odeint <= 1.0)} |",
        *(
            [f"| checkpoint <= 1.0x torchdiffeq odeint on the overhead-bound transport block (interleaved, static weights) | "
             f"worst {w['checkpoint'] / w['tdq-odeint']:.2f}x (B={w['batch']} Nt={w['steps']}, where backprop + one no-grad "
             f"forward is {w['floor'] / w['tdq-odeint']:.2f}x odeint) | {verdict(w['checkpoint'] <= w['tdq-odeint'])} |"
             for w in [worst_overhead_bound] if w is not None]
        ),
        f"| checkpoint within 0.1 of its recompute floor on the compute-bound conv block (interleaved) | "
        f"largest excess {conv_excess:+.2f} | {verdict(conv_excess <= 0.1)} |",
        *small_targets,
        f"| SpectralRDA evolution < 3% of a ResNet-10 ANODEV2 training step | {100 * share:.1f}% "
        f"({resnet['evolution-share']['time_ms']:.0f} ms vs {resnet['evolution-share']['frozen_ms']:.0f} ms frozen, "
        f"fastest interleaved rounds) | {verdict(share < 0.03)} |",
        *adaptive_targets,
        "",
        "## Time over backprop, interleaved",
        "",
        "Each configuration in one process: rounds of one backprop step, one checkpoint step (and one Revolve step), "
        "one forward pass without a graph; ratios of the fastest rounds (the least disturbed by other load on the machine), "
        "timed by the process's CPU time on one CPU thread (wall time otherwise). "
        "Floor: backprop + one no-grad forward, what an exact recompute cannot avoid.",
        "",
        "| model | weights | batch | Nt | checkpoint / backprop | floor | recursive-8 / backprop | torchdiffeq odeint / backprop |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {r['model']} | {r['weights']} | {r['batch']} | {r['steps']} | {r['checkpoint']:.2f} | {r['floor']:.2f} | "
            + (f"{r[REVOLVE]:.2f} |" if REVOLVE in r else "|")
            + (f" {r['tdq-odeint']:.2f} |" if "tdq-odeint" in r else " |")
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
    lines += ["", *adaptive_table, "", *small_table]

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
