"""The buttons of a request's phone notification: ids only this home can make.

The actionable-request blueprint puts a *Share all* and a *Decline* button on the Companion
app's notification; a tap fires `mobile_app_notification_action` with the button's id, and
the blueprint hands that id to `porchlight.notification_action`. Anyone with a registered
phone can fire that event with any id, and a request's id is no secret (the request event
entity shows it to every user), so a button's id also carries a token derived from the
home's identity key and the request id: only the `porchlight_request` bus event (which only
administrators and automations see) and the notification itself hold it. An id that does
not carry the right token is refused, and nothing is shared.

The token is a hash of an Ed25519 signature, which is deterministic: the same request always
gets the same buttons, after a restart too, and no secret needs storing. A key rotation
changes them; a notification from before it then opens the panel instead (docs/automations.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable

PREFIX: Final = "PORCHLIGHT"
SHARE: Final = "SHARE"
DECLINE: Final = "DECLINE"
_ID: Final = re.compile(rf"{PREFIX}_({SHARE}|{DECLINE})_([0-9a-f]{{64}})_([0-9a-f]{{32}})")
_CONTEXT: Final = b"porchlight notification action\x00"


def token(sign: Callable[[bytes], bytes], verb: str, request_id: str) -> str:
    """The token of one button of one request (hex, 128 bits)."""
    signature = sign(_CONTEXT + f"{verb}\x00{request_id}".encode())
    return hashlib.sha256(signature).hexdigest()[:32]


def action_ids(sign: Callable[[bytes], bytes], request_id: str) -> dict[str, str]:
    """The ids of a request's Share all and Decline buttons."""
    return {
        verb.lower(): f"{PREFIX}_{verb}_{request_id}_{token(sign, verb, request_id)}"
        for verb in (SHARE, DECLINE)
    }


def parse(sign: Callable[[bytes], bytes], action: str) -> tuple[str, str] | None:
    """(verb, request id) of a button this home made, else None."""
    found = _ID.fullmatch(action)
    if found is None:
        return None
    verb, request_id, given = found.groups()
    if not hmac.compare_digest(given, token(sign, verb, request_id)):
        return None
    return verb, request_id
