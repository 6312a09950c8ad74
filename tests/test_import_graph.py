"""The package's import graph: no cycles, and each library imports only what its layer allows.

docs/architecture.md draws the layers. Imports inside functions count (a lazy import hides a
cycle, it does not remove it); only `if TYPE_CHECKING:` blocks are left out, which never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGE = "custom_components.porchlight"


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the integration, by dotted name (a package by its own name)."""
    found = {}
    for path in (root / "custom_components" / "porchlight").rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _runs(node: ast.AST) -> list[ast.AST]:
    """The parts of node that run: an `if TYPE_CHECKING:` runs only its else branch."""
    if isinstance(node, ast.If) and ast.unparse(node.test) in {
        "TYPE_CHECKING",
        "typing.TYPE_CHECKING",
    }:
        return list(node.orelse)
    return list(ast.iter_child_nodes(node))


def _with_packages(targets: set[str], importer: str, known: dict[str, Path]) -> set[str]:
    """The targets and the packages above them, which Python initializes first.

    Not the importer's own packages: they are being initialized already when it runs.
    """
    found = set(targets)
    for target in targets:
        parts = target.split(".")
        for n in range(len(parts) - 1, 0, -1):
            package = ".".join(parts[:n])
            if package in known and not importer.startswith(package + "."):
                found.add(package)
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The integration's modules that module name imports when it runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in _runs(node):
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name in known)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.rsplit(".", child.level - 1)[0] if child.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                # `from .pkg import sub` imports the submodule; `from .mod import name` the module.
                subs = {f"{base}.{a.name}" for a in child.names} & known.keys()
                found.update(subs)
                if len(subs) < len(child.names) and base in known:
                    found.add(base)
            visit(child)

    visit(tree)
    found = _with_packages(found, name, known)
    found.discard(name)
    return found


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Who imports whom, among the integration's modules."""
    known = modules(root)
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of more than one module that all reach each other, each sorted."""

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for target in edges[todo.pop()] - seen:
                seen.add(target)
                todo.append(target)
        return seen

    reaches = {name: reach(name) for name in edges}
    groups = {
        frozenset({name} | {other for other in reaches[name] if name in reaches[other]})
        for name in edges
    }
    return sorted(sorted(group) for group in groups if len(group) > 1)


def test_the_integration_has_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_the_cycle_check_finds_a_lazy_cycle(tmp_path: Path) -> None:
    # The check itself: two modules importing each other, one of them inside a function,
    # and an import under TYPE_CHECKING, which is not a cycle.
    package = tmp_path / "custom_components" / "porchlight"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import thing\n")
    (package / "b.py").write_text("def thing():\n    from .a import x\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import x\n"
    )
    (package / "d.py").write_text("from . import c\n")
    # Imports that run although TYPE_CHECKING is named: an else branch, a negated test.
    (package / "e.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    pass\nelse:\n    from .f import y\n"
    )
    (package / "f.py").write_text(
        "from typing import TYPE_CHECKING\nif not TYPE_CHECKING:\n    from .e import z\n"
    )
    # A package whose __init__ imports back the module that imports one of its submodules.
    (package / "sub").mkdir()
    (package / "sub" / "__init__.py").write_text("from ..g import w\n")
    (package / "sub" / "inner.py").write_text("")
    (package / "g.py").write_text("from .sub.inner import v\n")
    edges = graph(tmp_path)
    assert edges[f"{PACKAGE}.d"] == {f"{PACKAGE}.c"}  # the submodule, not the package
    assert edges[f"{PACKAGE}.c"] == set()
    assert edges[f"{PACKAGE}.sub.inner"] == set()  # its own package is initializing already
    assert cycles(edges) == [
        [f"{PACKAGE}.a", f"{PACKAGE}.b"],
        [f"{PACKAGE}.e", f"{PACKAGE}.f"],
        [f"{PACKAGE}.g", f"{PACKAGE}.sub"],
    ]


# Which of the integration's packages each library may import (docs/architecture.md).
ALLOWED = {
    "federation": {"federation"},
    "recordings": {"recordings"},
    # The desk holds the clips a request matched in the clip index, and reads their records.
    "consent": {"consent", "federation", "recordings.index", "recordings.models"},
}


@pytest.mark.parametrize("library", sorted(ALLOWED))
def test_each_library_imports_only_the_layers_below_it(library: str) -> None:
    prefix = f"{PACKAGE}.{library}"
    allowed = [f"{PACKAGE}.{name}" for name in ALLOWED[library]]
    # The packages above an allowed module run first (their __init__), and are allowed too.
    above = {a.rsplit(".", n)[0] for a in allowed for n in range(1, a.count(".") + 1)}
    for name, targets in graph().items():
        if name != prefix and not name.startswith(prefix + "."):
            continue
        for target in targets - above:
            assert any(target == a or target.startswith(a + ".") for a in allowed), (
                f"{name} imports {target}"
            )
