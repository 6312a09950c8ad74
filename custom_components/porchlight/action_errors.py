"""What the owner sees when a Porchlight action cannot do what was asked: translated errors.

Two kinds, as Home Assistant means them:
- `refused(key, ...)`: a `ServiceValidationError`, the call itself is wrong (an unknown peer, a
  malformed invite); shown to the caller, no traceback in the log.
- `failed(key, ...)`: a `HomeAssistantError`, the call was right but could not be carried out
  (a peer unreachable, a file that cannot be written).
Every key is one of strings.json's `exceptions`; placeholders are always strings.

The library errors an action may meet are mapped here too, one table per action (the same
error can mean different things: a malformed invite is `invite_malformed` when redeeming a
neighbor's invite, `invite_not_agency` when importing an agency's). An action wraps the library
call in `translating(TABLE)`; the first entry whose error type matches wins, as in a chain of
`except` clauses, so subclasses come before their bases. Errors no entry names pass unchanged.

The consent desk's own errors (consent/errors.py) carry their translation key and
placeholders; `CONSENT_DESK` shows them, for every consent action.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .consent.errors import NotRecordedError, RefusedError
from .const import DOMAIN
from .federation.errors import (
    DestinationRefusedError,
    InviteGoneError,
    InviteInvalidError,
    InviteMalformedError,
    PeerRefusedError,
    PeerUnreachableError,
    ProtocolError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence


def refused(key: str, **placeholders: str) -> ServiceValidationError:
    """The owner's call cannot be accepted as made: the translated reason."""
    return _translated(ServiceValidationError, key, placeholders)


def failed(key: str, **placeholders: str) -> HomeAssistantError:
    """The owner's call could not be carried out: the translated reason."""
    return _translated(HomeAssistantError, key, placeholders)


def _translated[T: HomeAssistantError](kind: type[T], key: str, placeholders: dict[str, str]) -> T:
    # None, not {}, without placeholders: what the actions raised before this module.
    return kind(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


@dataclass(frozen=True, slots=True)
class Translation[E: Exception]:
    """One library error (or several) and the error the owner sees instead."""

    error: type[E] | tuple[type[E], ...]
    shown: Callable[[E], HomeAssistantError]


type Translations = Sequence[Translation[Any]]


@contextmanager
def translating(translations: Translations) -> Iterator[None]:
    """Raise the owner's error for a library error met inside, from it (the cause kept)."""
    try:
        yield
    except Exception as err:
        for translation in translations:
            if isinstance(err, translation.error):
                raise translation.shown(err) from err
        raise


# Redeeming a neighbor's invite (accept_invite): the invite, then the peer that issued it.
INVITE_REDEMPTION: Final[Translations] = (
    Translation(InviteMalformedError, lambda _: refused("invite_malformed")),
    Translation(InviteGoneError, lambda _: refused("invite_expired")),
    # A subclass of PeerUnreachableError: the owner named an address, nothing was sent.
    Translation(DestinationRefusedError, lambda _: refused("destination_refused")),
    Translation(PeerUnreachableError, lambda _: failed("peer_unreachable")),
    Translation(
        PeerRefusedError,
        lambda err: failed("peer_refused", status=str(err.status), code=err.code),
    ),
    Translation(ProtocolError, lambda err: failed("pairing_failed", code=err.code)),
)

# Importing an agency's invite (import_agency): whatever is wrong with it, it is not one.
AGENCY_IMPORT: Final[Translations] = (
    Translation((InviteMalformedError, InviteInvalidError), lambda _: refused("invite_not_agency")),
)

# The consent actions (approve, decline, revoke, retry): the desk names its reason itself.
CONSENT_DESK: Final[Translations] = (
    Translation(RefusedError, lambda err: refused(err.key, **err.placeholders)),
    Translation(NotRecordedError, lambda err: failed(err.key, **err.placeholders)),
)
