"""Physics benchmark: ANODE vs Neural ODE vs ANODEV2 on the physics zoo, PDE by PDE, plus PDEBench advection.

Every PDE of :mod:`physode.problems.pde` (diffusion with nu(t), advection-diffusion with c(t),
Burgers, Fisher-KPP, Allen-Cahn) is simulated into a small trajectory file and fitted by the SAME
generic 1-D code (:func:`physode.problems.fitting.fit.fit`, nothing per PDE) for the variants anode,
neuralode and anodev2 and seeds 0, 1, 2; the table reports PDEBench's test nRMSE (mean +- std over
seeds), parameters and fit time. A second table fits PDEBench-layout advection files (written by
:func:`physode.problems.pde.write_pdebench` with PDEBench's generation settings, read back
through :class:`physode.io.TrajectoryFile`'s PDEBench reader). Writes ``results.md``,
``results.json`` and ``nrmse.png`` next to this script.

    OMP_NUM_THREADS=1 nice python benchmarks/physics/run.py            # about 12 min on one core

Fits live in ``--work`` and resume, so an interrupted benchmark continues where it stopped.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.common.report import mean_std
from physode.errors import TrainingDiverged
from physode.io import TrajectoryFile, atomic_path, atomic_write_text
from physode.problems import pde
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import ModelConfig
from physode.problems.fitting.quickstart import fit_variant

HERE = Path(__file__).resolve().parent

VARIANTS = ("anode", "neuralode", "anodev2")
PDEBENCH_VARIANTS = ("anode", "anodev2")
PDEBENCH_MODES = 16
N_SAMPLES, NX, NT, DATA_SEED, TEST_FRACTION = 160, 64, 41, 0, 0.2
# Linear PDEs: the transport benchmark's Fourier initial states (two sines, wavenumbers 1..8).
# Nonlinear PDEs: wavenumbers 1..3, so that 64 points resolve the steepened / sharpened solutions
# (with 1..8 every nonlinear file was flagged under-resolved: spectral tail 1e-2 .. 3e-1).
SMOOTH = pde.FourierSeries(max_wavenumber=3)
PDES: dict[str, dict[str, Any]] = {
    "diffusion": {
        "equation": "u_t = nu(t) u_xx", "coefficients": "nu(t) = 0.001 exp(1.5 t)", "t_final": 1.0,
        "initial": "fourier (k 1..8)",
        "simulate": lambda t: pde.simulate_diffusion(N_SAMPLES, NX, t, nu="exponential:c0=0.001,a=1.5",
                                                         seed=DATA_SEED),
    },
    "advection-diffusion": {
        "equation": "u_t = c(t) u_x + nu u_xx", "coefficients": "c(t) = 0.5 exp(1.5 t), nu = 0.001",
        "t_final": 1.0, "initial": "fourier (k 1..8)",
        "simulate": lambda t: pde.simulate_advection_diffusion(
            N_SAMPLES, NX, t, velocity="exponential:c0=0.5,a=1.5", nu=0.001, seed=DATA_SEED),
    },
    "burgers": {
        "equation": "u_t + u u_x = nu u_xx", "coefficients": "nu = 0.05", "t_final": 0.5,
        "initial": "fourier (k 1..3)",
        "simulate": lambda t: pde.simulate_burgers(N_SAMPLES, NX, t, nu=0.05, initial=SMOOTH, seed=DATA_SEED),
    },
    "fisher-kpp": {
        "equation": "u_t = D u_xx + r u (1 - u)", "coefficients": "D = 0.002, r = 5", "t_final": 1.0,
        "initial": "fourier (k 1..3) mapped onto [0, 1]",
        "simulate": lambda t: pde.simulate_fisher_kpp(N_SAMPLES, NX, t, diffusivity=0.002, rate=5.0,
                                                          initial=SMOOTH, seed=DATA_SEED),
    },
    "allen-cahn": {
        "equation": "u_t = eps^2 u_xx + u - u^3", "coefficients": "eps = 0.04", "t_final": 3.0,
        "initial": "fourier (k 1..3) mapped onto [-1, 1]",
        "simulate": lambda t: pde.simulate_allen_cahn(N_SAMPLES, NX, t, epsilon=0.04, initial=SMOOTH,
                                                          seed=DATA_SEED),
    },
}
LINEAR = ("diffusion", "advection-diffusion")
# PDEBench 1D advection: u_t + beta u_x = 0 on [0, 1), sums of sines, Nx = 1024, t in [0, 2]
# (PDEBench stores 201 snapshots, dt = 0.01, and 10000 samples per beta; its loaders test on the
# first 10%). Here: 100 samples and every other PDEBench snapshot (101 times, dt = 0.02).
PDEBENCH = {"betas": (0.1, 0.4, 1.0), "n_samples": 100, "nx": 1024, "t_final": 2.0, "nt": 101,
            "initial": "fourier (k 1..8)", "seed": DATA_SEED}


def simulate(work: Path, name: str) -> tuple[Path, dict[str, Any]]:
    """The file of PDE ``name`` (deterministic), and what describes it (incl. the solver's spectral tail)."""
    spec = PDES[name]
    t = np.linspace(0.0, spec["t_final"], NT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tail is recorded and reported instead
        data = spec["simulate"](t)
    path = pde.write(work / f"{name}.h5", data, seed=DATA_SEED, test_fraction=TEST_FRACTION)
    u = data.u
    change = np.linalg.norm(u[:, -1] - u[:, 0], axis=1) / np.linalg.norm(u[:, 0], axis=1)
    info = {key: spec[key] for key in ("equation", "coefficients", "t_final", "initial")}
    info.update(n_samples=N_SAMPLES, nx=NX, nt=NT, spectral_tail=data.parameters.get("spectral_tail"),
                relative_change=float(change.mean()))
    return path, info


def simulate_pdebench(work: Path, beta: float) -> Path:
    """PDEBench-layout advection file for ``beta``, written by the PDE package's PDEBench writer."""
    t = np.linspace(0.0, PDEBENCH["t_final"], PDEBENCH["nt"])
    data = pde.simulate_advection(PDEBENCH["n_samples"], PDEBENCH["nx"], t, beta=beta, initial="fourier",
                                      seed=PDEBENCH["seed"], cell_centred=True)
    path = pde.write_pdebench(work / f"1D_Advection_Sols_beta{beta}.hdf5", data, seed=PDEBENCH["seed"])
    with TrajectoryFile(path) as f:  # the fit reads it back through the same reader
        assert f.layout == "pdebench", f.layout
        assert f.n_x == PDEBENCH["nx"] and f.n_times == PDEBENCH["nt"], (f.n_x, f.n_times)
    return path


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


def _budget(config: dict[str, Any]) -> str:
    return (f"{config['epochs']} epochs, batch {config['batch_size']}, peak lr {config['lr']} (one-cycle Adam), "
            f"horizon curriculum over {config['curriculum']:.0%} of the steps, {config['model']['layer']} layer, "
            f"{config['model']['method'].upper()} with {config['model']['steps_per_interval']} steps per stored interval")


def report(results: dict[str, Any], seeds: list[int], pdebench_seeds: list[int], command: str) -> str:
    config, pb = results["config"], results["pdebench"]
    n_test = round(TEST_FRACTION * N_SAMPLES)
    lines = [
        "# Physics benchmark: ANODE vs Neural ODE vs ANODEV2, PDE by PDE",
        "",
        f"Data: one file per PDE, {N_SAMPLES} samples ({n_test} test, seeded split), {NT} equally spaced "
        f"times on [0, T], {NX} points on the periodic [0, 1), data seed {DATA_SEED}, float64 reference "
        "solvers of `physode.problems.pde`. Every PDE is fit by the same `fitting` code with the same "
        f"budget: {_budget(config)}. Seeds {seeds} (initial weights and batch order). nRMSE over the predicted times "
        "(||pred - true||_2 / ||true||_2 over x, averaged over test samples and the predicted times), "
        "mean ± std over seeds. Change: mean ||u(T) - u(0)|| / ||u(0)|| of the data (how much happens). "
        "Tail: the solver's spectral tail (resolution; < 1e-4 is about 1e-6 error).",
        "",
        "| PDE | coefficients | T | change | tail | variant | params | test nRMSE | final-time nRMSE | fit time (s) |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for name, info in results["pdes"].items():
        tail = "exact" if info["spectral_tail"] is None else f"{info['spectral_tail']:.0e}"
        for variant in VARIANTS:
            runs = [r for r in results["runs"] if r["pde"] == name and r["variant"] == variant]
            if not runs:
                continue
            nrmse, nrmse_std = mean_std([r["test_nrmse"] for r in runs])
            final, final_std = mean_std([r["test_final_nrmse"] for r in runs])
            fit_time = statistics.fmean(r["fit_time_s"] for r in runs)
            lines.append(f"| {name} `{info['equation']}` | {info['coefficients']} | {info['t_final']:g} | "
                         f"{info['relative_change']:.2f} | {tail} | {variant} | {runs[0]['params'] or '-'} | "
                         f"{nrmse:.2e} ± {nrmse_std:.1e} | {final:.2e} ± {final_std:.1e} | {fit_time:.1f} |")
    diverged = [r for r in results["runs"] + results["pdebench_runs"] if r.get("diverged")]
    if diverged:
        lines += ["", f"{len(diverged)} fit(s) diverged (nan above): " + "; ".join(
            f"{r.get('pde', r.get('beta'))} {r['variant']} seed {r['seed']}" for r in diverged)]
    if results["pdebench_runs"]:
        pconf = results["pdebench_config"]
        n_test_pb = int(pb["n_samples"] * 0.1)
        lines += [
            "",
            "## PDEBench advection (PDEBench layout, read back through the PDEBench reader)",
            "",
            f"`u_t + beta u_x = 0` on [0, 1) written by `pde.write_pdebench` (`1D_Advection_Sols_beta*.hdf5`: "
            f"`tensor`, cell-centred `x-coordinate`, `t-coordinate` with Nt + 1 entries, attribute `beta`) with "
            f"PDEBench's generation settings: sums of two sines ({pb['initial']}), Nx = {pb['nx']}, t in "
            f"[0, {pb['t_final']:g}]. Differences from PDEBench's files: {pb['n_samples']} samples instead of "
            f"10000, {pb['nt']} stored times (dt = {pb['t_final'] / (pb['nt'] - 1):g}) instead of 201 (every "
            "other PDEBench snapshot), the exact solution instead of PDEBench's numerical one. Test split: "
            f"the PDEBench reader's default, the first 10% ({n_test_pb} samples). Budget: {_budget(pconf)}. "
            f"Spectral layer restricted to the lowest {pconf['model']['modes']} Fourier modes. Seeds {pdebench_seeds}.",
            "",
            "| beta | variant | params | test nRMSE | final-time nRMSE | fit time (s) |",
            "|---:|---|---:|---:|---:|---:|",
        ]
        for beta in pb["betas"]:
            for variant in PDEBENCH_VARIANTS:
                runs = [r for r in results["pdebench_runs"] if r["beta"] == beta and r["variant"] == variant]
                if not runs:
                    continue
                nrmse, nrmse_std = mean_std([r["test_nrmse"] for r in runs])
                final, final_std = mean_std([r["test_final_nrmse"] for r in runs])
                fit_time = statistics.fmean(r["fit_time_s"] for r in runs)
                lines.append(f"| {beta:g} | {variant} | {runs[0]['params'] or '-'} | {nrmse:.2e} ± {nrmse_std:.1e} | "
                             f"{final:.2e} ± {final_std:.1e} | {fit_time:.1f} |")
    lines += [
        "",
        f"Command: `{command}`; total wall time {results['wall_s'] / 60:.1f} min (simulation + all fits) on "
        f"{results['machine']}, one thread (`torch.set_num_threads(1)`), while another single-threaded "
        "benchmark ran on the second core.",
    ]
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], out: Path) -> Path:
    """Bar chart: test nRMSE (mean, std as error bar) per PDE x variant, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [(name, [r for r in results["runs"] if r["pde"] == name]) for name in results["pdes"]]
    groups += [(f"PDEBench adv.\nbeta={beta:g}", [r for r in results["pdebench_runs"] if r["beta"] == beta])
               for beta in results["pdebench"]["betas"]]
    groups = [(label, runs) for label, runs in groups if runs]
    fig, ax = plt.subplots(figsize=(max(8, 1.3 * len(groups)), 4.5))
    width = 0.8 / len(VARIANTS)
    for i, variant in enumerate(VARIANTS):
        xs, means, stds = [], [], []
        for g, (_, runs) in enumerate(groups):
            values = [r["test_nrmse"] for r in runs if r["variant"] == variant]
            if values:
                mean, std = mean_std(values)
                xs.append(g + (i - (len(VARIANTS) - 1) / 2) * width)
                means.append(mean)
                stds.append(std)
        ax.bar(xs, means, width, yerr=stds, capsize=2, label=variant, color=f"C{i + 1}")
    ax.set_yscale("log")
    ax.set_xticks(range(len(groups)), [label for label, _ in groups], fontsize=8)
    ax.set_ylabel("test nRMSE (predicted times), mean ± std over seeds")
    ax.set_title("Single-layer ODE models on the physics zoo (same fit code, same budget per table)")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return out


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
    results["command"] = "OMP_NUM_THREADS=1 nice python benchmarks/physics/run.py " + " ".join(
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
