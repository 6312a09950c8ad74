"""The federation library runs without Home Assistant, so its tests start no hass.

Network tests run real aiohttp servers on 127.0.0.1 (port 0) and a real client session; phcc's
socket guard stays on for everything else and only lets loopback through. `network` is the
package-wide one (tests/conftest.py), on the hand-moved clock.
"""

from __future__ import annotations

from tests.hass_free import auto_enable_custom_integrations, hand_moved_clock

__all__ = ["auto_enable_custom_integrations", "hand_moved_clock"]  # fixtures, used by name
