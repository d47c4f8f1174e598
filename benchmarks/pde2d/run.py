"""2-D benchmark: physode's models vs neuraloperator's 2-D FNO on the four 2-D simulators, side by side in one run.

Every row (:mod:`.rows`) is one ``physode simulate`` file (transport2d, wave2d, navier-stokes2d with a
time-varying viscosity, diffusion-reaction2d) with its seeded train/test split; every model trains on the
training samples and is scored on the test samples by the same code (:mod:`.fits`):

- the peers (:mod:`physode.problems.peers`): ``fno`` (u(t0) -> every stored time), ``fno-time`` (t as an
  input channel; rows whose coefficients vary in time), ``fno-ar`` (one step, teacher forcing then
  pushforward, scored on the full rollout), trained as FNO's users train it: Adam, learning rate halved
  on plateaus, early stopping on the validation split ``physode fit`` carves for the same seed, best
  weights kept; FNO's domain padding on the walled diffusion-reaction field; the ``zero`` and
  ``persistence`` reference predictors;
- physode's: the linear spectral models (``anode``, ``anodev2``, ``anodev2-latent``) on the rows linear in
  u (transport, wave), the Fourier-ODE (``fourier-anode`` on one-interval windows, ``fourier-anodev2`` on
  whole trajectories) on the nonlinear ones (Navier-Stokes, diffusion-reaction), each given the wall time
  of the row's converged best FNO as its budget (``physode fit --budget``).

``--quick``: 32 x 32 files, fewer samples and times, seed 0, and one wall-time budget for every model
(``--budget``, default :data:`QUICK_BUDGET` s): an equal-time comparison in which the FNOs are not
converged; the full run lets the peers converge and gives physode their time.

    OMP_NUM_THREADS=1 nice python -m benchmarks.pde2d.run --quick          # ~40 min on a shared 2-core machine
    OMP_NUM_THREADS=1 nice python -m benchmarks.pde2d.run --seeds 0 --rows transport2d,wave2d

Run from the repository root. Files and finished fits are cached under ``--work`` (an interrupted run
continues). Writes results.md, results.json, pareto.png and snapshots.png (``--plot-row``) next to this
script (``--quick``: in quick/).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.common.cache import RunCache
from benchmarks.common.report import mean_std
from benchmarks.pde2d.fits import TestSplit, run_fit
from benchmarks.pde2d.rows import FULL, QUICK, ROWS, TEST_FRACTION, Size, write_row
from benchmarks.pde2d.summary import (
    REFERENCES, best, by_model, mean_nrmse, plot_pareto, plot_snapshots, report, summarise,
)
from physode.io import atomic_write_text

HERE = Path(__file__).resolve().parent
QUICK_BUDGET = 60.0  # seconds of training per model in --quick: 21 trained fits and the files in under 30 min


def benchmark(work: Path, rows: list[str], seeds: list[int], size: Size, budget: float | None) -> dict[str, Any]:
    """Every row's file and fits (cached in ``work``): the peers first, then physode's models with the
    budget (None: the best converged FNO's mean fit seconds)."""
    results: dict[str, Any] = {"rows": {}, "runs": [], "seeds": seeds, "size": vars(size), "files": {}}
    cache = RunCache(work)
    cached = sum(1 for _ in work.glob("*/*.json"))
    for name in rows:
        row = ROWS[name]
        path, info = write_row(work, name, size)
        results["rows"][name], results["files"][name] = info, str(path)
        (work / name).mkdir(parents=True, exist_ok=True)
        split = TestSplit.read(path)

        def fit(model: str, cap: float | None) -> None:
            for seed in seeds:
                results["runs"].append({"row": name, **run_fit(cache, name, row, model, seed, path, split, cap,
                                                               keep_prediction=seed == seeds[0])})

        for model in (*row.peers, *REFERENCES):
            fit(model, budget)
        physode_budget = budget
        if budget is None:
            fno, _ = best(by_model(results, name), peers=True)
            physode_budget = round(mean_std([r["fit_time_s"] for r in by_model(results, name)[fno]])[0])
        for model in row.physode:
            fit(model, physode_budget)
    results["fitted_now"] = sum(1 for _ in work.glob("*/*.json")) - cached
    return results


def notes(results: dict[str, Any], budget: float | None) -> list[str]:
    """The closing note: how to read the budgets, and each target not met with the numbers behind it."""
    lines = []
    if budget is not None:
        lines.append(f"- Every model had the same {budget:.0f} s of training (`--budget`): this is the equal-wall-time "
                     "comparison, not the converged one; an FNO stopped by \"budget\" had not converged, so its "
                     "row's verdict says only which model is better at this wall time.")
    else:
        lines.append("- The FNOs trained until their validation error stalled (patience 100 epochs, cap 5000); each "
                     "physode model had the best FNO's fit seconds as its budget.")
    for run in results["runs"]:
        row = by_model(results, run["row"])
        floor = min(mean_nrmse(row[m]) for m in REFERENCES)
        if run["model"] not in REFERENCES and run["test_nrmse"] >= floor:
            lines.append(f"- {run['row']}: {run['model']} (seed {run['seed']}) scores at or above the zero or "
                         f"persistence predictor ({run['test_nrmse']:.3g} >= {floor:.3g}): stopped by "
                         f"{run.get('stopped')} after {run.get('epochs')} epochs (on a small file each 2-D peer "
                         "beats zero and fno-ar persistence within a few epochs: tests/test_peers_2d.py).")
    for row, s in results["summary"].items():
        if s["met"]:
            continue
        if s["physode"] is None:
            lines.append(f"- {row}: not met. No physode fit finished within the best FNO's {s['fno_seconds']:.0f} s "
                         f"({s['fno']}, stopped by {', '.join(s['fno_stopped'])}); physode's best at any time, "
                         f"{s['physode_any_time']}, took {s['physode_any_time_seconds']:.0f} s.")
            continue
        lines.append(f"- {row}: not met. physode's best within the FNO's time ({s['physode']}) {ratio_words(s)}; the "
                     f"best FNO ({s['fno']}, stopped by {', '.join(s['fno_stopped'])}) took {s['fno_seconds']:.0f} s, "
                     f"physode's {s['physode_seconds']:.0f} s.")
    return lines


def ratio_words(s: dict[str, Any]) -> str:
    if s["ratio"] >= 1:
        return f"is {s['ratio']:.2f}x below the best FNO, short of the {s['target']:g}x target"
    return f"is {1 / s['ratio']:.2f}x above the best FNO"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="32 x 32 files, fewer samples and times, seed 0, every "
                        f"model within --budget (default {QUICK_BUDGET:g} s); written to quick/")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, of: {', '.join(ROWS)}")
    parser.add_argument("--seeds", default=None, help="comma-separated (default 0,1,2; --quick: 0)")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds of training for every model (default: --quick's; else none: the FNOs converge "
                             "and physode gets the best one's time)")
    parser.add_argument("--plot-row", default="navier-stokes2d", help="the row of snapshots.png")
    parser.add_argument("--work", default=None, help="files and fits (default: a fresh temporary directory)")
    args = parser.parse_args()
    rows = [r for r in args.rows.split(",") if r]
    if set(rows) - set(ROWS):
        sys.exit(f"unknown rows {sorted(set(rows) - set(ROWS))}; rows: {', '.join(ROWS)}")
    seeds = [int(s) for s in (args.seeds or ("0" if args.quick else "0,1,2")).split(",")]
    budget = args.budget if args.budget is not None else (QUICK_BUDGET if args.quick else None)
    torch.set_num_threads(1)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="pde2d-benchmark-"))
    work = work / "quick" if args.quick else work
    work.mkdir(parents=True, exist_ok=True)
    out = HERE / "quick" if args.quick else HERE
    out.mkdir(exist_ok=True)
    load_before, began = os.getloadavg()[0], time.perf_counter()
    results = benchmark(work, rows, seeds, QUICK if args.quick else FULL, budget)
    results.update(wall_s=time.perf_counter() - began, quick=args.quick, test_fraction=TEST_FRACTION,
                   device=f"the CPU ({os.cpu_count()} cores)",
                   load_note=f"1-minute load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the "
                             "end (other jobs shared the cores: times are noisy).",
                   budget_note=(f"every model {budget:g} s of training." if budget is not None else
                                "the FNOs converge (early stopping); physode gets the best FNO's fit seconds."))
    results["summary"] = summarise(results)
    results["notes"] = notes(results, budget)
    command = "OMP_NUM_THREADS=1 nice python -m benchmarks.pde2d.run " + " ".join(sys.argv[1:])
    results["command"] = command
    atomic_write_text(out / "results.json", json.dumps(results, indent=1, default=float) + "\n")
    atomic_write_text(out / "results.md", report(results, command))
    plot_pareto(results, out)
    if args.plot_row in results["files"]:
        plot_snapshots(results, work, Path(results["files"][args.plot_row]), args.plot_row, out)
    print(report(results, command))


if __name__ == "__main__":
    main()
