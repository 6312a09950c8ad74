"""The federation node of a loaded Porchlight entry: storage, delivery timer, HA events.

The node itself is the pure library (`federation/node.py`); this module only gives it Home
Assistant's storage, clock, shared HTTP session and event bus, and, when the owner chose a
federation port, the dedicated listener (`federation/listener.py`) on it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import secrets
from dataclasses import InitVar, dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import ifaddr
from homeassistant.components import persistent_notification
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.storage import STORAGE_DIR, Store
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
from yarl import URL

from .alerts import NeighborAlerts
from .camera_map_glue import STORAGE_KEY as MAP_STORAGE_KEY
from .camera_map_glue import STORAGE_VERSION as MAP_STORAGE_VERSION
from .camera_map_glue import NeighborhoodMap, home_cell
from .consent_glue import plain
from .const import (
    CONF_FEDERATION_PORT,
    CONF_HOME_NAME,
    CONF_LOCATION,
    CONF_RELAY,
    DOMAIN,
    IDENTITY_DIR,
)
from .federation.api import API_PREFIX
from .federation.listener import Listener
from .federation.node import Node, NodeHooks, Settings
from .federation.outbox import Outbox
from .federation.transport import HttpSender
from .issues import Severity, clear_issue, issue_ids, move_issue, raise_issue
from .signals import SIGNAL_PEERS_CHANGED
from .witness_glue import EQUIVOCATION_ISSUE, AuditWitnessing

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime

    from homeassistant.core import Event, HomeAssistant
    from homeassistant.util.json import JsonValueType

    from .background import BackgroundWork
    from .consent.audit import AuditLog
    from .data import PorchlightConfigEntry
    from .digest_glue import NeighborhoodDigests
    from .federation.camera_map import Cell
    from .federation.clock import Clock
    from .federation.digest import HomeDigest
    from .federation.identity import Identity
    from .federation.messages import Envelope
    from .federation.peers import Peer

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = f"{DOMAIN}.federation"
STORAGE_VERSION: Final = 1
OUTBOX_FILE: Final = "outbox.json"
DELIVERY_INTERVAL: Final = timedelta(seconds=30)
# The camera map's timer: cells and maps due for their daily refresh go within the hour.
MAP_INTERVAL: Final = timedelta(hours=1)
EVENT_MESSAGE: Final = f"{DOMAIN}_federation_message"
PORT_ISSUE: Final = "federation_port_unavailable"
CLOCK_ISSUE: Final = "clock_offset"
ENDPOINT_ISSUE: Final = "invite_endpoint_unreachable"
# One per neighbor that relayed an altered message (federation/inbox.py `_tampered`).
TAMPER_ISSUE: Final = "relay_tampered_{keyid}"
# Why an endpoint in an invite looks unreachable (the issue's translation keys).
LOCAL_ONLY: Final = "invite_endpoint_local_only"
NOT_LISTENING: Final = "invite_endpoint_not_listening"
LAN_ONLY: Final = "invite_endpoint_lan_only"
_WILDCARDS: Final = frozenset({"0.0.0.0", "::"})  # noqa: S104  # names, nothing is bound


@dataclass(frozen=True, slots=True)
class Texts:
    """The owner's language, loaded once at set-up: notices and warnings are built in callbacks."""

    common: dict[str, str]
    issues: dict[str, str]

    def common_text(self, key: str, **placeholders: str) -> str:
        """A translated string of strings.json's `common` section, placeholders filled."""
        return self.common[f"component.{DOMAIN}.common.{key}"].format(**placeholders)

    def issue_text(self, key: str, **placeholders: str) -> str:
        """A repair issue's translated description, placeholders filled."""
        return self.issues[f"component.{DOMAIN}.issues.{key}.description"].format(**placeholders)


@dataclass(frozen=True, slots=True)
class QrCode:
    """An invite's QR code as an SVG image, served to the owner until the invite expires."""

    svg: bytes
    expires: int


def outbox_path(hass: HomeAssistant) -> Path:
    """Where queued messages wait for their peers (beside the identity key)."""
    return Path(hass.config.path(STORAGE_DIR, IDENTITY_DIR, OUTBOX_FILE))


class OutboxWriter:
    """The outbox file's only writer: one write at a time, always of the newest entries.

    Executor threads run in no order: with one write per change, an older (bigger) snapshot
    could land after a newer one, bringing back delivered messages and losing newly queued
    ones (a revoke). Changes made while a write is in flight only mark the outbox dirty; the
    writer snapshots again when that write is done, so a burst costs at most two writes.
    """

    def __init__(self, hass: HomeAssistant, outbox: Outbox) -> None:
        """Write outbox's file through hass's executor."""
        self.hass = hass
        self.outbox = outbox
        self._dirty = False
        self._task: asyncio.Task[None] | None = None

    @callback
    def schedule(self) -> asyncio.Task[None]:
        """The entries changed: write them soon (now, or after the write in flight)."""
        self._dirty = True
        # Started eagerly, the task can run to its end inside async_create_task (a write
        # already done when awaited), so the task's state, not a flag it would reset inside,
        # says whether a writer is running.
        if self._task is None or self._task.done():
            self._task = self.hass.async_create_task(self._run(), "porchlight outbox save")
        return self._task

    async def flush(self) -> None:
        """Write the entries as they are now and wait until they are on disk (unload)."""
        # The running task sees the flag before it ends; shielded, so a cancelled unload
        # does not abandon a write half way.
        await asyncio.shield(self.schedule())

    async def _run(self) -> None:
        while self._dirty:
            self._dirty = False
            # Taken in the loop, where entries change; the thread only writes it.
            snapshot = self.outbox.snapshot()
            try:
                await self.hass.async_add_executor_job(self.outbox.save, snapshot)
            except OSError as err:
                # Kept in memory; the next change tries again.
                _LOGGER.warning("Cannot save the outbox: %s", err)


class DeskListener(Protocol):
    """The consent desk, as the federation hands it footage requests and offer outcomes."""

    def on_request(self, envelope: Envelope, origin: Peer | None, via: Peer) -> None:
        """The node accepted a footage request for this home."""

    async def async_offer_settled(self, request_id: str, error: str | None) -> None:
        """An offer was delivered (error None), or given up and parked (the error)."""


@dataclass(slots=True)
class Federation:
    """A home's node with what HA needs to drive it.

    The federation builds its node, with its own callbacks as the node's hooks. The consent
    desk is built later (it sends through the federation): serve_desk hands it what the node
    reports for it from then on.
    """

    hass: HomeAssistant
    store: Store[dict[str, Any]]
    sender: HttpSender
    texts: Texts
    identity: InitVar[Identity]
    settings: InitVar[Settings]
    clock: InitVar[Clock]
    outbox: InitVar[Outbox]
    # Writes a pairing answer to the audit log before it is sent (NodeHooks.record_reply).
    record_reply: InitVar[Callable[[str, bytes], Awaitable[None]]]
    node: Node = field(init=False)
    listener: Listener | None = None
    # Who is told of footage requests and offer outcomes: None until serve_desk.
    desk: DeskListener | None = field(init=False, default=None)
    writer: OutboxWriter = field(init=False)
    # In memory only: an invite's QR code holds its token, which is never stored.
    qr_codes: dict[str, QrCode] = field(init=False, default_factory=dict)
    _noticed: set[str] = field(init=False, default_factory=set)
    _offer_tasks: set[asyncio.Task[None]] = field(init=False, default_factory=set)
    # Where passes outside the delivery timer run (set once set-up has it): relays go out
    # at once instead of waiting up to DELIVERY_INTERVAL at every hop.
    work: BackgroundWork | None = field(init=False, default=None)
    alerts: NeighborAlerts = field(init=False)
    # The camera map (camera_map_glue.py), set by set-up once it has the home's cell, before
    # anything can reach the node (the federation is served only after set-up).
    camera_map: NeighborhoodMap = field(init=False)
    # The neighborhood's transparency digests (digest_glue.py): None until set-up has them.
    digests: NeighborhoodDigests | None = field(init=False, default=None)
    # Witnessed audit logs, both ways (witness_glue.py): set by async_setup_federation, which
    # has the audit log.
    witnessing: AuditWitnessing = field(init=False)

    def __post_init__(
        self,
        identity: Identity,
        settings: Settings,
        clock: Clock,
        outbox: Outbox,
        record_reply: Callable[[str, bytes], Awaitable[None]],
    ) -> None:
        """Build the node, reporting here; one writer for the outbox file (see OutboxWriter)."""
        hooks = NodeHooks(
            on_change=self.changed,
            on_message=self.received,
            on_alert=self.alert_received,
            on_request=self.request_received,
            on_offer=self.offer_settled,
            on_tamper=self.tampered,
            on_map_cell=self.map_cell,
            on_digest=self.digest_received,
            record_reply=record_reply,
        )
        self.node = Node(identity, settings, clock, outbox=outbox, hooks=hooks)
        self.alerts = NeighborAlerts(self.hass, self.texts.common_text("alert_poster_unpaired"))
        self.writer = OutboxWriter(self.hass, outbox)

    def serve_desk(self, desk: DeskListener) -> None:
        """Hand footage requests and offer outcomes to the consent desk from now on."""
        self.desk = desk

    @callback
    def changed(self, what: str) -> None:
        """Persist what the node changed; tell entities when peers may have changed."""
        if what == "outbox":
            self.writer.schedule()
            return
        if what == "clock":
            self.clock_issue()
            return
        self.store.async_delay_save(self.node.state_json, 1)
        # A pairing may have become active, or a neighbor gone: cells and maps follow.
        self.camera_map.refresh()
        self.pairing_notices()
        self.alerts.follow_keys(self.node.peers)
        self.tamper_issues()
        if self.digests is not None:
            self.digests.peers_changed()
        async_dispatcher_send(self.hass, SIGNAL_PEERS_CHANGED)

    @callback
    def map_cell(self, peer: Peer, cell: Cell) -> None:
        """A neighbor reported its camera map cell: the map takes it."""
        self.camera_map.cell_received(peer, cell)

    async def async_map_tick(self, _now: datetime) -> None:
        """Timer callback: send the cells and maps due for their daily refresh."""
        self.camera_map.refresh()

    def digest_received(self, created: int, digest: HomeDigest) -> None:
        """A neighbor's own weekly digest, verified: keep it (before set-up has them: lost).

        Neighbors send theirs every REFRESH, so one that came too early comes again.
        """
        if self.digests is not None:
            self.digests.received(created, digest)

    @callback
    def pairing_notices(self) -> None:
        """One notification per peer waiting for the owner to compare the pairing code (R3.3).

        Shown when a peer redeems an invite (or this home redeemed one), gone once the owner
        confirmed or removed the peer; recreated at set-up (notifications are not kept).
        """
        waiting = {peer.keyid: peer for peer in self.node.peers if peer.pending}
        for keyid in self._noticed - waiting.keys():
            persistent_notification.async_dismiss(self.hass, _notice_id(keyid))
        for keyid in waiting.keys() - self._noticed:
            self._notice(waiting[keyid])
        self._noticed = set(waiting)

    def _notice(self, peer: Peer) -> None:
        code = f"{peer.pairing_code[:4]} {peer.pairing_code[4:]}"
        persistent_notification.async_create(
            self.hass,
            self.texts.common_text(
                "pairing_waiting_message",
                # The peer chose its name: shown as text, never rendered as Markdown (the
                # title is text already).
                name=plain(peer.name),
                role=self.texts.common_text(f"role_{peer.role}"),
                code=code,
                fingerprint=peer.fingerprint,
            ),
            title=self.texts.common_text("pairing_waiting_title", name=peer.name),
            notification_id=_notice_id(peer.keyid),
        )

    @callback
    def tampered(self, peer: Peer, code: str) -> None:
        """A neighbor relayed a message that was altered: show the owner which one.

        The message was refused already. The issue stays until the owner removes the
        neighbor (or ignores the issue): one altered message is reason enough to ask them.
        """
        raise_issue(
            self.hass,
            TAMPER_ISSUE.format(keyid=peer.keyid),
            "relay_tampered",
            {"name": plain(peer.name), "fingerprint": peer.fingerprint, "code": code},
            severity=Severity.ERROR,
        )

    @callback
    def tamper_issues(self) -> None:
        """Clear the tamper issues of neighbors the owner removed; follow rotated keys.

        A neighbor that rotated its key is still the one that tampered: its issue moves to
        the new key (and fingerprint, the one the owner removes it by), never cleared.
        """
        peers = self.node.peers
        for pattern in (TAMPER_ISSUE, EQUIVOCATION_ISSUE):
            prefix = pattern.format(keyid="")
            for issue_id in issue_ids(self.hass, prefix):
                key_id = issue_id.removeprefix(prefix)
                if peers.get(key_id) is not None:
                    continue
                if (peer := peers.successor(key_id)) is not None:
                    new_id = pattern.format(keyid=peer.keyid)
                    move_issue(self.hass, issue_id, new_id, fingerprint=peer.fingerprint)
                else:
                    clear_issue(self.hass, issue_id)

    @callback
    def alert_received(self, envelope: Envelope, origin: Peer | None, via: Peer) -> None:
        """The node accepted an alert (and relayed it, see received): show it to the owner."""
        self.alerts.received(envelope, origin, via, self.node.clock.now())

    @callback
    def request_received(self, envelope: Envelope, origin: Peer | None, via: Peer) -> None:
        """The node accepted a footage request: relay it now, and hand it to the desk."""
        self.deliver_soon()
        if self.desk is not None:
            self.desk.on_request(envelope, origin, via)

    @callback
    def offer_settled(self, request_id: str, error: str | None) -> None:
        """The node delivered or gave up an offer: hand it to the desk (awaited on close)."""
        if self.desk is None:
            return
        task = self.hass.async_create_task(
            self.desk.async_offer_settled(request_id, error), "porchlight offer outcome"
        )
        self._offer_tasks.add(task)
        task.add_done_callback(self._offer_tasks.discard)

    @callback
    def clock_issue(self) -> None:
        """Raise or clear the repair issue for a clock peers say is off (R2.9)."""
        offset = self.node.clock_offset
        if offset is None:
            clear_issue(self.hass, CLOCK_ISSUE)
            return
        raise_issue(
            self.hass,
            CLOCK_ISSUE,
            "clock_ahead" if offset > 0 else "clock_behind",
            {"seconds": str(abs(offset))},
            severity=Severity.WARNING,
        )

    @callback
    def received(self, envelope: Envelope) -> None:
        """Announce an accepted message on the event bus (never its body); relay alerts.

        Not alerts: `porchlight_alert` is theirs, fired only for neighbors the owner did not
        mute and without the originator's key (alerts.py). Announced here, every alert of a
        muted neighbor would reach automations anyway, with the key that tells who posted it.
        """
        self.deliver_soon()
        if envelope.type == "alert":
            return
        if envelope.type == "alert_clips":
            self.alerts.received_clips(envelope)
        self.hass.bus.async_fire(
            EVENT_MESSAGE,
            {"type": envelope.type, "sender": envelope.sender, "event_id": envelope.event_id},
        )

    def ensure_endpoint(self, endpoint: str | None = None) -> str:
        """The node's advertised endpoint, the one invites carry.

        The one given; else the federation port's URL while it listens; else the one kept;
        else HA's own URL. Raises a translated ServiceValidationError when Home Assistant
        knows no URL.
        """
        if endpoint is None and self.listener is None and self.node.endpoint is not None:
            return self.node.endpoint
        if endpoint is None:
            try:
                endpoint = self.listener_endpoint() or (
                    get_url(self.hass, prefer_external=True) + API_PREFIX
                )
            except NoURLAvailableError as err:
                raise ServiceValidationError(
                    translation_domain=DOMAIN, translation_key="no_endpoint"
                ) from err
        try:
            self.node.advertise(endpoint)
        except ValueError as err:  # Home Assistant's own URL, which peers would refuse
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="endpoint_unusable",
                translation_placeholders={"endpoint": endpoint},
            ) from err
        return endpoint.rstrip("/")

    def share_endpoint(self, agency: str) -> str:
        """The base of agency's capability links: the endpoint this home told it.

        An agency imported one-sided was told nothing: the endpoint invites carry. The
        federation port serves the node's routes only, not clip downloads, so an endpoint on
        the port keeps its host (the one the agency knows reaches this home) and goes to
        where Home Assistant's own server answers for it (_on_home_assistant).
        """
        peer = self.node.peers.get(agency)
        told = peer.told if peer is not None and peer.told else self.ensure_endpoint()
        if self.listener is None or URL(told).port != self.listener.port:
            return told
        return self._on_home_assistant(told)

    def _on_home_assistant(self, endpoint: str) -> str:
        """Endpoint's host on Home Assistant's server: the owner's URL for it, else HA's port."""
        host = URL(endpoint).host
        for url in (self.hass.config.external_url, self.hass.config.internal_url):
            if url is not None and URL(url).host == host:
                return url.rstrip("/") + API_PREFIX
        scheme = "https" if self.hass.http.ssl_certificate else "http"
        return str(URL(endpoint).with_scheme(scheme).with_port(self.hass.http.server_port))

    async def async_check_endpoint(self, endpoint: str, *, lan: bool) -> list[JsonValueType]:
        """Warn the owner when the endpoint an invite carries looks unreachable.

        The invite is handed out all the same (a proxy or port forward may make it work);
        the warning is a repair issue, a log line and the translated text returned for the
        action's response. Judged from the address alone, without any network look-up.
        """
        host = URL(endpoint).host or ""
        why = _local_only(host)
        if why is None and (address := _address(host)) is not None and not address.is_global:
            bound = await self.hass.async_add_executor_job(self._bound_addresses)
            if address not in bound:
                why = NOT_LISTENING
            elif not lan:
                why = LAN_ONLY
        if why is None:
            clear_issue(self.hass, ENDPOINT_ISSUE)
            return []
        # Info, not a warning: the owner is told by the repair issue and the action's
        # response, and a home paired only on its LAN uses private addresses on purpose.
        _LOGGER.info("The endpoint of a new invite may be unreachable (%s): %s", why, endpoint)
        placeholders = {"endpoint": endpoint, "host": host}
        raise_issue(self.hass, ENDPOINT_ISSUE, why, placeholders, severity=Severity.WARNING)
        return [self.texts.issue_text(why, **placeholders)]

    def _bound_addresses(self) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        """Where HA's server (and so the federation port) listens (runs in the executor).

        Its hosts, or every address of this machine when it binds all of them.
        """
        hosts = self.hass.http.server_host or ["0.0.0.0"]  # noqa: S104  # HA's default
        if _WILDCARDS.isdisjoint(hosts):
            return {a for h in hosts if (a := _address(h)) is not None}
        return {
            a
            for adapter in ifaddr.get_adapters()
            for ip in adapter.ips
            if (a := _address(ip.ip if isinstance(ip.ip, str) else ip.ip[0])) is not None
        }

    def qr_url(self, svg: bytes, expires: int) -> str:
        """Keep an invite's QR image until the invite expires; a signed path to it."""
        from .views import async_sign_qr_path  # noqa: PLC0415  # views import services, this

        now = self.node.clock.now()
        qr_id = secrets.token_urlsafe(16)
        self.qr_codes[qr_id] = QrCode(svg, expires)
        return async_sign_qr_path(self.hass, qr_id, timedelta(seconds=max(expires - now, 1)))

    def qr_code(self, qr_id: str) -> QrCode | None:
        """The QR image kept under qr_id, while its invite has not expired."""
        now = self.node.clock.now()
        self.qr_codes = {k: v for k, v in self.qr_codes.items() if v.expires >= now}
        return self.qr_codes.get(qr_id)

    async def async_deliver(self) -> int:
        """Try the outbox now."""
        return await self.node.deliver(self.sender)

    @callback
    def deliver_soon(self) -> None:
        """Try the outbox in a pass of its own, when the node may have queued relays.

        Not on every outbox change: delivery itself changes the outbox, and a round that
        asked for another round after each change would not end while a peer is down.
        """
        if self.node.relaying and self.work is not None:
            self.work.start(self.async_tick, dt_util.utcnow(), "porchlight relay")

    async def async_tick(self, _now: datetime) -> None:
        """Timer callback: try the outbox."""
        await self.async_deliver()

    async def async_rotate(
        self, new_identity: Identity, key_path: Path, *, compromised: bool
    ) -> None:
        """Rotate (or, after a compromise, revoke) the home's key and tell every peer."""
        from .federation.identity import replace_key_file  # noqa: PLC0415  # keep imports light

        await self.hass.async_add_executor_job(replace_key_file, key_path, new_identity)
        self.node.rotate(new_identity, compromised=compromised)
        await self.async_deliver()

    async def async_listen(self, port: int) -> None:
        """Serve the federation on its own port where Home Assistant listens too.

        A port that cannot be bound (in use, not permitted) becomes a repair issue and
        leaves the rest of the home running: HA's own port still serves the federation.
        """
        listener = Listener(self.node)
        try:
            await listener.start(self.hass.http.server_host, port)
        except OSError as err:
            _LOGGER.warning("Cannot listen for the federation on port %d: %s", port, err)
            raise_issue(
                self.hass,
                PORT_ISSUE,
                PORT_ISSUE,
                {"port": str(port), "error": _reason(err)},
                severity=Severity.ERROR,
            )
            return
        clear_issue(self.hass, PORT_ISSUE)
        self.listener = listener

    def listener_endpoint(self) -> str | None:
        """The federation port's URL: HA's own host name, plain HTTP, the API prefix.

        None while no listener runs; NoURLAvailableError if HA knows no URL of its own.
        """
        if self.listener is None:
            return None
        host = URL(get_url(self.hass, prefer_external=True, allow_cloud=False)).host
        return str(URL.build(scheme="http", host=host or "", port=self.listener.port)) + API_PREFIX

    async def async_stop_listener(self, _event: Event | None = None) -> None:
        """Close the federation port (unload, HA stop)."""
        listener, self.listener = self.listener, None
        if listener is not None:
            await listener.close()

    async def async_stop_delivering(self) -> None:
        """Start no delivery attempt; wait for the one under way and for the desk's report.

        First at unload: saved before its answer, a delivered message would be read back by
        the reloaded home and sent again; and an offer given up reports to the desk, whose
        audit log and store must still be open for it.
        """
        await self.node.stop_delivering()
        if self._offer_tasks:
            await asyncio.wait(list(self._offer_tasks))

    async def async_close(self) -> None:
        """Close the federation port; flush state and outbox (entry unload)."""
        await self.async_stop_delivering()
        await self.async_stop_listener()
        clear_issue(self.hass, PORT_ISSUE, CLOCK_ISSUE, ENDPOINT_ISSUE)
        await self.store.async_save(self.node.state_json())
        await self.camera_map.async_save()
        await self.writer.flush()


def _notice_id(keyid: str) -> str:
    return f"{DOMAIN}_pairing_{keyid}"


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The host as an IP address (scope and brackets dropped), or None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _local_only(host: str) -> str | None:
    """LOCAL_ONLY for a host no other machine reaches this one by, else None."""
    if host == "localhost" or host.endswith(".localhost"):
        return LOCAL_ONLY
    address = _address(host)
    if address is not None and (
        address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
    ):
        return LOCAL_ONLY
    return None


def _reason(err: OSError) -> str:
    # asyncio's bind errors repeat the address in a long message; the owner needs the cause.
    return os.strerror(err.errno) if err.errno and err.errno > 0 else str(err)


async def async_setup_federation(  # noqa: PLR0913  # everything the node is wired to, injected
    hass: HomeAssistant,
    entry: PorchlightConfigEntry,
    identity: Identity,
    clock: Clock,
    audit: AuditLog,
    *,
    work: BackgroundWork,
) -> Federation:
    """Load the node's state and outbox, wire it to the audit log, start delivering.

    Delivery rounds and their audit writes run through work: unload stops the node
    delivering, then waits for the round's attempt and its write before the audit log closes.
    """
    store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY, private=True)
    outbox = Outbox(outbox_path(hass))
    await hass.async_add_executor_job(outbox.load)

    async def record_sent(url: str, body: bytes) -> None:
        # Write-ahead: if this raises, the sender refuses to send. Host and port only: no
        # path, no token.
        await work.async_add_executor_job(
            lambda: audit.append("message_sent", subject=URL(url).authority, payload=body)
        )

    async def record_reply(remote: str, body: bytes) -> None:
        await work.async_add_executor_job(
            lambda: audit.append("message_sent", actor=remote, subject="pair_accept", payload=body)
        )

    sender = HttpSender(async_get_clientsession(hass), clock, before_send=record_sent)
    language = hass.config.language
    texts = Texts(
        common=await async_get_translations(hass, language, "common", {DOMAIN}),
        issues=await async_get_translations(hass, language, "issues", {DOMAIN}),
    )
    federation = Federation(
        hass,
        store,
        sender,
        texts,
        identity=identity,
        settings=Settings(name=entry.data[CONF_HOME_NAME]),
        clock=clock,
        outbox=outbox,
        record_reply=record_reply,
    )
    if (state := await store.async_load()) is not None:
        federation.node.load_state(state)
    await federation.alerts.async_load()
    camera_map = NeighborhoodMap(hass, federation.node, home_cell(entry.data[CONF_LOCATION]))
    await camera_map.async_load()
    federation.camera_map = camera_map
    # Unload first stops the node delivering, which ends a round after its current attempt
    # (a cancel in flight could lose a peer's answer); a round waiting on slow peers then
    # holds the reload up for one attempt at most, and what it did not try stays queued.
    federation.node.relaying = entry.options.get(CONF_RELAY, True)
    federation.work = work
    witnessing = federation.witnessing = AuditWitnessing(hass, federation, audit, work)
    await witnessing.async_load()
    # Before the listener starts, so no checkpoint or statement arrives unheard.
    federation.node.hooks = replace(
        federation.node.hooks,
        on_audit_checkpoint=witnessing.checkpoint_received,
        on_audit_witness=witnessing.witness_received,
    )
    # Delayed saves are written on stop, not on unload: a reload must find the statements.
    entry.async_on_unload(witnessing.async_save)
    work.every(DELIVERY_INTERVAL, federation.async_tick, "porchlight outbox")
    work.every(MAP_INTERVAL, federation.async_map_tick, "porchlight camera map")
    # At once: the home may have moved (a reconfigure reloads the entry) or missed a refresh.
    camera_map.refresh()
    # Issues are stored across restarts; the offset is observed afresh by each delivery.
    clear_issue(hass, CLOCK_ISSUE)
    federation.pairing_notices()
    if port := entry.options.get(CONF_FEDERATION_PORT):
        await federation.async_listen(port)
    else:
        clear_issue(hass, PORT_ISSUE)
    # HA does not unload entries when it stops; the port is closed on stop as well.
    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, federation.async_stop_listener)
    )
    return federation


async def async_remove_federation(hass: HomeAssistant) -> None:
    """Delete peers and outbox when the owner removes Porchlight."""
    await Store[dict[str, Any]](hass, STORAGE_VERSION, STORAGE_KEY).async_remove()
    await Store[dict[str, Any]](hass, MAP_STORAGE_VERSION, MAP_STORAGE_KEY).async_remove()
    await hass.async_add_executor_job(lambda: outbox_path(hass).unlink(missing_ok=True))
