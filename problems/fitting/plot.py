"""Figure 2 of the ANODEV2 rebuttal, for any fitted runs: ground truth vs predictions, and learned vs true coefficients.

One test sample is rolled out by every run and drawn at several stored times (the first panel is
the given input ``u(t0)``); of a system of fields, channel 0 (the wave's ``u``) is drawn. Every
time-varying coefficient the data file stores gets a last panel of its own: its true curve, and
the value each linear model has learned where its symbol can be read as that coefficient
(:data:`ESTIMATES`: transport's velocity ``c``, the wave's speed ``c``, the diffusivity ``nu``).

Each run has its own colour and is named in the legend, so two runs of one variant are told apart;
its variant's registered style gives the line style and marker (and the colour of its first run).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from physode.errors import InputError
from physode.io import atomic_path, check_output
from physode.trajectories import TrajectoryFile
from physode.problems.fitting.evaluate import LoadedRun, check_grid, load_run
from physode.problems.fitting.estimates import diffusivity_estimate, velocity_estimate, wave_speed_estimate
from physode.problems.fitting.plot2d import draw_plane
from physode.variants import get_variant

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TRUTH_COLOR = "C0"  # the paper: blue truth, orange ANODE, green ANODEV2 (each variant's style: its registration)
COLORS = tuple(f"C{i}" for i in range(10))  # matplotlib's default cycle, from which runs take their colours

Estimate = Callable[[torch.Tensor, int, float, torch.Tensor], torch.Tensor]
"""``(symbols, n_x, dx, energy) -> values over t``: a coefficient read off a learned symbol (:mod:`.estimates`)."""


@dataclass(frozen=True)
class CoefficientReading:
    """How a stored coefficient is read off a learned linear generator, and what the panel calls it."""

    quantity: str
    estimate: Estimate


WAVE_CHANNELS = ("u", "u_t")
ESTIMATES: dict[str, CoefficientReading] = {
    "c": CoefficientReading("velocity", velocity_estimate),
    "nu": CoefficientReading("diffusivity", diffusivity_estimate),
}


def coefficient_reading(name: str, channels: tuple[str, ...]) -> CoefficientReading | None:
    """How the models' symbols show coefficient ``name`` of a file with ``channels``; ``None``: they do not."""
    if name == "c" and channels == WAVE_CHANNELS:
        return CoefficientReading("wave speed", wave_speed_estimate)
    return ESTIMATES.get(name)


@dataclass(frozen=True)
class RunsToPlot:
    """Fitted runs on one data file, each with the name its legend entry gives it."""

    runs: list[LoadedRun]
    names: list[str]
    data_path: Path


def has_symbol(model: torch.nn.Module) -> bool:
    """Whether ``model`` is linear with a Fourier symbol (``symbols(times)``), whose coefficients can be read."""
    return callable(getattr(model, "symbols", None))


def run_names(runs: Sequence[str | os.PathLike[str]]) -> list[str]:
    """What the legend calls each run: its folder's name, or the path as given where two names clash."""
    names = [Path(run).name for run in runs]
    return names if len(set(names)) == len(names) else [os.fspath(run) for run in runs]


def run_colors(variants: Sequence[str]) -> list[str]:
    """One colour per run: a variant's first run takes its registered colour (the paper's look), any
    further run of it the next colour of the cycle that neither the truth nor another run uses."""
    registered = [get_variant(variant).style.color for variant in variants]
    colors: list[str] = []
    spare = iter([c for c in COLORS if c != TRUTH_COLOR and c not in registered])
    for color in registered:
        colors.append(next(spare, color) if color in colors else color)  # past the cycle: colours repeat
    return colors


def line_style(model: torch.nn.Module, label: str, color: str) -> dict[str, object]:
    """The look of a run's curves: its own colour, its variant's line style and marker (so curves lying
    on top of each other stay distinguishable); a model without a symbol (nonlinear) draws solid lines."""
    style = get_variant(model.config.variant).style
    look: dict[str, object] = {"color": color, "ls": style.line if has_symbol(model) else "-", "lw": 1.6,
                               "label": label}
    return {**look, "marker": style.marker} if style.marker else look


def initial_energy(file: TrajectoryFile, indices: np.ndarray, batch_size: int = 256) -> torch.Tensor:
    """Mean power per real-FFT mode of the initial states ``u(t0)``: which modes the data excite."""
    total = np.zeros(file.n_x // 2 + 1)
    for block in file.iter_batches(batch_size, indices):
        first = block[:, 0] if file.n_channels == 1 else block[:, 0, 0]  # u(t0) of the first field
        total += (np.abs(np.fft.rfft(first.astype(np.float64), axis=-1)) ** 2).sum(0)
    return torch.from_numpy(total / len(indices))


def load_runs(runs: Sequence[str | os.PathLike[str]], data: str | os.PathLike[str] | None = None) -> RunsToPlot:
    """Load ``runs`` (fit to the same file, or drawn on ``data``)."""
    if not runs:
        raise InputError("give at least one run directory to plot")
    loaded = [load_run(run) for run in runs]
    paths = {run.data_path for run in loaded}
    if data is None and len(paths) > 1:
        raise InputError(f"the runs were fit to different files ({', '.join(map(str, sorted(paths)))}); "
                         "pass --data to choose the one to plot")
    return RunsToPlot(loaded, run_names(runs), Path(data) if data is not None else paths.pop())


def draw(to_plot: RunsToPlot, sample: int = 0, panels: int = 6) -> Figure:
    """The comparison figure of test sample ``sample`` at ``panels`` stored times (no pyplot state: the
    figure is the caller's, to save or show)."""
    from matplotlib import figure  # only when drawing: importing physode stays light

    if panels < 1:
        raise InputError(f"--panels must be >= 1, got {panels}")
    loaded = to_plot.runs
    with TrajectoryFile(to_plot.data_path) as file:
        for run in loaded:
            check_grid(run, file)
        test = file.test
        if not 0 <= sample < len(test):
            raise InputError(f"--sample {sample} is out of range: the test split has {len(test)} samples")
        if len(file.space) > 1:  # images of truth, prediction and error instead of curves
            return draw_plane(loaded, to_plot.names, file, sample, panels)
        times = file.t.tolist()
        true = file.batch([test[sample]])[0].numpy()
        with torch.no_grad():
            preds = [run.model(torch.from_numpy(true[None, 0]).to(next(run.model.parameters()).dtype), times)[0].numpy()
                     for run in loaded]
        if file.n_channels > 1:  # draw the first field
            true, preds = true[:, 0], [pred[:, 0] for pred in preds]
        coefficients = dict(file.coefficients)
        readings = {name: coefficient_reading(name, file.channels) for name in coefficients}
        energy = initial_energy(file, test)
        x, dx, name, channel = file.x, float(np.diff(file.x).mean()), file.path.name, file.channels[0]

    shown = sorted(set(np.linspace(0, len(times) - 1, min(panels, len(times))).round().astype(int)))
    n_axes = len(shown) + len(coefficients)
    cols = min(n_axes, 3 if n_axes <= 6 else 4)
    rows = math.ceil(n_axes / cols)
    fig = figure.Figure(figsize=(4.2 * cols, 3.0 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    colors = run_colors([run.model.config.variant for run in loaded])
    styles = [line_style(run.model, f"{run_name}: {run.label}", color)
              for run, run_name, color in zip(loaded, to_plot.names, colors)]
    for ax, index in zip(axes, shown):
        ax.plot(x, true[index], color=TRUTH_COLOR, lw=2.4, label="ground truth")
        if index > 0:
            for pred, style in zip(preds, styles):
                ax.plot(x, pred[index], **style)
        ax.set_title(f"t = {times[index]:.3g}" + (" (input)" if index == 0 else ""))
        ax.set_xlabel("x")
        ax.set_ylabel(channel)
    handles, labels = axes[min(1, len(shown) - 1)].get_legend_handles_labels()
    for ax, (coefficient, values) in zip(axes[len(shown):], coefficients.items()):
        ax.plot(times, values, color=TRUTH_COLOR, lw=2.4)
        reading = readings[coefficient]
        if reading is None:
            ax.set_title(f"{coefficient}(t), stored (no model estimate of it)")
        else:
            for run, style in zip(loaded, styles):
                if has_symbol(run.model):
                    ax.plot(times, reading.estimate(run.model.symbols(times).cpu(), len(x), dx, energy).numpy(), **style)
            ax.set_title(f"{reading.quantity}: learned {coefficient}_hat(t) vs true {coefficient}(t)")
        ax.set_xlabel("t")
        ax.set_ylabel(coefficient)
    for ax in axes[n_axes:]:
        ax.remove()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 4))
    fig.suptitle(f"{name}: test sample {sample}, given u(t0), predicted u(t)")
    return fig


def plot_runs(runs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str],
              data: str | os.PathLike[str] | None = None, sample: int = 0, panels: int = 6,
              overwrite: bool = False) -> Path:
    """Draw the comparison of ``runs`` (fit to the same file) for test sample ``sample`` into PNG ``out``.

    An existing ``out`` is replaced only with ``overwrite``, and never when it is one of the inputs.
    """
    to_plot = load_runs(runs, data)
    check_output(out, overwrite=overwrite, inputs=[to_plot.data_path, *(run.checkpoint for run in to_plot.runs)])
    fig = draw(to_plot, sample, panels)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return Path(out)
