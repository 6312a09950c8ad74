"""The panel's and card's text: every key the TypeScript sources use is in en.json, none unused.

The sources call ``t("key", {...})`` with a literal key (so this check can see every key), and
every other language file has the same keys with the same placeholders as English.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "frontend" / "src"
TRANSLATIONS = ROOT / "custom_components" / "porchlight" / "frontend" / "translations"

# Calls of the translator, not the getter that defines it (`get t(): Translate`).
T_CALL = re.compile(r"(?<!get )\bt\(")
T_LITERAL = re.compile(r'\bt\(\s*"([a-z0-9_]+)"')
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _sources() -> dict[Path, str]:
    files = {path: path.read_text(encoding="utf-8") for path in sorted(SOURCES.glob("*.ts"))}
    assert files, f"no TypeScript sources under {SOURCES}"
    return files


def _used_keys() -> set[str]:
    return {key for text in _sources().values() for key in T_LITERAL.findall(text)}


def _language(name: str) -> dict[str, str]:
    strings = json.loads((TRANSLATIONS / f"{name}.json").read_text(encoding="utf-8"))
    assert isinstance(strings, dict)
    return strings


def test_every_translation_call_has_a_literal_key() -> None:
    """A computed key would hide from the checks below, so there must be none."""
    for path, text in _sources().items():
        assert len(T_CALL.findall(text)) == len(T_LITERAL.findall(text)), (
            f"{path.name}: a t(...) call without a literal key"
        )


def test_every_used_key_exists_in_english() -> None:
    missing = _used_keys() - set(_language("en"))
    assert not missing, f"keys used in frontend/src but missing from en.json: {sorted(missing)}"


def test_no_english_key_is_unused() -> None:
    unused = set(_language("en")) - _used_keys()
    assert not unused, f"keys in en.json that no source uses: {sorted(unused)}"


def test_every_language_has_the_same_keys_and_placeholders() -> None:
    english = _language("en")
    for path in sorted(TRANSLATIONS.glob("*.json")):
        other = _language(path.stem)
        assert set(other) == set(english), f"{path.name} has different keys than en.json"
        for key, text in english.items():
            assert set(PLACEHOLDER.findall(other[key])) == set(PLACEHOLDER.findall(text)), (
                f"{path.name}: {key} has different placeholders"
            )


def test_english_texts_are_not_empty() -> None:
    assert all(text.strip() for text in _language("en").values())
