"""`physode fit` under torchrun: 2 gloo processes take the same steps as one (a real 2-process launch).

In float64, so that the comparison sees the algorithm and not float32 rounding (summing the
gradient in two parts rounds differently; Adam's normalised steps carry that to ~1e-6 in float32).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from physode.cli import main
from physode.problems.pde import simulate_wave
from physode.training import CHECKPOINT, METRICS, load_checkpoint
from physode.trajectories import write

# 19 training samples, 4 of them held out for validation (each rank scores 2), 15 in global batches of 7:
# the last batch (1 sample) leaves rank 1 without any.
FIT = ["--variant", "anodev2", "--epochs", "2", "--batch-size", "7", "--validation-fraction", "0.2", "--eval-every", "1", "--no-progress",
       "--device", "cpu", "--lr", "0.05", "--checkpoint-every", "1", "--dtype", "float64", "--polish", "15"]


@pytest.fixture(scope="module")
def wave_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = simulate_wave(24, 16, np.linspace(0, 0.4, 5), "exponential:c0=0.5,a=1.5", "fourier", seed=2)
    return write(tmp_path_factory.mktemp("data") / "wave.h5", data, seed=2, test_fraction=0.2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fit(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]


def test_two_gloo_processes_take_the_single_process_steps(wave_file: Path, tmp_path: Path) -> None:
    main(["fit", str(wave_file), "--out", str(tmp_path / "one"), *FIT])  # one process: this one
    _fit(["-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
          "--master_port", str(_free_port()), "-m", "physode.cli", "fit", str(wave_file),
          "--out", str(tmp_path / "two"), *FIT], tmp_path)
    records = [[json.loads(line) for line in (tmp_path / run / METRICS).read_text().splitlines()]
               for run in ("one", "two")]
    # Rank 0 alone wrote the metrics: two epochs, then the polish (full-batch L-BFGS over both shards).
    assert [(r["epoch"], r.get("phase")) for r in records[1]] == [(1, None), (2, None), (2, "polish")]
    for single, double in zip(*records, strict=True):
        for key in ("train_loss", "validation_nrmse", "test_nrmse", "test_final_nrmse"):
            assert double[key] == pytest.approx(single[key], rel=1e-9, abs=1e-12), key  # asked: 1e-6
    states = [load_checkpoint(tmp_path / run / CHECKPOINT) for run in ("one", "two")]
    assert states[0]["epoch"] == states[1]["epoch"] == 2
    assert states[0]["grid"]["channels"] == ["u", "u_t"]
    for name, value in states[0]["model"].items():
        torch.testing.assert_close(states[1]["model"][name], value, rtol=1e-9, atol=1e-12)
    summaries = [json.loads((tmp_path / run / "metrics.json").read_text()) for run in ("one", "two")]
    assert summaries[1]["test_nrmse"] == pytest.approx(summaries[0]["test_nrmse"], rel=1e-9)
