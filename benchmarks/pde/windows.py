"""Window training against whole trajectories and against FNO, side by side at equal wall time.

For each row (default: fisher-kpp and burgers of :mod:`benchmarks.pde.rows`), in one process:

1. FNO (neuraloperator, direct u(t0) -> every time) by :func:`benchmarks.common.peers.fit_fno` with
   ``--fno-epochs`` (1000) epochs; its fit time is the budget of the physode fits that follow;
2. ``windows``: the benchmark's Fourier-ODE (``fourier-anode``: 2 Fourier blocks and the linear
   term, :func:`benchmarks.pde.fits.fourier_fit_config`) trained by ``physode fit --windows 1
   --budget <FNO's seconds>``: one-interval windows from every stored state of the training split;
3. ``whole trajectories``: the same model and budget, trained on whole trajectories from u(t0)
   with the horizon curriculum (``--windows 0``: how ``physode fit --model fourier`` trained before);
4. ``windows, 1 RK4 step per interval``: as 2 with ``--steps-per-interval 1`` (the row's Fourier-ODE
   takes 2), half the field evaluations per window.

Every prediction is scored by the PDE benchmark's :func:`benchmarks.pde.fits.score` on the row's
test split. Both physode fits stop early on a validation split carved out of the training samples
(never the test split), and otherwise when the budget is spent. Run from the repository root::

    python -m benchmarks.pde.windows [--rows fisher-kpp burgers] [--fno-epochs 1000] [--seed 0]

Each run updates its rows in ``windows.json`` beside this file and rewrites ``windows.md`` and
``windows.png`` from it (rows measured in separate runs keep their own load note).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.common.peers import fit_fno, load_split
from benchmarks.common.report import fmt, table_header, table_row
from benchmarks.pde.fits import fit_physode, fourier_fit_config, score
from benchmarks.pde.rows import ROWS, write_row
from physode.io import atomic_path, atomic_write_text
from physode.trajectories import rollout_errors

HERE = Path(__file__).resolve().parent
RESULTS, REPORT, FIGURE = HERE / "windows.json", HERE / "windows.md", HERE / "windows.png"
WINDOWS = "fourier-anode, windows"
WHOLE = "fourier-anode, whole trajectories"
ONE_STEP = "fourier-anode, windows, 1 RK4 step per interval"


def fourier_config(row_name: str, windows: int, budget: float, seed: int, steps: int | None = None):
    """The benchmark's Fourier-ODE (static weights) under a time budget; the epoch count is only a cap.
    ``steps``: RK4 steps per stored interval (None: the row's)."""
    config = fourier_fit_config("anode", ROWS[row_name], epochs=100_000, seed=seed, polish=0)
    model = dataclasses.replace(config.model, steps_per_interval=steps or config.model.steps_per_interval)
    return dataclasses.replace(config, model=model, windows=windows, budget_seconds=budget, eval_every=0)


def entry(model: str, pred: torch.Tensor, split: Any, params: int, fit_s: float, **extra: Any) -> dict[str, Any]:
    scores = score(pred, split, extrapolate=False)
    per_time = rollout_errors(pred, split.test).nrmse_per_time
    return {"model": model, "params": params, "fit_s": fit_s, **scores, "nrmse_per_time": per_time, **extra}


def measure_row(name: str, fno_epochs: int, seed: int, work: Path) -> dict[str, Any]:
    train_path, full_path, _ = write_row(work, name)
    split = load_split(train_path, full_path)
    began, load = time.perf_counter(), os.getloadavg()[0]
    pred, params, fno_s = fit_fno(split, fno_epochs, seed, autoregressive=False, modes=ROWS[name].modes)
    entries = [entry(f"fno ({fno_epochs} epochs)", pred, split, params, fno_s, stopped="epochs")]
    print(f"{name}: FNO {entries[0]['test_nrmse']:.3e} in {fno_s:.0f} s", flush=True)
    for model, windows, steps in ((WINDOWS, 1, None), (WHOLE, 0, None), (ONE_STEP, 1, 1)):
        run = work / f"{name}-{windows}-{steps}"
        pred, params, fit_s = fit_physode(train_path, run, split, fourier_config(name, windows, fno_s, seed, steps))
        stopped = json.loads((run / "metrics.json").read_text())["stopped"]
        entries.append(entry(model, pred, split, params, fit_s, stopped=stopped))
        print(f"{name}: {model} {entries[-1]['test_nrmse']:.3e} in {fit_s:.0f} s ({stopped})", flush=True)
    return {"row": name, "label": ROWS[name].label, "fno_epochs": fno_epochs, "seed": seed, "entries": entries,
            "wall_s": time.perf_counter() - began, "load_before": load,
            "device": f"cpu ({platform.processor() or platform.machine()}), 1 thread", "date": time.strftime("%Y-%m-%d")}


def report(rows: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["# Window training vs whole trajectories vs FNO, at FNO's wall time", "",
             "`python -m benchmarks.pde.windows` (see its docstring). Each physode fit gets FNO's fit time as its "
             "`--budget`; test nRMSE over the predicted times on the row's test split, final-time nRMSE beside it. "
             "Measured on a shared 2-core machine under load (load average before each row below): the times "
             "are the fits' own wall clocks, side by side in one run per row, not idle timings.", ""]
    lines += table_header(["row", "model", "params", "fit time (s)", "stopped", "test nRMSE", "final-time nRMSE",
                           "test nRMSE / FNO's"], right_aligned={"params", "fit time (s)", "test nRMSE",
                                                                 "final-time nRMSE", "test nRMSE / FNO's"})
    for name, row in rows.items():
        fno = row["entries"][0]["test_nrmse"]
        for e in row["entries"]:
            lines.append(table_row([name, e["model"], e["params"], f"{e['fit_s']:.0f}", e["stopped"],
                                    fmt(e["test_nrmse"]), fmt(e["final_nrmse"]), f"{e['test_nrmse'] / fno:.2f}"]))
    lines += [""]
    for name, row in rows.items():
        fno, windows, whole = (e["test_nrmse"] for e in row["entries"][:3])
        lines.append(f"- {name}: windows reach {windows / fno:.2f}x FNO's test nRMSE at FNO's wall time "
                     f"({'met' if windows <= fno else 'not met'}: issue 27 asks for at most 1x) and "
                     f"{whole / windows:.1f}x below whole trajectories at the same time" + "".join(
                         f"; with 1 RK4 step per interval {e['test_nrmse'] / fno:.2f}x FNO's "
                         f"({'met' if e['test_nrmse'] <= fno else 'not met'})"
                         for e in row["entries"] if e["model"] == ONE_STEP) + ".")
    lines += ["", "Why not met, and what would change it: in the same seconds the Fourier-ODE takes fewer, dearer "
              "Adam steps than FNO (2 RK4 steps per stored interval, each 4 evaluations of its 2 Fourier blocks, "
              "and the checkpointed gradient's recomputation, against one 4-layer FNO pass), so its cosine cycle "
              "ends with the validation error still falling. Halving the field evaluations (one RK4 step per "
              "interval, the fourth entry where measured; one seed, so a 1% margin is within the noise) is "
              "one lever; backprop gradients for one-interval windows and an integrating-factor step for "
              "the linear term are others, not measured here."]
    lines += ["", "| row | equation | measured | load average before | device | seed | run wall time (s) |",
              "|---|---|---|---:|---|---:|---:|"]
    lines += [f"| {name} | {row['label']} | {row['date']} | {row['load_before']:.1f} | {row['device']} | "
              f"{row['seed']} | {row['wall_s']:.0f} |" for name, row in rows.items()]
    return lines


def plot(rows: dict[str, dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(rows), figsize=(5.5 * len(rows), 4), squeeze=False)
    for ax, (name, row) in zip(axes[0], rows.items()):
        for e in row["entries"]:
            ax.semilogy(range(1, len(e["nrmse_per_time"])), e["nrmse_per_time"][1:],
                        label=f"{e['model']} ({e['fit_s']:.0f} s): {e['test_nrmse']:.2e}")
        ax.set(title=name, xlabel="stored time index", ylabel="test nRMSE")
        ax.legend(fontsize=7)
    figure.tight_layout()
    with atomic_path(FIGURE) as tmp:
        figure.savefig(tmp, format="png", dpi=110)


def stored() -> dict[str, dict[str, Any]]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", nargs="*", choices=sorted(ROWS), default=["fisher-kpp", "burgers"],
                        help="rows to measure (none: rewrite the report from windows.json)")
    parser.add_argument("--fno-epochs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in args.rows:
        with tempfile.TemporaryDirectory() as work:
            measured = measure_row(name, args.fno_epochs, args.seed, Path(work))
        rows = {**stored(), name: measured}  # read again: a run of other rows may have written meanwhile
        atomic_write_text(RESULTS, json.dumps(rows, indent=1) + "\n")
    rows = stored()
    atomic_write_text(REPORT, "\n".join(report(rows)) + "\n")
    plot(rows)
    print(f"wrote {REPORT} and {FIGURE}")


if __name__ == "__main__":
    main()
