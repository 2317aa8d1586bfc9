"""The package's layout holds: no import circle, and only the web adapter imports the web stack.

Imports are read from the source (every `import` and `from … import`, inside functions too), so
a circle dodged by importing inside a function is still a circle.
"""

import ast
from pathlib import Path

import smartcity_kg

PACKAGE = Path(smartcity_kg.__file__).parent
WEB_STACK = ("flask", "werkzeug", "granian")  # Jinja is a template engine: coverage/ uses it


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py") if "__main__" not in p.name}


def imported(path: Path) -> set[str]:
    """Return every module (of any package) that the file at `path` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import (ruff TID252 should say so)"
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def edges() -> dict[str, set[str]]:
    """Return, for each module of the package, the modules of the package it imports."""
    return {name: {m for m in imported(path) if m in MODULES and m != name}
            for name, path in MODULES.items()}  # fmt: skip


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected groups of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_circle():
    assert circles(edges()) == []


def test_the_circle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_only_the_web_adapter_imports_the_web_stack():
    offenders = {
        name: sorted(m for m in imported(path) if m.split(".")[0] in WEB_STACK)
        for name, path in MODULES.items()
        if not name.startswith("smartcity_kg.web")
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_every_subpackage_states_its_boundary():
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc.split(".")[0]) > 20, f"{init} has no docstring saying what it holds"
