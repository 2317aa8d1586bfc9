"""The web adapter's layout: no blueprint imports another; one state holds what they share.

What two blueprints need (a local path, the reader's language, a query result's response, the
query page, the engine) lives in a module that defines no Blueprint, so each blueprint can be
read, registered and tested alone. Imports are read from the source with `ast`, inside functions
too, as tests/test_layout.py reads them.
"""

import ast
import threading
import time
from pathlib import Path

import smartcity_kg.web
from smartcity_kg.web.state import State

WEB = Path(smartcity_kg.web.__file__).parent


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def defines_blueprint(tree: ast.Module) -> bool:
    """Return whether the module assigns `bp = Blueprint(...)` at its top level."""
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "bp" for t in node.targets)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", None) == "Blueprint"
        for node in tree.body
    )


def imported_modules(tree: ast.Module) -> set[str]:
    """Return every module the tree imports, counting `from package import module` as the module."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules() -> dict[str, ast.Module]:
    return {f"smartcity_kg.web.{path.stem}": parse(path) for path in WEB.glob("*.py")}


def blueprint_imports(trees: dict[str, ast.Module]) -> dict[str, list[str]]:
    """Return, for each blueprint module that imports other blueprint modules, those modules."""
    blueprints = {name for name, tree in trees.items() if defines_blueprint(tree)}
    found = {
        name: sorted((imported_modules(trees[name]) & blueprints) - {name}) for name in blueprints
    }
    return {name: others for name, others in found.items() if others}


def test_no_blueprint_imports_another():
    assert blueprint_imports(modules()) == {}


def test_the_blueprints_are_found():
    trees = modules()
    blueprints = {name.rsplit(".", 1)[1] for name, tree in trees.items() if defines_blueprint(tree)}
    expected = {"sparql", "service", "pages", "queries", "downloads", "coverage", "linked_data"}
    assert blueprints == expected


def test_a_blueprint_importing_another_is_found():
    trees = {
        "smartcity_kg.web.a": ast.parse("from flask import Blueprint\nbp = Blueprint('a', 'a')\n"),
        "smartcity_kg.web.b": ast.parse(
            "from flask import Blueprint\nbp = Blueprint('b', 'b')\n"
            "def f():\n    from smartcity_kg.web.a import bp\n"
        ),
        "smartcity_kg.web.c": ast.parse("from smartcity_kg.web import a\n"),
    }
    assert blueprint_imports(trees) == {"smartcity_kg.web.b": ["smartcity_kg.web.a"]}


def test_no_web_module_keeps_an_app_extension_of_its_own():
    """Only web/state.py reads or writes app.extensions: blueprints ask `state()`."""
    keeping = {
        name
        for name, tree in modules().items()
        if any(isinstance(n, ast.Attribute) and n.attr == "extensions" for n in ast.walk(tree))
    }
    assert keeping == {"smartcity_kg.web.state"}


class SlowEngine:
    """Stands in for the engine: its store is looked at once per build."""

    def __init__(self):
        self.looked = 0

    @property
    def store(self):
        self.looked += 1
        time.sleep(0.05)  # long enough for every thread to arrive while the first one builds
        return None


def test_what_is_derived_from_the_store_is_built_once_across_threads(monkeypatch):
    monkeypatch.setattr("smartcity_kg.web.state.data_conforms", lambda store: True)
    engine = SlowEngine()
    shared = State(config=None, engine=engine, catalogue=None)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(shared.conforms)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [True] * 8 and engine.looked == 1


def test_a_known_conformance_is_kept_without_validating(monkeypatch):
    monkeypatch.setattr("smartcity_kg.web.state.data_conforms", lambda store: 1 / 0)
    shared = State(config=None, engine=SlowEngine(), catalogue=None)
    assert shared.settle_conformance(False) is False and shared.conforms is False
