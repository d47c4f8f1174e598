"""The 2-D benchmark's report: per row physode's best against the best FNO (the target met or not),
every entry's test nRMSE, fit time, epochs, what stopped it and its device; the Pareto plot (test nRMSE
against fit time) and the truth / prediction / error snapshots of one row (:mod:`physode.problems.fitting.plot2d`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common.report import fmt, mean_std, table_header, table_row
from benchmarks.pde2d.rows import ROWS
from physode.io import atomic_path
from physode.problems.peers import PEERS

REFERENCES = ("zero", "persistence")
# A physode fit counts as at the FNO's wall time within 10% of it: a budget is checked once a step (Adam) or an
# evaluation (the L-BFGS polish, which shares the budget), each timed by the ones before it.
TIME_SLACK = 1.1


def by_model(results: dict[str, Any], row: str) -> dict[str, list[dict[str, Any]]]:
    """The row's runs grouped by model, in the order they ran."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for run in results["runs"]:
        if run["row"] == row:
            grouped.setdefault(run["model"], []).append(run)
    return grouped


def mean_nrmse(runs: list[dict[str, Any]]) -> float:
    return mean_std([r["test_nrmse"] for r in runs])[0]


def mean_seconds(runs: list[dict[str, Any]]) -> float:
    return mean_std([r.get("fit_time_s", np.nan) for r in runs])[0]


def best(grouped: dict[str, list[dict[str, Any]]], peers: bool,
         within: float | None = None) -> tuple[str, float] | None:
    """The model of the lowest mean test nRMSE among the FNO peers (``peers``) or physode's models, of
    those whose mean fit took at most ``within`` seconds if given."""
    chosen = {m: mean_nrmse(runs) for m, runs in grouped.items()
              if m not in REFERENCES and (m in PEERS) == peers and not np.isnan(mean_nrmse(runs))
              and (within is None or mean_seconds(runs) <= within)}
    return min(chosen.items(), key=lambda item: item[1]) if chosen else None


def summarise(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per row: the best FNO, physode's best among the fits that took at most its time (:data:`TIME_SLACK`)
    and physode's best at any time, the ratio (FNO over physode at equal time), the target and the verdict."""
    summary = {}
    for row in results["rows"]:
        grouped = by_model(results, row)
        theirs, any_time = best(grouped, peers=True), best(grouped, peers=False)
        if theirs is None or any_time is None:
            continue
        fno_seconds = mean_seconds(grouped[theirs[0]])
        ours = best(grouped, peers=False, within=TIME_SLACK * fno_seconds)
        ratio = theirs[1] / ours[1] if ours is not None else float("nan")
        summary[row] = {"physode": ours[0] if ours else None, "physode_nrmse": ours[1] if ours else float("nan"),
                        "physode_seconds": mean_seconds(grouped[ours[0]]) if ours else float("nan"),
                        "physode_any_time": any_time[0], "physode_any_time_nrmse": any_time[1],
                        "physode_any_time_seconds": mean_seconds(grouped[any_time[0]]),
                        "fno": theirs[0], "fno_nrmse": theirs[1], "fno_seconds": fno_seconds,
                        "fno_stopped": sorted({r.get("stopped", "") for r in grouped[theirs[0]]}),
                        "ratio": ratio, "target": ROWS[row].target, "met": bool(ratio >= ROWS[row].target)}
    return summary


def entry_row(model: str, runs: list[dict[str, Any]]) -> str:
    """One model's line in a row's table: means over its seeds, and each seed's epochs."""
    def mean(key: str) -> float:
        return mean_std([r.get(key, np.nan) for r in runs])[0]

    spread = mean_std([r["test_nrmse"] for r in runs])[1]
    channels = np.mean([r.get("nrmse_per_channel", [np.nan]) for r in runs], axis=0)
    return table_row([model, runs[0].get("params", 0), fmt(mean("test_nrmse")), fmt(spread), fmt(mean("final_nrmse")),
                      " / ".join(fmt(float(c)) for c in channels), f"{mean('fit_time_s'):.0f}",
                      ", ".join(str(r.get("epochs", "")) for r in runs),
                      ", ".join(sorted({str(r.get("stopped", "")) for r in runs})), runs[0].get("device", "cpu"),
                      ",".join(str(r["seed"]) for r in runs)])


def report(results: dict[str, Any], command: str) -> str:
    """results.md: how it was run, the summary per row, every entry, and the closing note."""
    quick = results["quick"]
    size = results["size"]
    lines = [f"# 2-D benchmark{' (quick)' if quick else ''}: physode vs neuraloperator's FNO", "",
             f"Produced by `{command}` on {results['device']} (`torch.set_num_threads(1)`): "
             f"{results['fitted_now']} of {len(results['runs'])} fits ran in this invocation "
             f"({results['wall_s'] / 60:.1f} min), the rest were read from its `--work` cache; the fits' own "
             f"seconds add up to {sum(r.get('fit_time_s', 0.0) for r in results['runs']) / 60:.1f} min. "
             f"{results['load_note']}", "",
             f"Files: `physode simulate` at {size['nx']} x {size['nx']}, {size['samples']} samples "
             f"({results['test_fraction']:.0%} test), {size['nt']} stored times; seeds {results['seeds']}. "
             f"Budget: {results['budget_note']}", ""]
    lines += ["## Summary", "", "physode's best among its fits that took at most the best FNO's fit seconds "
              f"(+{TIME_SLACK - 1:.0%}) against that FNO, and physode's best at any time.", "", *table_header(
                  ["row", "FNO best", "test nRMSE", "fit s", "FNO stopped by", "physode best at FNO's time",
                   "test nRMSE", "fit s", "ratio FNO / physode", "target", "verdict", "physode best, any time (s)"],
                  {"test nRMSE", "fit s", "ratio FNO / physode", "target"})]
    for row, s in results["summary"].items():
        lines.append(table_row([
            row, s["fno"], fmt(s["fno_nrmse"]), f"{s['fno_seconds']:.0f}", ", ".join(s["fno_stopped"]),
            s["physode"] or "none within its time", fmt(s["physode_nrmse"]), f"{s['physode_seconds']:.0f}",
            f"{s['ratio']:.2f}x", f">= {s['target']:g}x", "met" if s["met"] else "not met",
            f"{s['physode_any_time']} {fmt(s['physode_any_time_nrmse'])} ({s['physode_any_time_seconds']:.0f} s)"]))
    for row, info in results["rows"].items():
        lines += ["", f"## {row}: {info['label']}", "",
                  f"`{info['command']}`: {info['n_train']} training samples (validation carved from them), "
                  f"{info['n_test']} test, channels {', '.join(info['channels'])}, boundary "
                  f"{info['boundary_condition']}, spectral tail {fmt(info.get('spectral_tail'))}.", "",
                  *table_header(["model", "params", "test nRMSE", "± (seeds)", "final-time nRMSE", "per channel",
                                 "fit s", "epochs", "stopped by", "device", "seeds"],
                                {"params", "test nRMSE", "± (seeds)", "final-time nRMSE", "fit s", "epochs"})]
        lines += [entry_row(model, runs) for model, runs in by_model(results, row).items()]
    lines += ["", "## Notes", "", *results["notes"], ""]
    return "\n".join(lines)


def plot_pareto(results: dict[str, Any], out: Path) -> None:
    """pareto.png: per row, every model's test nRMSE against its fit seconds; zero and persistence as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    rows = list(results["rows"])
    models = list(dict.fromkeys(r["model"] for r in results["runs"] if r["model"] not in REFERENCES))
    colours = {model: f"C{i % 10}" for i, model in enumerate(models)}  # one colour per model in every panel
    fig, axes = plt.subplots(1, len(rows), figsize=(4.2 * len(rows), 4), squeeze=False)
    for ax, row in zip(axes[0], rows):
        seconds = []
        for model, runs in by_model(results, row).items():
            nrmse = mean_nrmse(runs)
            if model in REFERENCES:
                ax.axhline(nrmse, ls="--" if model == "zero" else ":", color="grey", lw=1)
                ax.annotate(model, (0.02, nrmse), xycoords=("axes fraction", "data"), fontsize=7, color="grey")
                continue
            seconds.append(mean_seconds(runs))
            ax.scatter(seconds[-1], nrmse, marker="s" if model in PEERS else "o", color=colours[model], label=model)
        ax.set(xscale="log", yscale="log", xlabel="fit seconds", ylabel="test nRMSE", title=row)
        if seconds:
            ax.set_xlim(min(seconds) / 2, max(seconds) * 2)
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(out / "pareto.png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def plot_snapshots(results: dict[str, Any], work: Path, path: Path, row: str, out: Path) -> None:
    """snapshots.png: test sample 0 of ``row``: truth, the summary's physode model (its best at the FNO's time,
    else at any time) and best FNO, and their errors."""
    from physode.problems.fitting.plot2d import draw_snapshots
    from physode.trajectories import TrajectoryFile

    summary = results["summary"].get(row)
    if summary is None:
        return
    seed = results["seeds"][0]
    with TrajectoryFile(path) as data:
        true, times, space = data.batch(data.test[:1])[0, :, 0].numpy(), data.t.tolist(), dict(data.space)
        channel = data.channels[0]
    preds = {f"{model} ({kind})": np.load(work / row / f"{model}_seed{seed}_pred.npy")[:, 0]
             for kind, model in (("physode", summary["physode"] or summary["physode_any_time"]),
                                 ("FNO", summary["fno"]))}
    fig = draw_snapshots(true, preds, times, space, 5, f"{row}: test sample 0, {channel}; seed {seed}")
    with atomic_path(out / "snapshots.png") as tmp:
        fig.savefig(tmp, format="png", dpi=90)
