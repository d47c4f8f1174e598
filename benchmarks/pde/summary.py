"""The PDE benchmark's report: per row and model the mean metrics over seeds (:func:`summarise`),
the markdown tables (:func:`report`) and the figures (:func:`plot`)."""

from __future__ import annotations

import math
import platform
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.common.report import fmt, mean_std, plot_nrmse_bars, table_header, table_row
from benchmarks.pde.fits import POLISH_METHOD
from benchmarks.pde.models import (
    ANODEV2_PAIRS, EQUAL_TIME_MODELS, FNO_MODELS, FOURIER_MODELS, LINEAR_MODELS, MODELS, PEER_MODELS, PEER_TIME_MODELS,
    PHYSODE_MODELS, REFERENCE_MODELS,
)
from benchmarks.pde.pareto import plot_pareto
from benchmarks.pde.rows import FOURIER_STEPS, FOURIER_STEPS_BEFORE_RECORDED, FOURIER_WIDTH, MODES
from physode.problems.fitting.fit_config import POLISH, POLISH_PER_PARAMETER
from physode.problems.fitting.plot import plot_runs
from physode.problems.peers.training import Schedule

HERE = Path(__file__).resolve().parent
# A reused result fit with an earlier polish is marked in the report (the key: the polish it recorded;
# none before 25d7ab6).
EARLIER_POLISHES = {None: ("†", "absolute L-BFGS tolerances, before 25d7ab6"),
                    "relative tolerances": ("‡", "relative tolerances but no restarts: an L-BFGS run that "
                                                 "stopped on its tolerances ended the polish")}


def changed_settings(model_name: str, result: dict[str, Any]) -> str:
    """The settings of a fit that differ from its family's defaults, for the table."""
    changed = [result["dtype"]] if result.get("dtype", "float32") != "float32" else []
    if (budget := result.get("polish_budget")) is not None:
        changed.append(f"polish {budget}")
    if (epochs := result.get("linear_epochs")) is not None:
        changed.append(f"{epochs} epochs")
    fourier = model_name in FOURIER_MODELS + PEER_TIME_MODELS
    if fourier and (steps := result.get("steps", FOURIER_STEPS_BEFORE_RECORDED)) != FOURIER_STEPS:
        changed.append(f"{steps} step{'s' if steps > 1 else ''}")
    if fourier and (width := result.get("width", FOURIER_WIDTH)) != FOURIER_WIDTH:
        changed.append(f"width {width}")
    if (modes := result.get("modes", MODES)) != MODES:
        changed.append(f"{modes} modes")
    return ", ".join(changed)


def model_summary(model_name: str, every: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One model's results on one row over its seeds: means and standard deviations (None: no fit finished)."""
    runs = [r for r in every if "diverged" not in r]  # a diverged fit is counted, not averaged
    if not runs:
        return None
    entry = {"seeds": len(runs), "diverged": len(every) - len(runs), "params": runs[0].get("params"),
             "changed": changed_settings(model_name, runs[0]),
             "fit_time_s": statistics.fmean(r.get("fit_time_s", math.nan) for r in runs),
             "earlier_polish": "" if model_name in PEER_MODELS + EQUAL_TIME_MODELS else "".join(sorted(
                 {EARLIER_POLISHES[r.get("polish")][0] for r in runs if r.get("polish") != POLISH_METHOD}))}
    for key in ("test_nrmse", "pdebench_nrmse", "final_nrmse"):
        entry[key], entry[key + "_std"] = mean_std([r.get(key, math.nan) for r in runs])
    if "stopped" in runs[0]:  # the peers record how their fit ended (results before them did not)
        entry.update(epochs=statistics.fmean(r["epochs"] for r in runs), device=runs[0]["device"],
                     stopped=", ".join(sorted({r["stopped"] for r in runs})))
    return entry


def best_seconds(runs: list[dict[str, Any]], row: str, among: tuple[str, ...]) -> float | None:
    """The mean fit seconds (whole, at least 1) of the model ``among`` with the lowest mean test nRMSE on
    ``row`` in ``runs``. None: none of them fit there."""
    models = {m: entry for m in among
              if (entry := model_summary(m, [r for r in runs if r["row"] == row and r["model"] == m])) is not None}
    if not models:
        return None
    return float(max(1, round(min(models.values(), key=lambda e: e["test_nrmse"])["fit_time_s"])))


def best_physode_seconds(runs: list[dict[str, Any]], row: str) -> float | None:
    """The wall time the FNOs at physode's time get: the best physode model's on ``row``."""
    return best_seconds(runs, row, tuple(PHYSODE_MODELS))


def best_fno_seconds(runs: list[dict[str, Any]], row: str) -> float | None:
    """The wall time the Fourier-ODEs at the FNO's time get: the best converged FNO's on ``row``."""
    return best_seconds(runs, row, FNO_MODELS)


def summarise(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per row: mean metrics per model, physode's best, FNO's best, the ratio and the targets."""
    table: dict[str, dict[str, Any]] = {}
    for name, info in results["rows"].items():
        models: dict[str, dict[str, Any]] = {}
        for model_name in MODELS:
            entry = model_summary(model_name, [r for r in results["runs"]
                                               if r["row"] == name and r["model"] == model_name])
            if entry is not None:
                models[model_name] = entry
        # physode's best: a fit by epochs, or one given the best FNO's wall time (equal compute).
        physode = {m: v for m, v in models.items() if m in PHYSODE_MODELS or m in PEER_TIME_MODELS}
        fno = {m: v for m, v in models.items() if m in FNO_MODELS}
        row: dict[str, Any] = {"models": models}
        references = [models[m]["test_nrmse"] for m in REFERENCE_MODELS if m in models]
        if references:  # a model at or above a reference predictor learned nothing it could use: the report says so
            row["at_or_above_reference"] = [m for m, v in models.items() if m not in REFERENCE_MODELS
                                            and not v["test_nrmse"] < min(references)]
        equal_time = {m: v for m, v in models.items() if m in EQUAL_TIME_MODELS}
        if physode and equal_time:
            row["best_fno_at_physode_time"] = min(equal_time, key=lambda m: equal_time[m]["test_nrmse"])
        at_fno_time = {m: v for m, v in models.items() if m in PEER_TIME_MODELS}
        if at_fno_time and fno:
            row["best_physode_at_fno_time"] = best_at = min(at_fno_time, key=lambda m: at_fno_time[m]["test_nrmse"])
            row["ratio_at_fno_time"] = min(v["test_nrmse"] for v in fno.values()) / at_fno_time[best_at]["test_nrmse"]
        if physode and fno:
            best_p = min(physode, key=lambda m: physode[m]["test_nrmse"])
            best_f = min(fno, key=lambda m: fno[m]["test_nrmse"])
            ratio = fno[best_f]["test_nrmse"] / physode[best_p]["test_nrmse"]
            need = info["target"]
            row.update(best_physode=best_p, best_fno=best_f, ratio=ratio, ratio_target=need, met=ratio >= need)
            if info["time_varying"]:
                row["anodev2_over_anode"] = {b: models[a]["test_nrmse"] / models[b]["test_nrmse"]
                                             for a, b in ANODEV2_PAIRS if a in models and b in models}
        table[name] = row
    return table


def report(results: dict[str, Any], command: str) -> str:
    """The markdown report: the budget, every model's row, then each row's target."""
    ep, peers = results["epochs"], Schedule()
    lines = [
        "# PDE benchmark: physode's ODE models vs neuraloperator's FNO",
        "",
        f"Report: `{command}`, seeds {results['seeds']}; the fits' own time adds up to "
        f"{sum(r.get('fit_time_s', 0.0) for r in results['runs']) / 60:.1f} min on {platform.machine()}, torch "
        f"{torch.__version__}, one thread per process (2 cores shared with other jobs: fit times are noisy).",
        "",
        f"Budget: physode's models train a fixed number of epochs per family: linear {ep['linear']} epochs then "
        f"at most {POLISH} full-batch L-BFGS loss evaluations, or {POLISH_PER_PARAMETER} per parameter if more "
        f"(`physode fit`'s polish), Fourier-ODE {ep['fourier']} epochs then {ep['polish']} L-BFGS evaluations; "
        "batch 16, one-cycle Adam. The peers (`physode.problems.peers`) train until their validation nRMSE stops "
        f"falling (the split `physode fit` carves for the seed): Adam lr {peers.lr:g}, weight decay "
        f"{peers.weight_decay:g}, learning rate halved after {peers.lr_patience} epochs without a "
        f"gain, stopped after {peers.patience} (cap {peers.epoch_cap}), best weights kept, batch "
        f"{peers.batch}; columns epochs and stopped say how each ended. `<fno>@physode-time`: that peer "
        "given the mean wall time of the row's best physode model; `<fourier model>@fno-time`: that Fourier-ODE "
        "given the mean wall time of the row's best converged FNO as `physode fit --budget` (cosine schedule sized "
        "to it). "
        "Metrics (all models, same code, `physode.trajectories.metrics`): test nRMSE = "
        "`rollout_errors(...).nrmse_predicted` "
        "(scored times, given frame excluded), PDEBench nRMSE = `pdebench_metrics(...).nrmse` (all time "
        "indices incl. the given frame, as PDEBench's metric code), final = nRMSE at the last time. Floor: "
        "the linear ANODEV2 with the exact weights and the row's RK4 steps per interval (column steps), on rows "
        "it represents exactly; a fit can go below it (learned multipliers absorb part of the RK4 error).",
        "",
    ]
    notes = [f"- {name}: {info['note']}." for name, info in results["rows"].items() if info.get("note")]
    why = ["", "Why models are at or above a reference predictor, per row:", "", *notes] if notes else []
    return "\n".join(lines + _models_table(results) + ["", "## Targets per row", ""] + _targets_table(results)
                     + why) + "\n"


def _models_table(results: dict[str, Any]) -> list[str]:
    """Every model's mean metrics per row, with the marks of results reused from earlier polishes."""
    summary = results["summary"]
    lines = table_header(["row", "min norm", "model", "params", "seeds", "test nRMSE", "PDEBench nRMSE",
                          "final nRMSE", "fit (s)", "epochs", "stopped", "device"],
                         right_aligned={"min norm", "params", "seeds", "test nRMSE", "PDEBench nRMSE", "final nRMSE",
                                        "fit (s)", "epochs"})
    for name, row in summary.items():
        info = results["rows"][name]
        for model_name, m in row["models"].items():
            changed, diverged, earlier = m.get("changed"), m.get("diverged"), m.get("earlier_polish")
            lines.append(table_row([
                name, f"{info['min_norm_ratio']:.2f}", model_name + (f" ({changed})" if changed else ""),
                m["params"], f"{m['seeds']}" + (f" (+{diverged} diverged)" if diverged else "")
                + (f" {earlier}" if earlier else ""),
                f"{fmt(m['test_nrmse'])} ± {m['test_nrmse_std']:.0e}", fmt(m["pdebench_nrmse"]), fmt(m["final_nrmse"]),
                f"{m['fit_time_s']:.0f}", f"{m['epochs']:.0f}" if "epochs" in m else "—", m.get("stopped", "—"),
                m.get("device", "—")]))
    above = [f"{name} {model_name}" for name, row in summary.items() for model_name in row.get("at_or_above_reference", [])]
    if above:
        lines += ["", f"At or above the zero or the persistence predictor (learned nothing it could use): "
                      f"{', '.join(above)}."]
    marks = "".join(m.get("earlier_polish", "") for row in summary.values() for m in row["models"].values())
    for mark, method in EARLIER_POLISHES.values():
        if mark in marks:
            lines += ["", f"{mark} fit with an earlier polish ({method}), reused from the previous report "
                          "(`--reuse`): not refit for CPU time."]
    return lines


def _targets_table(results: dict[str, Any]) -> list[str]:
    """Per row with both families: physode's best against FNO's best and the row's target."""
    lines = table_header(["row", "dynamics", "steps", "floor", "physode best", "FNO best", "FNO / physode", "target",
                          "met", "FNO best at physode's time", "physode at FNO best's time", "FNO / it",
                          "persistence", "ANODE / ANODEV2 (same network)"],
                         right_aligned={"steps", "floor", "FNO / physode", "target", "FNO / it", "persistence"})
    for name, row in results["summary"].items():
        info = results["rows"][name]
        if "ratio" not in row:
            continue
        p, f = row["models"][row["best_physode"]], row["models"][row["best_fno"]]
        v2 = ", ".join(f"{k}: {v:.1f}x" for k, v in row.get("anodev2_over_anode", {}).items()) or "—"
        equal, at_fno = row.get("best_fno_at_physode_time"), row.get("best_physode_at_fno_time")
        lines.append(table_row([
            name, info["label"], info["steps"], fmt(info.get("floor")), f"{row['best_physode']} {fmt(p['test_nrmse'])}",
            f"{row['best_fno']} {fmt(f['test_nrmse'])}", f"{row['ratio']:.2f}", f">= {row['ratio_target']:.0f}",
            "yes" if row["met"] else "NO", f"{equal} {fmt(row['models'][equal]['test_nrmse'])}" if equal else "—",
            f"{at_fno} {fmt(row['models'][at_fno]['test_nrmse'])}" if at_fno else "—",
            f"{row['ratio_at_fno_time']:.2f}" if at_fno else "—",
            fmt(row["models"].get("persistence", {}).get("test_nrmse")), v2]))
    return lines


def plot(results: dict[str, Any], work: Path, plot_row: str, out: Path) -> None:
    """In ``out``: ``nrmse.png``, the Pareto plots; the wave rows' Figure 2 and ``prediction.png`` from
    the fits run into ``work``."""
    summary = results["summary"]
    seed = results["seeds"][0]
    plot_nrmse_bars({n: {m: v["test_nrmse"] for m, v in summary[n]["models"].items()} for n in summary}, MODELS,
                    out / "nrmse.png")
    plot_pareto(results, out)
    # Figure 2 of the wave rows: channel u and the learned wave speed against c(t), from the seed's fits.
    for name in (n for n in ("wave-exp", "wave-sin") if n in summary):
        runs = [run for model_name in LINEAR_MODELS if (run := work / name / f"{model_name}_seed{seed}").is_dir()]
        if runs:
            plot_runs(runs, out / f"{name}.png", panels=5, overwrite=True)
    true_path = work / plot_row / "true.npy"
    preds = {m: np.load(p) for m in MODELS if (p := work / plot_row / f"{m}_seed{seed}_pred.npy").exists()}
    if true_path.exists() and preds:  # else the row's fits were reused, not run here: the committed figure stays
        plot_prediction(np.load(true_path), preds, results["rows"][plot_row], plot_row, out)


def plot_prediction(true: np.ndarray, preds: dict[str, np.ndarray], info: dict[str, Any], plot_row: str,
                    out: Path) -> None:
    """``prediction.png``: test sample 0 of ``plot_row`` at a quarter, half and all of the horizon."""
    import matplotlib  # only the reports need matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = np.linspace(0.0, info["t_final"], info["nt"])
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
    for ax, index in zip(axes, (info["nt"] // 4, info["nt"] // 2, info["nt"] - 1)):
        ax.plot(true[0, index], "k-", lw=2.5, label="true")
        for model_name, pred in preds.items():
            ax.plot(pred[0, index], "--", lw=1.2, label=model_name)
        ax.set_title(f"{plot_row}, test sample 0, t = {times[index]:.2f}")
        ax.set_xlabel("grid point")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "prediction.png", dpi=120)
    plt.close(fig)
