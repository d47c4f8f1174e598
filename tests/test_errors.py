"""One-line messages for operating-system errors."""

from __future__ import annotations

import errno
import os

import pytest

from physode.errors import InputError, TrainingDiverged, one_line, os_error_message


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


def test_training_diverged_is_an_input_error():
    assert issubclass(TrainingDiverged, InputError)


def test_one_line():
    assert one_line(RuntimeError("Error(s) in loading:\n\tsize mismatch\n")) == "Error(s) in loading: size mismatch"
    assert one_line(KeyError()) == "KeyError"
    assert one_line("x" * 500, limit=10) == "x" * 10 + " ..."
