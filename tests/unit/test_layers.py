"""The house's module graph: no import cycles, nothing imported from above, imports at the top.

Read from the source (the AST of every module of `smlift`), not by importing it, so a cycle
hidden by a function-local import is found as well as one Python would trip over. The engine's
own, finer rules are in tests/unit/asl/test_layers.py.

The layers, from the top: `cli` (and `__main__`) over `console`, over the use cases and the
seam (`starter`, `follow`, `execute`, `validate`, `backend`), over the two sides and what they share
(`embedded` over `processing`, `images`, `serving` over `local`; `aws`, `pipeline`, `registry`,
`parity`), over `asl`, over the project file (`project`, over `layout`), over the leaves
(`errors`, `jsontext`, `names`, `layout`, `confined`, `dockerignore`, `dockerfile`, `imageref`, `tables`, `prebuilt`: what AWS publishes as its
scikit-learn images). Packages, too,
form no cycle: `local` is the storage the local services share, `embedded` the engine and the
run above them.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import smlift

from import_graph import find_cycle

ROOT = Path(smlift.__file__).parent


def _name(path: Path) -> str:
    parts = ("smlift", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


FILES = {_name(path): path for path in sorted(ROOT.rglob("*.py"))}
TREES = {module: ast.parse(path.read_text(), str(path)) for module, path in FILES.items()}

# Where a function-local import of smlift or the standard library is still allowed outside the
# CLI, and why. Third-party imports may be lazy anywhere: boto3, botocore, dockerfile_parse and
# the stepfunctions SDK load only when a command needs them (tests/extras check the core never
# imports them).
LAZY_ALLOWED = {
    # `smlift execute` of a definition without Task states (the conformance runner starts
    # hundreds) never pays for loading the Processing integrations.
    "smlift.embedded.tasks": "start-up time of smlift execute",
}
LEAVES = {"smlift.tables", "smlift.errors", "smlift.jsontext", "smlift.names", "smlift.layout", "smlift.confined",
          "smlift.dockerignore", "smlift.prebuilt", "smlift.dockerfile", "smlift.imageref"}
# package -> the smlift packages and modules it must never import
# package -> the only smlift modules it may import
ONLY = {
    "smlift.asl": {"smlift.errors", "smlift.jsontext"},
    "smlift.parity": {"smlift.errors", "smlift.layout", "smlift.project", "smlift.tables"},
    "smlift.project": {"smlift.errors", "smlift.layout"},
    "smlift.tables": set(),
}
FORBIDDEN = {
    "smlift.local": {"smlift.cli", "smlift.console", "smlift.backend", "smlift.starter",
                     "smlift.follow", "smlift.execute", "smlift.embedded", "smlift.processing",
                     "smlift.images", "smlift.serving", "smlift.aws"},
    "smlift.embedded": {"smlift.cli", "smlift.console", "smlift.backend", "smlift.starter",
                        "smlift.follow", "smlift.execute"},
    "smlift.aws": {"smlift.cli", "smlift.console", "smlift.backend", "smlift.starter",
                   "smlift.follow", "smlift.execute", "smlift.embedded"},
    "smlift.processing": {"smlift.cli", "smlift.console", "smlift.backend", "smlift.starter",
                          "smlift.follow", "smlift.execute", "smlift.embedded"},
    "smlift.images": {"smlift.cli", "smlift.console", "smlift.backend", "smlift.starter",
                      "smlift.follow", "smlift.execute", "smlift.processing",
                      "smlift.embedded"},
    "smlift.pipeline": {"smlift.cli", "smlift.console", "smlift.backend", "smlift.starter",
                        "smlift.follow", "smlift.execute", "smlift.embedded", "smlift.validate",
                        "smlift.processing", "smlift.images", "smlift.aws"},
    "smlift.validate": {"smlift.cli", "smlift.console", "smlift.backend", "smlift.starter",
                        "smlift.follow", "smlift.execute"},
    "smlift.registry": {"smlift.cli", "smlift.console", "smlift.backend", "smlift.starter",
                        "smlift.follow", "smlift.execute"},
    "smlift.backend": {"smlift.cli", "smlift.console", "smlift.starter", "smlift.follow",
                       "smlift.execute"},
    "smlift.follow": {"smlift.cli", "smlift.console", "smlift.starter", "smlift.execute"},
    "smlift.starter": {"smlift.cli", "smlift.console", "smlift.execute"},
    "smlift.execute": {"smlift.cli", "smlift.console", "smlift.backend", "smlift.starter",
                       "smlift.follow"},
    "smlift.baseline": {"smlift.cli", "smlift.console", "smlift.starter", "smlift.execute"},
    "smlift.console": {"smlift.cli"},
}


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    """The smlift modules an import statement imports: `from . import a` is module `a` when
    there is one, else the package itself (a name defined in its __init__)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif node.level == 0:
        names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    else:
        package = module if FILES[module].name == "__init__.py" else module.rsplit(".", 1)[0]
        base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        base = f"{base}.{node.module}" if node.module else base
        names = [base] + [f"{base}.{alias.name}" for alias in node.names]
    found = [name for name in names if name in FILES]
    # `from pkg import name`: pkg is imported; `from pkg import sub` imports the module sub too
    return list(dict.fromkeys(found))


def _imports(module: str, *, local: bool) -> list[tuple[int, ast.Import | ast.ImportFrom]]:
    tree = TREES[module]
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef,
                                                              ast.AsyncFunctionDef))]
    inside = {id(n) for f in functions for n in ast.walk(f) if n is not f}
    return [(node.lineno, node) for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom)) and (id(node) in inside) == local]


def _graph() -> dict[str, set[str]]:
    """Module -> the smlift modules it imports, wherever the import statement stands."""
    return {module: {target for local in (False, True) for _, node in _imports(module, local=local)
                     for target in _targets(node, module) if target != module}
            for module in FILES}


GRAPH = _graph()


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_smlift_has_no_import_cycles():
    cycle = find_cycle(GRAPH)
    assert cycle is None, " -> ".join(cycle)


def _package(module: str) -> str:
    """smlift.local.s3 -> smlift.local; a top-level module is its own package."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def test_smlift_packages_have_no_import_cycles():
    """Collapsed to top-level packages the graph is still acyclic: each package sits in one
    layer (a package that imports another, and is imported back, is two layers in one)."""
    packages: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        packages.setdefault(_package(module), set()).update(
            _package(t) for t in targets if _package(t) != _package(module))
    cycle = find_cycle(packages)
    assert cycle is None, " -> ".join(cycle)


def test_the_graph_sees_a_name_imported_from_a_package_as_an_import_of_the_package():
    # images/docker_images.py once did `from . import LocalImage` while images/__init__ imported
    # docker_images: a cycle that only this reading finds
    node = ast.parse("from . import LocalImage").body[0]
    assert _targets(node, "smlift.images.docker_images") == ["smlift.images"]
    node = ast.parse("from . import describe").body[0]
    assert _targets(node, "smlift.processing.service") == ["smlift.processing",
                                                           "smlift.processing.describe"]


def _edges_out_of(package: str) -> set[tuple[str, str]]:
    """(module, target) for each import from inside `package` to outside it."""
    return {(module, target) for module, targets in GRAPH.items() if _within(module, package)
            for target in targets if not _within(target, package) and target != "smlift"}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_nothing_is_imported_from_a_layer_above(package):
    above = {f"{module} -> {target}" for module, target in _edges_out_of(package)
             if any(_within(target, f) for f in FORBIDDEN[package])}
    assert above == set()


@pytest.mark.parametrize("package", sorted(ONLY))
def test_the_bottom_packages_import_only_what_they_may(package):
    outside = {f"{module} -> {target}" for module, target in _edges_out_of(package)
               if target not in ONLY[package]}
    assert outside == set()


def test_only_the_command_line_imports_the_command_line():
    importers = {module for module, targets in GRAPH.items()
                 if any(_within(t, "smlift.cli") for t in targets)}
    assert {m for m in importers if not _within(m, "smlift.cli")} == {"smlift.__main__"}


@pytest.mark.parametrize("module", sorted(LEAVES))
def test_the_leaves_import_nothing_of_smlift_but_the_error_tree(module):
    assert GRAPH[module] <= {"smlift.errors"}


@pytest.mark.parametrize("module", sorted(m for m in FILES if not _within(m, "smlift.cli")
                                           and m not in LAZY_ALLOWED))
def test_imports_of_smlift_and_the_stdlib_are_at_the_top_outside_the_cli(module):
    lazy = []
    for line, node in _imports(module, local=True):
        names = ([node.module or ""] if isinstance(node, ast.ImportFrom) else
                 [alias.name for alias in node.names])
        ours = isinstance(node, ast.ImportFrom) and node.level > 0
        if ours or any(n.split(".")[0] in ("smlift", *sys.stdlib_module_names) for n in names):
            lazy.append(line)
    assert lazy == []


def test_the_allowed_lazy_modules_exist_and_still_need_the_exception():
    for module in LAZY_ALLOWED:
        assert module in FILES
        assert any(_targets(node, module) for _, node in _imports(module, local=True)), module
