"""The neighborhood's transparency digests in Home Assistant: exchanged, kept, summed, shown.

The home signs its own weekly digest (consent/transparency.py) for the week just ended and
the current one, and sends both to every active neighbor, at set-up and every REFRESH; the
neighbors' digests it receives (verified by the inbox, federation/digest_exchange.py) are kept
in a private Store, the latest per neighbor and week for KEEP_WEEKS weeks, and forgotten when
the neighbor is removed. Their sum with the home's own (`aggregate`, against the pinned keys)
is what the "Neighborhood footage requests" sensor and diagnostics show.

Each trusted agency gets its own row of the last complete week's aggregate once per week
(`agency_digest`), and only when it covers at least k homes; sent one day into the next week
at the earliest, so the neighbors' final digests of that week are in, and never again for
that week: two views of one week over different homes would give a home away by subtraction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .consent.transparency import weekly_counts
from .const import DOMAIN
from .federation.digest import DEFAULT_K, NeighborhoodDigest, period_of, sign_digest
from .federation.digest_exchange import (
    DIGEST_LIFETIME,
    DigestBook,
    agency_view,
    neighborhood,
    previous_period,
)
from .federation.errors import DigestError, DigestThresholdError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from homeassistant.core import HomeAssistant

    from .background import BackgroundWork
    from .consent.records import FootageRequest
    from .federation.canonical import JSON
    from .federation.digest import HomeDigest
    from .federation.node import Node

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = f"{DOMAIN}.digests"
STORAGE_VERSION: Final = 1
REFRESH: Final = timedelta(hours=12)
# How far into a week the last one's view goes to agencies: neighbors' final digests first.
AGENCY_DELAY: Final = 86400
SIGNAL_DIGESTS: Final = f"{DOMAIN}_digests"

type Requests = Callable[[], list[FootageRequest]]


@dataclass(frozen=True, slots=True)
class Summed:
    """One week's aggregate and the signed digests it sums (own first)."""

    aggregate: NeighborhoodDigest
    digests: list[JSON]

    def to_json(self) -> dict[str, Any]:
        """What diagnostics show: anyone holding the homes' keys can recompute the totals."""
        return {"aggregate": self.aggregate.to_json(), "digests": self.digests}


@dataclass(slots=True)
class NeighborhoodDigests:
    """This home's view of its neighborhood's digests."""

    hass: HomeAssistant
    node: Node
    requests: Requests  # the consent store's requests (blocking)
    work: BackgroundWork
    k: int = DEFAULT_K
    agency_delay: int = AGENCY_DELAY
    book: DigestBook = field(default_factory=DigestBook)
    # (agency keyid, period) of the views sent: one per agency and week, ever.
    told: set[tuple[str, str]] = field(default_factory=set)
    last_week: Summed | None = None
    this_week: Summed | None = None
    store: Store[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        """Private: the digests name the neighbors' keys."""
        self.store = Store(self.hass, STORAGE_VERSION, STORAGE_KEY, private=True)

    async def async_load(self) -> None:
        """Bring back the kept digests and the views sent; a damaged file starts afresh."""
        data = await self.store.async_load()
        if data is None:
            return
        try:
            self.book = DigestBook.from_json(data["digests"])
        except DigestError as err:
            _LOGGER.warning("Stored neighbors' digests dropped: %s", err)
        self.told = {(str(a), str(p)) for a, p in data.get("told", [])}

    def _data(self) -> dict[str, Any]:
        return {"digests": self.book.to_json(), "told": sorted(map(list, self.told))}

    def _neighbors(self) -> dict[str, bytes]:
        return {p.keyid: p.public_key for p in self.node.peers.active_neighbors()}

    @callback
    def received(self, created: int, digest: HomeDigest) -> None:
        """A neighbor's own digest, verified by the inbox: keep it, sum again."""
        if self.book.keep(created, digest):
            self.book.prune(self._neighbors(), self.node.clock.now())
            self.store.async_delay_save(self._data, 1)
            self.work.start(self._async_refresh_pass, dt_util.utcnow(), "porchlight digests")

    @callback
    def peers_changed(self) -> None:
        """Forget the digests of neighbors no longer paired."""
        if self.book.prune(self._neighbors(), self.node.clock.now()):
            self.store.async_delay_save(self._data, 1)
            self.work.start(self._async_refresh_pass, dt_util.utcnow(), "porchlight digests")

    async def _async_refresh_pass(self, _now: datetime) -> None:
        await self.async_refresh()

    def _own(self) -> tuple[dict[str, JSON], dict[str, JSON]]:
        """This home's signed digests of last week and this week (blocking)."""
        now = self.node.clock.now()
        requests = self.requests()
        last, this = previous_period(now), period_of(now)
        identity = self.node.identity
        return (
            sign_digest(identity, last, weekly_counts(requests, last)),
            sign_digest(identity, this, weekly_counts(requests, this)),
        )

    async def async_refresh(self) -> tuple[dict[str, JSON], dict[str, JSON]]:
        """Sum own and kept digests for both weeks; tell the sensor; return own digests."""
        last, this = await self.work.async_add_executor_job(self._own)
        neighbors = self._neighbors()
        own_key = (self.node.identity.keyid, self.node.identity.public_key)
        self.last_week = Summed(*neighborhood(last, self.book, neighbors, own_key))
        self.this_week = Summed(*neighborhood(this, self.book, neighbors, own_key))
        async_dispatcher_send(self.hass, SIGNAL_DIGESTS)
        return last, this

    async def async_send(self, _now: datetime | None = None) -> None:
        """Send own digests to the neighbors and, when due, the week's views to agencies."""
        last, this = await self.async_refresh()
        for peer in self.node.peers.active_neighbors():
            for digest in (last, this):
                self.node.send(peer.keyid, "digest", {"digest": digest}, lifetime=DIGEST_LIFETIME)
        self._tell_agencies()

    def _tell_agencies(self) -> None:
        summed = self.last_week
        now = self.node.clock.now()
        if summed is None or period_of(now - self.agency_delay) == summed.aggregate.period:
            return
        period = summed.aggregate.period
        for agency in self.node.peers.agencies():
            if (
                not agency.trusted
                or agency.pending
                or not agency.knows_us
                or (agency.keyid, period) in self.told
            ):
                continue
            try:
                view = agency_view(summed.aggregate, agency.keyid, self.k)
            except DigestThresholdError as err:
                _LOGGER.debug("No digest for agency %s: %s", agency.fingerprint, err)
                return
            self.node.send(agency.keyid, "agency_digest", {"view": view}, lifetime=DIGEST_LIFETIME)
            self.told.add((agency.keyid, period))
            self.store.async_delay_save(self._data, 1)

    def agency_totals(self) -> dict[str, dict[str, int]]:
        """Last week's totals per agency, by the name this home knows it by (else keyid)."""
        if self.last_week is None:
            return {}
        totals: dict[str, dict[str, int]] = {}
        for agency, row in self.last_week.aggregate.agencies.items():
            peer = self.node.peers.get(agency)
            name = peer.name if peer is not None else agency
            totals[name] = {**row.counts.to_json(), "homes_in_area": row.homes_in_area}  # type: ignore[dict-item]
        return totals


async def async_remove_digests(hass: HomeAssistant) -> None:
    """Delete the kept digests when the owner removes Porchlight."""
    await Store[dict[str, Any]](hass, STORAGE_VERSION, STORAGE_KEY).async_remove()
