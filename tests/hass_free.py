"""Fixtures for the folders whose tests start no hass (federation/, consent/, agency/).

Their conftests import the ones they use, so each applies to those folders only, with one
definition here.
"""

from __future__ import annotations

import pytest

from custom_components.porchlight.federation.clock import ManualClock


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: no hass, no custom integrations to enable."""
    return


@pytest.fixture(name="clock")
def hand_moved_clock() -> ManualClock:
    """Time that moves only when a test moves it, shared by every node and log of a test."""
    return ManualClock()
