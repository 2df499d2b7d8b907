"""The engine's module graph: no import cycles, imports at the top, nothing from above.

Read from the source (the AST of each module of `smlift.asl`), not by importing it, so a cycle
hidden by a function-local import is found as well as one Python would trip over.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import smlift.asl
from smlift.asl.definition import TYPE_NAMES
from smlift.asl.interpreter import HANDLERS

from import_graph import find_cycle

PACKAGE = "smlift.asl"
FOLDER = Path(smlift.asl.__file__).parent
# What the engine may import from outside itself: the standard library, jsonata-python, the
# error tree, and jsontext (the one JSON parser for user input; it imports only the stdlib).
OUTSIDE_ALLOWED = {"jsonata", "smlift.errors", "smlift.jsontext"}
# Modules at the bottom of the engine: every other module may import them.
LEAVES = {"smlift.asl.jsonpath", "smlift.asl.functions", "smlift.asl.clock"}


def _modules() -> dict[str, ast.Module]:
    return {f"{PACKAGE}.{path.stem}": ast.parse(path.read_text(), str(path))
            for path in sorted(FOLDER.glob("*.py")) if path.stem != "__init__"}


MODULES = _modules()


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    """The modules an import statement imports (`from . import a, b` imports a and b)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        return [node.module]
    base = module.rsplit(".", node.level)[0]
    if node.module:
        return [f"{base}.{node.module}"]
    return [f"{base}.{alias.name}" for alias in node.names]


def _imports(tree: ast.Module, module: str, *, local: bool) -> list[tuple[int, str]]:
    """(line, imported module) of the top-level imports, or of those inside a function."""
    found = []
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef,
                                                              ast.AsyncFunctionDef))]
    inside = {id(n) for f in functions for n in ast.walk(f) if n is not f}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and (id(node) in inside) == local:
            found += [(node.lineno, target) for target in _targets(node, module)]
    return found


def _graph() -> dict[str, set[str]]:
    """Module -> the engine modules it imports, wherever the import statement stands."""
    return {module: {target for _, target in _imports(tree, module, local=False)
                     + _imports(tree, module, local=True) if target.startswith(PACKAGE + ".")}
            for module, tree in MODULES.items()}


def test_the_engine_has_no_import_cycles():
    assert find_cycle(_graph()) is None, " -> ".join(find_cycle(_graph()))


def test_the_cycle_finder_finds_afind_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_are_at_the_top_of_the_module(module):
    assert _imports(MODULES[module], module, local=True) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_the_engine_imports_only_itself_the_stdlib_jsonata_and_the_error_tree(module):
    outside = {target for _, target in _imports(MODULES[module], module, local=False)
               if not target.startswith(PACKAGE + ".")}
    allowed = {target for target in outside if target.split(".")[0] in sys.stdlib_module_names
               or target in OUTSIDE_ALLOWED or target.split(".")[0] in OUTSIDE_ALLOWED}
    assert outside - allowed == set()


@pytest.mark.parametrize("module", sorted(LEAVES))
def test_the_leaves_import_nothing_from_the_engine(module):
    assert _graph()[module] == set()


def test_every_import_of_the_engine_names_a_module_that_exists():
    graph = _graph()
    assert set().union(*graph.values()) <= set(MODULES)


def test_the_dispatch_table_has_a_body_for_every_state_type():
    assert set(HANDLERS) == set(TYPE_NAMES)
