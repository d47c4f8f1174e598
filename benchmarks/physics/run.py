"""Physics benchmark: ANODE vs Neural ODE vs ANODEV2 on the physics zoo, PDE by PDE, plus PDEBench advection.

Every PDE of :mod:`physode.problems.pde` (diffusion with nu(t), advection-diffusion with c(t),
Burgers, Fisher-KPP, Allen-Cahn) is simulated into a small trajectory file and fitted by the SAME
generic 1-D code (:func:`physode.problems.fitting.fit.fit`, nothing per PDE) for the variants anode,
neuralode and anodev2 and seeds 0, 1, 2; the table reports PDEBench's test nRMSE (mean +- std over
seeds), parameters and fit time. A second table fits PDEBench-layout advection files (written by
:func:`physode.trajectories.write_pdebench` with PDEBench's generation settings, read back
through :class:`physode.trajectories.TrajectoryFile`'s PDEBench reader). Writes ``results.md``,
``results.json`` and ``nrmse.png`` next to this script.

    OMP_NUM_THREADS=1 nice python -m benchmarks.physics.run            # about 12 min on one core

Fits live in ``--work`` and resume, so an interrupted benchmark continues where it stopped. The
PDEs and their simulation are in ``zoo.py``, the tables and the plot in ``report.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.physics.report import plot, report
from benchmarks.physics.zoo import (
    PDEBENCH, PDEBENCH_MODES, PDEBENCH_VARIANTS, PDES, VARIANTS, simulate, simulate_pdebench,
)
from physode.io import atomic_write_text
from physode.errors import TrainingDiverged
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import ModelConfig
from physode.problems.fitting.quickstart import fit_variant

HERE = Path(__file__).resolve().parent


def _fit(data: Path, out: Path, variant: str, config: FitConfig, device: str, seed: int,
         label: str) -> dict[str, Any]:
    began = time.perf_counter()
    try:
        summary = fit_variant(data, out, variant, dataclasses.replace(config, seed=seed), device)
    except TrainingDiverged as err:  # reported as a result (nan), not a crash of the whole benchmark
        print(f"{label:22s} {variant:10s} seed {seed}: DIVERGED ({err})", flush=True)
        nan = float("nan")
        return {"variant": variant, "params": None, "test_nrmse": nan, "test_final_nrmse": nan,
                "fit_time_s": time.perf_counter() - began, "nrmse_per_time": [], "diverged": str(err)}
    summary = {key: value for key, value in summary.items() if key != "nrmse_per_time"} | {
        "nrmse_per_time": [round(v, 6) for v in summary["nrmse_per_time"]]}
    print(f"{label:22s} {variant:10s} seed {seed}: test nRMSE {summary['test_nrmse']:.3e} "
          f"({summary['fit_time_s']:.1f} s fit, {time.perf_counter() - began:.1f} s wall)", flush=True)
    return summary


def benchmark(work: Path, seeds: list[int], pdebench_seeds: list[int], config: FitConfig,
              pdebench_config: FitConfig, device: str, pdes: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {"config": dataclasses.asdict(config),
                               "pdebench_config": dataclasses.asdict(pdebench_config),
                               "pdes": {}, "runs": [], "pdebench": PDEBENCH | {"betas": list(PDEBENCH["betas"])},
                               "pdebench_runs": []}
    began = time.perf_counter()
    for name in pdes:
        path, info = simulate(work, name)
        results["pdes"][name] = info
        for variant in VARIANTS:
            for seed in seeds:
                summary = _fit(path, work / name / f"{variant}_seed{seed}", variant, config, device, seed, name)
                results["runs"].append({"pde": name, "seed": seed, **summary})
    for beta in PDEBENCH["betas"]:
        path = simulate_pdebench(work, beta)
        for variant in PDEBENCH_VARIANTS:
            for seed in pdebench_seeds:
                summary = _fit(path, work / f"pdebench_beta{beta}" / f"{variant}_seed{seed}", variant,
                               pdebench_config, device, seed, f"pdebench beta={beta}")
                results["pdebench_runs"].append({"beta": beta, "seed": seed, **summary})
    results["wall_s"] = time.perf_counter() - began
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "physode-physics-benchmark",
                        help="data files and run directories (reused: finished fits are not repeated)")
    parser.add_argument("--out", type=Path, default=HERE, help="where results.md/json and nrmse.png go")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pdebench-seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=30, help="epochs per fit on the zoo files")
    parser.add_argument("--pdebench-epochs", type=int, default=25, help="epochs per fit on the PDEBench files")
    parser.add_argument("--pdes", nargs="+", default=list(PDES), choices=list(PDES))
    parser.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    config = FitConfig(epochs=args.epochs, progress=False)
    # 1024 points: keep the 16 lowest Fourier modes (the data hold wavenumbers 1..8). With all 513 the
    # unexcited top modes, k c dt up to ~30 per RK4 step, made the very first full-horizon loss NaN.
    pdebench_config = FitConfig(epochs=args.pdebench_epochs, progress=False, model=ModelConfig(modes=PDEBENCH_MODES))
    results = benchmark(args.work, args.seeds, args.pdebench_seeds, config, pdebench_config, args.device, args.pdes)
    results["machine"] = f"{platform.processor() or platform.machine()}, {platform.system()}, torch {torch.__version__}"
    results["command"] = "OMP_NUM_THREADS=1 nice python -m benchmarks.physics.run " + " ".join(
        sys.argv[1:] if argv is None else argv)
    text = report(results, args.seeds, args.pdebench_seeds, results["command"].strip())
    print(text)
    atomic_write_text(args.out / "results.md", text)
    atomic_write_text(args.out / "results.json", json.dumps(results, indent=1) + "\n")
    plot(results, args.out / "nrmse.png")
    print(f"wrote {args.out / 'results.md'}, results.json and nrmse.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
