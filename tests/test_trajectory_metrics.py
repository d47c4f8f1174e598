import math

import numpy as np
import pytest
import torch

from physode.errors import InputError
from physode.trajectories import ErrorSums, PDEBenchMetrics, nrmse, pdebench_metrics, rollout_errors


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
    predicted = rollout_errors(pred, true).nrmse_predicted
    assert predicted == pytest.approx((math.sqrt(2) / 2 + 1 / 3) / 2, abs=1e-15)
    assert pdebench_metrics(pred, true, low=1, high=3).nrmse == pytest.approx(predicted / 2, abs=1e-15)


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


def test_rollout_errors_equal_a_hand_computation() -> None:
    pred, true = small_case()
    errors = rollout_errors(pred, true)
    # Per sample at t1: nRMSE sqrt(2) / 2 and 1 / 3; t0 is the given frame, 0.
    assert errors.nrmse_per_time == pytest.approx([0.0, (math.sqrt(2) / 2 + 1 / 3) / 2], abs=1e-15)
    assert errors.final_nrmse == errors.nrmse_per_time[-1] == errors.nrmse_predicted
    assert errors.nrmse_per_channel == [errors.nrmse_predicted]
    # Squared errors at t1: 16 (sample 0) and 8 (sample 1) over 2 x 8 values.
    assert errors.rmse_predicted == pytest.approx(math.sqrt(24 / 16), abs=1e-15)


def test_rollout_errors_average_channels_each_against_its_own_norm() -> None:
    pred, true = small_case()
    two = np.stack([true, 10 * true], axis=2)
    errors = rollout_errors(np.stack([pred, 10 * true + 1], axis=2), two)
    # The second channel is off by 1 everywhere at t1 against norms 10 x (2, 3): nRMSE 1 / 20 and 1 / 30.
    second = nrmse(torch.from_numpy(10 * true[:, 1] + 1), torch.from_numpy(10 * true[:, 1]))
    assert second.tolist() == pytest.approx([1 / 20, 1 / 30], abs=1e-15)
    assert errors.nrmse_per_channel[0] == pytest.approx(rollout_errors(pred, true).nrmse_predicted, abs=1e-15)
    assert errors.nrmse_per_channel[1] == pytest.approx(second.mean().item(), abs=1e-15)
    assert errors.nrmse_predicted == pytest.approx(sum(errors.nrmse_per_channel) / 2, abs=1e-15)


def test_error_sums_over_batches_and_ranks_equal_one_batch() -> None:
    generator = torch.Generator().manual_seed(0)
    true = torch.randn(5, 4, 2, 16, generator=generator, dtype=torch.float64)
    pred = true + 0.1 * torch.randn(5, 4, 2, 16, generator=generator, dtype=torch.float64)
    sums = ErrorSums.zeros(4, 2, 16)
    for start in range(0, 5, 2):
        sums.add(pred[start : start + 2], true[start : start + 2])
    batched = sums.combined(lambda totals: totals).errors(5)
    whole = rollout_errors(pred, true)
    for name in ("nrmse_predicted", "final_nrmse", "rmse_predicted"):
        assert getattr(batched, name) == pytest.approx(getattr(whole, name), rel=1e-14)
    assert batched.nrmse_per_time == pytest.approx(whole.nrmse_per_time, rel=1e-14)


def test_rollout_errors_compare_in_the_prediction_dtype() -> None:
    """A float32 target is scored in a float64 prediction's dtype, as the model saw it."""
    pred, true = small_case()
    as_float32 = torch.from_numpy(true).float()
    assert rollout_errors(torch.from_numpy(pred), as_float32) == rollout_errors(pred, as_float32.double())


@pytest.mark.parametrize(
    ("pred_shape", "true_shape", "message"),
    [((2, 3), (2, 3), "same shape"), ((2, 3, 8), (2, 3, 9), "same shape"), ((2, 1, 8), (2, 1, 8), "predicted time"),
     ((0, 3, 8), (0, 3, 8), "need a sample")],
)
def test_rollout_errors_refuse_bad_shapes_in_one_line(pred_shape, true_shape, message) -> None:
    with pytest.raises(InputError, match=message) as info:
        rollout_errors(np.ones(pred_shape), np.ones(true_shape))
    assert "\n" not in str(info.value)
