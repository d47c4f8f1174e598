"""Errors of predicted trajectories: PDEBench's metrics, and nRMSE over the predicted times only.

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

with ``e = p - u`` (prediction minus target). Every time index of the arrays is averaged,
including a given initial frame (PDEBench scores the whole rolled-out tensor, its first
``initial_step`` frames copied from the target): pass the full trajectory for PDEBench's figure.
PDEBench's evaluation loop calls ``metric_func`` on each validation batch and averages the
batch values; ``batch_size`` reproduces that (the sample-wise reductions ``crmse``, ``max_error``
and ``frmse`` depend on the batching), ``None`` treats all samples as one batch. Values are
computed in float64 (PDEBench computes in its data's float32; the difference is rounding).

:func:`nrmse_predicted_times` is the other convention: the same per-sample, per-time nRMSE
averaged over samples and the predicted times ``t[1:]`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike

from physode.errors import InputError

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


def nrmse_predicted_times(pred: ArrayLike, true: ArrayLike) -> float:
    """nRMSE ``||p - u||_2 / ||u||_2`` over ``x`` per sample, channel and time, averaged over the
    samples, channels and the predicted times ``t[1:]`` (the given frame ``t[0]`` left out)."""
    pred, true = _checked_pair(pred, true)
    if pred.shape[1] < 2:
        raise InputError(f"need the given time and at least one predicted time, got {pred.shape[1]} times")
    error = np.linalg.norm(pred[:, 1:] - true[:, 1:], axis=-1) / np.linalg.norm(true[:, 1:], axis=-1)
    return float(error.mean())
