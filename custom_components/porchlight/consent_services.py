"""Service actions for footage requests: import an agency, approve, decline, revoke, audit."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Final

import probatio
from homeassistant.core import ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.service import async_register_admin_service

from .action_errors import AGENCY_IMPORT, CONSENT_DESK, failed, translating
from .consent.audit import AuditError
from .consent_glue import shown_candidate
from .const import DOMAIN
from .data import loaded_entry
from .local_time import local_iso

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .consent.desk import ConsentDesk
    from .data import PorchlightData

ATTR_REQUEST: Final = "request_id"
ATTR_CLIPS: Final = "clip_ids"
ATTR_INVITE: Final = "invite"
ATTR_LAN: Final = "lan"
MAX_CLIPS_PER_OFFER: Final = 50

APPROVE_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(ATTR_REQUEST): cv.string,
        # One offer carries at most MAX_CLIPS_PER_OFFER links and manifest entries, which
        # keeps it well inside the agency's 64 KiB message limit; approve more in turns.
        probatio.Required(ATTR_CLIPS): probatio.All(
            cv.ensure_list, [cv.string], probatio.Length(min=1, max=MAX_CLIPS_PER_OFFER)
        ),
    }
)
DECLINE_SCHEMA: Final = probatio.Schema({probatio.Required(ATTR_REQUEST): cv.string})
RETRY_SCHEMA: Final = DECLINE_SCHEMA
REVOKE_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(ATTR_REQUEST): cv.string,
        probatio.Optional(ATTR_CLIPS): probatio.All(cv.ensure_list, [cv.string]),
    }
)
IMPORT_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(ATTR_INVITE): cv.string,
        # Left out: an agency imported before keeps its LAN allowance, a new one has none.
        probatio.Optional(ATTR_LAN): cv.boolean,
    }
)


def _data(hass: HomeAssistant) -> PorchlightData:
    return loaded_entry(hass).runtime_data


def _desk(hass: HomeAssistant) -> ConsentDesk:
    return _data(hass).desk


async def _user_name(call: ServiceCall) -> str:
    """Who decided: the HA user behind the call, or "automation" when none."""
    if call.context.user_id is None:
        return "automation"
    user = await call.hass.auth.async_get_user(call.context.user_id)
    return user.name if user is not None and user.name else "owner"


async def _approve(call: ServiceCall) -> ServiceResponse:
    desk = _desk(call.hass)
    with translating(CONSENT_DESK):
        approval = await desk.async_approve(
            call.data[ATTR_REQUEST], call.data[ATTR_CLIPS], await _user_name(call)
        )
    return {
        "approved": [
            {"clip": c.clip, "record": c.record_hash, "expires": local_iso(approval.expires)}
            for c in approval.consents
        ],
        **approval.delivery.to_json(),
    }


async def _retry(call: ServiceCall) -> ServiceResponse:
    desk = _desk(call.hass)
    with translating(CONSENT_DESK):
        delivery, offers = await desk.async_retry(call.data[ATTR_REQUEST], await _user_name(call))
    return {**delivery.to_json(), "offers": offers}


async def _decline(call: ServiceCall) -> None:
    desk = _desk(call.hass)
    with translating(CONSENT_DESK):
        await desk.async_decline(call.data[ATTR_REQUEST], await _user_name(call))


async def _revoke(call: ServiceCall) -> ServiceResponse:
    desk = _desk(call.hass)
    with translating(CONSENT_DESK):
        revoked, downloaded = await desk.async_revoke(
            call.data[ATTR_REQUEST], call.data.get(ATTR_CLIPS), await _user_name(call)
        )
    return {"revoked": revoked, "already_downloaded": list(downloaded)}


async def _list_requests(call: ServiceCall) -> ServiceResponse:
    desk = _desk(call.hass)
    requests = await call.hass.async_add_executor_job(desk.store.requests)
    shares = await call.hass.async_add_executor_job(desk.store.shares, None)
    return {
        "requests": [
            {
                "request_id": r.id,
                "agency": r.agency_name,
                "case": r.case,
                "reason": r.reason,
                "state": r.state.value,
                "why": r.why,
                "open": r.open,
                "clips": [shown_candidate(c) for c in r.candidates],
                "approved": [c.clip for c in r.consents],
                # Where its offers stand (docs/consent.md, "Offers that cannot be delivered").
                **desk.delivery(r).to_json(),
                "shares": [
                    {"clip": s.clip, "state": s.state.value, "expires": local_iso(s.expires)}
                    for s in shares
                    if s.request == r.id
                ],
            }
            for r in requests
        ]
    }


async def _verify_audit(call: ServiceCall) -> ServiceResponse:
    desk = _desk(call.hass)
    report = await call.hass.async_add_executor_job(desk.audit.verify)
    if not report.ok:
        raise failed("audit_tampered", seq=str(report.first_bad_seq), problem=str(report.problem))
    return {"ok": True, "entries": report.entries, "checkpoints": report.checkpoints}


async def _import_agency(call: ServiceCall) -> ServiceResponse:
    data = _data(call.hass)
    node = data.federation.node
    known = {p.keyid: p for p in node.peers.agencies()}
    with translating(AGENCY_IMPORT):
        peer = node.import_agency(call.data[ATTR_INVITE], lan=call.data.get(ATTR_LAN))
    try:
        await call.hass.async_add_executor_job(
            lambda: data.desk.audit.append(
                "peer_paired",
                subject=peer.keyid,
                data={"one_sided": True, "again": peer.keyid in known, "lan": peer.lan},
            )
        )
    except AuditError as err:
        # No agency pinned without its entry in the log: the peers as they were before.
        if (before := known.get(peer.keyid)) is not None:
            node.peers.add(before)
        else:
            node.peers.remove(peer.keyid)
        data.federation.changed("state")
        raise failed("agency_import_not_recorded", error=str(err)) from err
    data.federation.changed("state")
    return {"fingerprint": peer.fingerprint, "name": peer.name, "trusted": peer.trusted}


@callback
def async_setup_consent_services(hass: HomeAssistant) -> None:
    """Register the footage-request actions: the owner's, except checking the audit log.

    Approving, declining, revoking, importing an agency and listing requests are admin-only
    (they share footage or show who asked for what). Verifying the audit log answers only
    whether the chain is intact and how long it is, so any Home Assistant user may run it.
    """
    register = partial(async_register_admin_service, hass)
    optional = SupportsResponse.OPTIONAL
    register(DOMAIN, "approve_clips", _approve, schema=APPROVE_SCHEMA, supports_response=optional)
    register(DOMAIN, "decline_request", _decline, schema=DECLINE_SCHEMA)
    register(DOMAIN, "revoke_share", _revoke, schema=REVOKE_SCHEMA, supports_response=optional)
    register(
        DOMAIN,
        "list_requests",
        _list_requests,
        schema=probatio.Schema({}),
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        "verify_audit",
        _verify_audit,
        schema=probatio.Schema({}),
        supports_response=optional,
    )
    register(
        DOMAIN, "import_agency", _import_agency, schema=IMPORT_SCHEMA, supports_response=optional
    )
    async_register_admin_service(
        hass, DOMAIN, "retry_delivery", _retry, schema=RETRY_SCHEMA, supports_response=optional
    )
