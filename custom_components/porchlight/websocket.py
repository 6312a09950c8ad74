"""The dashboard's websocket commands (docs/dashboard.md): the owner's operations, second door.

Registered once from async_setup. Every command is admin-only: each changes state, shares
footage, or shows who asked for what and who the home's peers are. The operations themselves
are owner_actions', the same code the service actions run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import probatio
from homeassistant.components.websocket_api import async_register_command
from homeassistant.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from . import owner_actions
from .action_errors import refused
from .consent.audit import AuditError
from .consent.records import ShareState
from .consent.store import ConsentStoreError
from .consent_services import (
    APPROVE_SCHEMA,
    DECLINE_SCHEMA,
    IMPORT_SCHEMA,
    RETRY_SCHEMA,
    REVOKE_SCHEMA,
)
from .data import loaded_entry
from .federation.identity import grouped
from .local_time import clip_link, local_iso, thumbnail_link
from .recordings.index import ClipIndexError
from .services import (
    ACCEPT_INVITE_SCHEMA,
    CONFIRM_PAIRING_SCHEMA,
    CREATE_INVITE_SCHEMA,
    PEER_SCHEMA,
)
from .signals import signal_pending, signal_requests

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Mapping

    from homeassistant.components.websocket_api.connection import ActiveConnection
    from homeassistant.components.websocket_api.const import WebSocketCommandHandler
    from homeassistant.core import HomeAssistant

    from .consent.audit.entry import AuditEntry
    from .consent.records import Candidate, FootageRequest, Share
    from .data import PorchlightConfigEntry, PorchlightData
    from .recordings.models import Clip

    type Operation = Callable[[HomeAssistant, Any, str], Coroutine[Any, Any, Any]]

_LOGGER = logging.getLogger(__name__)

STRINGS_DIR: Final = Path(__file__).parent / "frontend" / "translations"
# A language tag as HA's frontend sends it (`en`, `pt-BR`, `zh-Hant`): nothing that walks paths.
LANGUAGE: Final = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
MICRO: Final = 1_000_000
TRUST_KINDS: Final = frozenset({"agency_trusted", "peer_paired", "agency_untrusted"})


@callback
def async_setup_websocket(hass: HomeAssistant) -> None:
    """Register every dashboard command (once, from async_setup)."""
    register = partial(async_register_command, hass)
    for command in (
        _home,
        _requests_list,
        _requests_subscribe,
        _audit_list,
        _audit_verify,
        _peers_list,
        _camera_map,
        _strings,
    ):
        register(command)
    for kind, schema, operation in _OPERATIONS:
        register(_operation_command(kind, schema, operation))


def _user_name(connection: ActiveConnection) -> str:
    return connection.user.name or "owner"


def _operation_command(
    kind: str, schema: Mapping[Any, Any], operation: Operation
) -> WebSocketCommandHandler:
    """A command that runs one of the owner's operations and answers its result."""

    @require_admin
    @websocket_command({probatio.Required("type"): kind, **schema})
    @async_response
    async def handler(
        hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
    ) -> None:
        args = {k: v for k, v in msg.items() if k not in ("id", "type")}
        result = await operation(hass, args, _user_name(connection))
        connection.send_result(msg["id"], result)

    return handler


_OPERATIONS: Final[tuple[tuple[str, Mapping[Any, Any], Operation], ...]] = (
    ("porchlight/requests/approve", APPROVE_SCHEMA.schema, owner_actions.approve),
    ("porchlight/requests/decline", DECLINE_SCHEMA.schema, owner_actions.decline),
    ("porchlight/requests/retry", RETRY_SCHEMA.schema, owner_actions.retry),
    ("porchlight/shares/revoke", REVOKE_SCHEMA.schema, owner_actions.revoke),
    ("porchlight/peers/confirm", CONFIRM_PAIRING_SCHEMA.schema, owner_actions.confirm_pairing),
    ("porchlight/peers/remove", PEER_SCHEMA.schema, owner_actions.remove_peer),
    ("porchlight/agencies/trust", PEER_SCHEMA.schema, owner_actions.trust_agency),
    ("porchlight/agencies/untrust", PEER_SCHEMA.schema, owner_actions.untrust_agency),
    ("porchlight/agencies/import", IMPORT_SCHEMA.schema, owner_actions.import_agency),
    ("porchlight/invites/create", CREATE_INVITE_SCHEMA.schema, owner_actions.create_invite),
    ("porchlight/invites/accept", ACCEPT_INVITE_SCHEMA.schema, owner_actions.accept_invite),
)


# --- the home ------------------------------------------------------------------------------


@require_admin
@websocket_command({probatio.Required("type"): "porchlight/home"})
@callback
def _home(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    data = loaded_entry(hass).runtime_data
    settings = data.desk.settings
    connection.send_result(
        msg["id"],
        {
            "name": hass.config.location_name,
            "latitude": hass.config.latitude,
            "longitude": hass.config.longitude,
            "time_zone": hass.config.time_zone,
            "fingerprint": data.identity.fingerprint,
            "link_hours": settings.share_hours,
            "max_downloads": settings.max_downloads,
        },
    )


# --- requests ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Read:
    """What a snapshot reads from SQLite (in the executor)."""

    requests: list[FootageRequest]
    shares: dict[tuple[str, str], Share]
    clips: dict[str, Clip]
    trusted_since: dict[str, int] = field(default_factory=dict)


def _read(data: PorchlightData) -> _Read:
    desk = data.desk
    requests = desk.store.requests()
    shares = {(s.request, s.clip): s for s in desk.store.shares(None)}
    wanted = {c.clip for r in requests for c in r.candidates}
    clips = {}
    for clip_id in wanted:
        if (clip := data.recorder.clip(clip_id)) is not None:
            clips[clip_id] = clip
    return _Read(requests, shares, clips, _trusted_since(data))


def _trusted_since(data: PorchlightData) -> dict[str, int]:
    """When each agency was last trusted: its last agency_trusted or one-sided pairing.

    From the audit log rather than a new field of the peer: the log is the record of who this
    home trusts (R6.3), and a field would be empty for every agency trusted before it.
    """
    since: dict[str, int] = {}
    for entry in data.desk.audit.entries():
        if entry.kind == "agency_trusted" or (
            entry.kind == "peer_paired" and entry.data.get("one_sided")
        ):
            since[entry.subject] = entry.at
        elif entry.kind == "agency_untrusted":
            since.pop(entry.subject, None)
    return since


def _degrees(value: Any) -> float:  # noqa: ANN401  # an area's JSON
    return int(value) / MICRO


def _area(area: Mapping[str, Any]) -> dict[str, Any]:
    if area.get("kind") == "circle":
        return {
            "kind": "circle",
            "lat": _degrees(area["lat"]),
            "lon": _degrees(area["lon"]),
            "radius_m": area["radius_m"],
        }
    return {
        "kind": "polygon",
        "points": [[_degrees(lat), _degrees(lon)] for lat, lon in area.get("points", [])],
    }


def _share(share: Share) -> dict[str, Any]:
    return {
        "state": share.state.value,
        "expires": local_iso(share.expires),
        "downloads": share.downloads,
        "max_downloads": share.max_downloads,
        "downloaded_at": None if share.downloaded_at is None else local_iso(share.downloaded_at),
        "revocable": share.state is ShareState.OFFERED,
    }


@dataclass(slots=True)
class _ClipLinks:
    """Signed paths of each clip, made once per snapshot.

    Requests of one incident ask for the same clips; signing each clip once instead of once
    per request keeps a snapshot of fifty requests cheap on the event loop.
    """

    hass: HomeAssistant
    made: dict[str, tuple[str | None, str]] = field(default_factory=dict)

    def __call__(self, clip_id: str, *, thumbnail: bool) -> tuple[str | None, str]:
        """(thumbnail path or None, video path); whether it has a thumbnail is the clip's own."""
        if (links := self.made.get(clip_id)) is None:
            links = (
                thumbnail_link(self.hass, clip_id) if thumbnail else None,
                clip_link(self.hass, clip_id),
            )
            self.made[clip_id] = links
        return links


def _clip(
    links: _ClipLinks, data: PorchlightData, read: _Read, request: FootageRequest, c: Candidate
) -> dict[str, Any]:
    clip = read.clips.get(c.clip)
    share = read.shares.get((request.id, c.clip))
    if request.approved(c.clip) is not None:
        decision = "approved"
    elif request.open:
        decision = "pending"
    else:
        decision = "declined"
    thumbnail, video = links(c.clip, thumbnail=clip is not None and clip.thumbnail is not None)
    return {
        "clip": c.clip,
        "camera": c.camera,
        "camera_name": data.camera_names.get(c.camera, c.camera),
        "start": local_iso(c.start),
        "end": local_iso(c.end),
        "duration_s": c.end - c.start,
        "thumbnail": thumbnail,
        "video": video,
        "decision": decision,
        "share": None if share is None else _share(share),
    }


def _request(
    links: _ClipLinks, data: PorchlightData, read: _Read, request: FootageRequest
) -> dict[str, Any]:
    peer = data.federation.node.peers.get(request.agency)
    trusted = peer is not None and peer.trusted
    since = read.trusted_since.get(request.agency) if trusted else None
    # The owner's latest decision: closing the request, or the last clip shared while it
    # stays open, so History can say when an approved request was decided, as for a decline.
    decided = max(
        [c.approved_at for c in request.consents]
        + ([] if request.closed_at is None else [request.closed_at]),
        default=None,
    )
    return {
        "request_id": request.id,
        "agency": {
            "name": request.agency_name,
            "fingerprint": grouped(request.agency),
            "trusted": trusted,
            "trusted_since": None if since is None else local_iso(since),
        },
        "case": request.case,
        "reason": request.reason,
        "state": request.state.value,
        "why": request.why,
        "rule_name": request.rule_name,
        "open": request.open,
        "received": local_iso(request.received_at),
        "expires": local_iso(request.expires),
        "start": local_iso(request.start),
        "end": local_iso(request.end),
        "closed": None if request.closed_at is None else local_iso(request.closed_at),
        "decided": None if decided is None else local_iso(decided),
        "area": _area(request.area),
        "clips": [_clip(links, data, read, request, c) for c in request.candidates],
        **data.desk.delivery(request).to_json(),
    }


async def requests_snapshot(hass: HomeAssistant, data: PorchlightData) -> dict[str, Any]:
    """Every request as the dashboard shows it, newest received first."""
    read = await hass.async_add_executor_job(_read, data)
    ordered = sorted(read.requests, key=lambda r: r.received_at, reverse=True)
    links = _ClipLinks(hass)
    return {"requests": [_request(links, data, read, r) for r in ordered]}


@require_admin
@websocket_command({probatio.Required("type"): "porchlight/requests/list"})
@async_response
async def _requests_list(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    data = loaded_entry(hass).runtime_data
    connection.send_result(msg["id"], await requests_snapshot(hass, data))


@require_admin
@websocket_command({probatio.Required("type"): "porchlight/requests/subscribe"})
@callback
def _requests_subscribe(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    entry = loaded_entry(hass)
    subscription = _Subscription(hass, connection, msg["id"], entry)
    unsubs = [
        async_dispatcher_connect(hass, signal_requests(entry.entry_id), subscription.changed),
        async_dispatcher_connect(hass, signal_pending(entry.entry_id), subscription.changed),
    ]

    @callback
    def unsubscribe() -> None:
        if subscription.closed:
            return
        subscription.closed = True
        for unsub in unsubs:
            unsub()

    # An unloaded entry's subscribers hear no more (docs/dashboard.md): its desk and store
    # are closed, and a reloaded entry is a new home object the panel subscribes to again.
    entry.async_on_unload(unsubscribe)

    connection.subscriptions[msg["id"]] = unsubscribe
    connection.send_result(msg["id"])
    subscription.changed()


@dataclass(slots=True)
class _Subscription:
    """One subscriber: a snapshot at once and after every change.

    One sender per subscriber, so snapshots leave in the order they were read (two reads
    racing in the executor could otherwise deliver an older one last); changes that arrive
    while it reads are folded into one more snapshot, so a burst costs two reads, not one
    per change.
    """

    hass: HomeAssistant
    connection: ActiveConnection
    msg_id: int
    entry: PorchlightConfigEntry
    dirty: bool = False
    sending: bool = False
    closed: bool = False

    @callback
    def changed(self, *_: Any) -> None:  # noqa: ANN401  # dispatcher arguments, unused
        """Something changed: send a snapshot once the sender is free."""
        self.dirty = True
        if not self.sending:
            self.sending = True
            # The entry's own background task: unloading cancels a read under way.
            self.entry.async_create_background_task(
                self.hass, self._send_while_changed(), "porchlight requests snapshot"
            )

    async def _send_while_changed(self) -> None:
        try:
            while self.dirty and not self.closed:
                # Let the rest of this loop iteration's changes land in the same snapshot.
                await asyncio.sleep(0)
                self.dirty = False
                try:
                    snapshot = await requests_snapshot(self.hass, self.entry.runtime_data)
                except (sqlite3.Error, ConsentStoreError, ClipIndexError, AuditError) as err:
                    _LOGGER.error("Cannot show the footage requests on the dashboard: %s", err)  # noqa: TRY400  # the cause in one line; the store logged its own
                    return
                # Sent even if the subscriber left during the read: HA's client drops an
                # event for a subscription it no longer has, and the next turn stops.
                self.connection.send_message(event_message(self.msg_id, snapshot))
        finally:
            self.sending = False


# --- audit ---------------------------------------------------------------------------------


def _entry(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": local_iso(entry.at),
        "kind": entry.kind,
        "actor": entry.actor,
        "subject": entry.subject,
        "size": entry.size,
        "data": entry.data,
    }


def _audit_page(
    data: PorchlightData, limit: int, before_seq: int | None, kind: str | None
) -> dict[str, Any]:
    audit = data.desk.audit
    matching = [
        e
        for e in audit.entries()
        if (before_seq is None or e.seq < before_seq) and (kind is None or e.kind == kind)
    ]
    return {
        "entries": [_entry(e) for e in reversed(matching[-limit:])],
        "head_seq": audit.head()[0],
    }


@require_admin
@websocket_command(
    {
        probatio.Required("type"): "porchlight/audit/list",
        probatio.Optional("limit", default=100): probatio.All(int, probatio.Range(min=1, max=500)),
        probatio.Optional("before_seq"): int,
        probatio.Optional("kind"): str,
    }
)
@async_response
async def _audit_list(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    data = loaded_entry(hass).runtime_data
    page = await hass.async_add_executor_job(
        _audit_page, data, msg["limit"], msg.get("before_seq"), msg.get("kind")
    )
    connection.send_result(msg["id"], page)


@require_admin
@websocket_command({probatio.Required("type"): "porchlight/audit/verify"})
@async_response
async def _audit_verify(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    report, witnesses = await owner_actions.verify_audit(hass, {}, _user_name(connection))
    connection.send_result(
        msg["id"],
        {
            # The log is good only if its chain verifies and no neighbor saw another one.
            "ok": report.ok and all(w.ok for w in witnesses),
            "entries": report.entries,
            "checkpoints": report.checkpoints,
            "first_bad_seq": report.first_bad_seq,
            "problem": report.problem,
            "witnesses": [w.to_json() for w in witnesses],
        },
    )


# --- peers ---------------------------------------------------------------------------------


def _peers(data: PorchlightData) -> dict[str, Any]:
    """The home's peers, with when each was paired and trusted, and neighbors' vouches."""
    peers = data.federation.node.peers
    since = _trusted_since(data)
    names = {peer.keyid: peer.name for peer in peers}
    return {
        "peers": [
            {
                **owner_actions.peer_info(peer),
                "paired_at": local_iso(peer.paired_at),
                "trusted_since": (
                    local_iso(since[peer.keyid]) if peer.trusted and peer.keyid in since else None
                ),
            }
            for peer in peers
        ],
        # Information only: a vouch never makes an agency trusted (docs/protocol.md).
        "vouches": [
            {
                "agency": grouped(vouch.agency),
                "name": vouch.name,
                "by": grouped(vouch.by),
                "by_name": names.get(vouch.by, ""),
                "at": local_iso(vouch.at),
            }
            for vouch in peers.vouches
        ],
    }


@require_admin
@websocket_command({probatio.Required("type"): "porchlight/peers/list"})
@async_response
async def _peers_list(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    data = loaded_entry(hass).runtime_data
    connection.send_result(msg["id"], await hass.async_add_executor_job(_peers, data))


# --- the camera map --------------------------------------------------------------------------


@require_admin
@websocket_command({probatio.Required("type"): "porchlight/camera_map"})
@callback
def _camera_map(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The home's camera map as GeoJSON: only cells of at least k homes (camera_map_glue.py).

    Admin-only: the map is built from the neighbors' reports, so it tells who is paired.
    """
    camera_map = loaded_entry(hass).runtime_data.federation.camera_map
    connection.send_result(msg["id"], camera_map.geojson)


# --- the panel's text ----------------------------------------------------------------------

_STRINGS: Final = "porchlight_frontend_strings"


def _load_strings(language: str) -> dict[str, Any]:
    """The text in language, else in its base language (`pt` for `pt-BR`), else English.

    English always ships with the bundle (tests/test_frontend_strings.py).
    """
    for candidate in (language, language.split("-", 1)[0]):
        path = STRINGS_DIR / f"{candidate}.json"
        if path.is_file():
            return {"language": candidate, "strings": json.loads(path.read_text("utf-8"))}
    return {"language": "en", "strings": json.loads((STRINGS_DIR / "en.json").read_text("utf-8"))}


# Not admin-only: the text reveals nothing, and the card shows a household member the line
# that says only an administrator can decide.
@websocket_command(
    {probatio.Required("type"): "porchlight/strings", probatio.Required("language"): str}
)
@async_response
async def _strings(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    language: str = msg["language"]
    if not LANGUAGE.match(language):
        raise refused("unknown_language", language=language)
    cache: dict[str, dict[str, Any]] = hass.data.setdefault(_STRINGS, {})
    if language not in cache:
        cache[language] = await hass.async_add_executor_job(_load_strings, language)
    connection.send_result(msg["id"], cache[language])
