"""Service actions, registered once for the integration: recording and federation."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Final

import probatio
from homeassistant.const import ATTR_ENTITY_ID, ENTITY_MATCH_ALL
from homeassistant.core import ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_register_admin_service
from homeassistant.helpers.target import TargetSelection, async_extract_referenced_entity_ids

from . import owner_actions
from .action_errors import failed, refused
from .consent_services import async_setup_consent_services, through_service
from .const import DOMAIN, SERVICE_CAPTURE_CLIP
from .data import loaded_entry
from .federation.identity import Identity
from .federation.messages import ALERT_CATEGORIES, ALERT_MAX_CLIPS, MAX_HOPS, valid_url
from .recordings.models import Trigger

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

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
POST_ALERT_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required("text"): probatio.All(
            cv.string, probatio.Strip, probatio.Length(min=1, max=500)
        ),
        probatio.Optional("category", default="other"): probatio.In(sorted(ALERT_CATEGORIES)),
        probatio.Optional("show_name", default=False): cv.boolean,
        probatio.Optional("max_hops", default=1): probatio.All(
            probatio.Coerce(int), probatio.Range(min=0, max=MAX_HOPS)
        ),
        probatio.Optional("clips", default=list): probatio.All(
            cv.ensure_list, [cv.string], probatio.Length(max=ALERT_MAX_CLIPS)
        ),
    }
)
ALERT_CLIPS_SCHEMA: Final = probatio.Schema({probatio.Required("event_id"): cv.string})
MUTE_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(ATTR_FINGERPRINT): cv.string,
        probatio.Optional("muted", default=True): cv.boolean,
    }
)
# The standard target: entity ids (or "all"), devices, areas, floors, labels; as `target:`
# or in the data, like any entity action.
CAPTURE_CLIP_SCHEMA: Final = cv.make_entity_service_schema({})


def _federation(hass: HomeAssistant) -> Federation:
    return loaded_entry(hass).runtime_data.federation


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
        through_service(owner_actions.create_invite),
        schema=CREATE_INVITE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    register(
        DOMAIN,
        "accept_invite",
        through_service(owner_actions.accept_invite),
        schema=ACCEPT_INVITE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register(
        DOMAIN, "trust_agency", through_service(owner_actions.trust_agency), schema=PEER_SCHEMA
    )
    register(
        DOMAIN, "untrust_agency", through_service(owner_actions.untrust_agency), schema=PEER_SCHEMA
    )
    register(DOMAIN, "remove_peer", through_service(owner_actions.remove_peer), schema=PEER_SCHEMA)
    register(
        DOMAIN,
        "confirm_pairing",
        through_service(owner_actions.confirm_pairing),
        schema=CONFIRM_PAIRING_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register(
        DOMAIN,
        "list_peers",
        through_service(owner_actions.list_peers),
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
    register(
        DOMAIN,
        "post_alert",
        through_service(owner_actions.post_alert),
        schema=POST_ALERT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register(
        DOMAIN,
        "alert_clips",
        through_service(owner_actions.alert_clips),
        schema=ALERT_CLIPS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    register(
        DOMAIN, "mute_neighbor", through_service(owner_actions.mute_neighbor), schema=MUTE_SCHEMA
    )
    async_setup_consent_services(hass)
