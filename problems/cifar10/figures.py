"""Figures: a conv kernel evolving in time inside an ANODEV2 block (paper Figure 6), training curves.

Both draw on a bare :class:`matplotlib.figure.Figure` (no pyplot state, no display needed) and
write PNGs atomically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torch import nn

from physode import CoupledODEBlock
from physode.errors import InputError
from physode.io import atomic_path
from physode.problems.cifar10.config import MAX_KERNELS


def evolving_blocks(model: nn.Module) -> list[CoupledODEBlock]:
    """The model's ODE blocks whose weights evolve (ANODEV2 positions), in network order."""
    return [m for m in model.modules() if isinstance(m, CoupledODEBlock) and m.evolved]


def kernel_trajectory(model: nn.Module, times: Sequence[float], position: int = 0,
                      weight: str | None = None) -> tuple[str, torch.Tensor]:
    """(name, theta at ``times``) of one evolved weight: shape (len(times), *weight.shape).

    ``position`` indexes :func:`evolving_blocks`; ``weight`` names one of the block's evolved
    parameters (default: its first, e.g. the first conv kernel).
    """
    blocks = evolving_blocks(model)
    if not blocks:
        raise InputError("this model has no evolving weights (a baseline or static ODE variant); "
                         "plot an anodev2-c1 or anodev2-c2 model")
    if not 0 <= position < len(blocks):
        raise InputError(f"--position {position} is out of range: the model has {len(blocks)} evolving ODE block(s)")
    block = blocks[position]
    name = block.evolved[0] if weight is None else weight
    if name not in block.evolved:
        raise InputError(f"--weight {name!r} does not evolve in this block; choose one of {', '.join(block.evolved)}")
    with torch.no_grad():
        return name, block.weight_trajectory(list(times))[name].cpu()


def most_changing_kernels(trajectory: torch.Tensor, count: int) -> list[tuple[int, int]]:
    """The ``count`` (out, in) channel pairs whose kernel moves most between the first and last time."""
    change = (trajectory[-1] - trajectory[0]).flatten(2).norm(dim=2)  # (out, in)
    order = change.flatten().argsort(descending=True)[:count]
    return [(int(i) // change.shape[1], int(i) % change.shape[1]) for i in order]


def plot_kernel_evolution(trajectory: torch.Tensor, times: Sequence[float], out: str | os.PathLike[str],
                          kernels: Sequence[tuple[int, int]], title: str = "") -> None:
    """PNG grid, columns = times: per (out, in) kernel a row of theta(t) and a row of theta(t) - theta(0).

    Each row has its own symmetric colour scale, so a small evolution stays visible.
    """
    if trajectory.ndim != 5:
        raise InputError(f"expected a conv2d kernel trajectory (times, out, in, kh, kw), got shape {tuple(trajectory.shape)}")
    if len(kernels) > MAX_KERNELS:
        raise InputError(f"{len(kernels)} kernels would take {2 * len(kernels)} rows; a figure shows at most "
                         f"{MAX_KERNELS} kernels, lower --kernels")
    rows = 2 * len(kernels)
    fig = Figure(figsize=(1.3 * len(times) + 1.2, 1.3 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, len(times), squeeze=False)
    for k, (o, i) in enumerate(kernels):
        path = trajectory[:, o, i].float()
        for r, (values, label) in enumerate([(path, f"out {o}, in {i}\ntheta(t)"),
                                             (path - path[0], "theta(t) - theta(0)")]):
            row = 2 * k + r
            scale = float(values.abs().max()) or 1.0
            for c, t in enumerate(times):
                ax = axes[row, c]
                image = ax.imshow(values[c].numpy(), cmap="RdBu_r", vmin=-scale, vmax=scale)
                ax.set_xticks([])
                ax.set_yticks([])
                if row == 0:
                    ax.set_title(f"t = {t:.2f}", fontsize=9)
            axes[row, 0].set_ylabel(label, fontsize=8)
            fig.colorbar(image, ax=axes[row, :].tolist(), shrink=0.8, pad=0.01)
    if title:
        fig.suptitle(title, fontsize=10)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=120)


def plot_training_curves(runs: Mapping[str, Sequence[Mapping[str, Any]]], out: str | os.PathLike[str]) -> None:
    """PNG of loss and accuracy per epoch (train dashed, test solid), one colour per run."""
    if not runs or not any(runs.values()):
        raise InputError("no metrics records to plot; pass metrics.jsonl files of runs with at least one epoch")
    fig = Figure(figsize=(12, 4), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    for index, (label, records) in enumerate(runs.items()):
        epochs = [r["epoch"] for r in records]
        color = f"C{index % 10}"
        for split, style in (("train", "--"), ("test", "-")):
            loss_ax.plot(epochs, [r[f"{split}_loss"] for r in records], style, marker=".", color=color,
                         label=f"{label} {split}")
            acc_ax.plot(epochs, [100 * r[f"{split}_acc"] for r in records], style, marker=".", color=color,
                        label=f"{label} {split}")
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy (%)")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.legend(*acc_ax.get_legend_handles_labels(), fontsize=7, loc="outside right upper")
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
