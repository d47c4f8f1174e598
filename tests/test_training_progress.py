"""Progress bars: quiet in files and pipes, and a --no-progress whose help says what it does."""

import io
import sys

import pytest

from physode.cli import main
from physode.training.progress import FILE_INTERVAL, TERMINAL_INTERVAL, progress_bar


def test_bars_redraw_at_most_once_a_second_off_a_terminal(monkeypatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    with progress_bar(total=3, file=io.StringIO()) as bar:
        assert bar.mininterval == FILE_INTERVAL == 1.0
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with progress_bar(range(3), file=io.StringIO()) as bar:
        assert bar.mininterval == TERMINAL_INTERVAL and list(bar) == [0, 1, 2]
    with progress_bar(range(3), enabled=False) as bar:
        assert bar.disable and list(bar) == [0, 1, 2]


@pytest.mark.parametrize("command", [["fit"], ["quickstart"], ["train", "cifar10"]])
def test_no_progress_help_shows_no_default(command, capsys) -> None:
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    line = next(line for line in capsys.readouterr().out.splitlines() if "--no-progress " in line)
    assert "hide the progress bars" in line and "default" not in line
