"""CIFAR-10 training end to end on real data: exact resume after SIGKILL, 2-process DDP, CLI errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from physode.cli import main
from physode.problems.cifar10.models import build_model
from physode.problems.cifar10.train import TrainConfig, train
from physode.training import CHECKPOINT, METRICS, load_checkpoint, read_metrics

from killed_runs import sigkill_when, without_timing

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _cli(data: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "cifar10", "--data-root", str(data), "--out", str(out), "--no-progress", *extra]


def _model(out: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(out / CHECKPOINT)["model"]


def test_resume_after_sigkill_reproduces_the_uninterrupted_run(cifar10_root, tmp_path):
    options = ["--arch", "resnet4", "--epochs", "3", "--batch-size", "128", "--limit-train", "1024",
               "--limit-test", "256", "--milestones", "1", "2", "--seed", "3"]
    killed = tmp_path / "killed"
    argv = [sys.executable, "-m", "physode.cli", *_cli(cifar10_root, killed, *options)]
    sigkill_when(argv, (killed / CHECKPOINT).exists, "its first checkpoint", cwd=REPO, env=ENV)
    assert load_checkpoint(killed / CHECKPOINT)["epoch"] == 1
    assert main(_cli(cifar10_root, killed, *options, "--resume")) == 0

    config = TrainConfig(arch="resnet4", epochs=3, batch_size=128, limit_train=1024, limit_test=256,
                         milestones=(1, 2), seed=3, progress=False)
    straight = train(config, cifar10_root, tmp_path / "straight")
    assert without_timing(read_metrics(killed / METRICS)) == without_timing(straight)
    assert [r["lr"] for r in straight] == pytest.approx([0.1, 0.01, 0.001])
    resumed, reference = _model(killed), _model(tmp_path / "straight")
    assert all(torch.equal(resumed[k], reference[k]) for k in reference)


def test_two_process_step_equals_single_process_step(cifar10_root, tmp_path):
    options = ["--arch", "resnet4", "--epochs", "1", "--batch-size", "256", "--limit-train", "256",
               "--limit-test", "100", "--device", "cpu"]
    # torchrun's own module: a venv that reuses a system torch has no torchrun script beside python.
    torchrun = [sys.executable, "-m", "torch.distributed.run"]
    subprocess.run([*torchrun, "--standalone", "--nproc_per_node", "2", "-m", "physode.cli",
                    *_cli(cifar10_root, tmp_path / "ddp", *options)], env=ENV, cwd=REPO, check=True, timeout=120)
    assert main(_cli(cifar10_root, tmp_path / "single", *options)) == 0
    ddp, single = _model(tmp_path / "ddp"), _model(tmp_path / "single")
    assert set(ddp) == set(single)
    for name in single:
        torch.testing.assert_close(ddp[name].float(), single[name].float(), rtol=0, atol=1e-6, msg=name)
    torch.manual_seed(0)  # the run's initial weights: the step did move them
    assert not torch.equal(single["classifier.weight"], build_model("resnet4").state_dict()["classifier.weight"])
    ddp_metrics, single_metrics = read_metrics(tmp_path / "ddp" / METRICS), read_metrics(tmp_path / "single" / METRICS)
    assert ddp_metrics[0]["test_acc"] == single_metrics[0]["test_acc"]
    assert ddp_metrics[0]["train_loss"] == pytest.approx(single_metrics[0]["train_loss"], abs=1e-6)


@pytest.mark.parametrize("command", ["evaluate", "resume"])
def test_corrupt_checkpoint_is_one_line(tmp_path, capsys, command):
    data = tmp_path / "no-data"  # the checkpoint is refused before any data is read
    run = tmp_path / "run"
    run.mkdir()
    (run / CHECKPOINT).write_bytes(b"PK\x03\x04 truncated zip")
    if command == "evaluate":
        argv = ["evaluate", "cifar10", "--checkpoint", str(run / CHECKPOINT), "--data-root", str(data)]
    else:
        argv = _cli(data, run, "--resume")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "corrupt or truncated" in err and str(run / CHECKPOINT) in err


def test_existing_run_needs_resume_and_evaluate_reads_it(cifar10_root, tmp_path, capsys):
    options = ["--arch", "resnet4", "--epochs", "1", "--batch-size", "128", "--limit-train", "128",
               "--limit-test", "200"]
    assert main(_cli(cifar10_root, tmp_path, *options)) == 0
    assert main(_cli(cifar10_root, tmp_path, *options)) == 2
    assert "pass --resume" in capsys.readouterr().err
    assert main(_cli(cifar10_root, tmp_path, *options, "--resume", "--lr", "0.2")) == 2
    assert "lr=0.1 (now 0.2)" in capsys.readouterr().err
    assert main(["evaluate", "cifar10", "--checkpoint", str(tmp_path / CHECKPOINT), "--data-root", str(cifar10_root),
                 "--limit-test", "200"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["test_acc"] == read_metrics(tmp_path / METRICS)[0]["test_acc"]
