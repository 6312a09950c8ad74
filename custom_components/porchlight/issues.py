"""Porchlight's repair issues: raised when something needs the owner, cleared when it is over.

Every issue is Porchlight's own (domain `porchlight`), not fixable from the Repairs dashboard
(the owner fixes the cause: a camera, a port, the clock), and translated from strings.json's
`issues`. Raising an issue again replaces it; clearing one that is not there does nothing.

Not named `repairs.py`: Home Assistant loads an integration's `repairs` module as its repairs
platform, which must offer `async_create_fix_flow`; Porchlight has no fix flows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import HomeAssistant

# How urgent an issue is (Home Assistant's scale), so callers need not import the registry.
Severity = ir.IssueSeverity


def raise_issue(
    hass: HomeAssistant,
    issue_id: str,
    key: str,
    placeholders: Mapping[str, str],
    *,
    severity: Severity,
) -> None:
    """Show (or update) the issue issue_id, with the text of translation key and placeholders."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=severity,
        translation_key=key,
        translation_placeholders=dict(placeholders),
    )


def clear_issue(hass: HomeAssistant, *issue_ids: str) -> None:
    """Remove the issues, those that are shown."""
    for issue_id in issue_ids:
        ir.async_delete_issue(hass, DOMAIN, issue_id)


def issue_ids(hass: HomeAssistant, prefix: str) -> list[str]:
    """The ids of Porchlight's issues shown now that start with prefix."""
    return [
        issue_id
        for domain, issue_id in ir.async_get(hass).issues
        if domain == DOMAIN and issue_id.startswith(prefix)
    ]


def move_issue(hass: HomeAssistant, old_id: str, new_id: str, **placeholders: str) -> None:
    """Show the shown issue old_id as new_id instead, placeholders updated with those given.

    One the owner ignored stays ignored: moving it must not bring it back.
    """
    issue = ir.async_get(hass).issues[(DOMAIN, old_id)]
    key, severity = issue.translation_key, issue.severity
    # raise_issue sets both.
    assert key is not None  # noqa: S101
    assert severity is not None  # noqa: S101
    raise_issue(
        hass,
        new_id,
        key,
        {**(issue.translation_placeholders or {}), **placeholders},
        severity=severity,
    )
    if issue.dismissed_version is not None:
        ir.async_ignore_issue(hass, DOMAIN, new_id, ignore=True)
    clear_issue(hass, old_id)
