"""The federation library runs without Home Assistant, so its tests start no hass.

Network tests run real aiohttp servers on 127.0.0.1 (port 0) and a real client session; phcc's
socket guard stays on for everything else and only lets loopback through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
import pytest

from custom_components.porchlight.federation.clock import ManualClock

from .loopback import Network

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: no hass, no custom integrations to enable."""
    return


@pytest.fixture
def clock() -> ManualClock:
    """Shared, hand-moved time for every node in a test."""
    return ManualClock()


@pytest.fixture
async def network(socket_enabled: None, clock: ManualClock) -> AsyncGenerator[Network]:
    """Real loopback servers for the nodes of one test."""
    async with aiohttp.ClientSession() as session:
        net = Network(clock, session)
        yield net
        for running in list(net.running):
            await net.stop(running)
