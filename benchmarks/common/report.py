"""Report helpers the benchmarks share: the code a result came from, summary statistics, number formats,
markdown tables and the bar chart of test nRMSE per row and model."""

from __future__ import annotations

import math
import subprocess
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

import numpy as np


def code_revision() -> str:
    """The commit the benchmark runs from (short hash), marked where the work tree has uncommitted changes
    to its code (Python files, pyproject.toml; not the reports and plots benchmarks write): a result names the
    code that made it."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "*.py", "pyproject.toml"],
                               cwd=here, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit} with uncommitted code changes" if dirty else commit


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation; NaN where a value is undefined (PDEBench's nRMSE of a zero field)."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()), (float(array.std(ddof=1)) if array.size > 1 else 0.0)


def fmt(value: float | None) -> str:
    """A metric in a table: three significant digits, a dash where there is none."""
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2e}"


def table_header(columns: Sequence[str], right_aligned: Collection[str] = ()) -> list[str]:
    """A markdown table's header and rule; numbers (``right_aligned`` columns) align right."""
    rule = "|".join("---:" if column in right_aligned else "---" for column in columns)
    return [table_row(columns), f"|{rule}|"]


def table_row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def plot_nrmse_bars(values: dict[str, dict[str, float]], models: Sequence[str], path: Path) -> None:
    """Grouped bars on a log scale: ``values[row][model]`` (a model a row lacks leaves a gap)."""
    import matplotlib  # only the reports need matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(values)
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(names)), 4.5))
    width = 0.8 / len(models)
    for i, model_name in enumerate(models):
        heights = [values[n].get(model_name, np.nan) for n in names]
        ax.bar(np.arange(len(names)) + i * width, heights, width, label=model_name)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names, rotation=30, ha="right")
    ax.set_ylabel("test nRMSE (mean over seeds)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
