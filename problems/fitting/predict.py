"""A fitted run as a Python object (:func:`load`, which is ``physode.load``) and its predictions as
a trajectory file (:func:`predict_file`, which is ``physode predict``).

A model's clock is the one it was fit on: it starts at ``t0``, the first stored time of the file
the run was fit to. ANODEV2's weights evolve from their fitted values at ``t0``, and the Neural
ODE and Galerkin variants read ``t`` itself, so an initial state is always a state at ``t0``; the
output times may be any increasing times from ``t0`` on, beyond the fitted span included.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from physode.errors import InputError, RunError
from physode.grids import as_times, grid_with_step_size
from physode.io import check_output
from physode.problems.fitting.evaluate import LoadedRun, check_grid, load_run, stored_grid
from physode.training import RunLock, resolve_device
from physode.trajectories import TrajectoryFile, trajectory_writer

SAMPLE_SETS = ("all", "train", "test")


class FittedModel(nn.Module):
    """A fitted run's model: ``predict(u0, times)`` from states ``u0`` at the run's ``t0``.

    ``u0`` is in the layout of the file the run was fit to: ``(batch, x)`` for one field,
    ``(batch, C, x)`` for ``C``. ``times`` are increasing, the first at ``t0`` or later (default:
    the times the run was fit on); the result is ``(batch, len(times), x)`` (``(batch,
    len(times), C, x)``), and a first time of ``t0`` gives ``u0`` back at index 0.
    ``forward`` is the same map with gradients, for tensors.

    The solver steps as in the fit: ``steps_per_interval`` steps per interval, intervals no longer
    than the fitted ones (a longer gap between requested times is cut). At the fitted times the
    prediction is the run's own evaluation; at others it agrees with it to the solver's accuracy.
    """

    def __init__(self, run: LoadedRun, times: list[float]) -> None:
        super().__init__()
        self.model = run.model
        self.run = run
        self.times = times
        """The times the run was fit on."""
        self.channels: tuple[str, ...] = tuple(run.state["grid"].get("channels", ["u"]))

    @property
    def t0(self) -> float:
        """The time of the initial states: the first time the run was fit on."""
        return self.times[0]

    @property
    def checkpoint(self) -> Path:
        return self.run.checkpoint

    def forward(self, u0: Tensor, times: Sequence[float]) -> Tensor:
        """The states at ``times`` from ``u0`` at ``t0``, differentiable."""
        requested = [float(t) for t in times]
        if not requested:
            raise InputError("times is empty; give at least one output time")
        # A first time equal to t0 up to a float32 file's rounding is t0 itself (the output is u0).
        starts_at_t0 = math.isclose(requested[0], self.t0, rel_tol=1e-6, abs_tol=1e-12)
        if requested[0] < self.t0 and not starts_at_t0:
            raise InputError(f"times start at {requested[0]:g}, before t0 = {self.t0:g}, the time of the initial "
                             "states; give times from t0 on")
        later = requested[1:] if starts_at_t0 else requested
        wanted = as_times([self.t0, *later], name="times")
        # The solver's steps stay as long as in the fit at most: a wide gap between two requested
        # times is cut into intervals no longer than the fitted ones (each of steps_per_interval steps).
        grid, outputs = grid_with_step_size(wanted, max(b - a for a, b in zip(self.times, self.times[1:])))
        path = self.model(u0, grid)[:, outputs]
        return path if starts_at_t0 else path[:, 1:]

    @torch.no_grad()
    def predict(self, u0: Tensor | np.ndarray, times: Sequence[float] | np.ndarray | Tensor | None = None) -> Tensor:
        """The states at ``times`` (default: the fitted times) from ``u0`` (numpy or torch) at ``t0``."""
        weight = next(self.model.parameters())
        states = torch.as_tensor(u0).to(weight.device, weight.dtype)
        space = stored_grid(self.run.state["grid"]).shape
        # One 1-D field has no channel axis; a 2-D field always has one (the data's layout).
        expected = space if len(self.channels) == 1 and len(space) == 1 else (len(self.channels), *space)
        if states.ndim != len(expected) + 1 or tuple(states.shape[1:]) != expected:
            layout = "(batch, x)" if len(expected) == 1 else "(batch, C, x)" if len(expected) == 2 else "(batch, C, y, x)"
            raise InputError(f"u0 has shape {tuple(states.shape)}; this model takes {layout} = (batch, "
                             f"{', '.join(map(str, expected))})")
        times = self.times if times is None else times
        return self(states, times.tolist() if isinstance(times, (np.ndarray, Tensor)) else times)


def load(run: str | os.PathLike[str], device: torch.device | str = "cpu") -> FittedModel:
    """The fitted model of a ``physode fit`` run directory (or its checkpoint), in eval mode."""
    loaded = load_run(run, device)
    times = loaded.state["grid"].get("t")
    if times is None:  # runs from before the checkpoint recorded its times: the data file has them
        if not loaded.data_path.is_file():
            raise InputError(f"{loaded.checkpoint} does not record the times it was fit on and its data file "
                             f"{loaded.data_path} is gone; re-fit the run with this physode")
        with TrajectoryFile(loaded.data_path) as data:
            times = data.t.tolist()
    return FittedModel(loaded, [float(t) for t in times])


def select_samples(data: TrajectoryFile, spec: str) -> np.ndarray:
    """Sample indices of ``spec``: ``all``, ``train``, ``test``, or indices and ranges ``0,3,10:20``."""
    if spec in SAMPLE_SETS:
        return {"all": np.arange(data.n_samples), "train": data.train, "test": data.test}[spec]
    chosen = []
    try:
        for part in spec.split(","):
            start, colon, stop = part.partition(":")
            chosen.extend(range(int(start), int(stop)) if colon else [int(part)])
    except ValueError:
        raise InputError(f"--samples {spec!r}: give all, train, test, or sample indices and ranges such as "
                         "0,3,10:20") from None
    indices = np.array(chosen, dtype=np.int64)
    if indices.size == 0 or indices.min() < 0 or indices.max() >= data.n_samples:
        raise InputError(f"--samples {spec!r} selects no sample or one outside 0 .. {data.n_samples - 1} of "
                         f"{data.path}")
    return indices


def predict_file(run: str | os.PathLike[str], initial: str | os.PathLike[str], out: str | os.PathLike[str], *,
                 times: Sequence[float] | None = None, samples: str = "all", device: str = "auto",
                 batch_size: int = 256, overwrite: bool = False) -> Path:
    """Write the run's prediction from the first frame of ``samples`` of ``initial`` as a trajectory
    file ``out`` (physode layout, atomic; an existing ``out`` is replaced only with ``overwrite``).

    The first frame must be at the run's ``t0``. ``times`` default to the times the run was fit on;
    the written file keeps each sample's train/test flag. Writing into the run directory holds its
    :class:`~physode.training.RunLock`.
    """
    fitted = load(run, resolve_device(device))
    destination = check_output(out, overwrite=overwrite, inputs=[fitted.checkpoint, initial])
    run_dir = fitted.checkpoint.parent
    in_run_dir = destination.resolve().parent == run_dir.resolve()
    with (RunLock(run_dir, command="physode predict") if in_run_dir else contextlib.nullcontext(),
          TrajectoryFile(initial) as data):
        check_grid(fitted.run, data)
        if not math.isclose(data.t[0], fitted.t0, rel_tol=1e-6, abs_tol=1e-12):
            raise InputError(f"{data.path} starts at t = {data.t[0]:g} but the run was fit from t0 = {fitted.t0:g}: "
                             "its first frames are not states at t0; give a file that starts at t0")
        indices = select_samples(data, samples)
        output_times = fitted.times if times is None else [float(t) for t in times]
        with trajectory_writer(
            destination, len(indices), output_times,  # the grid as it was stored
            data.x.astype(data.x_dtype) if len(data.space) == 1
            else {axis: data.space[axis].astype(data.x_dtype) for axis in ("y", "x")},
            equation=str(data.attrs.get("equation", "unknown")),
            boundary_condition=str(data.attrs.get("boundary_condition", "periodic")),
            test_mask=np.isin(indices, data.test), channels=None if data.n_channels == 1 else data.channels,
            generator={"predicted_by": str(fitted.checkpoint.resolve()), "initial": str(data.path.resolve()),
                       "samples": indices.tolist()},
        ) as writer:
            for block in data.iter_batches(batch_size, indices):
                predicted = fitted.predict(block[:, 0], output_times).cpu().numpy()
                if list(data.space) == ["x", "y"]:  # PDEBench's axis order; physode's format stores (y, x)
                    predicted = predicted.swapaxes(-1, -2)
                if not np.isfinite(predicted).all():
                    raise RunError(f"the prediction from sample {indices[writer.written]} onwards is not finite "
                                   "(the model blows up within the times asked for); nothing was written; "
                                   "predict over a shorter span")
                writer.write(predicted)
    return destination
