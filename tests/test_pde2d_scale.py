"""Scale of 2-D fits: a 2-D file larger than the fit's sample cache trains in bounded memory with the
steps of a fully cached fit, and 2 gloo processes under torchrun take the steps of one process."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from physode.cli import main
from physode.problems.fitting import samples
from physode.trajectories import TrajectoryFile
from physode.training import CHECKPOINT, METRICS, load_checkpoint, read_metrics

from killed_runs import without_timing
from test_fitting_distributed import FIT, TORCHRUN, _fit

# 15 samples of 5 times on 12 x 12 points, 12 of them training: 4 held out for validation, 8 fit.
SAMPLES, NX, NT = 15, 12, 5
SMALL = ["--epochs", "2", "--batch-size", "4", "--validation-fraction", "0.3", "--polish", "4", "--seed", "0",
         "--no-progress", "--device", "cpu"]


@pytest.fixture(scope="module")
def transport2d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("transport2d") / "transport2d.h5"
    assert main(["simulate", "transport2d", "--samples", str(SAMPLES), "--nx", str(NX), "--nt", str(NT),
                 "--out", str(path), "--no-progress"]) == 0
    return path


MODELS = [["--model", "linear", "--variant", "anodev2"],
          ["--model", "fourier", "--hidden-channels", "4", "--blocks", "1", "--modes", "3"]]


@pytest.mark.parametrize("model", MODELS, ids=["linear", "fourier"])
def test_a_2d_file_larger_than_the_sample_cache_trains_as_a_cached_one(
        transport2d: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: list[str]) -> None:
    with TrajectoryFile(transport2d) as data:
        sample_bytes = math.prod(data.sample_shape) * 4
        n_train = len(data.train)
    cache_mb = 3.5 * sample_bytes / 2**20  # the splits share room for 3 samples: far below the 13 they read
    largest: list[tuple[int, int]] = []  # (cache length, capacity) after every read
    read = samples.TrainSplit.read

    def watched(split: samples.TrainSplit, positions: np.ndarray) -> torch.Tensor:
        rows = read(split, positions)
        largest.append((len(split.cache), split.capacity))
        return rows

    runs = {"cached": 256.0, "streamed": cache_mb}
    for name, mb in runs.items():
        largest.clear()
        monkeypatch.setattr(samples.TrainSplit, "read", watched)
        assert main(["fit", str(transport2d), "--out", str(tmp_path / name), *model, *SMALL,
                     "--cache-mb", str(mb)]) == 0
        monkeypatch.undo()
        assert largest and all(length <= capacity for length, capacity in largest)
        if name == "streamed":  # the cache held at most its capacity, which is a fraction of the split
            assert max(capacity for _, capacity in largest) <= 2 and n_train * sample_bytes > 3 * mb * 2**20
            assert max(length for length, _ in largest) == 2  # it was used, and full
        else:
            assert max(length for length, _ in largest) == n_train - 4  # the whole fit split stayed in memory
    records = [without_timing(read_metrics(tmp_path / name / METRICS)) for name in runs]
    assert records[0] == records[1] and [r.get("phase") for r in records[0]][-1] == "polish"
    weights = [load_checkpoint(tmp_path / name / CHECKPOINT)["model"] for name in runs]
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][key], weights[1][key]) for key in weights[0])


@pytest.mark.parametrize("model", MODELS, ids=["linear", "fourier"])
def test_two_gloo_processes_fit_a_2d_file_as_one(transport2d: Path, tmp_path: Path, model: list[str]) -> None:
    """The 1-D test's options: float64, and batches of 7 of the 8 fit samples, so that the last batch
    (1 sample) leaves rank 1 without any."""
    with TrajectoryFile(transport2d) as data:
        assert len(data.train) == 12  # 0.2 of them (at least 4) held out: 8 fit
    main(["fit", str(transport2d), "--out", str(tmp_path / "one"), *FIT, *model])
    _fit([*TORCHRUN, "-m", "physode.cli", "fit", str(transport2d),
          "--out", str(tmp_path / "two"), *FIT, *model], tmp_path)
    records = [read_metrics(tmp_path / run / METRICS) for run in ("one", "two")]
    assert [(r["epoch"], r.get("phase")) for r in records[1]] == [(1, None), (2, None), (2, "polish")]
    for single, double in zip(*records, strict=True):
        for key in ("train_loss", "validation_nrmse", "test_nrmse", "test_final_nrmse"):
            assert double[key] == pytest.approx(single[key], rel=1e-9, abs=1e-12), key
    states = [load_checkpoint(tmp_path / run / CHECKPOINT) for run in ("one", "two")]
    assert states[0]["epoch"] == states[1]["epoch"] == 2
    for name, value in states[0]["model"].items():  # the all-reduce sums a batch's gradient in another order
        torch.testing.assert_close(states[1]["model"][name], value, rtol=1e-7, atol=1e-10)
    summaries = [json.loads((tmp_path / run / "metrics.json").read_text()) for run in ("one", "two")]
    assert summaries[1]["test_nrmse"] == pytest.approx(summaries[0]["test_nrmse"], rel=1e-9)
