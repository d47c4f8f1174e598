"""Repeated training runs over archs x variants x seeds, resumable, summarised like the paper's tables.

Each run lives in its own directory ``OUT/ARCH-VARIANT-seedS`` (checkpoint + metrics), so an
interrupted protocol started again skips finished runs and resumes the unfinished one exactly.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


from physode.problems.cifar10.train import TrainConfig, train
from physode.training import CHECKPOINT, METRICS, progress_bar, read_metrics


@dataclass(frozen=True)
class RunResult:
    """The last epoch's record of one run, plus its mean training throughput."""

    arch: str
    variant: str
    seed: int
    test_acc: float  # fraction, final epoch
    train_acc: float
    images_per_s: float  # mean over epochs
    epochs: int


def run_dir(out: Path, arch: str, variant: str, seed: int) -> Path:
    return out / f"{arch}-{variant}-seed{seed}"


def _summary(arch: str, variant: str, seed: int, records: Sequence[dict]) -> RunResult:
    last = records[-1]
    return RunResult(arch, variant, seed, last["test_acc"], last["train_acc"],
                     statistics.fmean(r["images_per_s"] for r in records), last["epoch"])


def _finished_records(path: Path, epochs: int) -> list[dict]:
    """The run's metrics if it reached ``epochs``, else an empty list."""
    records = read_metrics(path / METRICS) if (path / METRICS).exists() else []
    return records if records and records[-1]["epoch"] == epochs else []


def run_protocol(base: TrainConfig, archs: Sequence[str], variants: Sequence[str], seeds: Sequence[int],
                 data_root: str | os.PathLike[str], out: str | os.PathLike[str], device: str = "auto",
                 shard: tuple[int, int] = (0, 1)) -> list[RunResult]:
    """Train ``base`` for every arch x variant x seed (skipping finished runs) and summarise each.

    ``shard=(i, n)`` trains only every n-th run starting at i, e.g. one process per GPU.
    """
    out = Path(out)
    index, count = shard
    jobs = [(a, v, s) for a in archs for v in variants for s in seeds][index::count]
    results = []
    for arch, variant, seed in progress_bar(jobs, desc="runs", unit="run"):
        config = dataclasses.replace(base, arch=arch, variant=variant, seed=seed)
        path = run_dir(out, arch, variant, seed)
        if not _finished_records(path, config.epochs):
            train(config, data_root, path, device=device, resume=(path / CHECKPOINT).exists())
        results.append(_summary(arch, variant, seed, read_metrics(path / METRICS)))
    return results


def finished_runs(out: str | os.PathLike[str], archs: Sequence[str], variants: Sequence[str],
                  seeds: Sequence[int], epochs: int) -> list[RunResult]:
    """Summaries of the runs in ``out`` that reached ``epochs`` (e.g. written by several shards)."""
    results = []
    for arch, variant, seed in [(a, v, s) for a in archs for v in variants for s in seeds]:
        records = _finished_records(run_dir(Path(out), arch, variant, seed), epochs)
        if records:
            results.append(_summary(arch, variant, seed, records))
    return results


def accuracies_percent(results: Sequence[RunResult]) -> dict[tuple[str, str], list[float]]:
    """Per (arch, variant) final test accuracies in percent, as :func:`paper.accuracy_table` takes."""
    table: dict[tuple[str, str], list[float]] = {}
    for r in results:
        table.setdefault((r.arch, r.variant), []).append(100 * r.test_acc)
    return table


def throughput_table(results: Sequence[RunResult], archs: Sequence[str], variants: Sequence[str]) -> str:
    """Markdown table of mean training images/s over seeds, variants as rows, archs as columns."""
    lines = ["| variant | " + " | ".join(f"{a} train img/s" for a in archs) + " |", "|---|" + "---:|" * len(archs)]
    for variant in variants:
        cells = []
        for arch in archs:
            rates = [r.images_per_s for r in results if r.arch == arch and r.variant == variant]
            cells.append(f"{statistics.fmean(rates):.0f}" if rates else "-")
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
