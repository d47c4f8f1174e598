"""The README's example runs as printed, and its set-up commands are the ones CI runs."""

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_ten_line_example_runs() -> None:
    example = re.search(r"## In ten lines\n\n```python\n(.*?)```", README, re.S).group(1)
    assert len(example.strip().splitlines()) <= 10
    exec(compile(example, "README.md", "exec"), {})


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci and "<!-- test-command -->" in README
    command = re.search(r"<!-- test-command -->\n+```bash\n(.*?)\n```", README, re.S).group(1)
    assert "pip install" in command and "pytest" in command
