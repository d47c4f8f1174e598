"""Figure 2 of the ANODEV2 rebuttal, for any fitted runs: ground truth vs predictions, and c_hat(t) vs c(t).

One test sample is rolled out by every run and drawn at several stored times (the first panel is
the given input ``u(t0)``); of a system of fields, channel 0 (the wave's ``u``) is drawn. When the
data file stores a velocity ``c``, a last panel compares it with the velocity each model has learned
(transport: :func:`.estimates.velocity_estimate`; wave (u, u_t): :func:`.estimates.wave_speed_estimate`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from physode.errors import InputError
from physode.io import atomic_path, check_output
from physode.trajectories import TrajectoryFile
from physode.problems.fitting.evaluate import check_grid, load_run
from physode.problems.fitting.estimates import velocity_estimate, wave_speed_estimate
from physode.problems.fitting.plot2d import plot_plane_runs
from physode.variants import get_variant

TRUTH_COLOR = "C0"  # the paper: blue truth, orange ANODE, green ANODEV2 (each variant's style: its registration)


def has_symbol(model: torch.nn.Module) -> bool:
    """Whether ``model`` is linear with a Fourier symbol (``symbols(times)``), whose velocity can be read."""
    return callable(getattr(model, "symbols", None))


def line_style(model: torch.nn.Module, label: str) -> dict[str, object]:
    """The look of a model's curves: its variant's, so that curves lying on top of each other stay
    distinguishable; a model without a symbol (nonlinear) draws solid lines in its variant's colour."""
    style = get_variant(model.config.variant).style
    look: dict[str, object] = {"color": style.color, "ls": style.line if has_symbol(model) else "-", "lw": 1.6,
                               "label": label}
    return {**look, "marker": style.marker} if style.marker else look


def initial_energy(file: TrajectoryFile, indices: np.ndarray, batch_size: int = 256) -> torch.Tensor:
    """Mean power per real-FFT mode of the initial states ``u(t0)``: which modes the data excite."""
    total = np.zeros(file.n_x // 2 + 1)
    for block in file.iter_batches(batch_size, indices):
        first = block[:, 0] if file.n_channels == 1 else block[:, 0, 0]  # u(t0) of the first field
        total += (np.abs(np.fft.rfft(first.astype(np.float64), axis=-1)) ** 2).sum(0)
    return torch.from_numpy(total / len(indices))


def plot_runs(runs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str],
              data: str | os.PathLike[str] | None = None, sample: int = 0, panels: int = 6,
              overwrite: bool = False) -> Path:
    """Draw the comparison of ``runs`` (fit to the same file) for test sample ``sample`` into PNG ``out``.

    An existing ``out`` is replaced only with ``overwrite``, and never when it is one of the inputs.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    if not runs:
        raise InputError("give at least one run directory to plot")
    if panels < 1:
        raise InputError(f"--panels must be >= 1, got {panels}")
    loaded = [load_run(run) for run in runs]
    paths = {run.data_path for run in loaded}
    if data is None and len(paths) > 1:
        raise InputError(f"the runs were fit to different files ({', '.join(map(str, sorted(paths)))}); "
                         "pass --data to choose the one to plot")
    data_path = data if data is not None else paths.pop()
    check_output(out, overwrite=overwrite, inputs=[data_path, *(run.checkpoint for run in loaded)])
    with TrajectoryFile(data_path) as file:
        for run in loaded:
            check_grid(run, file)
        test = file.test
        if not 0 <= sample < len(test):
            raise InputError(f"--sample {sample} is out of range: the test split has {len(test)} samples")
        if len(file.space) > 1:  # images of truth, prediction and error instead of curves
            return plot_plane_runs(loaded, file, sample, panels, out)
        times = file.t.tolist()
        true = file.batch([test[sample]])[0].numpy()
        with torch.no_grad():
            preds = [run.model(torch.from_numpy(true[None, 0]).to(next(run.model.parameters()).dtype), times)[0].numpy()
                     for run in loaded]
        if file.n_channels > 1:  # draw the first field
            true, preds = true[:, 0], [pred[:, 0] for pred in preds]
        estimate = wave_speed_estimate if file.channels == ("u", "u_t") else velocity_estimate
        velocity = file.coefficients.get("c")
        energy = initial_energy(file, test)
        x, dx, name, channel = file.x, float(np.diff(file.x).mean()), file.path.name, file.channels[0]

    shown = sorted(set(np.linspace(0, len(times) - 1, min(panels, len(times))).round().astype(int)))
    n_axes = len(shown) + (velocity is not None)
    cols = min(n_axes, 3 if n_axes <= 6 else 4)
    rows = math.ceil(n_axes / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False,
                             constrained_layout=True)
    axes = axes.ravel()
    styles = [line_style(run.model, run.label) for run in loaded]
    for ax, index in zip(axes, shown):
        ax.plot(x, true[index], color=TRUTH_COLOR, lw=2.4, label="ground truth")
        if index > 0:
            for pred, style in zip(preds, styles):
                ax.plot(x, pred[index], **style)
        ax.set_title(f"t = {times[index]:.3g}" + (" (input)" if index == 0 else ""))
        ax.set_xlabel("x")
        ax.set_ylabel(channel)
    handles, labels = axes[min(1, len(shown) - 1)].get_legend_handles_labels()
    if velocity is not None:
        ax = axes[len(shown)]
        ax.plot(times, velocity, color=TRUTH_COLOR, lw=2.4)
        for run, style in zip(loaded, styles):
            if not has_symbol(run.model):
                continue
            ax.plot(times, estimate(run.model.symbols(times).cpu(), len(x), dx, energy).numpy(), **style)
        quantity = "wave speed" if estimate is wave_speed_estimate else "velocity"
        ax.set_title(f"{quantity}: learned c_hat(t) vs true c(t)")
        ax.set_xlabel("t")
        ax.set_ylabel("c")
    for ax in axes[n_axes:]:
        ax.set_visible(False)
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels))
    fig.suptitle(f"{name}: test sample {sample}, given u(t0), predicted u(t)")
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return Path(out)
