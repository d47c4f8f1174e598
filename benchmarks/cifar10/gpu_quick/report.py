"""The quick protocol's tables: accuracy beside the paper's, the orderings, throughput per run."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import torch

from benchmarks.cifar10.gpu_quick.plan import ARCHS, RECIPE
from benchmarks.cifar10.gpu_quick.protocol import RunRecord
from physode.io import atomic_write_text
from physode.problems.cifar10.models import CONFIGURATIONS
from physode.problems.cifar10.paper import ACCURACY, accuracy_table


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def ordering(records: Sequence[RunRecord], arch: str) -> str:
    done = sorted((r.test_acc, r.variant) for r in records if r.arch == arch and r.test_acc is not None)
    return " < ".join(f"{variant} {acc:.2f}" for acc, variant in done) or "no finished run"


def paper_ordering(arch: str) -> str:
    ranked = sorted((ACCURACY[v][arch][2], v) for v in CONFIGURATIONS if arch in ACCURACY.get(v, {}))
    return " < ".join(f"{variant} {acc:.2f}" for acc, variant in ranked)


def report(records: Sequence[RunRecord], meta: dict, dry_run: bool) -> str:
    archs = [a for a in ARCHS if any(r.arch == a for r in records)]
    variants = [v for v in CONFIGURATIONS if any(r.variant == v for r in records)]
    accuracies: dict[tuple[str, str], list[float]] = {}
    for r in records:
        if r.test_acc is not None:
            accuracies.setdefault((r.arch, r.variant), []).append(r.test_acc)
    title = "DRY RUN: mechanics only" if dry_run else "SHORT PROTOCOL"
    header = ["variant"] + [f"{a} {col}" for a in archs for col in
                            ("epochs", "assumed img/s", "measured img/s", "GPU util %", "run s")]
    rows = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for variant in variants:
        cells = [variant]
        for arch in archs:
            mine = [r for r in records if r.arch == arch and r.variant == variant]
            cells += ["/".join(str(r.epochs) for r in mine), _cell(mine[0].assumed_images_per_s, ".0f"),
                      "/".join(_cell(r.images_per_s, ".0f") for r in mine),
                      "/".join(_cell(r.gpu_utilisation, ".0f") for r in mine),
                      "/".join(f"{r.seconds:.0f}" for r in mine)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([
        f"# CIFAR-10 quick protocol ({title}), not the paper's protocol",
        "",
        f"Command: `{meta['command']}`",
        "",
        f"Device: {meta['device_name']}, torch {torch.__version__}. Wall time {meta['wall_s']:.0f} s of a "
        f"{meta['budget_s']:.0f} s budget (data loading {meta['load_s']:.0f} s included); "
        f"{'all runs finished' if meta['complete'] else 'NOT all runs finished'}.",
        "",
        f"Protocol: {', '.join(archs)} x {', '.join(variants)}; seeds {', '.join(map(str, meta['seeds']))}; "
        f"epochs: {meta['planned_epochs']} planned from the assumed throughput, then fitted to the budget from "
        f"the measured one (per run below); {meta['train_images']:,} training images, batch "
        f"{meta['batch_size']}; SGD momentum {RECIPE.momentum}, weight decay {RECIPE.weight_decay}, one-cycle "
        f"lr (linear 0 -> {RECIPE.lr} over epoch 1 or half of a lone epoch, linear to 0 at the last step) in "
        f"place of ANODE's lr / 10 at epochs 150 and 250 of 350; crop + flip on the device; "
        f"{meta['precision']}. Test accuracy after the last "
        f"epoch on {meta['test_images']:,} test images. The paper trains 350 epochs with 5 seeds: its "
        "numbers beside ours are the full protocol's target, not this one's.",
        "",
        "Test accuracy (%):",
        "",
        accuracy_table(accuracies, archs, variants).rstrip(),
        "",
        "Ordering by test accuracy (ours | paper):",
        "",
        *[f"- {arch}: {ordering(records, arch)} | paper: {paper_ordering(arch)}" for arch in archs],
        "",
        "Training throughput (img/s, steady state: the first epoch's warm-up steps left out), the "
        "throughput the plan assumed, mean GPU utilisation (torch.cuda.utilization / nvidia-smi, "
        "'-' where not sampled) and wall seconds per run:",
        "",
        *rows,
        "",
    ])


def write_results(out: Path, stem: str, records: Sequence[RunRecord], meta: dict, dry_run: bool) -> None:
    atomic_write_text(out / f"{stem}.json", json.dumps(
        {"meta": meta, "runs": [dataclasses.asdict(r) for r in records]}, indent=1) + "\n")
    atomic_write_text(out / f"{stem}.md", report(records, meta, dry_run))

