import math

import numpy as np
import pytest
import torch

from physode.errors import InputError
from physode.trajectory_metrics import PDEBenchMetrics, nrmse_predicted_times, pdebench_metrics


def small_case():
    """Two samples, two times, one channel, 8 points; the second time differs by known errors."""
    x = np.arange(8)
    true = np.zeros((2, 2, 8))
    true[0, 0] = 1.0
    true[0, 1] = 2.0
    true[1, 0] = np.where(x % 2 == 0, 1.0, -1.0)
    true[1, 1] = 3.0
    pred = true.copy()
    pred[0, 1, 0] += 4.0  # sample 0: one point off by 4 (a boundary point)
    pred[1, 1] += 1.0  # sample 1: every point off by 1 (the mean shifts by 1)
    return pred, true


def test_pdebench_metrics_equal_a_hand_computation() -> None:
    pred, true = small_case()
    metrics = pdebench_metrics(pred, true, low=1, high=3)
    # Per sample at t1: RMSE sqrt(16/8) = sqrt(2) and 1; norms 2 and 3; at t0 all zero.
    # Every figure is a mean over the two times, so the t1 value is halved.
    assert metrics.rmse == pytest.approx((math.sqrt(2) + 1) / 2 / 2, abs=1e-15)
    assert metrics.nrmse == pytest.approx((math.sqrt(2) / 2 + 1 / 3) / 2 / 2, abs=1e-15)
    # Sum errors 4 and 8: sqrt((16 + 64) / 2) / 8.
    assert metrics.crmse == pytest.approx(math.sqrt(40) / 8 / 2, abs=1e-15)
    # Boundary points x0, x7: sample 0 sqrt(16 / 2), sample 1 sqrt(2 / 2).
    assert metrics.brmse == pytest.approx((math.sqrt(8) + 1) / 2 / 2, abs=1e-15)
    assert metrics.max_error == pytest.approx(4.0 / 2, abs=1e-15)
    # rfft of the errors: sample 0 is 4 at every mode, sample 1 is 8 at k = 0 only.
    # F_0 = sqrt((16 + 64) / 2) / 8, F_k = sqrt(16 / 2) / 8 for k = 1..4.
    f0, fk = math.sqrt(40) / 8, math.sqrt(8) / 8
    assert metrics.frmse_low == pytest.approx(f0 / 2, abs=1e-15)
    assert metrics.frmse_mid == pytest.approx(fk / 2, abs=1e-15)
    assert metrics.frmse_high == pytest.approx(fk / 2, abs=1e-15)


def test_batches_average_batch_values_like_pdebench() -> None:
    pred, true = small_case()
    whole = pdebench_metrics(pred, true, low=1, high=3)
    batched = pdebench_metrics(pred, true, low=1, high=3, batch_size=1)
    one = [pdebench_metrics(pred[i : i + 1], true[i : i + 1], low=1, high=3) for i in range(2)]
    for name in PDEBenchMetrics.__dataclass_fields__:
        assert getattr(batched, name) == pytest.approx(sum(getattr(m, name) for m in one) / 2, abs=1e-15)
    assert batched.rmse == pytest.approx(whole.rmse, abs=1e-15)  # a mean over samples
    assert batched.max_error == pytest.approx((4.0 + 1.0) / 2 / 2)  # per-batch maxima, averaged
    assert whole.max_error == pytest.approx(4.0 / 2)


def test_channels_tensors_and_predicted_times() -> None:
    pred, true = small_case()
    two = np.stack([true, 2 * true], axis=2)
    metrics = pdebench_metrics(torch.from_numpy(two + 0.5), torch.from_numpy(two), low=1, high=3)
    assert metrics.rmse == pytest.approx(0.5, abs=1e-15)
    assert metrics.max_error == pytest.approx(0.5, abs=1e-15)
    # Predicted times only: t1 of each sample, no dilution by the exact t0.
    assert nrmse_predicted_times(pred, true) == pytest.approx((math.sqrt(2) / 2 + 1 / 3) / 2, abs=1e-15)
    assert pdebench_metrics(pred, true, low=1, high=3).nrmse == pytest.approx(
        nrmse_predicted_times(pred, true) / 2, abs=1e-15
    )


@pytest.mark.parametrize(
    ("pred_shape", "true_shape", "kwargs", "message"),
    [
        ((2, 3), (2, 3), {}, "must have shape"),
        ((2, 3, 8), (2, 3, 9), {}, "must match"),
        ((2, 3, 8), (2, 3, 8), {}, "fRMSE bands"),
        ((2, 3, 64), (2, 3, 64), {"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_input_is_one_line(pred_shape, true_shape, kwargs, message) -> None:
    with pytest.raises(InputError, match=message) as info:
        pdebench_metrics(np.ones(pred_shape), np.ones(true_shape), **kwargs)
    assert "\n" not in str(info.value)
