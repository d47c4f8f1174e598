"""The figure of `physode plot` for runs on a 2-D field: truth, each run's prediction and its error as
images at a few stored times (one test sample, channel 0), on shared colour scales per row kind.
:func:`draw_snapshots` draws the same figure from predictions made by anything (the 2-D benchmark's peers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from physode.problems.fitting.evaluate import LoadedRun
from physode.trajectories import TrajectoryFile

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def draw_plane(runs: Sequence[LoadedRun], names: Sequence[str], file: TrajectoryFile, sample: int,
               panels: int) -> Figure:
    """Test sample ``sample`` of ``file`` rolled out by ``runs`` (legend names ``names``): a row of truth,
    then a prediction row and an error row (prediction - truth) per run, at up to ``panels`` times (no
    pyplot state: the figure is the caller's)."""
    true = file.batch([file.test[sample]])[0].numpy()  # (t, C, *space)
    with torch.no_grad():
        preds = {f"{name}: {run.label}": run.model(torch.from_numpy(true[None, 0]).to(
            next(run.model.parameters()).dtype), file.t.tolist())[0].numpy() for run, name in zip(runs, names)}
    channel = file.channels[0]
    title = f"{file.path.name}: test sample {sample}, {channel}; prediction from the given {channel}(t0)"
    return draw_snapshots(true[:, 0], {label: pred[:, 0] for label, pred in preds.items()}, file.t.tolist(),
                          file.space, panels, title)


def draw_snapshots(true: np.ndarray, preds: Mapping[str, np.ndarray], times: Sequence[float],
                   space: Mapping[str, np.ndarray], panels: int, title: str) -> Figure:
    """One field ``true`` ``(t, *space)`` and its predictions (label -> same shape): a row of truth, then a
    prediction row and an error row per prediction, at up to ``panels`` of ``times``; ``space`` names the
    two axes and holds their coordinates, in the field's order."""
    from matplotlib import figure  # only when drawing: importing physode stays light

    shown = sorted(set(np.linspace(0, len(times) - 1, min(panels, len(times))).round().astype(int)))
    first_axis, second_axis = list(space)
    extent = [*space[second_axis][[0, -1]], *space[first_axis][[0, -1]]]
    scale = float(np.abs(true).max()) or 1.0
    error_scale = max((float(np.abs(pred - true).max()) for pred in preds.values()), default=0.0) or scale
    rows = [("ground truth", true, scale, "viridis")]
    for label, pred in preds.items():
        rows += [(label, pred, scale, "viridis"), (f"{label}: error", pred - true, error_scale, "RdBu_r")]
    fig = figure.Figure(figsize=(2.6 * len(shown) + 1.2, 2.4 * len(rows)), layout="constrained")
    axes = fig.subplots(len(rows), len(shown), squeeze=False)
    for row, (label, fields, limit, colours) in zip(axes, rows):
        symmetric = colours == "RdBu_r" or fields.min() < 0
        for ax, index in zip(row, shown):
            image = ax.imshow(fields[index], origin="lower", extent=extent, cmap=colours, aspect="auto",
                              vmin=-limit if symmetric else 0.0, vmax=limit)
            ax.set_title(f"{label}, t = {times[index]:.3g}", fontsize=8)
            ax.set_xlabel(second_axis)
            ax.set_ylabel(first_axis)
        fig.colorbar(image, ax=row.tolist(), shrink=0.8)
    fig.suptitle(title)
    return fig
