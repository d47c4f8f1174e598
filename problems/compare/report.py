"""What ``physode compare`` writes into its directory, each file atomically: ``results.md`` (the table),
``results.json``, ``pareto.png`` (test nRMSE against fit seconds, log-log, the reference predictors as
horizontal lines) and ``prediction.png`` (the truth and each model at a few times, first test sample)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # no pyplot: files only, whatever backend the session has

from physode.io import atomic_path, atomic_write_text
from physode.problems.compare.run import Comparison, as_record
from physode.training import write_json

RESULTS, RESULTS_JSON, PARETO, PREDICTION = "results.md", "results.json", "pareto.png", "prediction.png"
SNAPSHOTS = 3  # times shown in prediction.png: the first predicted, the middle and the last


def write_report(comparison: Comparison, out: Path) -> list[Path]:
    """Write the four files into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / RESULTS, table(comparison))
    write_json(out / RESULTS_JSON, as_record(comparison))
    _save(_pareto(comparison), out / PARETO)
    _save(_prediction(comparison), out / PREDICTION)
    return [out / name for name in (RESULTS, RESULTS_JSON, PARETO, PREDICTION)]


def _number(value: float, digits: str = ".3e") -> str:
    return "n/a" if not math.isfinite(value) else format(value, digits)


def table(comparison: Comparison) -> str:
    """results.md: one row per model, best test nRMSE first; the reference predictors last."""
    ranked = sorted(comparison.entries, key=lambda e: (e.kind == "reference", _rank(e.test_nrmse)))
    lines = [f"# physode compare: {Path(comparison.file).name}", "",
             f"Test nRMSE over the predicted times on the file's test split ({comparison.test.u.shape[0]} samples), "
             f"one metric code for every model; budget {comparison.budget_seconds:g} s of wall time shared by "
             f"{_sharing(comparison)}; seed {comparison.seed}. Validation: the samples `physode fit --seed "
             f"{comparison.seed}` holds out of the training split. physode's fit seconds are those of the fit scored: a "
             "short trial fit, and is that fit where its share of the budget pays for no more epochs; else the fit "
             "continues the trial within what the trial left of the share, and the trial's seconds are not in them.",
             "",
             "| model | kind | params | test nRMSE | final-time nRMSE | fit seconds | epochs | device | stopped by |",
             "|---|---|---:|---:|---:|---:|---:|---|---|"]
    for e in ranked:
        lines.append(f"| {e.name} | {e.kind} | {e.parameters} | {_number(e.test_nrmse)} | {_number(e.final_nrmse)} | "
                     f"{_number(e.fit_seconds, '.1f')} | {e.epochs} | {e.device} | {e.stopped} |")
    return "\n".join(lines) + "\n"


def _sharing(comparison: Comparison) -> str:
    if comparison.peers_stop == "budget":
        return "the trained models"
    return "physode's models, the peers trained until their validation split stopped them (converged)"


def _rank(value: float) -> float:
    return value if math.isfinite(value) else math.inf


def _pareto(comparison: Comparison) -> Figure:
    figure = Figure(figsize=(6.4, 4.8))
    axes = figure.subplots()
    trained = [e for e in comparison.entries if e.kind != "reference" and math.isfinite(e.test_nrmse)]
    for entry in trained:
        axes.scatter(entry.fit_seconds, entry.test_nrmse, marker="o" if entry.kind == "physode" else "s",
                     label=entry.name, zorder=3)
    for entry, style in zip((e for e in comparison.entries if e.kind == "reference"), (":", "--")):
        axes.axhline(entry.test_nrmse, color="grey", linestyle=style, label=f"{entry.name} (reference)")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("fit wall time (s)")
    axes.set_ylabel("test nRMSE")
    axes.set_title(f"{Path(comparison.file).name}: error against fit time")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def _prediction(comparison: Comparison) -> Figure:
    """Channel 0 of the first test sample at :data:`SNAPSHOTS` times, the truth and every model."""
    test = comparison.test
    n_times = test.u.shape[1]
    shown = sorted({1, n_times // 2, n_times - 1} if n_times > 2 else {n_times - 1})[:SNAPSHOTS]
    figure = Figure(figsize=(4.2 * len(shown), 3.6))
    panels = figure.subplots(1, len(shown), squeeze=False)
    x = np.asarray(test.x, dtype=np.float64)
    for panel, index in zip(panels[0], shown):
        panel.plot(x, test.u[0, index, 0].numpy(), color="black", linewidth=2.5, label="truth")
        for name, predicted in comparison.predictions.items():
            panel.plot(x, predicted[index, 0], linewidth=1.2, label=name)
        panel.set_title(f"t = {float(test.times[index]):.4g}")
        panel.set_xlabel("x")
    panels[0][0].set_ylabel(test.channels[0])
    panels[0][-1].legend(fontsize="small")
    figure.suptitle(f"{Path(comparison.file).name}: first test sample")
    figure.tight_layout()
    return figure


def _save(figure: Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=120)
