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


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The integration's modules that module name imports when it runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking_only(child):
                continue
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
    edges = graph(tmp_path)
    assert edges[f"{PACKAGE}.d"] == {f"{PACKAGE}.c"}  # the submodule, not the package
    assert edges[f"{PACKAGE}.c"] == set()
    assert cycles(edges) == [[f"{PACKAGE}.a", f"{PACKAGE}.b"]]


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
    for name, targets in graph().items():
        if name != prefix and not name.startswith(prefix + "."):
            continue
        for target in targets:
            assert any(target == a or target.startswith(a + ".") for a in allowed), (
                f"{name} imports {target}"
            )
