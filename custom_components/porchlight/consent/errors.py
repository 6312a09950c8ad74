"""Why the consent desk did not do what the owner asked. No Home Assistant imports.

Each error carries a stable translation key and its placeholders; Home Assistant's side
shows it translated (action_errors.CONSENT_DESK), other callers may show the key.
"""

from __future__ import annotations


class DeskError(Exception):
    """An owner's action the desk did not carry out: a translation key and its placeholders."""

    def __init__(self, key: str, **placeholders: str) -> None:
        """Name the reason (a translation key) and what the message shows."""
        super().__init__(key, placeholders)
        self.key = key
        self.placeholders = placeholders


class RefusedError(DeskError):
    """The action asks for what cannot be (an unknown request, a clip gone): nothing changed."""


class NotRecordedError(DeskError):
    """The home could not record the action (audit log, consent store): nothing was shared."""
