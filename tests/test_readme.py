"""The README's examples run as printed, and its set-up commands are the ones CI runs.

Every code block marked ``<!-- example -->`` (tags after a colon: ``slow``, ``cifar10``) runs in
README order in one empty folder, and none may warn. A line starting with ``physode`` runs in this
process through :func:`physode.cli.main`, the console script's entry point (``[project.scripts]``),
which saves an interpreter start (seconds) per line; any other line runs in bash with this
interpreter's folder first on ``PATH``. Python blocks run in this process.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from physode.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
MARKED = re.compile(r"^<!-- example(?::\s*(?P<tags>[^>]*?))?\s*-->\n(?:<!--[^\n]*-->\n)*"
                    r"```(?P<language>\w+)\n(?P<code>.*?)^```", re.M | re.S)
USAGE_SECTIONS = ("## Problems and the command line", "## Use a fitted model")
# Warnings about the installed libraries' own future, not about what an example does.
LIBRARY_NOTICES = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


@dataclass(frozen=True)
class Example:
    """One marked code block of the README."""

    language: str
    code: str
    tags: frozenset[str]
    line: int


def examples(text: str = README) -> list[Example]:
    """The marked blocks of ``text``, in order."""
    return [Example(m["language"], m["code"], frozenset(t.strip() for t in (m["tags"] or "").split(",") if t.strip()),
                    text.count("\n", 0, m.start("code")) + 1) for m in MARKED.finditer(text)]


def section(title: str) -> str:
    start = README.index(title + "\n")
    end = README.find("\n## ", start + len(title))
    return README[start:] if end < 0 else README[start:end]


def _check_quiet(caught: list[warnings.WarningMessage], err: str, where: str) -> None:
    shown = [f"{w.category.__name__}: {w.message}" for w in caught if not issubclass(w.category, LIBRARY_NOTICES)]
    shown += [line for line in err.splitlines() if "warning" in line.lower()]
    assert not shown, f"{where} warns: {shown}"


def _run_line(line: str, where: str, folder: Path, capfd: pytest.CaptureFixture) -> None:
    words = shlex.split(line, comments=True)
    if not words:
        return
    if words[0] == "physode":
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = main(words[1:])
        err = capfd.readouterr().err
        assert code == 0, f"{where}: {line}\n{err[-3000:]}"
        _check_quiet(caught, err, where)
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", line], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{where}: {line}\n{done.stderr[-3000:]}"
    _check_quiet([], done.stderr, where)


def run_examples(chosen: list[Example], folder: Path, capfd: pytest.CaptureFixture) -> None:
    """Run ``chosen`` in order in ``folder`` (the current directory while they run)."""
    assert chosen, "no marked example chosen"
    for example in chosen:
        where = f"README.md line {example.line}"
        if example.language == "python":
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                exec(compile(example.code, where, "exec"), {})
            _check_quiet(caught, capfd.readouterr().err, where)
            continue
        assert example.language == "bash", f"{where}: a marked block is bash or python, not {example.language}"
        for offset, line in enumerate(example.code.splitlines()):
            _run_line(line, f"README.md line {example.line + offset}", folder, capfd)


def test_ten_line_example_runs() -> None:
    example = re.search(r"## In ten lines\n\n```python\n(.*?)```", README, re.S).group(1)
    assert len(example.strip().splitlines()) <= 10
    exec(compile(example, "README.md", "exec"), {})


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci and "<!-- test-command -->" in README
    command = re.search(r"<!-- test-command -->\n+```bash\n(.*?)\n```", README, re.S).group(1)
    assert "pip install" in command and "pytest" in command


def test_every_block_of_the_usage_sections_is_a_marked_example() -> None:
    for title in USAGE_SECTIONS:
        text = section(title)
        assert len(re.findall(r"^```\w+\n", text, re.M)) == len(examples(text)) > 0, title


def test_examples_are_found_with_their_tags() -> None:
    text = "<!-- example: slow, cifar10 -->\n<!-- other -->\n```bash\nphysode x\n```\n\n```bash\nnot marked\n```\n"
    assert examples(text) == [Example("bash", "physode x\n", frozenset({"slow", "cifar10"}), 4)]


def test_readme_examples_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capfd: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    run_examples([e for e in examples() if not e.tags], tmp_path, capfd)
    assert (tmp_path / "figure2.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_readme_examples_with_the_slow_ones_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capfd: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    run_examples([e for e in examples() if "cifar10" not in e.tags], tmp_path, capfd)


@pytest.mark.slow
def test_readme_cifar10_examples_run_in_order(cifar10_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capfd: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PHYSODE_DATA", str(cifar10_root))
    run_examples([e for e in examples() if "cifar10" in e.tags], tmp_path, capfd)
