"""The tree's shape: no import loops in the library and the problems, no long files, no sys.path edits.

These hold the codebase to the rules a newcomer relies on (one concept, one module; a module can be
read without chasing a cycle), so a change that breaks one fails here rather than in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Source folder -> the import name it ships as (pyproject's package-dir).
PACKAGES = {"physode": "physode", "problems": "physode.problems"}
MAX_LINES = 300


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    parts[0] = PACKAGES[parts[0]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """The physode modules ``module`` imports, anywhere in it: ``if TYPE_CHECKING`` blocks and
    imports inside functions are loops a reader follows all the same."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return {name for name in found if name in known and name != module}


def _import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in _python_files(*PACKAGES)}
    return {module: _imports(path, module, set(files)) for module, path in files.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return components


def test_the_cycle_finder_finds_a_loop_and_accepts_a_chain() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_import_loops_in_the_library_or_the_problems() -> None:
    graph = _import_graph()
    assert "physode.problems.fitting" in graph and graph["physode.cli"], "the import graph came out empty"
    assert _cycles(graph) == []


@pytest.mark.parametrize("folder", ["physode", "problems", "benchmarks"])
def test_no_file_is_longer_than_300_lines(folder: str) -> None:
    long = {str(p.relative_to(ROOT)): n for p in _python_files(folder)
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_nothing_edits_sys_path() -> None:
    edits = [str(p.relative_to(ROOT)) for p in _python_files("physode", "problems", "benchmarks", "tests")
             if "sys.path.insert" in p.read_text() or "sys.path.append" in p.read_text()]
    assert edits == [str(Path(__file__).relative_to(ROOT))]  # this file names them, nothing else uses them
