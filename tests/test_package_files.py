"""The files HACS, hassfest and the frontend read are well-formed (checks they would make)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PKG = "custom_components.porchlight"
PACKAGE = ROOT / "custom_components" / "porchlight"
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_manifest_keys_sorted_as_hassfest_wants() -> None:
    manifest = _load(PACKAGE / "manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == PACKAGE.name
    for key in ("codeowners", "documentation", "issue_tracker", "version", "iot_class"):
        assert manifest[key], key
    assert manifest["documentation"].startswith("https://")


def test_manifest_version_matches_project_version() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{_load(PACKAGE / "manifest.json")["version"]}"' in pyproject


def test_hacs_json_uses_only_accepted_keys() -> None:
    hacs = _load(ROOT / "hacs.json")
    assert set(hacs) <= HACS_KEYS
    assert hacs["name"] == "Porchlight"
    year, month, _ = (int(part) for part in hacs["homeassistant"].split("."))
    # Local brand images (custom_components/porchlight/brand) need 2026.3 or newer.
    assert (year, month) >= (2026, 3)
    assert (PACKAGE / "brand" / "icon.png").is_file()


def test_hacs_minimum_is_the_home_assistant_the_tests_run_on() -> None:
    # HACS offers the integration to every Home Assistant from this version on; the only one
    # the suite runs against is the one uv.lock pins. Claiming an older one would promise
    # what nobody checked (2026.10 already imports probatio, for one).
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    tested = {p["version"] for p in lock["package"] if p["name"] == "homeassistant"}
    assert tested == {_load(ROOT / "hacs.json")["homeassistant"]}


def test_translations_are_the_strings_file() -> None:
    # Custom integrations must ship translations/en.json; strings.json is kept identical for
    # tooling that reads it.
    assert _load(PACKAGE / "strings.json") == _load(PACKAGE / "translations" / "en.json")


def test_every_form_field_has_a_description() -> None:
    strings = _load(PACKAGE / "translations" / "en.json")
    steps = [
        *strings["config"]["step"].values(),
        *strings["options"]["step"].values(),
    ]
    assert steps
    for step in steps:
        assert set(step["data"]) == set(step["data_description"]), step["title"]


def test_no_urls_in_translations() -> None:
    # hassfest refuses URLs in strings; they belong in description placeholders.
    text = (PACKAGE / "translations" / "en.json").read_text(encoding="utf-8")
    assert "http://" not in text
    assert "https://" not in text


def test_quality_scale_lists_every_rule_with_a_status() -> None:
    rules = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text(encoding="utf-8"))["rules"]
    assert len(rules) >= 50
    for name, rule in rules.items():
        status = rule if isinstance(rule, str) else rule["status"]
        assert status in {"done", "todo", "exempt"}, name
        if status == "exempt":
            assert rule["comment"], name


def _modules(folder: Path) -> list[str]:
    """Every module of a package folder, found by its files (so new modules are covered)."""
    return [
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in sorted(folder.rglob("*.py"))
    ]


def test_libraries_import_without_home_assistant() -> None:
    # The agency CLI, the demo and the benchmarks use these on machines without HA.
    folders = [PACKAGE / "federation", PACKAGE / "consent", PACKAGE / "recorder"]
    modules = [
        name for folder in [*folders, ROOT / "porchlight_agency"] for name in _modules(folder)
    ]
    assert "custom_components.porchlight.consent.store" in modules
    assert "porchlight_agency.commands.setup" in modules  # subpackages too
    # A fresh interpreter imports them one by one and names the first that brought HA in.
    code = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        "    if [m for m in sys.modules if m.partition('.')[0] == 'homeassistant']:\n"
        "        sys.exit(f'{name} imports Home Assistant')\n"
    )
    subprocess.run([sys.executable, "-c", code, *modules], cwd=ROOT, check=True, timeout=120)


def test_home_assistant_finds_the_entry_points() -> None:
    import custom_components.porchlight as package  # noqa: PLC0415

    for name in package.__all__:
        assert callable(getattr(package, name)) or name in {"CONFIG_SCHEMA", "PLATFORMS"}
    with pytest.raises(AttributeError, match="no attribute 'async_migrate_entry'"):
        _ = package.async_migrate_entry  # type: ignore[attr-defined]


def test_without_home_assistant_the_entry_points_load_on_first_access(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The package as the agency CLI imports it: no hass running in the process, so entry.py
    # is not imported with it, only when an entry point is asked for.
    from custom_components.porchlight import entry  # noqa: PLC0415

    monkeypatch.delitem(sys.modules, "homeassistant.core")
    # Both the module table and the parent package's attribute get the original back.
    monkeypatch.setattr(sys.modules["custom_components"], "porchlight", sys.modules[PKG])
    monkeypatch.delitem(sys.modules, PKG)
    import custom_components.porchlight as package  # noqa: PLC0415

    assert "async_setup_entry" not in vars(package)
    assert package.async_setup_entry is entry.async_setup_entry


def test_links_are_called_single_use_only_with_the_default_said() -> None:
    # A link allows as many complete downloads as the owner chose in the options (one by
    # default, at most three): "single-use" is true only of the default, so every text that
    # says it must say so.
    texts = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), PACKAGE / "strings.json"]
    for path in texts:
        flat = " ".join(path.read_text(encoding="utf-8").split())
        for sentence in re.split(r"(?<=[.;])\s", flat):
            # (Invites are single-use too, always: only links are meant here.)
            if re.search(r"single[- ]use", sentence, re.IGNORECASE) and "link" in sentence:
                assert "default" in sentence, f"{path.name}: {sentence}"
