"""The test home: its cameras' entity ids and where it is (shared by conftest.py and the tests)."""

from __future__ import annotations

from homeassistant.const import CONF_LATITUDE, CONF_LONGITUDE

FRONT_DOOR = "camera.front_door"
GARDEN = "camera.garden"
SNAPSHOT_ONLY = "camera.porch_snapshots"
SWITCHED_OFF = "camera.garage"
HOME = {CONF_LATITUDE: 52.379189, CONF_LONGITUDE: 4.899431}
