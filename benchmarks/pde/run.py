"""PDE benchmark: physode's ODE models vs neuraloperator's FNO, row by row, side by side in one run.

Every row (:mod:`.rows`) is one trajectory file (simulated by :mod:`physode.problems.pde`, physode or
PDEBench layout) with one seeded train/test split. Every model is trained on the same training samples and
scored on the same test samples by the same code (:mod:`physode.trajectories.metrics`):

- the peers, fit by :mod:`physode.problems.peers` as FNO's users train it (Adam, learning rate halved on
  plateaus, early stopping on the validation split ``physode fit`` carves for the same seed, best weights
  kept): ``fno`` (u(t0) -> every stored time), ``fno-time`` (t as an input channel; rows whose
  coefficients vary in time), ``fno-ar`` (one step, teacher forcing then pushforward, scored on the full
  rollout); each FNO again at the wall time of the row's best physode model (``<fno>@physode-time``,
  issue 26's equal compute); the ``zero`` and ``persistence`` reference predictors on every row.
- ``anode``, ``anodev2``, ``anodev2-latent``, ``galerkin`` (physode's implementation of the Galerkin-ODE
  peer, on the wave and transport rows): physode's linear spectral models (:mod:`physode.problems.fitting`,
  fit by its :func:`~physode.problems.fitting.fit.fit`; RK4 with 2 steps per stored interval, 4
  where ``k c dt`` is large: transport, PDEBench advection beta 1).
- ``fourier-anode``, ``fourier-anodev2``: ``physode fit --model fourier`` (2 Fourier blocks, width 32,
  16 modes, with the linear spectral term), the same curriculum and one-cycle schedule, optionally
  ``--epochs polish=N`` full-batch L-BFGS loss evaluations after Adam.

The continuous-time rows (issue 26, :mod:`.frames`) score every frame of the test samples after the fit's:
``extrapolation`` (transport c = 0.5 exp(1.5 t), fit t <= T/2), ``sparse-times`` (diffusion nu(t); each
training trajectory keeps t0 and a random 25% of its other frames, by the file's ``observed`` mask),
``between-frames`` (diffusion nu(t), fit every 4th frame; the direct and autoregressive FNOs cannot answer
the frames between, so ``fno-time`` is the peer) and ``small-data`` (transport, 32 training trajectories). ``kdv`` and ``ks`` are the files of
:mod:`benchmarks.yourdata`'s independent solvers (numpy ETDRK4, py-pde) in PDEBench's layout.

The wave rows (two channels, (u, u_t)) also get a Figure-2-style plot, ``wave-exp.png`` and
``wave-sin.png``: channel u of a test sample and the wave speed read off each linear model; every row
family gets a Pareto plot (``pareto-<family>.png``: test nRMSE against fit seconds).

Columns: params, test nRMSE over the scored times (``rollout_errors``), PDEBench's nRMSE
(``pdebench_metrics``, every time index incl. the given frame), final-time nRMSE, fit time, epochs and
what stopped a peer. Rows whose true dynamics a linear physode model represents exactly also get the
discretization floor: that model with the exact weights and the row's steps, evaluated by the same code.

    OMP_NUM_THREADS=1 nice python -m benchmarks.pde.run                      # the full protocol
    OMP_NUM_THREADS=1 nice python -m benchmarks.pde.run --quick              # reduced: 3 small rows, 1 seed
    OMP_NUM_THREADS=1 nice python -m benchmarks.pde.run --rows diffusion,burgers --seeds 0 --epochs fourier=5

Run from the repository root. Each finished fit is cached in ``--work`` (JSON,
:mod:`benchmarks.common.cache`), so an interrupted run continues, and two processes with disjoint
``--rows`` and one ``--work`` can share the load; a last run over all rows then only
writes the report. ``--reuse benchmarks/pde/results.json`` lets the committed report's runs stand in for
fits not in ``--work``, so a part can be refit and the report rewritten without the rest; the report
marks the reused physode fits made with an earlier polish (FNO fits of the earlier fixed-epoch code are
never reused). ``--quick`` writes its report to ``quick/`` beside this script, ``--out`` to another folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.common.cache import RunCache, RunKey, reused_runs
from benchmarks.common.peers import load_split
from benchmarks.pde.fits import EPOCHS, run_fit
from benchmarks.pde.floor import exact_floor
from benchmarks.pde.models import EQUAL_TIME, EQUAL_TIME_MODELS, MODELS, PEER_TIME_MODELS
from benchmarks.pde.rows import QUICK_ROWS, ROWS, write_row
from benchmarks.pde.summary import HERE, best_fno_seconds, best_physode_seconds, plot, report, summarise
from physode.io import atomic_write_text


def benchmark(work: Path, rows: list[str], models: list[str], seeds: list[int], epochs: dict[str, int],
              plot_row: str, cached_only: bool = False, reused: dict[RunKey, dict[str, Any]] | None = None,
              quick: bool = False) -> dict[str, Any]:
    """Every row's data, floor and fits (cached in ``work``); the results a report is written from."""
    results: dict[str, Any] = {"rows": {}, "runs": [], "seeds": seeds, "epochs": epochs, "quick": quick}
    cache = RunCache(work)
    for name in rows:
        train_path, full_path, info = write_row(work, name, quick)
        split = load_split(train_path, full_path)
        row = ROWS[name]
        info.update(steps=row.steps, time_varying=row.time_varying, target=row.target, extrapolate=row.extrapolate,
                    pdebench=row.pdebench, n_train=len(split.train), n_test=len(split.test), note=row.note)
        if row.exact is not None:
            info["floor"] = exact_floor(row.exact, row.steps, split)
        results["rows"][name] = info
        if name == plot_row:
            (work / name).mkdir(parents=True, exist_ok=True)
            np.save(work / name / "true.npy", split.test.numpy()[:4])
        for model_name in [m for m in row.fitted if m in models or m.removesuffix(EQUAL_TIME) in models]:
            # An FNO at physode's time: the mean fit seconds of the row's best physode model so far; a
            # Fourier-ODE at the FNO's: those of the best FNO.
            budget = (best_physode_seconds(results["runs"], name) if model_name in EQUAL_TIME_MODELS else
                      best_fno_seconds(results["runs"], name) if model_name in PEER_TIME_MODELS else None)
            if model_name in EQUAL_TIME_MODELS + PEER_TIME_MODELS and budget is None:
                continue  # nothing to take the time of fit on the row
            for seed in seeds:
                result = run_fit(cache, name, model_name, seed, epochs, (train_path, full_path), split,
                                 keep_prediction=name == plot_row and seed == seeds[0], cached_only=cached_only,
                                 reused=reused or {}, budget_s=budget)
                if result is not None:
                    results["runs"].append({"row": name, **result})
    return results


def parse_epochs(overrides: str) -> dict[str, int]:
    """``--epochs family=N,...`` over :data:`~benchmarks.pde.fits.EPOCHS`."""
    epochs = dict(EPOCHS)
    for item in filter(None, overrides.split(",")):
        family, _, value = item.partition("=")
        if family not in epochs or not value.isdigit():
            sys.exit(f"--epochs takes family=N with family one of {list(epochs)}, got {item!r}")
        epochs[family] = int(value)
    return epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"the reduced table: rows {','.join(QUICK_ROWS)} (unless --rows), smaller files, seed 0 "
                             "(unless --seeds), written to quick/")
    parser.add_argument("--rows", default=None, help=f"comma-separated, of: {', '.join(ROWS)}")
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, of: {', '.join(MODELS)}")
    parser.add_argument("--seeds", default=None, help="comma-separated (default 0,1,2; --quick: 0)")
    parser.add_argument("--epochs", default="", help="family=epochs overrides, e.g. fno=50,fourier=5 "
                                                     f"(defaults {EPOCHS})")
    parser.add_argument("--plot-row", default="fisher-kpp", help="the nonlinear row of prediction.png")
    parser.add_argument("--work", default=None, help="fit directory (default: a fresh temporary one)")
    parser.add_argument("--out", type=Path, default=None,
                        help="report folder (default: beside this script; quick/ there with --quick), e.g. for a "
                             "part of the rows whose report must not replace the committed one")
    parser.add_argument("--no-report", action="store_true", help="only fit (a share of the rows)")
    parser.add_argument("--cached-only", action="store_true",
                        help="fit nothing: report the fits cached in --work (e.g. after processes shared the rows)")
    parser.add_argument("--reuse", type=Path, default=None,
                        help="an earlier report's results.json: its runs stand in for fits not cached in --work")
    args = parser.parse_args()
    rows = [r for r in (args.rows or ",".join(QUICK_ROWS if args.quick else ROWS)).split(",") if r]
    seeds = [int(s) for s in (args.seeds or ("0" if args.quick else "0,1,2")).split(",")]
    models = [m for m in args.models.split(",") if m]
    unknown = sorted(set(rows) - set(ROWS)) + sorted(set(models) - set(MODELS))
    if unknown:
        sys.exit(f"unknown rows or models {unknown}; rows: {', '.join(ROWS)}; models: {', '.join(MODELS)}")
    epochs = parse_epochs(args.epochs)
    torch.set_num_threads(1)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="pde-benchmark-"))
    work = work / "quick" if args.quick else work  # the quick rows' smaller files have their own cache
    work.mkdir(parents=True, exist_ok=True)
    out = args.out or (HERE / "quick" if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    results = benchmark(work, rows, models, seeds, epochs, args.plot_row, args.cached_only,
                        reused_runs(args.reuse, epochs), args.quick)
    results["wall_s"] = time.perf_counter() - began
    if args.no_report:
        return
    results["summary"] = summarise(results)
    command = "OMP_NUM_THREADS=1 nice python -m benchmarks.pde.run " + " ".join(sys.argv[1:])
    results["command"] = command
    atomic_write_text(out / "results.json", json.dumps(results, indent=1, default=float) + "\n")
    atomic_write_text(out / "results.md", report(results, command))
    plot(results, work, args.plot_row, out)
    print(report(results, command))


if __name__ == "__main__":
    main()
