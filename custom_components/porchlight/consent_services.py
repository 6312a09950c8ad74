"""Service actions for footage requests: import an agency, approve, decline, revoke, audit."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Final

import probatio
from homeassistant.core import ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.service import async_register_admin_service

from . import owner_actions
from .action_errors import failed
from .const import DOMAIN, MAX_CLIPS_PER_OFFER

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from homeassistant.core import HomeAssistant

    type Operation = Callable[[HomeAssistant, Any, str], Coroutine[Any, Any, Any]]

ATTR_REQUEST: Final = "request_id"
ATTR_CLIPS: Final = "clip_ids"
ATTR_INVITE: Final = "invite"
ATTR_LAN: Final = "lan"

APPROVE_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(ATTR_REQUEST): cv.string,
        # At most MAX_CLIPS_PER_OFFER per offer (const.py): approve more in turns.
        probatio.Required(ATTR_CLIPS): probatio.All(
            cv.ensure_list, [cv.string], probatio.Length(min=1, max=MAX_CLIPS_PER_OFFER)
        ),
    }
)
DECLINE_SCHEMA: Final = probatio.Schema({probatio.Required(ATTR_REQUEST): cv.string})
RETRY_SCHEMA: Final = DECLINE_SCHEMA
NOTIFICATION_ACTION_SCHEMA: Final = probatio.Schema({probatio.Required("action"): cv.string})
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


async def user_name(call: ServiceCall) -> str:
    """Who decided: the HA user behind the call, or "automation" when none."""
    if call.context.user_id is None:
        return "automation"
    user = await call.hass.auth.async_get_user(call.context.user_id)
    return user.name if user is not None and user.name else "owner"


def through_service(operation: Operation) -> Callable[[ServiceCall], Coroutine[Any, Any, Any]]:
    """A service handler for one of the owner's operations (owner_actions)."""

    async def handler(call: ServiceCall) -> ServiceResponse:
        result: ServiceResponse = await operation(call.hass, call.data, await user_name(call))
        return result

    return handler


async def _verify_audit(call: ServiceCall) -> ServiceResponse:
    report, witnesses = await owner_actions.verify_audit(call.hass, call.data, "")
    if not report.ok:
        raise failed("audit_tampered", seq=str(report.first_bad_seq), problem=str(report.problem))
    if bad := [w for w in witnesses if not w.ok]:
        # Any user may verify; only an admin learns which neighbor it was (peers are the
        # owner's to see).
        user = await call.hass.auth.async_get_user(call.context.user_id or "")
        witness = bad[0].witness if user is not None and user.is_admin else "?"
        raise failed(f"audit_witness_{bad[0].status.value}", witness=witness, seq=str(bad[0].size))
    return {
        "ok": True,
        "entries": report.entries,
        "checkpoints": report.checkpoints,
        "witnesses": len(witnesses),
    }


@callback
def async_setup_consent_services(hass: HomeAssistant) -> None:
    """Register the footage-request actions: the owner's, except checking the audit log.

    Approving, declining, revoking, importing an agency and listing requests are admin-only
    (they share footage or show who asked for what). Verifying the audit log answers only
    whether the chain is intact and how long it is, so any Home Assistant user may run it.
    """
    register = partial(async_register_admin_service, hass)
    optional = SupportsResponse.OPTIONAL
    register(
        DOMAIN,
        "approve_clips",
        through_service(owner_actions.approve),
        schema=APPROVE_SCHEMA,
        supports_response=optional,
    )
    register(
        DOMAIN, "decline_request", through_service(owner_actions.decline), schema=DECLINE_SCHEMA
    )
    register(
        DOMAIN,
        "revoke_share",
        through_service(owner_actions.revoke),
        schema=REVOKE_SCHEMA,
        supports_response=optional,
    )
    register(
        DOMAIN,
        "list_requests",
        through_service(owner_actions.list_requests),
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
        DOMAIN,
        "import_agency",
        through_service(owner_actions.import_agency),
        schema=IMPORT_SCHEMA,
        supports_response=optional,
    )
    register(
        DOMAIN,
        "notification_action",
        through_service(owner_actions.notification_action),
        schema=NOTIFICATION_ACTION_SCHEMA,
        supports_response=optional,
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        "retry_delivery",
        through_service(owner_actions.retry),
        schema=RETRY_SCHEMA,
        supports_response=optional,
    )
