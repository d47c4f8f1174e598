"""Error classes and one-line messages: operating-system errors, failed runs on the command line."""

from __future__ import annotations

import errno
import os

from types import SimpleNamespace

import pytest
import torch

import physode
from physode import cli
from physode.errors import InputError, RunError, SolverError, TrainingDiverged, one_line, os_error_message


def test_real_os_errors_become_one_line_with_the_path_and_a_fix(tmp_path):
    cases = (
        (lambda: open(tmp_path / "missing" / "out.json", "w"), "missing/out.json: No such file or directory; check"),
        (lambda: open(tmp_path, "w"), ": Is a directory; it is a directory"),
        (lambda: os.mkdir(tmp_path), ": File exists; it already exists"),
        (lambda: open(tmp_path / ("x" * 300), "w"), "File name too long; choose a shorter name"),
        (lambda: os.rename(tmp_path / "a", tmp_path / "b"), "a -> "),
    )
    for fail, expected in cases:
        with pytest.raises(OSError) as info:
            fail()
        message = os_error_message(info.value)
        assert expected in message and "\n" not in message


@pytest.mark.parametrize("code, fix", [(errno.ENOSPC, "the disk is full"), (errno.EACCES, "permissions"),
                                       (errno.EROFS, "read-only")])
def test_errno_fixes(code, fix):
    message = os_error_message(OSError(code, os.strerror(code), "/data/out.h5"))
    assert message.startswith("/data/out.h5: ") and fix in message


def test_run_failures_are_not_input_errors():
    for error in (SolverError, TrainingDiverged):
        assert issubclass(error, RunError) and issubclass(error, RuntimeError)
        assert not issubclass(error, ValueError) and not issubclass(error, InputError)


def _blow_up(args) -> int:
    # dy/dt = y^2, y(0) = 1 blows up at t = 1: the adaptive solve cannot reach t = 2.
    physode.odeint(lambda t, y: y * y, torch.ones((), dtype=torch.float64), [0.0, 2.0], method="dopri5")
    return 0


def _diverge(args) -> int:
    raise TrainingDiverged("training diverged: the loss is inf at epoch 3;\nlower --lr")


@pytest.mark.parametrize("run, expected", [(_blow_up, "step size underflow at t = 1"),
                                           (_diverge, "training diverged: the loss is inf at epoch 3; lower --lr")])
def test_the_command_line_prints_a_failed_run_as_one_line(monkeypatch, capsys, run, expected):
    def register(subparsers) -> None:
        subparsers.add_parser("run").set_defaults(func=run)

    monkeypatch.setattr(cli, "COMMANDS", (SimpleNamespace(register=register),))
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("physode run: error: ") and expected in err, err


def test_one_line():
    assert one_line(RuntimeError("Error(s) in loading:\n\tsize mismatch\n")) == "Error(s) in loading: size mismatch"
    assert one_line(KeyError()) == "KeyError"
    assert one_line("x" * 500, limit=10) == "x" * 10 + " ..."
