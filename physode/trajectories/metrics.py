"""The errors of predicted trajectories: the one nRMSE and what is averaged from it, and PDEBench's
metrics. ``physode fit``, ``physode evaluate`` and every benchmark score with these functions.

:func:`nrmse` is ``||p - u||_2 / ||u||_2`` over ``x`` per sample, time and channel, in the
prediction's dtype (``p`` the prediction, ``u`` the target). :class:`ErrorSums` adds it up over
samples, batch by batch (and over ranks, :meth:`ErrorSums.combined`), and
:meth:`ErrorSums.errors` turns the sums into :class:`RolloutErrors`: nRMSE averaged over the
samples, channels and the predicted times ``t[1:]`` (``t[0]`` is the given frame), at the final time,
per time and per channel, and the RMSE over everything predicted. :func:`rollout_errors` does all
of it for one batch.

:func:`pdebench_metrics` computes the errors of PDEBench's ``metric_func``
(``pdebench/models/metrics.py``) for 1-D fields, with the same reductions, for arrays
``(samples, times, x)`` or ``(samples, times, channels, x)``. Per sample ``b``, channel ``c`` and
time ``t`` (``N`` grid points, means over ``x`` unless said otherwise):

=============  =================================================================================
``rmse``       ``sqrt(mean_x e^2)``, averaged over samples, then over channels and times
``nrmse``      ``sqrt(mean_x e^2) / sqrt(mean_x u^2)``, averaged the same way
``crmse``      ``sqrt(mean_b (sum_x p - sum_x u)^2) / N``: the error of the conserved mean,
               RMS over samples, then averaged over channels and times
``brmse``      ``sqrt((e_0^2 + e_{N-1}^2) / 2)`` at the two boundary points, averaged like ``rmse``
``max_error``  ``max_{b,x} |e|``, then averaged over channels and times
``frmse_*``    ``F_k = sqrt(mean_b |rfft(p)_k - rfft(u)_k|^2) / N * L``, averaged over the modes
               ``k < low`` (``frmse_low``), ``low <= k < high`` (``frmse_mid``), ``k >= high``
               (``frmse_high``; ``low, high = 4, 12`` as PDEBench's ``iLow, iHigh``), then over
               channels and times
=============  =================================================================================

with ``e = p - u``. PDEBench's ``nrmse`` is its own reduction of the ratio :func:`nrmse` takes
(RMSE / RMS, in numpy as PDEBench writes it), one figure among its eight. Every time index of the arrays is averaged,
including a given initial frame (PDEBench scores the whole rolled-out tensor, its first
``initial_step`` frames copied from the target): pass the full trajectory for PDEBench's figure.
PDEBench's evaluation loop calls ``metric_func`` on each validation batch and averages the
batch values; ``batch_size`` reproduces that (the sample-wise reductions ``crmse``, ``max_error``
and ``frmse`` depend on the batching), ``None`` treats all samples as one batch. Values are
computed in float64 (PDEBench computes in its data's float32; the difference is rounding).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import Tensor

from physode.errors import InputError



def nrmse(pred: Tensor, true: Tensor) -> Tensor:
    """PDEBench's normalised RMSE over the last (space) axis: ``||pred - true||_2 / ||true||_2``.

    RMS and L2 norms differ by the same ``sqrt(Nx)``, so this is RMSE / RMS(true). Shapes
    ``(..., Nx) -> (...)``; a target that is exactly zero gives ``inf`` (or ``nan`` if the
    prediction is zero too): the relative error is undefined there.
    """
    return torch.linalg.vector_norm(pred - true, dim=-1) / torch.linalg.vector_norm(true, dim=-1)


@dataclass(frozen=True)
class RolloutErrors:
    """Errors of trajectories predicted from their first frame ``t[0]`` (see the module docstring)."""

    nrmse_predicted: float
    """nRMSE averaged over samples, channels and the predicted times ``t[1:]``."""
    final_nrmse: float
    rmse_predicted: float
    """Root mean square error over every predicted value."""
    nrmse_per_time: list[float]
    """The sample and channel mean at each time, ``t[0]`` included (0: it is given)."""
    nrmse_per_channel: list[float]
    """Each channel's nRMSE over the samples and predicted times."""


@dataclass
class ErrorSums:
    """Sums over samples of a rollout's errors, added batch by batch before :meth:`errors` averages."""

    nrmse_sum: Tensor
    """``(times, channels)`` float64: :func:`nrmse` summed over samples."""
    squared_error: Tensor
    """``()`` float64: the squared error summed over the predicted times ``t[1:]``."""
    n_x: int

    @classmethod
    def zeros(cls, n_times: int, n_channels: int, n_x: int, device: torch.device | str = "cpu") -> ErrorSums:
        return cls(torch.zeros(n_times, n_channels, dtype=torch.float64, device=device),
                   torch.zeros((), dtype=torch.float64, device=device), n_x)

    def add(self, pred: Tensor, true: Tensor) -> None:
        """Add a batch ``(n, times, x)`` or ``(n, times, channels, x)``; ``true`` is compared in
        ``pred``'s dtype, the one the model computed in."""
        true = true.to(pred.dtype)
        self.nrmse_sum += nrmse(pred, true).double().reshape(pred.shape[0], pred.shape[1], -1).sum(0)
        self.squared_error += (pred - true)[:, 1:].double().square().sum()

    def combined(self, reduce: Callable[[Tensor], Tensor]) -> ErrorSums:
        """The sums after ``reduce`` (e.g. a sum over ranks), applied to all of them in one call, on the CPU."""
        totals = reduce(torch.cat([self.nrmse_sum.reshape(-1), self.squared_error[None]])).cpu()
        return ErrorSums(totals[:-1].reshape(self.nrmse_sum.shape), totals[-1], self.n_x)

    def errors(self, n_samples: int) -> RolloutErrors:
        """The means over the ``n_samples`` added."""
        per_time_channel = self.nrmse_sum / n_samples
        # t[0] is the given input, reproduced exactly: its error is 0, also where a channel is all zero
        # there (the wave's u_t at rest), which would make the relative error 0 / 0.
        per_time_channel[0] = 0.0
        per_time = per_time_channel.mean(-1)
        n_times, n_channels = self.nrmse_sum.shape
        n_predicted = n_samples * (n_times - 1) * n_channels * self.n_x
        return RolloutErrors(
            nrmse_predicted=per_time[1:].mean().item(),
            final_nrmse=per_time[-1].item(),
            rmse_predicted=math.sqrt(self.squared_error.item() / n_predicted),
            nrmse_per_time=per_time.tolist(),
            nrmse_per_channel=per_time_channel[1:].mean(0).tolist(),
        )


def rollout_errors(pred: Tensor | np.ndarray, true: Tensor | np.ndarray) -> RolloutErrors:
    """:class:`RolloutErrors` of ``pred`` against ``true``, ``(samples, times, x)`` or
    ``(samples, times, channels, x)``, ``t[0]`` the given frame; as ``physode fit`` reports them."""
    pred, true = torch.as_tensor(pred), torch.as_tensor(true)
    if pred.ndim not in (3, 4) or pred.shape != true.shape:
        raise InputError(f"pred {tuple(pred.shape)} and true {tuple(true.shape)} must have the same shape, "
                         "(samples, times, x) or (samples, times, channels, x)")
    if pred.shape[0] == 0 or pred.shape[1] < 2:
        raise InputError(f"need a sample, the given time and a predicted time, got shape {tuple(pred.shape)}")
    sums = ErrorSums.zeros(pred.shape[1], pred.shape[2] if pred.ndim == 4 else 1, pred.shape[-1], pred.device)
    sums.add(pred, true)
    return sums.errors(pred.shape[0])


# ---- PDEBench's metrics -------------------------------------------------------------------------

PDEBENCH_LOW, PDEBENCH_HIGH = 4, 12  # PDEBench's iLow, iHigh: mode bands of fRMSE


@dataclass(frozen=True)
class PDEBenchMetrics:
    """PDEBench's errors of a set of predicted trajectories (see the module docstring)."""

    rmse: float
    nrmse: float
    crmse: float
    brmse: float
    max_error: float
    frmse_low: float
    frmse_mid: float
    frmse_high: float


def _as_channels(name: str, values: ArrayLike) -> np.ndarray:
    """``(samples, times, channels, x)`` float64 from a 3-D or 4-D array."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 3:
        return array[:, :, None]
    if array.ndim != 4:
        raise InputError(
            f"{name} must have shape (samples, times, x) or (samples, times, channels, x), got {array.shape}"
        )
    return array


def _checked_pair(pred: ArrayLike, true: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    pred, true = _as_channels("pred", pred), _as_channels("true", true)
    if pred.shape != true.shape:
        raise InputError(f"pred has shape {pred.shape} but true has {true.shape}; they must match")
    if pred.shape[0] == 0 or pred.shape[-1] < 2:
        raise InputError(f"need at least one sample and two grid points, got shape {pred.shape}")
    return pred, true


def _batch_metrics(pred: np.ndarray, true: np.ndarray, length: float, low: int, high: int) -> np.ndarray:
    """The eight metrics of one batch ``(b, t, c, x)``, each averaged over channels and times."""
    n_x = true.shape[-1]
    error = pred - true
    rmse = np.sqrt(np.mean(error**2, axis=-1))  # (b, t, c)
    norm = np.sqrt(np.mean(true**2, axis=-1))
    conserved = np.sqrt(np.mean((pred.sum(-1) - true.sum(-1)) ** 2, axis=0)) / n_x  # (t, c)
    boundary = np.sqrt((error[..., 0] ** 2 + error[..., -1] ** 2) / 2)  # (b, t, c)
    worst = np.abs(error).max(axis=(0, -1))  # (t, c)
    spectral = np.sqrt(np.mean(np.abs(np.fft.rfft(error, axis=-1)) ** 2, axis=0)) / n_x * length
    bands = [spectral[..., :low], spectral[..., low:high], spectral[..., high:]]
    return np.array([
        rmse.mean(), (rmse / norm).mean(), conserved.mean(), boundary.mean(), worst.mean(),
        *(band.mean(axis=-1).mean() for band in bands),
    ])


def pdebench_metrics(
    pred: ArrayLike,
    true: ArrayLike,
    *,
    batch_size: int | None = None,
    length: float = 1.0,
    low: int = PDEBENCH_LOW,
    high: int = PDEBENCH_HIGH,
) -> PDEBenchMetrics:
    """PDEBench's ``metric_func`` errors of ``pred`` against ``true`` (arrays or tensors).

    Args:
        pred, true: ``(samples, times, x)`` or ``(samples, times, channels, x)``, every time
            index scored (include the given initial frame for PDEBench's figures).
        batch_size: PDEBench's validation batch size (its values are batch means averaged over
            batches); ``None``: one batch of all samples.
        length: domain length ``L`` (PDEBench's ``Lx``; its 1-D scripts pass 1), scales fRMSE.
        low, high: the fRMSE mode bands (PDEBench's ``iLow``, ``iHigh``).
    """
    pred, true = _checked_pair(pred, true)
    n_modes = true.shape[-1] // 2 + 1
    if not 0 < low < high < n_modes:
        raise InputError(
            f"fRMSE bands need 0 < low < high < {n_modes} (the grid's real-FFT modes), got "
            f"low={low}, high={high}; pass smaller bands for a grid of {true.shape[-1]} points"
        )
    step = pred.shape[0] if batch_size is None else batch_size
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise InputError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    batches = [
        _batch_metrics(pred[i : i + step], true[i : i + step], length, low, high)
        for i in range(0, pred.shape[0], step)
    ]
    return PDEBenchMetrics(*(float(v) for v in np.mean(batches, axis=0)))
