"""The figure of `physode plot` for runs on a 2-D field: truth, each run's prediction and its error as
images at a few stored times (one test sample, channel 0), on shared colour scales per row kind."""

from __future__ import annotations

from collections.abc import Sequence
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
    from matplotlib import figure  # only when drawing: importing physode stays light

    times = file.t.tolist()
    true = file.batch([file.test[sample]])[0].numpy()  # (t, C, *space)
    with torch.no_grad():
        preds = [run.model(torch.from_numpy(true[None, 0]).to(next(run.model.parameters()).dtype), times)[0].numpy()
                 for run in runs]
    true, preds = true[:, 0], [pred[:, 0] for pred in preds]  # the first field
    shown = sorted(set(np.linspace(0, len(times) - 1, min(panels, len(times))).round().astype(int)))
    (first_axis, second_axis), channel = list(file.space), file.channels[0]
    extent = [*file.space[second_axis][[0, -1]], *file.space[first_axis][[0, -1]]]
    scale = float(np.abs(true).max()) or 1.0
    error_scale = max((float(np.abs(pred - true).max()) for pred in preds), default=0.0) or scale
    rows = [("ground truth", true, scale, "viridis")]
    for run, name, pred in zip(runs, names, preds):
        label = f"{name}: {run.label}"
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
    fig.suptitle(f"{file.path.name}: test sample {sample}, {channel}; prediction from the given {channel}(t0)")
    return fig
