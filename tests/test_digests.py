"""The neighborhood digests of one Home Assistant home: kept, pruned, restored, shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from homeassistant.helpers.storage import Store

from custom_components.porchlight.diagnostics import async_get_config_entry_diagnostics
from custom_components.porchlight.digest_glue import (
    STORAGE_KEY,
    STORAGE_VERSION,
    NeighborhoodDigests,
    async_remove_digests,
)
from custom_components.porchlight.federation.digest import (
    AgencyCounts,
    period_of,
    sign_digest,
    verify_digest,
)
from custom_components.porchlight.federation.identity import Identity

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from .federation.loopback import Network

SENSOR = "sensor.maple_street_12_neighborhood_footage_requests"
ASKED = AgencyCounts(requests_received=2, in_area=1, declined=1)


def _digests(entry: MockConfigEntry) -> NeighborhoodDigests:
    digests = entry.runtime_data.federation.digests
    assert digests is not None
    return digests  # type: ignore[no-any-return]


def _stranger_digest(now: int) -> Any:
    return verify_digest(sign_digest(Identity.generate(), period_of(now), {}))


async def test_the_sensor_shows_last_weeks_sum_once_summed(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    # Set-up sums this home's own digests in the background: nobody asked, one home.
    await hass.async_block_till_done(wait_background_tasks=True)
    state = hass.states.get(SENSOR)
    assert state is not None
    assert (state.state, state.attributes["homes"], state.attributes["agencies"]) == ("0", 1, {})
    digests = _digests(init_integration)
    digests.last_week = None
    assert digests.agency_totals() == {}
    digests.peers_changed()  # nothing to forget: nothing summed again
    await hass.async_block_till_done()
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "0"  # not written again
    init_integration.runtime_data.federation.digests = None
    sensor = hass.data["entity_components"]["sensor"].get_entity(SENSOR)
    sensor.async_write_ha_state()
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "unknown"
    assert "homes" not in state.attributes
    # Before set-up had the digests, nothing was kept and diagnostics say so.
    now = init_integration.runtime_data.federation.node.clock.now()
    init_integration.runtime_data.federation.digest_received(1, _stranger_digest(now))
    init_integration.runtime_data.federation.changed("state")
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    assert diagnostics["neighborhood_digest"] == {}
    digests.last_week = None
    init_integration.runtime_data.federation.digests = digests


async def test_a_digest_of_a_home_not_paired_is_forgotten_and_an_older_one_ignored(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    digests = _digests(init_integration)
    now = digests.node.clock.now()
    stranger = _stranger_digest(now)
    digests.received(5, stranger)
    assert len(digests.book) == 0  # kept, then pruned: not a neighbor
    digests.book.keep(5, stranger)
    digests.received(1, stranger)  # older than the one kept: nothing changes
    assert len(digests.book) == 1
    digests.peers_changed()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(digests.book) == 0


@pytest.mark.usefixtures("socket_enabled")
async def test_agencies_get_no_view_untrusted_twice_or_before_a_week_closed(
    hass: HomeAssistant, init_integration: MockConfigEntry, network: Network
) -> None:
    digests = _digests(init_integration)
    node = digests.node
    agency = await network.start("Metro PD", role="agency")
    peer = node.import_agency(agency.node.create_invite().to_text(), lan=True)
    digests.k, digests.agency_delay = 3, 0
    before = len(node.outbox)
    await digests.async_send()  # not trusted: nothing for it
    assert len(node.outbox) == before
    node.peers.set_trusted(peer.keyid, trusted=True)
    await digests.async_send()  # one home only: below k
    assert len(node.outbox) == before
    assert digests.last_week is not None
    digests.told.add((peer.keyid, digests.last_week.aggregate.period))
    await digests.async_send()
    assert len(node.outbox) == before
    digests.last_week = None
    digests._tell_agencies()  # nothing summed yet: nothing to tell
    assert len(node.outbox) == before


@pytest.mark.allow_porchlight_warnings(r"Stored neighbors' digests dropped")
async def test_kept_digests_come_back_and_a_damaged_store_starts_afresh(
    hass: HomeAssistant, init_integration: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    digests = _digests(init_integration)
    now = digests.node.clock.now()
    digests.book.keep(7, _stranger_digest(now))
    digests.told.add(("A" * 32, "2026-W01"))
    store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
    await store.async_save(digests._data())  # what the delayed save writes
    again = NeighborhoodDigests(hass, digests.node, list, init_integration.runtime_data.work)
    await again.async_load()
    assert again.book.to_json() == digests.book.to_json()
    assert again.told == {("A" * 32, "2026-W01")}
    await store.async_save({"digests": [{"created": 1, "digest": {}}], "told": []})
    damaged = NeighborhoodDigests(hass, digests.node, list, init_integration.runtime_data.work)
    with caplog.at_level("WARNING"):
        await damaged.async_load()
    assert len(damaged.book) == 0
    assert "Stored neighbors' digests dropped" in caplog.text
    await async_remove_digests(hass)
    assert await store.async_load() is None
