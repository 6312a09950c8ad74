"""Service actions, registered once for the integration: recording and federation."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Final

import probatio
from homeassistant.const import ATTR_ENTITY_ID, ENTITY_MATCH_ALL
from homeassistant.core import ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_register_admin_service
from homeassistant.helpers.target import TargetSelection, async_extract_referenced_entity_ids

from .action_errors import INVITE_REDEMPTION, failed, refused, translating
from .consent_services import async_setup_consent_services
from .const import DOMAIN, SERVICE_CAPTURE_CLIP
from .data import loaded_entry
from .federation.errors import PairingCodeError
from .federation.identity import Identity
from .federation.invites import qr_image, qr_svg, token_hash
from .federation.messages import valid_url
from .local_time import local_iso
from .recordings.models import Trigger

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from homeassistant.core import HomeAssistant

    from .federation.peers import Peer
    from .federation_glue import Federation

ATTR_ENDPOINT: Final = "endpoint"
ATTR_LIFETIME_HOURS: Final = "lifetime_hours"
ATTR_INVITE: Final = "invite"
ATTR_FINGERPRINT: Final = "fingerprint"
ATTR_COMPROMISED: Final = "compromised"
ATTR_LAN: Final = "lan"
ATTR_CODE: Final = "code"


def _usable_endpoint(value: str) -> str:
    """An endpoint peers will accept in invites and pairing requests (messages.valid_url)."""
    if not valid_url(value.rstrip("/")):
        msg = "not a usable endpoint URL (host, optional port, path; nothing else)"
        raise probatio.Invalid(msg)
    return value


_ENDPOINT = probatio.All(cv.string, _usable_endpoint)
CREATE_INVITE_SCHEMA: Final = probatio.Schema(
    {
        probatio.Optional(ATTR_ENDPOINT): _ENDPOINT,
        probatio.Optional(ATTR_LIFETIME_HOURS, default=24): probatio.All(
            probatio.Coerce(int), probatio.Range(min=1, max=24)
        ),
        probatio.Optional(ATTR_LAN, default=False): cv.boolean,
    }
)
ACCEPT_INVITE_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(ATTR_INVITE): cv.string,
        probatio.Optional(ATTR_ENDPOINT): _ENDPOINT,
        probatio.Optional(ATTR_LAN, default=False): cv.boolean,
    }
)
PEER_SCHEMA: Final = probatio.Schema({probatio.Required(ATTR_FINGERPRINT): cv.string})
CONFIRM_PAIRING_SCHEMA: Final = probatio.Schema(
    {probatio.Required(ATTR_FINGERPRINT): cv.string, probatio.Optional(ATTR_CODE): cv.string}
)
ROTATE_SCHEMA: Final = probatio.Schema(
    {probatio.Optional(ATTR_COMPROMISED, default=False): cv.boolean}
)
# The standard target: entity ids (or "all"), devices, areas, floors, labels; as `target:`
# or in the data, like any entity action.
CAPTURE_CLIP_SCHEMA: Final = cv.make_entity_service_schema({})


def _federation(hass: HomeAssistant) -> Federation:
    return loaded_entry(hass).runtime_data.federation


async def _audit(hass: HomeAssistant, kind: str, *, subject: str, actor: str = "") -> None:
    """Record a change of who this home trusts in its audit log (R6.3)."""
    audit = loaded_entry(hass).runtime_data.desk.audit
    await hass.async_add_executor_job(lambda: audit.append(kind, actor=actor, subject=subject))


def _advertise(federation: Federation, endpoint: str | None) -> None:
    """Make sure the node has an endpoint: the one given, else HA's own URL."""
    federation.ensure_endpoint(endpoint)


def _peer_info(peer: Peer) -> dict[str, Any]:
    return {
        "fingerprint": peer.fingerprint,
        "name": peer.name,
        "role": peer.role,
        "trusted": peer.trusted,
        "lan": peer.lan,
        "pending": peer.pending,
        # Shown until the owner confirmed it (R3.3); not a secret, but no longer useful.
        "pairing_code": peer.pairing_code if peer.pending else None,
    }


def _find_peer(federation: Federation, fingerprint: str) -> Peer:
    key_id = fingerprint.upper().replace("-", "").replace(" ", "")
    peer = federation.node.peers.get(key_id)
    if peer is None:
        raise refused("unknown_peer", fingerprint=fingerprint)
    return peer


def _qr_codes(text: str) -> tuple[str, bytes]:
    """The invite's QR code inline (for the response) and as an SVG document (for qr_url)."""
    return qr_svg(text), qr_image(text)


async def _create_invite(call: ServiceCall) -> ServiceResponse:
    federation = _federation(call.hass)
    _advertise(federation, call.data.get(ATTR_ENDPOINT))
    invite = federation.node.create_invite(
        lifetime=call.data[ATTR_LIFETIME_HOURS] * 3600, lan=call.data[ATTR_LAN]
    )
    text = invite.to_text()
    # The token's hash, never the token: the log must not hold anything that pairs.
    await _audit(call.hass, "invite_created", subject=token_hash(invite.token))
    warnings = await federation.async_check_endpoint(invite.endpoint, lan=call.data[ATTR_LAN])
    # Drawing the QR codes takes a tenth of a second of CPU: asyncio's debug mode (and
    # the homeowner's event loop) would notice it in the loop.
    svg, image = await call.hass.async_add_executor_job(_qr_codes, text)
    return {
        "invite": text,
        "qr_svg": svg,
        # An image the frontend shows (Markdown card, <img>): the QR code as SVG, signed.
        "qr_url": federation.qr_url(image, invite.expires),
        "fingerprint": federation.node.identity.fingerprint,
        "expires": local_iso(invite.expires),
        "warnings": warnings,
    }


async def _accept_invite(call: ServiceCall) -> ServiceResponse:
    federation = _federation(call.hass)
    _advertise(federation, call.data.get(ATTR_ENDPOINT))
    with translating(INVITE_REDEMPTION):
        peer = await federation.node.accept_invite(
            call.data[ATTR_INVITE], federation.sender, lan=call.data[ATTR_LAN]
        )
    await _audit(call.hass, "peer_paired", subject=peer.keyid)
    return {"peer": _peer_info(peer)}


def _set_agency_trust(*, trusted: bool) -> Callable[[ServiceCall], Coroutine[Any, Any, None]]:
    async def handler(call: ServiceCall) -> None:
        federation = _federation(call.hass)
        peer = _find_peer(federation, call.data[ATTR_FINGERPRINT])
        if peer.role != "agency":
            raise refused("not_an_agency", fingerprint=peer.fingerprint)
        federation.node.peers.set_trusted(peer.keyid, trusted=trusted)
        federation.changed("state")
        kind = "agency_trusted" if trusted else "agency_untrusted"
        await _audit(call.hass, kind, subject=peer.keyid)

    return handler


async def _confirm_pairing(call: ServiceCall) -> ServiceResponse:
    federation = _federation(call.hass)
    peer = _find_peer(federation, call.data[ATTR_FINGERPRINT])
    try:
        confirmed = federation.node.confirm_pairing(peer.keyid, call.data.get(ATTR_CODE))
    except PairingCodeError as err:
        raise refused("pairing_code_mismatch", fingerprint=peer.fingerprint) from err
    await _audit(call.hass, "peer_confirmed", subject=peer.keyid)
    return {"peer": _peer_info(confirmed)}


async def _list_peers(call: ServiceCall) -> ServiceResponse:
    federation = _federation(call.hass)
    return {"peers": [_peer_info(peer) for peer in federation.node.peers]}


async def _remove_peer(call: ServiceCall) -> None:
    federation = _federation(call.hass)
    peer = _find_peer(federation, call.data[ATTR_FINGERPRINT])
    federation.node.peers.remove(peer.keyid)
    federation.node.outbox.drop_peer(peer.keyid)
    federation.changed("state")
    federation.changed("outbox")
    await _audit(call.hass, "peer_removed", subject=peer.keyid)


async def _rotate_key(call: ServiceCall) -> ServiceResponse:
    entry = loaded_entry(call.hass)
    federation = _federation(call.hass)
    data = entry.runtime_data
    async with data.rotating:
        old, new = data.identity, Identity.generate()
        audit = data.desk.audit
        # The audit log hands over first, signed by the old key while it is still ours.
        await call.hass.async_add_executor_job(audit.rotate_key, new)
        try:
            await federation.async_rotate(
                new, data.key_path, compromised=call.data[ATTR_COMPROMISED]
            )
        except OSError as err:
            # The key file could not be replaced: the home keeps its key, and the log hands
            # back to it, so both still agree on who signs.
            await call.hass.async_add_executor_job(audit.rotate_key, old)
            raise failed("rotation_failed", error=str(err)) from err
        data.identity = new
    # The home device shows the fingerprint owners compare; it follows the new key.
    dr.async_get(call.hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        serial_number=new.fingerprint,
    )
    return {"fingerprint": new.fingerprint}


async def _capture_clip(call: ServiceCall) -> None:
    recorder = loaded_entry(call.hass).runtime_data.recorder
    recorded = recorder.recorders
    if call.data.get(ATTR_ENTITY_ID) == ENTITY_MATCH_ALL:
        cameras = list(recorded)
    else:
        selected = async_extract_referenced_entity_ids(call.hass, TargetSelection(call.data))
        # A camera named outright must be one Porchlight records; a device, area or label
        # may hold other entities (and cameras recorded elsewhere): those are passed over.
        unknown = sorted(c for c in selected.referenced if c not in recorded)
        if unknown:
            raise refused("camera_not_recorded", cameras=", ".join(unknown))
        cameras = sorted(selected.referenced | (selected.indirectly_referenced & set(recorded)))
    if not cameras:
        raise refused("no_recorded_camera")
    for camera in cameras:
        recorder.trigger(camera, Trigger.MANUAL)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every Porchlight service action (once, from async_setup).

    Every one of them is the owner's: they change what the home records, trusts or shares, or
    name its peers. Admin-only registration refuses other Home Assistant users (a household
    member, a dashboard tablet) with `Unauthorized`; automations run with no user and pass.
    """
    register = partial(async_register_admin_service, hass)
    register(DOMAIN, SERVICE_CAPTURE_CLIP, _capture_clip, schema=CAPTURE_CLIP_SCHEMA)
    register(
        DOMAIN,
        "create_invite",
        _create_invite,
        schema=CREATE_INVITE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    register(
        DOMAIN,
        "accept_invite",
        _accept_invite,
        schema=ACCEPT_INVITE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register(DOMAIN, "trust_agency", _set_agency_trust(trusted=True), schema=PEER_SCHEMA)
    register(DOMAIN, "untrust_agency", _set_agency_trust(trusted=False), schema=PEER_SCHEMA)
    register(DOMAIN, "remove_peer", _remove_peer, schema=PEER_SCHEMA)
    register(
        DOMAIN,
        "confirm_pairing",
        _confirm_pairing,
        schema=CONFIRM_PAIRING_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register(
        DOMAIN,
        "list_peers",
        _list_peers,
        schema=probatio.Schema({}),
        supports_response=SupportsResponse.ONLY,
    )
    register(
        DOMAIN,
        "rotate_key",
        _rotate_key,
        schema=ROTATE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_setup_consent_services(hass)
