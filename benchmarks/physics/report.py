"""The physics benchmark's report: the tables (mean ± std over seeds) and the nRMSE bar chart."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from benchmarks.common.report import mean_std
from benchmarks.physics.zoo import DATA_SEED, N_SAMPLES, NT, NX, PDEBENCH_VARIANTS, TEST_FRACTION, VARIANTS
from physode.io import atomic_path


def _budget(config: dict[str, Any]) -> str:
    return (f"{config['epochs']} epochs, batch {config['batch_size']}, peak lr {config['lr']} (one-cycle Adam), "
            f"horizon curriculum over {config['curriculum']:.0%} of the steps, {config['model']['layer']} layer, "
            f"{config['model']['method'].upper()} with {config['model']['steps_per_interval']} steps per stored interval")


def _seed_cells(runs: list[dict[str, Any]]) -> str:
    """A row's last cells: test and final-time nRMSE (mean ± std over seeds), mean fit time."""
    nrmse, nrmse_std = mean_std([r["test_nrmse"] for r in runs])
    final, final_std = mean_std([r["test_final_nrmse"] for r in runs])
    fit_time = statistics.fmean(r["fit_time_s"] for r in runs)
    return f"{nrmse:.2e} ± {nrmse_std:.1e} | {final:.2e} ± {final_std:.1e} | {fit_time:.1f} |"


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
            lines.append(f"| {name} `{info['equation']}` | {info['coefficients']} | {info['t_final']:g} | "
                         f"{info['relative_change']:.2f} | {tail} | {variant} | {runs[0]['params'] or '-'} | "
                         + _seed_cells(runs))
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
            f"`u_t + beta u_x = 0` on [0, 1) written by `physode.trajectories.write_pdebench` (`1D_Advection_Sols_beta*.hdf5`: "
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
                lines.append(f"| {beta:g} | {variant} | {runs[0]['params'] or '-'} | " + _seed_cells(runs))
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
