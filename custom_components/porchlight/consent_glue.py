"""The consent desk in Home Assistant: what the owner sees of it.

The desk (consent/desk.py) decides; this module shows its decisions in Home Assistant: the
persistent notification of a pending request, the `porchlight_request` bus event, the
dispatcher signals entities follow, the repair issue of an offer that cannot be delivered,
and the housekeeping timer. The desk's refusals reach the actions translated through
action_errors.CONSENT_DESK.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import persistent_notification
from homeassistant.core import callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .consent.desk import ConsentDesk
from .const import DOMAIN
from .issues import Severity, clear_issue, raise_issue
from .local_time import clip_link, clip_time, local_iso, thumbnail_link, when
from .notification_actions import action_ids
from .signals import signal_pending, signal_requests

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant

    from .background import BackgroundWork
    from .consent.audit import AuditLog
    from .consent.desk import DeskSettings
    from .consent.records import Candidate, FootageRequest, Share, ShareState
    from .consent.screening import Screening
    from .consent.store import ConsentStore
    from .federation_glue import Federation
    from .recordings.index import ClipIndex

# Bus events: a stable interface for automations, documented field by field in
# docs/automations.md. None carries the requested area or the home's location.
EVENT_REQUEST: Final = f"{DOMAIN}_request"
EVENT_REQUEST_DECIDED: Final = f"{DOMAIN}_request_decided"
EVENT_SHARE: Final = f"{DOMAIN}_share"
# The thumbnails a request's event links to (a phone's notification shows the first): long
# enough to open the notification, short enough that a copied link soon stops working.
EVENT_THUMBNAIL_FOR: Final = timedelta(hours=1)
HOUSEKEEPING_INTERVAL: Final = timedelta(seconds=60)
OFFER_ISSUE: Final = "offer_undeliverable"


def offer_issue_id(request_id: str) -> str:
    """The repair issue of a request whose offer could not be delivered."""
    return f"{OFFER_ISSUE}_{request_id[:16]}"


def consent_desk(  # noqa: PLR0913  # everything the desk is wired to, injected
    hass: HomeAssistant,
    entry_id: str,
    *,
    store: ConsentStore,
    audit: AuditLog,
    federation: Federation,
    index: ClipIndex,
    camera_names: dict[str, str],
    home: tuple[int, int],
    settings: DeskSettings,
    screening: Screening,
    work: BackgroundWork,
) -> ConsentDesk:
    """The home's consent desk, telling the owner through Home Assistant.

    Its housekeeping runs every minute through work, which unload stops (waiting for a pass
    under way) before the desk stops and its files close.
    """
    desk = ConsentDesk(
        store=store,
        audit=audit,
        node=federation.node,
        outgoing=federation,
        index=index,
        camera_names=camera_names,
        home=home,
        settings=settings,
        # The node's identity when signing, not setup's: a key rotation replaces it.
        owner=OwnerNotices(hass, entry_id, lambda data: federation.node.identity.sign(data)),  # noqa: PLW0108  # read at each call
        run_blocking=hass.async_add_executor_job,
        start_task=hass.async_create_task,
        screening=screening,
    )
    work.every(HOUSEKEEPING_INTERVAL, desk.async_housekeeping, "porchlight requests")
    return desk


@dataclass(slots=True)
class OwnerNotices:
    """What the owner sees of the desk: notifications, events, entities, repair issues."""

    hass: HomeAssistant
    entry_id: str
    # Signs with the home's key: the phone notification's button ids carry a token.
    sign: Callable[[bytes], bytes]

    @callback
    def announce(self, request: FootageRequest) -> None:
        """Tell the owner: notification, event entity (through the bus event), bus event."""
        # The agency wrote the name, case and reason: shown as text, never rendered. An
        # image in Markdown would load from the agency's server only in the homes that were
        # asked and are in the area, telling it exactly that.
        # Times in Home Assistant's time zone, worded as the media browser words them; each
        # clip links to a signed path that plays it (valid for a day, or until a restart,
        # after which the notification is made again).
        lines = [
            (
                f"**{plain(request.agency_name)}** asks for footage from {when(request.start)} "
                f"to {when(request.end)} ({self.hass.config.time_zone})."
            ),
            f"Case: {plain(request.case) or '—'}. Reason: {plain(request.reason)}",
            "",
        ]
        if request.candidates:
            lines.append("Matching clips (approve each one you want to share):")
            lines.extend(
                f"- {plain(c.camera)}, {when(c.start)} to {clip_time(c.end)}: "
                f"[play]({clip_link(self.hass, c.clip)}), clip id `{c.clip}`"
                for c in request.candidates
            )
        else:
            lines.append("No recorded clip matches this window.")
        lines.append("")
        lines.append(
            f"Request id `{request.id}`: use the Porchlight actions *Approve clips* or "
            "*Decline request*. Until you approve a clip, nothing leaves your home."
        )
        persistent_notification.async_create(
            self.hass,
            "\n".join(lines),
            title="Footage request",
            notification_id=_notification_id(request.id),
        )
        data = request_event(request)
        async_dispatcher_send(self.hass, signal_pending(self.entry_id), data)
        # Thumbnails and button ids on the bus only, not in the event entity's attributes:
        # any user may read states, and the recorder keeps them for days.
        self.hass.bus.async_fire(
            EVENT_REQUEST,
            {
                **data,
                "actions": action_ids(self.sign, request.id),
                "clips": [
                    {**clip, "thumbnail": self._thumbnail(clip["clip"])} for clip in data["clips"]
                ],
            },
        )

    def _thumbnail(self, clip: str) -> str:
        return thumbnail_link(self.hass, clip, EVENT_THUMBNAIL_FOR)

    @callback
    def decided(self, request: FootageRequest) -> None:
        """Automations clear what they said about the request (a phone's notification)."""
        self.hass.bus.async_fire(
            EVENT_REQUEST_DECIDED,
            {
                "request_id": request.id,
                "state": request.state.value,
                "open": request.open,
                "approved": [c.clip for c in request.consents],
                "declined": list(request.declined_clips),
            },
        )

    @callback
    def share_changed(self, share: Share, what: ShareState, request: FootageRequest | None) -> None:
        """A receipt for automations: a shared clip downloaded, expired unused or revoked."""
        candidate = request.candidate(share.clip) if request is not None else None
        self.hass.bus.async_fire(
            EVENT_SHARE,
            {
                "request_id": share.request,
                "clip": share.clip,
                "camera": candidate.camera if candidate is not None else "",
                "agency": request.agency_name if request is not None else "",
                "case": request.case if request is not None else "",
                "event": what.value,
                "downloads": share.downloads,
                "max_downloads": share.max_downloads,
                "expires": local_iso(share.expires),
            },
        )

    @callback
    def withdraw(self, request_id: str) -> None:
        """Dismiss the request's notification."""
        persistent_notification.async_dismiss(self.hass, _notification_id(request_id))

    @callback
    def changed(self) -> None:
        """Entities recount requests and shares."""
        async_dispatcher_send(self.hass, signal_requests(self.entry_id))

    @callback
    def offer_failed(self, request_id: str, agency: str, error: str) -> None:
        """A repair issue: the offer to agency could not be delivered (retry_delivery)."""
        raise_issue(
            self.hass,
            offer_issue_id(request_id),
            OFFER_ISSUE,
            {"agency": plain(agency), "request": request_id, "error": error},
            severity=Severity.ERROR,
        )

    @callback
    def offers_settled(self, still_failed: Callable[[str], bool]) -> None:
        """Remove the issues of requests with no offer left to retry (delivered, expired)."""
        done = [
            issue_id
            for (domain, issue_id), issue in ir.async_get(self.hass).issues.items()
            if domain == DOMAIN
            and issue_id.startswith(f"{OFFER_ISSUE}_")
            and not still_failed((issue.translation_placeholders or {}).get("request", ""))
        ]
        clear_issue(self.hass, *done)


_MARKDOWN: Final = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def plain(text: str) -> str:
    """Text from elsewhere for a Markdown notification: shown as written, never rendered.

    Control characters and line breaks become spaces (one line stays one line), Markdown's
    punctuation is escaped with backslashes and HTML's with entities.
    """
    flat = "".join(" " if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 else ch for ch in text)  # noqa: PLR2004
    escaped = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", escaped)


def _notification_id(request_id: str) -> str:
    return f"{DOMAIN}_request_{request_id[:16]}"


def request_event(request: FootageRequest) -> dict[str, Any]:
    """What automations and blueprints get about a pending request (never the area)."""
    return {
        "request_id": request.id,
        "agency": request.agency_name,
        "agency_fingerprint": "-".join(
            request.agency[i : i + 4] for i in range(0, len(request.agency), 4)
        ),
        "case": request.case,
        "reason": request.reason,
        "start": local_iso(request.start),
        "end": local_iso(request.end),
        "expires": local_iso(request.expires),
        "clips": [shown_candidate(c) for c in request.candidates],
    }


def shown_candidate(candidate: Candidate) -> dict[str, Any]:
    """A matching clip for events and action responses: local ISO 8601 times."""
    return {
        "clip": candidate.clip,
        "camera": candidate.camera,
        "start": local_iso(candidate.start),
        "end": local_iso(candidate.end),
    }
