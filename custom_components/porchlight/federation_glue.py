"""The federation node of a loaded Porchlight entry: storage, delivery timer, HA events.

The node itself is the pure library (`federation/node.py`); this module only gives it Home
Assistant's storage, clock, shared HTTP session and event bus.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.storage import STORAGE_DIR, Store

from .const import CONF_HOME_NAME, DOMAIN, IDENTITY_DIR
from .federation.clock import SystemClock
from .federation.node import API_PREFIX, Node, Settings
from .federation.outbox import Outbox
from .federation.transport import HttpSender

if TYPE_CHECKING:
    from datetime import datetime

    from homeassistant.core import HomeAssistant

    from .data import PorchlightConfigEntry
    from .federation.identity import Identity
    from .federation.messages import Envelope

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = f"{DOMAIN}.federation"
STORAGE_VERSION: Final = 1
OUTBOX_FILE: Final = "outbox.json"
DELIVERY_INTERVAL: Final = timedelta(seconds=30)
SIGNAL_PEERS_CHANGED: Final = f"{DOMAIN}_peers_changed"
EVENT_MESSAGE: Final = f"{DOMAIN}_federation_message"


def outbox_path(hass: HomeAssistant) -> Path:
    """Where queued messages wait for their peers (beside the identity key)."""
    return Path(hass.config.path(STORAGE_DIR, IDENTITY_DIR, OUTBOX_FILE))


@dataclass(slots=True)
class Federation:
    """A home's node with what HA needs to drive it."""

    hass: HomeAssistant
    node: Node
    store: Store[dict[str, Any]]
    sender: HttpSender

    @callback
    def changed(self, what: str) -> None:
        """Persist what the node changed; tell entities when peers may have changed."""
        if what == "outbox":
            self.hass.async_add_executor_job(self.node.outbox.save)
            return
        self.store.async_delay_save(self.node.state_json, 1)
        async_dispatcher_send(self.hass, SIGNAL_PEERS_CHANGED)

    @callback
    def received(self, envelope: Envelope) -> None:
        """Announce an accepted message on the event bus (never its body)."""
        self.hass.bus.async_fire(
            EVENT_MESSAGE,
            {"type": envelope.type, "sender": envelope.sender, "event_id": envelope.event_id},
        )

    def ensure_endpoint(self, endpoint: str | None = None) -> str:
        """The node's advertised endpoint: the one given, else kept, else HA's own URL.

        Raises a translated ServiceValidationError when Home Assistant knows no URL.
        """
        if endpoint is None and self.node.endpoint is not None:
            return self.node.endpoint
        if endpoint is None:
            try:
                endpoint = get_url(self.hass, prefer_external=True) + API_PREFIX
            except NoURLAvailableError as err:
                raise ServiceValidationError(
                    translation_domain=DOMAIN, translation_key="no_endpoint"
                ) from err
        self.node.advertise(endpoint)
        return endpoint.rstrip("/")

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

    async def async_close(self) -> None:
        """Flush state and outbox (entry unload)."""
        await self.store.async_save(self.node.state_json())
        await self.hass.async_add_executor_job(self.node.outbox.save)


async def async_setup_federation(
    hass: HomeAssistant, entry: PorchlightConfigEntry, identity: Identity
) -> Federation:
    """Load the node's state and outbox, and start the delivery timer."""
    store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY, private=True)
    outbox = Outbox(outbox_path(hass))
    await hass.async_add_executor_job(outbox.load)
    clock = SystemClock()
    node = Node(identity, Settings(name=entry.data[CONF_HOME_NAME]), clock, outbox=outbox)
    if (state := await store.async_load()) is not None:
        node.load_state(state)
    federation = Federation(hass, node, store, HttpSender(async_get_clientsession(hass), clock))
    node.on_change = federation.changed
    node.on_message = federation.received
    entry.async_on_unload(
        async_track_time_interval(
            hass,
            federation.async_tick,
            DELIVERY_INTERVAL,
            name="porchlight outbox",
            cancel_on_shutdown=True,
        )
    )
    return federation


async def async_remove_federation(hass: HomeAssistant) -> None:
    """Delete peers and outbox when the owner removes Porchlight."""
    await Store[dict[str, Any]](hass, STORAGE_VERSION, STORAGE_KEY).async_remove()
    await hass.async_add_executor_job(lambda: outbox_path(hass).unlink(missing_ok=True))
