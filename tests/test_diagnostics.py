"""Diagnostics redact the home's location and name and never include the private key."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.porchlight.federation.digest import (
    period_of,
    verify_aggregate,
    verify_digest,
)
from custom_components.porchlight.federation.identity import Identity

from .home import HOME

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
    from syrupy.assertion import SnapshotAssertion

# A fixed key so the fingerprint in the snapshot is stable.
FIXED_KEY = Identity(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    cameras: list[str],
    mock_config_entry: MockConfigEntry,
    key_path: Path,
    snapshot: SnapshotAssertion,
) -> None:
    key_path.parent.mkdir(parents=True)
    key_path.write_bytes(FIXED_KEY.to_pem())
    key_path.chmod(0o600)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)

    # The digest names the current week: checked here, not in the snapshot.
    digest = verify_digest(diagnostics.pop("transparency_digest"))
    assert (digest.period, digest.home, digest.counts) == (
        period_of(int(time.time())),
        FIXED_KEY.keyid,
        {},
    )
    # The neighborhood's sums (this home alone here) verify against the home's own key.
    neighborhood = diagnostics.pop("neighborhood_digest")
    keys = {FIXED_KEY.keyid: FIXED_KEY.public_key}
    for week in ("last_week", "this_week"):
        summed = verify_aggregate(
            neighborhood[week]["aggregate"], neighborhood[week]["digests"], keys=keys
        )
        assert summed.homes == 1
    assert diagnostics == snapshot
    text = json.dumps(diagnostics)
    for secret in (str(HOME["latitude"]), str(HOME["longitude"]), "Maple Street"):
        assert secret not in text
    assert "PRIVATE KEY" not in text
    assert FIXED_KEY.to_pem().decode() not in text
