"""The command line's global options (before or after the command), what it prints (the ``physode``
logger; only torchrun's rank 0 prints results), ``--overwrite``, both forms of ``evaluate`` and
``--help`` showing every default once in every command."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from physode.cli import build_parser, main
from physode.cli_types import DefaultsHelp
from physode.problems.cifar10 import train as cifar10_train
from physode.problems.cifar10.data import Split
from physode.problems.fitting import cli as fitting_cli
from physode.problems.pde import simulate_transport_to_file
from physode.training import CHECKPOINT, load_checkpoint

SIMULATE = ["simulate", "transport", "--samples", "4", "--nx", "16", "--nt", "3"]
FIT = ["--epochs", "1", "--batch-size", "4", "--polish", "0", "--device", "cpu"]


@pytest.mark.parametrize("argv", [
    ["--no-progress", "-q", "fit", "f.h5", "--out", "r"],
    ["fit", "f.h5", "--out", "r", "--no-progress", "--quiet"],
    ["--quiet", "simulate", "transport", "--no-progress"],
    ["simulate", "transport", "-q", "--no-progress"],
])
def test_global_options_are_taken_before_or_after_the_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.quiet and not args.progress and not args.verbose


def test_global_options_default_to_bars_and_results() -> None:
    args = build_parser().parse_args(["--verbose", "train", "cifar10", "--out", "r"])
    assert args.verbose and args.progress and not args.quiet


def test_physode_alone_takes_the_global_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[argparse.Namespace] = []
    monkeypatch.setattr(fitting_cli, "_run_quickstart", lambda args: seen.append(args) or 0)
    assert main(["--no-progress"]) == 0
    assert seen[0].command == "quickstart" and seen[0].progress is False


def test_quiet_and_verbose_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quiet", *SIMULATE, "--verbose"]) == 2
    assert "--quiet and --verbose contradict each other" in capsys.readouterr().err


@pytest.mark.parametrize(("options", "rank", "printed"), [
    ([], None, True), (["--quiet"], None, False), ([], "0", True), ([], "1", False),
])
def test_results_are_printed_unless_quiet_or_not_rank_zero(options: list[str], rank: str | None, printed: bool,
                                                          tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if rank is not None:
        monkeypatch.setenv("RANK", rank)
    assert main([*SIMULATE, "--out", str(tmp_path / "t.h5"), *options]) == 0
    out = capsys.readouterr().out
    assert ("wrote " in out) == printed, out


def test_train_cifar10_without_progress_bars_still_prints_each_epoch(small_cifar10: Path, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # 100 random images instead of CIFAR-10's 60,000 (small_cifar10's files: to be fingerprinted).
    def split(n: int) -> Split:
        return Split(torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8), torch.arange(n) % 10)

    monkeypatch.setattr(cifar10_train, "load_cifar10", lambda root, download=False: (split(100), split(20)))
    assert main(["train", "cifar10", "--data-root", str(small_cifar10), "--out", str(tmp_path / "run"), "--arch",
                 "resnet4", "--epochs", "2", "--batch-size", "50", "--no-progress", "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    assert [line.split(":")[0] for line in captured.out.splitlines()] == ["epoch 1", "epoch 2"]
    assert "img/s]" not in captured.err  # no bar


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate_transport_to_file(tmp_path_factory.mktemp("data") / "t.h5", 8, 16, np.linspace(0.0, 0.2, 4),
                                      "exponential:c0=0.5,a=1.5", seed=0, test_fraction=0.25)


def test_fit_overwrite_replaces_a_run_and_keeps_other_files(data: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["fit", str(data), "--out", str(run), *FIT, "--seed", "1"]) == 0
    (run / "evaluation.json").write_text("{}")  # the old run's evaluation: replaced with it
    (run / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main(["fit", str(data), "--out", str(run), *FIT, "--seed", "2"]) == 2
    assert "--overwrite to replace it" in capsys.readouterr().err
    assert main(["fit", str(data), "--out", str(run), *FIT, "--seed", "2", "--overwrite"]) == 0
    assert load_checkpoint(run / CHECKPOINT)["config"]["seed"] == 2
    assert not (run / "evaluation.json").exists() and (run / "notes.txt").read_text() == "mine"
    assert main(["fit", str(data), "--out", str(run), *FIT, "--resume", "--overwrite"]) == 2


@pytest.mark.parametrize("problem", [["pde1d"], ["cifar10", "--data-root", "nowhere"]])
def test_evaluate_takes_the_run_once_as_run_or_checkpoint(problem: list[str], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", *problem]) == 2
    assert main(["evaluate", *problem, str(tmp_path), "--checkpoint", str(tmp_path / "checkpoint.pt")]) == 2
    assert capsys.readouterr().err.count("give the run to evaluate once") == 2
    assert main(["evaluate", *problem, str(tmp_path)]) == 2  # a directory without a checkpoint: the run's error
    assert "checkpoint" in capsys.readouterr().err


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield " ".join(path), parser
    for sub in subs:
        for name, child in sub.choices.items():
            yield from _commands(child, (*path, name))


@pytest.mark.parametrize(("command", "parser"), list(_commands(build_parser())), ids=lambda value: str(value))
def test_help_shows_every_default_once(command: str, parser: argparse.ArgumentParser) -> None:
    formatter = DefaultsHelp(parser.prog)
    for action in parser._actions:
        if not action.option_strings or action.help in (None, argparse.SUPPRESS):
            continue
        text = formatter._expand_help(action)
        assert text.count("default") <= 1, (command, text)
        if not (action.default is None or action.default is False or action.default == argparse.SUPPRESS):
            assert "default" in text, (command, action.dest)


def test_fit_help_shows_the_defaults_of_epochs_batch_size_and_seed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option, default in (("--epochs", 60), ("--batch-size", 16), ("--seed", 0)):
        metavar = option[2:].upper().replace("-", "_")
        described = text.split(f"{option} {metavar} ", 1)[1].split(" --")[0]  # its line, not the usage's "]"
        assert described.endswith(f"(default: {default})"), described


def test_under_torchrun_only_rank_zero_prints_the_results(data: Path, tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    # --standalone: torchrun binds its own free port.
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "physode.cli", "fit",
                           str(data), "--out", str(tmp_path / "run"), *FIT, "--no-progress"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("| variant | model |") == 1 and done.stdout.count("wrote ") == 1, done.stdout
