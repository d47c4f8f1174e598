"""`physode evaluate pde1d` reports PDEBench's metrics, checked against a hand computation, and a fit
reports the nRMSE of :mod:`physode.trajectories.metrics` exactly."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from physode.problems.fitting.evaluate import evaluate_model, load_run
from physode.problems.fitting.fit import fit
from physode.problems.fitting.fit_config import FitConfig
from physode.problems.fitting.models import ModelConfig, build_model
from physode.trajectories import TrajectoryFile, rollout_errors, write_trajectories

NX, LENGTH = 32, 2.0


def _file(path: Path, n_x: int = NX) -> Path:
    x = np.arange(n_x) * LENGTH / n_x
    t = np.array([0.0, 0.5, 1.0])
    b = np.arange(5)[:, None, None]
    u = (1 + b) * np.sin(2 * np.pi * (x - 0.3 * t[:, None]) / LENGTH) + 0.4 * t[:, None] * np.cos(
        6 * np.pi * x / LENGTH) + 0.2 * b + 0.05 * t[:, None] * np.sin(26 * np.pi * x / LENGTH)
    mask = np.array([True, False, True, False, True])
    return write_trajectories(path, u, t, x, equation="test", test_mask=mask)


def _hand_pdebench(pred: np.ndarray, true: np.ndarray, batch: int) -> dict[str, float]:
    """PDEBench's metric_func for 1-D fields written out loop by loop, averaged over batches."""
    per_batch = []
    n_x = true.shape[-1]
    for start in range(0, len(true), batch):
        p, u = pred[start : start + batch], true[start : start + batch]
        nb, nt = p.shape[:2]
        rmse = nrmse = brmse = crmse = worst = 0.0
        bands = [0.0, 0.0, 0.0]
        for t in range(nt):
            conserved = 0.0
            spectrum = np.zeros(n_x // 2 + 1)
            for s in range(nb):
                e = p[s, t] - u[s, t]
                error_rms = math.sqrt(sum(v * v for v in e) / n_x)
                rmse += error_rms / (nb * nt)
                nrmse += error_rms / math.sqrt(sum(v * v for v in u[s, t]) / n_x) / (nb * nt)
                brmse += math.sqrt((e[0] ** 2 + e[-1] ** 2) / 2) / (nb * nt)
                conserved += (p[s, t].sum() - u[s, t].sum()) ** 2 / nb
                spectrum += np.abs(np.fft.fft(e)[: n_x // 2 + 1]) ** 2 / nb
            crmse += math.sqrt(conserved) / n_x / nt
            worst += max(abs(p[s, t, i] - u[s, t, i]) for s in range(nb) for i in range(n_x)) / nt
            modes = np.sqrt(spectrum) / n_x  # times Lx = 1, as PDEBench's scripts pass whatever the domain
            for band, (lo, hi) in enumerate([(0, 4), (4, 12), (12, n_x // 2 + 1)]):
                bands[band] += modes[lo:hi].mean() / nt
        per_batch.append([rmse, nrmse, crmse, brmse, worst, *bands])
    names = ["rmse", "nrmse", "crmse", "brmse", "max_error", "frmse_low", "frmse_mid", "frmse_high"]
    return dict(zip(names, np.mean(per_batch, axis=0)))


def test_evaluate_reports_pdebench_metrics_equal_to_a_hand_computation(tmp_path: Path) -> None:
    path = _file(tmp_path / "u.h5")
    with TrajectoryFile(path) as data:
        model = build_model(ModelConfig(variant="anode"), data.x)
        with torch.no_grad():
            model.layer.weight.zero_()  # du/dt = 0: the prediction is u(t0) at every time
        metrics = evaluate_model(model, data, data.test, torch.device("cpu"), batch_size=2)
        true = data.batch(data.test).numpy().astype(np.float64)
    pred = np.repeat(true[:, :1], true.shape[1], axis=1)
    expected = _hand_pdebench(pred, true, batch=2)  # batches of 2 and 1 samples, as PDEBench averages them
    assert metrics["pdebench"] == pytest.approx(expected, rel=1e-10)
    assert all(v > 0 for v in expected.values())
    # The given frame counts in PDEBench's nRMSE (error zero there), not in nrmse_predicted.
    per_sample_time = np.linalg.norm(pred - true, axis=-1) / np.linalg.norm(true, axis=-1)
    assert metrics["nrmse_predicted"] == pytest.approx(per_sample_time[:, 1:].mean(), rel=1e-6)


def test_a_grid_too_small_for_the_fourier_bands_reports_no_frmse(tmp_path: Path) -> None:
    path = _file(tmp_path / "small.h5", n_x=16)
    with TrajectoryFile(path) as data:
        model = build_model(ModelConfig(variant="anode"), data.x)
        metrics = evaluate_model(model, data, data.test, torch.device("cpu"))["pdebench"]
    assert metrics["frmse_low"] is metrics["frmse_mid"] is metrics["frmse_high"] is None
    assert metrics["nrmse"] > 0 and metrics["crmse"] > 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_reports_exactly_what_the_metrics_module_computes(tmp_path: Path, dtype: str) -> None:
    """The fit's metrics.json and anyone scoring the model's prediction with rollout_errors agree to the bit."""
    path = _file(tmp_path / "u.h5")
    config = FitConfig(model=ModelConfig(variant="anodev2"), epochs=2, batch_size=2, lr=0.05, polish=0,
                       progress=False, dtype=dtype)
    summary = fit(path, tmp_path / "run", config, device="cpu")
    model = load_run(tmp_path / "run").model
    with TrajectoryFile(path) as data, torch.no_grad():
        true = data.batch(data.test)
        pred = model(true[:, 0].to(next(model.parameters()).dtype), data.t.tolist())
    errors = rollout_errors(pred, true)
    assert errors.nrmse_predicted == summary["test_nrmse"]
    assert errors.final_nrmse == summary["test_final_nrmse"]
    assert errors.nrmse_per_time == summary["nrmse_per_time"]
    assert 0 < errors.nrmse_predicted < 10
