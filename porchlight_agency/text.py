"""Text at the terminal.

What an officer types travels in signed messages: UTF-8, no control characters. What another
instance chose (a home's name, an error code) is escaped before it is shown.
"""

from __future__ import annotations

import unicodedata


def check_typed(text: str, what: str, *, newlines: bool = False) -> str:
    """Return text if it can travel as typed; ValueError naming `what` if not.

    Bytes on the command line that are not UTF-8 arrive as lone surrogates, which no message
    can carry; control characters (but newlines where `newlines` allows them) would reach the
    homeowner's screen.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        msg = f"{what}: not UTF-8 text (check the terminal's character encoding)"
        raise ValueError(msg) from None
    for ch in text:
        if unicodedata.category(ch) == "Cc" and not (newlines and ch == "\n"):
            msg = f"{what}: control character U+{ord(ch):04X} not allowed"
            raise ValueError(msg)
    return text


def shown(text: str, limit: int = 64) -> str:
    """Text another instance chose (a home's name, an error code), safe for a terminal.

    Control and formatting characters (escape sequences, bidi overrides) are shown escaped,
    so a name cannot rewrite what the officer sees.
    """
    text = text[:limit]
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)
