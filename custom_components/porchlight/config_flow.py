"""Config, options and reconfigure flows for a Porchlight home."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, override

import probatio
from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_LATITUDE, CONF_LONGITUDE
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    LocationSelector,
    LocationSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
)

from .cameras import async_recordable_cameras
from .consent.rules import MAX_AREA_SQ_MI, MAX_LOOKBACK_DAYS, MAX_WINDOW_HOURS
from .const import (
    CONF_ALLOWED_AGENCIES,
    CONF_BLOCKED_AGENCIES,
    CONF_CAMERAS,
    CONF_CONTINUOUS,
    CONF_DECLINE_ALL,
    CONF_DOORBELL_ENTITIES,
    CONF_FEDERATION_PORT,
    CONF_HOME_NAME,
    CONF_LOCATION,
    CONF_MAX_AREA_SQ_MI,
    CONF_MAX_DOWNLOADS,
    CONF_MAX_LOOKBACK_DAYS,
    CONF_MAX_WINDOW_HOURS,
    CONF_MOTION_ENTITIES,
    CONF_POST_ROLL,
    CONF_PRE_ROLL,
    CONF_RELAY,
    CONF_REQUIRE_CASE,
    CONF_RETENTION_DAYS,
    CONF_SHARE_HOURS,
    CONF_STORAGE_CAP_GB,
    CONF_TRIGGERS,
    DOMAIN,
    RECORDING_DEFAULTS,
    REQUEST_DEFAULTS,
)

if TYPE_CHECKING:
    from .data import PorchlightConfigEntry


def _home_fields() -> dict[Any, Any]:
    return {
        probatio.Required(CONF_HOME_NAME): TextSelector(),
        probatio.Required(CONF_LOCATION): LocationSelector(LocationSelectorConfig(radius=False)),
    }


def _camera_fields(cameras: list[str]) -> dict[Any, Any]:
    return {
        probatio.Required(CONF_CAMERAS): EntitySelector(
            EntitySelectorConfig(domain="camera", include_entities=cameras, multiple=True)
        ),
    }


def _number(minimum: float, maximum: float, step: float, unit: str) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            unit_of_measurement=unit,
            mode=NumberSelectorMode.BOX,
        )
    )


def _recording_fields() -> dict[Any, Any]:
    return {
        probatio.Required(CONF_PRE_ROLL): _number(0, 120, 1, "s"),
        probatio.Required(CONF_POST_ROLL): _number(5, 300, 1, "s"),
        probatio.Required(CONF_RETENTION_DAYS): _number(1, 365, 1, "d"),
        probatio.Required(CONF_STORAGE_CAP_GB): _number(1, 10_000, 0.5, "GB"),
        probatio.Required(CONF_CONTINUOUS): BooleanSelector(),
    }


def _trigger_fields() -> dict[Any, Any]:
    sources = EntitySelector(EntitySelectorConfig(domain=["event", "binary_sensor"], multiple=True))
    return {
        probatio.Optional(CONF_DOORBELL_ENTITIES): sources,
        probatio.Optional(CONF_MOTION_ENTITIES): sources,
    }


def _request_fields(agencies: list[SelectOptionDict]) -> dict[Any, Any]:
    """The owner's rules for footage requests; the maxima are the hard limits."""
    choose = SelectSelector(SelectSelectorConfig(options=agencies, multiple=True))
    return {
        probatio.Required(CONF_REQUIRE_CASE): BooleanSelector(),
        probatio.Required(CONF_DECLINE_ALL): BooleanSelector(),
        probatio.Required(CONF_MAX_WINDOW_HOURS): _number(1, MAX_WINDOW_HOURS, 1, "h"),
        probatio.Required(CONF_MAX_AREA_SQ_MI): _number(0.01, MAX_AREA_SQ_MI, 0.01, "sq mi"),
        probatio.Required(CONF_MAX_LOOKBACK_DAYS): _number(1, MAX_LOOKBACK_DAYS, 1, "d"),
        probatio.Optional(CONF_BLOCKED_AGENCIES): choose,
        probatio.Optional(CONF_ALLOWED_AGENCIES): choose,
        probatio.Required(CONF_SHARE_HOURS): _number(1, 72, 1, "h"),
        probatio.Required(CONF_MAX_DOWNLOADS): _number(1, 3, 1, ""),
    }


def _federation_fields() -> dict[Any, Any]:
    port = NumberSelector(NumberSelectorConfig(min=0, max=65535, mode=NumberSelectorMode.BOX))
    return {
        probatio.Optional(CONF_FEDERATION_PORT): port,
        # Optional with a default: a form sent without it (an older frontend) keeps relaying.
        probatio.Optional(CONF_RELAY, default=True): BooleanSelector(),
    }


def _home_data(user_input: dict[str, Any]) -> dict[str, Any]:
    """Keep only what Porchlight stores about the home: its name and exact location."""
    location = user_input[CONF_LOCATION]
    return {
        CONF_HOME_NAME: user_input[CONF_HOME_NAME].strip(),
        CONF_LOCATION: {
            CONF_LATITUDE: float(location[CONF_LATITUDE]),
            CONF_LONGITUDE: float(location[CONF_LONGITUDE]),
        },
    }


def _validate(user_input: dict[str, Any]) -> dict[str, str]:
    # The entity selector already refuses cameras it did not offer; what is left is
    # emptiness, which the selector lets through.
    errors: dict[str, str] = {}
    if CONF_HOME_NAME in user_input and not user_input[CONF_HOME_NAME].strip():
        errors[CONF_HOME_NAME] = "empty_name"
    if CONF_CAMERAS in user_input and not user_input[CONF_CAMERAS]:
        errors[CONF_CAMERAS] = "no_camera_selected"
    return errors


class PorchlightConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up the one Porchlight home this Home Assistant stands for."""

    VERSION = 1
    MINOR_VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the home's name, its location and the cameras to record."""
        cameras = await async_recordable_cameras(self.hass)
        if not cameras:
            return self.async_abort(reason="no_cameras")

        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _validate(user_input)
            if not errors:
                data = _home_data(user_input)
                return self.async_create_entry(
                    title=data[CONF_HOME_NAME],
                    data=data,
                    options={
                        CONF_CAMERAS: list(user_input[CONF_CAMERAS]),
                        **RECORDING_DEFAULTS,
                        CONF_TRIGGERS: {},
                    },
                )

        schema = probatio.Schema({**_home_fields(), **_camera_fields(cameras)})
        suggested = user_input or {
            CONF_HOME_NAME: self.hass.config.location_name,
            CONF_LOCATION: {
                CONF_LATITUDE: self.hass.config.latitude,
                CONF_LONGITUDE: self.hass.config.longitude,
            },
            CONF_CAMERAS: cameras,
        }
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the home's name or location."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _validate(user_input)
            if not errors:
                data = _home_data(user_input)
                return self.async_update_reload_and_abort(
                    entry, title=data[CONF_HOME_NAME], data_updates=data
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(_home_fields()), user_input or dict(entry.data)
            ),
            errors=errors,
        )

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: PorchlightConfigEntry) -> PorchlightOptionsFlow:
        """Create the options flow."""
        return PorchlightOptionsFlow()


class PorchlightOptionsFlow(OptionsFlowWithReload):
    """Change which cameras are recorded, how, and what starts a clip for each."""

    def __init__(self) -> None:
        """Start with nothing chosen."""
        self._options: dict[str, Any] = {}
        self._cameras_left: list[str] = []
        self._old_triggers: dict[str, Any] = {}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick the cameras and the recording settings."""
        current = {**RECORDING_DEFAULTS, **self.config_entry.options}
        cameras = await _offered_cameras(self.hass, current[CONF_CAMERAS])
        if not cameras:
            return self.async_abort(reason="no_cameras")

        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _validate(user_input)
            if not errors:
                # Triggers are asked again per camera, prefilled with what was set before.
                self._old_triggers = current.get(CONF_TRIGGERS, {})
                self._options = {**current, **user_input, CONF_TRIGGERS: {}}
                self._cameras_left = list(user_input[CONF_CAMERAS])
                return await self.async_step_triggers()
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema({**_camera_fields(cameras), **_recording_fields()}),
                user_input or current,
            ),
            errors=errors,
        )

    async def async_step_triggers(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """For each chosen camera in turn: which doorbell and motion entities start a clip."""
        if user_input is not None:
            camera = self._cameras_left.pop(0)
            self._options[CONF_TRIGGERS][camera] = {
                CONF_DOORBELL_ENTITIES: user_input.get(CONF_DOORBELL_ENTITIES, []),
                CONF_MOTION_ENTITIES: user_input.get(CONF_MOTION_ENTITIES, []),
            }
        if not self._cameras_left:
            return await self.async_step_requests()
        camera = self._cameras_left[0]
        state = self.hass.states.get(camera)
        return self.async_show_form(
            step_id="triggers",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(_trigger_fields()), self._old_triggers.get(camera, {})
            ),
            description_placeholders={"camera": state.name if state else camera},
            last_step=False,
        )

    async def async_step_requests(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The owner's rules for footage requests, applied before any notification."""
        if user_input is not None:
            self._options.update(
                {
                    CONF_BLOCKED_AGENCIES: [],
                    CONF_ALLOWED_AGENCIES: [],
                    **user_input,
                    CONF_MAX_DOWNLOADS: int(user_input[CONF_MAX_DOWNLOADS]),
                    CONF_SHARE_HOURS: int(user_input[CONF_SHARE_HOURS]),
                }
            )
            return await self.async_step_federation()
        current = {**REQUEST_DEFAULTS, **self.config_entry.options}
        agencies = _agency_options(self.config_entry)
        return self.async_show_form(
            step_id="requests",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(_request_fields(agencies)), current
            ),
            last_step=False,
        )

    async def async_step_federation(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Optionally serve the federation on a port of its own (empty or 0: off)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            port = int(user_input.get(CONF_FEDERATION_PORT) or 0)
            if port == self.hass.http.server_port:
                errors[CONF_FEDERATION_PORT] = "port_is_home_assistant"
            else:
                self._options.pop(CONF_FEDERATION_PORT, None)
                self._options[CONF_RELAY] = bool(user_input[CONF_RELAY])
                if port:
                    self._options[CONF_FEDERATION_PORT] = port
                return self.async_create_entry(data=self._options)
        return self.async_show_form(
            step_id="federation",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(_federation_fields()),
                user_input or self._options,
            ),
            errors=errors,
            last_step=True,
        )


def _agency_options(entry: PorchlightConfigEntry) -> list[SelectOptionDict]:
    """The agencies this home knows, by name and fingerprint (keyids are what is stored)."""
    if entry.state is not ConfigEntryState.LOADED:
        return []
    return [
        SelectOptionDict(value=a.keyid, label=f"{a.name} ({a.fingerprint})")
        for a in entry.runtime_data.federation.node.peers.agencies()
    ]


async def _offered_cameras(hass: HomeAssistant, selected: list[str]) -> list[str]:
    """Recordable cameras plus the ones already chosen that still exist.

    A chosen camera that is offline right now stays selectable, so opening the options while
    the doorbell reboots does not silently drop it.
    """
    recordable = await async_recordable_cameras(hass)
    still_there = [c for c in selected if hass.states.get(c) is not None]
    return sorted(set(recordable) | set(still_there))
