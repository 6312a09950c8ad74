"""The federation package as a library: one public API, typed, usable without segno."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from custom_components.porchlight import federation
from custom_components.porchlight.federation import (
    Identity,
    Invite,
    QRUnavailableError,
    qr_svg,
)
from custom_components.porchlight.federation.invites import qr_text

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "custom_components" / "porchlight" / "federation"
AGENCY = ROOT / "porchlight_agency"
NO_SEGNO = "import sys\nsys.modules['segno'] = None  # as if segno were not installed\n"


def _invite_text() -> str:
    identity = Identity.generate()
    invite = Invite(
        "https://home.example/api",
        identity.public_key,
        "neighbor",
        "Maple",
        "AAECAwQFBgcICQoLDA0ODw",
        1,
    )
    return invite.to_text()


def test_every_public_name_exists() -> None:
    assert len(set(federation.__all__)) == len(federation.__all__)
    for name in federation.__all__:
        assert hasattr(federation, name), name


def test_the_package_is_marked_typed() -> None:
    # PEP 561: without the marker, mypy treats an installed copy as untyped.
    assert (PACKAGE / "py.typed").is_file()


def _federation_imports(path: Path) -> list[str]:
    """The federation imports of one source file that go around the public API."""
    wrong = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == federation.__name__:
                # A name that is not public is a submodule, or a private name.
                wrong += [
                    f"{path.name}:{node.lineno} {alias.name}"
                    for alias in node.names
                    if alias.name not in federation.__all__
                ]
            modules = [node.module]
        else:
            continue
        wrong += [
            f"{path.name}:{node.lineno} {module}"
            for module in modules
            if module.startswith(f"{federation.__name__}.")
        ]
    return wrong


def test_agency_cli_uses_only_the_public_api() -> None:
    sources = sorted(AGENCY.rglob("*.py"))
    assert AGENCY / "cli.py" in sources
    assert [line for path in sources for line in _federation_imports(path)] == []


def test_the_import_check_sees_submodule_imports(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "import custom_components.porchlight.federation.node\n"
        "from custom_components.porchlight.federation.invites import Invite\n"
        "from custom_components.porchlight.federation import canonical, Node\n"
        "from . import federation\n"
        "import os\n",
        encoding="utf-8",
    )
    assert _federation_imports(source) == [
        "sample.py:1 custom_components.porchlight.federation.node",
        "sample.py:2 custom_components.porchlight.federation.invites",
        "sample.py:3 canonical",
    ]


def test_a_submodule_imports_first_without_a_cycle() -> None:
    # Importing any submodule runs __init__ first, which imports them all: no cycle may break it.
    code = f"import {federation.__name__}.canonical"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_qr_code_without_segno_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "segno", None)
    text = _invite_text()
    with pytest.raises(QRUnavailableError, match="segno"):
        qr_svg(text)
    with pytest.raises(QRUnavailableError, match="segno"):
        qr_text(text)
    assert Invite.from_text(text).name == "Maple"  # the text invite needs no QR code


def test_library_works_without_segno() -> None:
    code = NO_SEGNO + (
        "import pkgutil, custom_components.porchlight.federation as f\n"
        "for m in pkgutil.iter_modules(f.__path__):\n"
        "    __import__(f'{f.__name__}.{m.name}')\n"
        "i = f.Identity.generate()\n"
        "text = f.Invite('https://h.example/api', i.public_key, 'neighbor', 'M',"
        " 'AAECAwQFBgcICQoLDA0ODw',"
        " 1)"
        ".to_text()\n"
        "assert f.Invite.from_text(text).name == 'M'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
