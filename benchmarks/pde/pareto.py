"""The PDE benchmark's Pareto plots (issue 26): per row family, test nRMSE against fit seconds, every
model a point (its mean over seeds), the reference predictors (0 s) as horizontal lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.pde.models import REFERENCE_MODELS


def row_family(info: dict[str, Any]) -> str:
    """``continuous-time`` (issue 26's rows: scored beyond, between or besides the frames the fits saw, or
    with little data), ``time-varying`` (coefficients) or ``time-invariant``."""
    if info.get("continuous_time", info.get("extrapolate")):  # results before continuous_time: extrapolation
        return "continuous-time"
    return "time-varying" if info.get("time_varying") else "time-invariant"


def plot_pareto(results: dict[str, Any], out: Path) -> None:
    """``pareto-<family>.png`` in ``out``: one panel per row of the family."""
    import matplotlib  # only the reports need matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families: dict[str, list[str]] = {}
    for name, info in results["rows"].items():
        families.setdefault(row_family(info), []).append(name)
    for family, names in families.items():
        fig, axes = plt.subplots(1, len(names), figsize=(max(6.5, 4.6 * len(names)), 4.4), squeeze=False)
        for ax, name in zip(axes[0], names):
            for model_name, entry in results["summary"][name]["models"].items():
                if model_name in REFERENCE_MODELS:
                    ax.axhline(entry["test_nrmse"], color="grey", ls=":", lw=1)
                    ax.annotate(model_name, (0.02, entry["test_nrmse"]), xycoords=("axes fraction", "data"),
                                fontsize=7, color="grey", va="bottom")
                    continue
                ax.plot(entry["fit_time_s"], entry["test_nrmse"], "o" if "fno" in model_name else "s")
                ax.annotate(model_name, (entry["fit_time_s"], entry["test_nrmse"]), fontsize=7,
                            textcoords="offset points", xytext=(3, 3))
            ax.set(xscale="log", yscale="log", xlabel="fit wall time (s)", ylabel="test nRMSE", title=name)
        fig.suptitle(f"{family} rows: test nRMSE against fit time\n(mean over seeds; FNO circles, physode squares)",
                     fontsize=10)
        fig.tight_layout()
        fig.savefig(out / f"pareto-{family}.png", dpi=120)
        plt.close(fig)
