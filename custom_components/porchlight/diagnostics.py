"""Diagnostics: what a bug report may show, with the home's location and name removed."""

from __future__ import annotations

import stat
from collections import Counter
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_LATITUDE, CONF_LONGITUDE

from .consent.transparency import home_digest
from .const import CONF_HOME_NAME, CONF_LOCATION
from .federation.identity import grouped

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .data import PorchlightConfigEntry, PorchlightData

# Diagnostics get pasted into public bug reports: nothing that locates or names the home.
TO_REDACT = {CONF_HOME_NAME, CONF_LOCATION, CONF_LATITUDE, CONF_LONGITUDE, "title"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PorchlightConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    data = entry.runtime_data
    mode = await hass.async_add_executor_job(lambda: stat.S_IMODE(data.key_path.stat().st_mode))
    return {
        "entry": async_redact_data(
            {
                "title": entry.title,
                "version": f"{entry.version}.{entry.minor_version}",
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            TO_REDACT,
        ),
        # The fingerprint is public by design (neighbors compare it aloud); the private key
        # is never part of diagnostics.
        "identity": {"fingerprint": data.identity.fingerprint, "key_file_mode": f"{mode:04o}"},
        "cameras": list(data.cameras),
        "federation": federation_diagnostics(data),
        "requests": await hass.async_add_executor_job(request_diagnostics, data),
        # This week's signed counts per agency, as neighbors would verify them: counts and
        # agency keyids only (consent/transparency.py).
        "transparency_digest": await hass.async_add_executor_job(transparency_digest, data),
        # The neighborhood's sums with the signed digests they add up (digest_glue.py), so
        # anyone holding the homes' public keys can recompute them (verify_aggregate).
        "neighborhood_digest": await neighborhood_digest(data),
    }


async def neighborhood_digest(data: PorchlightData) -> dict[str, Any]:
    """Last week's and this week's aggregates, freshly summed, with their digests."""
    digests = data.federation.digests
    if digests is None:
        return {}
    await digests.async_refresh()
    return {
        name: summed.to_json()
        for name, summed in (("last_week", digests.last_week), ("this_week", digests.this_week))
        if summed is not None
    }


def request_diagnostics(data: PorchlightData) -> dict[str, Any]:
    """Counts only: how many requests ended how, and the shares' states (blocking)."""
    requests = data.desk.store.requests()
    shares = data.desk.store.shares()
    report = data.desk.audit.last_report
    return {
        "by_state": dict(sorted(Counter(r.state.value for r in requests).items())),
        "shares": dict(sorted(Counter(s.state.value for s in shares).items())),
        "audit_ok_at_start": report.ok if report is not None else None,
    }


def transparency_digest(data: PorchlightData) -> dict[str, Any]:
    """The home's digest of the current week, signed (blocking: reads the consent store)."""
    now = data.federation.node.clock.now()
    return home_digest(data.identity, data.desk.store.requests(), now)


def federation_diagnostics(data: PorchlightData) -> dict[str, Any]:
    """Peers by public fingerprint; names and endpoints (which may locate a home) redacted."""
    node = data.federation.node
    listener = data.federation.listener
    return {
        "endpoints": [REDACTED for _ in node.endpoints],
        "federation_port": listener.port if listener is not None else None,
        "key_seq": node.key_seq,
        "peers": [
            {
                "fingerprint": peer.fingerprint,
                "role": peer.role,
                "trusted": peer.trusted,
                "name": REDACTED,
                "endpoint": REDACTED,
                "key_seq": peer.key_seq,
                "retired_keys": len(peer.retired_keys),
            }
            for peer in node.peers
        ],
        "revoked_keys": len(node.peers.revoked),
        "vouches": [{"agency": grouped(v.agency), "by": grouped(v.by)} for v in node.peers.vouches],
        "invites": len(node.invites),
        "outbox": len(node.outbox),
    }
