"""Per camera: is the stream connected, is Porchlight recording it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory

from .entity import CameraEntity
from .recordings.supervisor import RecorderState, RecorderStatus

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .data import PorchlightConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class RecorderBinarySensorDescription(BinarySensorEntityDescription):
    """How a binary sensor reads the recorder status."""

    is_on: Callable[[RecorderStatus], bool]


DESCRIPTIONS = (
    RecorderBinarySensorDescription(
        key="stream",
        translation_key="stream",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on=lambda status: status.connected,
    ),
    RecorderBinarySensorDescription(
        key="recording",
        translation_key="recording",
        device_class=BinarySensorDeviceClass.RUNNING,
        # Running until stopped: reconnecting still counts, the supervisor keeps at it.
        is_on=lambda status: status.state is not RecorderState.STOPPED,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001  # Home Assistant's platform signature
    entry: PorchlightConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of every recorded camera."""
    async_add_entities(RecorderBinarySensor.for_each_camera(entry, *DESCRIPTIONS))


class RecorderBinarySensor(CameraEntity, BinarySensorEntity):
    """A yes/no fact about a camera's recorder."""

    entity_description: RecorderBinarySensorDescription

    @property
    def is_on(self) -> bool:
        """Read the recorder status."""
        return self.entity_description.is_on(self.recorder_status)
