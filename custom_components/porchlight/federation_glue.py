"""The federation node of a loaded Porchlight entry: storage, delivery timer, HA events.

The node itself is the pure library (`federation/node.py`); this module only gives it Home
Assistant's storage, clock, shared HTTP session and event bus, and, when the owner chose a
federation port, the dedicated listener (`federation/listener.py`) on it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.storage import STORAGE_DIR, Store
from yarl import URL

from .const import CONF_FEDERATION_PORT, CONF_HOME_NAME, DOMAIN, IDENTITY_DIR
from .federation.listener import Listener
from .federation.node import API_PREFIX, Node, Settings
from .federation.outbox import Outbox
from .federation.transport import HttpSender

if TYPE_CHECKING:
    from datetime import datetime

    from homeassistant.core import Event, HomeAssistant

    from .background import BackgroundWork
    from .consent.audit import AuditLog
    from .data import PorchlightConfigEntry
    from .federation.clock import Clock
    from .federation.identity import Identity
    from .federation.messages import Envelope

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = f"{DOMAIN}.federation"
STORAGE_VERSION: Final = 1
OUTBOX_FILE: Final = "outbox.json"
DELIVERY_INTERVAL: Final = timedelta(seconds=30)
SIGNAL_PEERS_CHANGED: Final = f"{DOMAIN}_peers_changed"
EVENT_MESSAGE: Final = f"{DOMAIN}_federation_message"
PORT_ISSUE: Final = "federation_port_unavailable"
CLOCK_ISSUE: Final = "clock_offset"


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


@dataclass(slots=True)
class Federation:
    """A home's node with what HA needs to drive it."""

    hass: HomeAssistant
    node: Node
    store: Store[dict[str, Any]]
    sender: HttpSender
    listener: Listener | None = None
    writer: OutboxWriter = field(init=False)

    def __post_init__(self) -> None:
        """One writer for the outbox file (see OutboxWriter)."""
        self.writer = OutboxWriter(self.hass, self.node.outbox)

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
        async_dispatcher_send(self.hass, SIGNAL_PEERS_CHANGED)

    @callback
    def clock_issue(self) -> None:
        """Raise or clear the repair issue for a clock peers say is off (R2.9)."""
        offset = self.node.clock_offset
        if offset is None:
            ir.async_delete_issue(self.hass, DOMAIN, CLOCK_ISSUE)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            CLOCK_ISSUE,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="clock_ahead" if offset > 0 else "clock_behind",
            translation_placeholders={"seconds": str(abs(offset))},
        )

    @callback
    def received(self, envelope: Envelope) -> None:
        """Announce an accepted message on the event bus (never its body)."""
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

    def share_endpoint(self) -> str:
        """The base of capability links: where Home Assistant's own server answers.

        The federation port serves the node's routes only, not clip downloads, so while it
        listens links use HA's own URL (agencies must reach it to download); otherwise the
        node's endpoint, as ensure_endpoint gives it.
        """
        if self.listener is None:
            return self.ensure_endpoint()
        try:
            return get_url(self.hass, prefer_external=True) + API_PREFIX
        except NoURLAvailableError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="no_endpoint"
            ) from err

    async def async_deliver(self) -> int:
        """Try the outbox now."""
        return await self.node.deliver(self.sender)

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
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                PORT_ISSUE,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=PORT_ISSUE,
                translation_placeholders={"port": str(port), "error": _reason(err)},
            )
            return
        ir.async_delete_issue(self.hass, DOMAIN, PORT_ISSUE)
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

    async def async_close(self) -> None:
        """Close the federation port; flush state and outbox (entry unload)."""
        await self.async_stop_listener()
        for issue in (PORT_ISSUE, CLOCK_ISSUE):
            ir.async_delete_issue(self.hass, DOMAIN, issue)
        await self.store.async_save(self.node.state_json())
        await self.writer.flush()


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

    Delivery rounds and their audit writes run through work: unload cancels a round under
    way and waits for its write before the audit log closes.
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

    node = Node(identity, Settings(name=entry.data[CONF_HOME_NAME]), clock, outbox=outbox)
    node.record_reply = record_reply
    if (state := await store.async_load()) is not None:
        node.load_state(state)
    sender = HttpSender(async_get_clientsession(hass), clock, before_send=record_sent)
    federation = Federation(hass, node, store, sender)
    node.on_change = federation.changed
    node.on_message = federation.received
    # Cancelled at unload: a round waiting on slow peers must not hold the reload up, and
    # what it did not deliver stays in the outbox.
    work.every(DELIVERY_INTERVAL, federation.async_tick, "porchlight outbox", cancel=True)
    # Issues are stored across restarts; the offset is observed afresh by each delivery.
    ir.async_delete_issue(hass, DOMAIN, CLOCK_ISSUE)
    if port := entry.options.get(CONF_FEDERATION_PORT):
        await federation.async_listen(port)
    else:
        ir.async_delete_issue(hass, DOMAIN, PORT_ISSUE)
    # HA does not unload entries when it stops; the port is closed on stop as well.
    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, federation.async_stop_listener)
    )
    return federation


async def async_remove_federation(hass: HomeAssistant) -> None:
    """Delete peers and outbox when the owner removes Porchlight."""
    await Store[dict[str, Any]](hass, STORAGE_VERSION, STORAGE_KEY).async_remove()
    await hass.async_add_executor_job(lambda: outbox_path(hass).unlink(missing_ok=True))
