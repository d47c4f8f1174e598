"""`physode fit` under torchrun: 2 gloo processes take the same steps as one (a real 2-process launch),
Adam's gradients averaged by torch's DistributedDataParallel (:func:`data_parallel`, checked on its own).

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
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from physode.cli import main
from physode.problems.pde import simulate_wave
from physode.training import CHECKPOINT, METRICS, DistContext, data_parallel, load_checkpoint
from physode.training.distributed import sum_over_ranks
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


# --standalone: torchrun binds its own free port (a port picked here and freed could be taken before it binds).
TORCHRUN = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


def _fit(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]


def test_two_gloo_processes_take_the_single_process_steps(wave_file: Path, tmp_path: Path) -> None:
    main(["fit", str(wave_file), "--out", str(tmp_path / "one"), *FIT])  # one process: this one
    _fit([*TORCHRUN, "-m", "physode.cli", "fit", str(wave_file),
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


def _data_parallel_step(rank: int, world_size: int, port: int, out: Path) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        torch.manual_seed(rank)  # different weights on each rank: the wrapper starts all from rank 0's
        model = nn.Linear(3, 1, dtype=torch.float64)
        replica = data_parallel(model, DistContext(rank, world_size, torch.device("cpu")))
        replica(torch.full((1, 3), rank + 1.0, dtype=torch.float64)).sum().backward()  # d/dW = this rank's input
        x = torch.full((2,), rank + 1.0, dtype=torch.float64, requires_grad=True)
        total = sum_over_ranks(x)
        (total * (rank + 1)).sum().backward()  # every rank's x reaches every rank's total: d/dx = 1 + 2
        torch.save({"ddp": isinstance(replica, nn.parallel.DistributedDataParallel), "weight": model.weight.detach(),
                    "grad": model.weight.grad, "total": total.detach(), "x_grad": x.grad}, out / f"{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_data_parallel_averages_gradients_and_sum_over_ranks_differentiates(tmp_path: Path) -> None:
    model = nn.Linear(3, 1)
    assert data_parallel(model, DistContext(0, 1, torch.device("cpu"))) is model  # one process: the model itself
    mp.start_processes(_data_parallel_step, args=(2, _free_port(), tmp_path), nprocs=2, start_method="fork")
    ranks = [torch.load(tmp_path / f"{rank}.pt") for rank in range(2)]
    assert all(rank["ddp"] for rank in ranks)
    torch.testing.assert_close(ranks[1]["weight"], ranks[0]["weight"], rtol=0, atol=0)
    for rank in ranks:  # the mean of the ranks' gradients, inputs 1 and 2
        torch.testing.assert_close(rank["grad"], torch.full((1, 3), 1.5, dtype=torch.float64), rtol=0, atol=0)
        torch.testing.assert_close(rank["total"], torch.full((2,), 3.0, dtype=torch.float64), rtol=0, atol=0)
        torch.testing.assert_close(rank["x_grad"], torch.full((2,), 3.0, dtype=torch.float64), rtol=0, atol=0)
