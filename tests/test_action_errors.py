"""Library errors become the owner's translated errors, exactly as each action promised."""

from __future__ import annotations

import pytest
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from custom_components.porchlight.action_errors import (
    AGENCY_IMPORT,
    INVITE_REDEMPTION,
    Translations,
    translating,
)
from custom_components.porchlight.const import DOMAIN
from custom_components.porchlight.federation.errors import (
    DestinationRefusedError,
    InviteGoneError,
    InviteInvalidError,
    InviteMalformedError,
    PeerRefusedError,
    PeerUnreachableError,
    UnknownKeyError,
)


def _shown(translations: Translations, error: Exception) -> tuple[type, str, object]:
    with pytest.raises(HomeAssistantError) as raised, translating(translations):
        raise error
    shown = raised.value
    assert shown.__cause__ is error
    assert shown.translation_domain == DOMAIN
    return type(shown), str(shown.translation_key), shown.translation_placeholders


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (InviteMalformedError(), (ServiceValidationError, "invite_malformed", None)),
        (InviteGoneError(), (ServiceValidationError, "invite_expired", None)),
        # Before its base class: an address refused is the owner's to fix, not the peer's.
        (DestinationRefusedError(), (ServiceValidationError, "destination_refused", None)),
        (PeerUnreachableError(), (HomeAssistantError, "peer_unreachable", None)),
        (
            PeerRefusedError(403, "untrusted"),
            (HomeAssistantError, "peer_refused", {"status": "403", "code": "untrusted"}),
        ),
        (InviteInvalidError(), (HomeAssistantError, "pairing_failed", {"code": "invite_invalid"})),
        (UnknownKeyError(), (HomeAssistantError, "pairing_failed", {"code": "unknown_key"})),
    ],
)
def test_invite_redemption_errors(error: Exception, expected: tuple[type, str, object]) -> None:
    assert _shown(INVITE_REDEMPTION, error) == expected


@pytest.mark.parametrize("error", [InviteMalformedError(), InviteInvalidError()])
def test_agency_import_errors(error: Exception) -> None:
    assert _shown(AGENCY_IMPORT, error) == (ServiceValidationError, "invite_not_agency", None)


def test_an_error_no_entry_names_passes_unchanged() -> None:
    error = InviteGoneError()
    with pytest.raises(InviteGoneError) as raised, translating(AGENCY_IMPORT):
        raise error
    assert raised.value is error
