"""benchmarks/cifar10/gpu_quick: its deadline planner and lr schedule, and the CPU dry run end to end."""

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.cifar10.gpu_quick.cli import main
from benchmarks.cifar10.gpu_quick.plan import OPS_PER_STEP, SETUP_S, Plan, RunCost, epochs_that_fit
from benchmarks.cifar10.gpu_quick.protocol import OneCycle
from benchmarks.cifar10.gpu_quick.utilisation import UtilisationSampler

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "cifar-10-batches-py"


def test_epochs_that_fit_is_the_largest_count_within_the_time_left():
    current, later = RunCost(10.0, 1.0), [RunCost(5.0, 0.5), RunCost(2.0, 0.2)]

    def seconds(epochs: int, done: int) -> float:
        rest = sum(SETUP_S + epochs * c.epoch_s + c.eval_s for c in later)
        return (epochs - done) * current.epoch_s + current.eval_s + rest

    for left, done in [(100.0, 0), (250.0, 1), (251.3, 3), (30.0, 0)]:
        epochs = epochs_that_fit(left, current, done, later)
        assert seconds(epochs, done) <= left < seconds(epochs + 1, done)


def test_plan_first_run_sets_the_count_later_runs_only_lower_it():
    cost = RunCost(1.0, 0.0)
    plan = Plan(deadline=time.monotonic() + 1000, reserve=0.0, epochs=5, max_epochs=50)
    assert plan.revise(5, 1, cost, []) == 50  # first run, fast: up to the cap
    plan.fixed = True
    assert plan.revise(5, 1, cost, []) == 5  # later runs keep the common count ...
    slow = RunCost(400.0, 0.0)
    assert plan.revise(5, 1, slow, []) == 3  # ... or lower it: 1 + 2 more epochs of 400 s fit in 1000 s
    assert plan.revise(5, 3, slow, []) == 5  # 2 more epochs still fit
    late = Plan(deadline=time.monotonic() - 100, reserve=0.0, epochs=5, max_epochs=50)
    assert late.revise(5, 4, slow, []) == 4  # past the deadline: stop, but never below the epochs trained
    plan.measured_s, plan.assumed_s = 6.0, 2.0
    assert plan.scale == 3.0


def test_one_cycle_warms_up_over_the_first_epoch_and_ends_at_zero():
    schedule = OneCycle(0.1, steps_per_epoch=10, epochs=4)
    lrs = [schedule.lr(step) for step in range(40)]
    assert lrs[0] == pytest.approx(0.01) and lrs[9] == pytest.approx(0.1)
    assert all(a > b for a, b in zip(lrs[10:], lrs[11:])) and lrs[39] == pytest.approx(0.1 / 30)
    before = schedule.lr(20)
    schedule.retarget(20, epochs=3)  # the deadline moved the end: decay from the current lr
    assert schedule.lr(20) == pytest.approx(before) and schedule.lr(30) == 0.0
    assert schedule.lr(29) == pytest.approx(before / 10)
    lone = OneCycle(0.1, steps_per_epoch=8, epochs=1)
    assert lone.lr(3) == pytest.approx(0.1) and lone.lr(7) == pytest.approx(0.1 / 4)


def test_utilisation_is_absent_on_cpu():
    with UtilisationSampler(torch.device("cpu"), interval=0.01) as sampler:
        pass
    assert sampler.read is None and sampler.mean(0.0, float("inf")) is None


def _write_synthetic_cifar(root: Path) -> Path:
    """Random images in the python-pickle CIFAR-10 layout: only for the dry run's mechanics, used
    where the real data set is absent (a fresh clone)."""
    root.mkdir()
    rng = np.random.default_rng(0)
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        batch = {b"data": rng.integers(0, 256, (10000, 3072), dtype=np.uint8),
                 b"labels": [i % 10 for i in range(10000)]}
        with open(root / name, "wb") as handle:
            pickle.dump(batch, handle)
    return root


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    """The real CIFAR-10 ($PHYSODE_DATA, else the shared copy beside the repository), else synthetic."""
    real = [Path(p) for p in (os.environ.get("PHYSODE_DATA"), SHARED_DATA) if p and (Path(p) / "test_batch").exists()]
    return real[0] if real else _write_synthetic_cifar(tmp_path_factory.mktemp("data") / "cifar-10-batches-py")


def test_cpu_dry_run_writes_the_tables_atomically(tmp_path, data_root):
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "benchmarks.cifar10.gpu_quick", "--device", "cpu", "--dry-run",
                    "--data-root", str(data_root), "--out", str(out)], check=True, env=env, cwd=REPO, timeout=170)
    assert sorted(p.name for p in out.iterdir()) == ["gpu_quick_dry_run_cpu.json", "gpu_quick_dry_run_cpu.md"]
    results = json.loads((out / "gpu_quick_dry_run_cpu.json").read_text())
    runs = results["runs"]
    assert results["meta"]["complete"] and results["meta"]["wall_s"] < results["meta"]["budget_s"]
    assert {(r["arch"], r["variant"]) for r in runs} == set(OPS_PER_STEP)
    for r in runs:
        assert r["status"] == "done" and r["epochs"] == 1 and r["images_per_s"] > 0, r
        assert 0 <= r["test_acc"] <= 100 and r["gpu_utilisation"] is None, r
    report = (out / "gpu_quick_dry_run_cpu.md").read_text()
    assert "DRY RUN" in report and "not the paper's protocol" in report
    assert "| ANODEV2 config 1 (Nt=5) |" in report and "89.04" in report  # the paper's ResNet-10 avg beside ours


def test_runs_that_cannot_finish_by_the_deadline_are_skipped_and_reported(tmp_path, monkeypatch, data_root):
    budget = 6.0
    monkeypatch.setattr(sys, "argv", ["gpu_quick.py", "--device", "cpu", "--dry-run", "--budget-s", str(budget),
                                      "--data-root", str(data_root), "--out", str(tmp_path / "out")])
    main()
    results = json.loads((tmp_path / "out" / "gpu_quick_dry_run_cpu.json").read_text())
    skipped = [r for r in results["runs"] if r["status"] == "not run: out of time"]
    assert skipped and not results["meta"]["complete"]
    assert all(r["epochs"] == 0 and r["test_acc"] is None for r in skipped)
    assert results["meta"]["wall_s"] < budget + 10  # a run starts only if it is expected to fit
    assert "NOT all runs finished" in (tmp_path / "out" / "gpu_quick_dry_run_cpu.md").read_text()
