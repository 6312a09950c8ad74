"""Config, options and reconfigure flows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_LATITUDE, CONF_LONGITUDE
from homeassistant.data_entry_flow import FlowResultType, InvalidData

from custom_components.porchlight.const import (
    CONF_BLOCKED_AGENCIES,
    CONF_CAMERAS,
    CONF_CONTINUOUS,
    CONF_DOORBELL_ENTITIES,
    CONF_HOME_NAME,
    CONF_LOCATION,
    CONF_MAX_DOWNLOADS,
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
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.node import Node, Settings

from .home import FRONT_DOOR, GARDEN, HOME, SNAPSHOT_ONLY, SWITCHED_OFF

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry


def _offered(result: dict) -> list[str]:
    """The camera entity ids the form lets the owner pick."""
    for key, selector in result["data_schema"].schema.items():
        if key == CONF_CAMERAS:
            return selector.config["include_entities"]
    raise AssertionError


def _suggested(result: dict) -> dict:
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


async def test_user_flow_creates_home_with_chosen_cameras(
    hass: HomeAssistant, cameras: list[str]
) -> None:
    hass.config.location_name = "Maple Street 12"
    hass.config.latitude, hass.config.longitude = 40.7128, -74.006

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    # Only cameras with a stream to record now are offered: not the snapshot-only one, not
    # the switched-off one.
    assert hass.states.get(SNAPSHOT_ONLY) is not None
    assert hass.states.get(SWITCHED_OFF) is not None
    assert _offered(result) == [FRONT_DOOR, GARDEN]
    # The defaults come from Home Assistant's own home settings.
    assert _suggested(result) == {
        CONF_HOME_NAME: "Maple Street 12",
        CONF_LOCATION: {CONF_LATITUDE: 40.7128, CONF_LONGITUDE: -74.006},
        CONF_CAMERAS: [FRONT_DOOR, GARDEN],
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOME_NAME: "  Maple Street 12 ", CONF_LOCATION: HOME, CONF_CAMERAS: [GARDEN]},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Maple Street 12"
    assert result["data"] == {CONF_HOME_NAME: "Maple Street 12", CONF_LOCATION: HOME}
    assert result["options"] == {CONF_CAMERAS: [GARDEN], **RECORDING_DEFAULTS, CONF_TRIGGERS: {}}
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.cameras == (GARDEN,)


async def test_user_flow_aborts_without_recordable_cameras(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_cameras"


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        ({CONF_HOME_NAME: "   ", CONF_CAMERAS: [FRONT_DOOR]}, {CONF_HOME_NAME: "empty_name"}),
        ({CONF_HOME_NAME: "Home", CONF_CAMERAS: []}, {CONF_CAMERAS: "no_camera_selected"}),
    ],
)
async def test_user_flow_rejects_bad_input_then_recovers(
    hass: HomeAssistant, cameras: list[str], user_input: dict, errors: dict
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: HOME, **user_input}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    # What the owner typed is kept in the form.
    assert _suggested(result)[CONF_LOCATION] == HOME

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOME_NAME: "Home", CONF_LOCATION: HOME, CONF_CAMERAS: [GARDEN]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_rejects_camera_that_cannot_be_recorded(
    hass: HomeAssistant, cameras: list[str]
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    # A crafted request naming a camera the form did not offer is refused by the schema.
    with pytest.raises(InvalidData, match="cameras"):
        await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                CONF_HOME_NAME: "Home",
                CONF_LOCATION: HOME,
                CONF_CAMERAS: [FRONT_DOOR, SNAPSHOT_ONLY],
            },
        )
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_only_one_home_per_home_assistant(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "single_instance_allowed"


async def test_options_flow_changes_recording_and_triggers_then_reloads(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert _offered(result) == [FRONT_DOOR, GARDEN]
    assert _suggested(result) == {CONF_CAMERAS: [FRONT_DOOR], **RECORDING_DEFAULTS}

    settings = {
        CONF_PRE_ROLL: 5,
        CONF_POST_ROLL: 15,
        CONF_RETENTION_DAYS: 7,
        CONF_STORAGE_CAP_GB: 2.5,
        CONF_CONTINUOUS: True,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CAMERAS: [], **settings}
    )
    assert result["errors"] == {CONF_CAMERAS: "no_camera_selected"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CAMERAS: [FRONT_DOOR, GARDEN], **settings}
    )
    # One trigger step per chosen camera, named in the form.
    assert result["step_id"] == "triggers"
    assert result["description_placeholders"] == {"camera": "Front door"}
    assert result["last_step"] is False
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_DOORBELL_ENTITIES: ["event.front_doorbell"],
            CONF_MOTION_ENTITIES: ["binary_sensor.porch_motion"],
        },
    )
    assert result["step_id"] == "triggers"
    assert result["description_placeholders"] == {"camera": "Garden"}
    assert result["last_step"] is False
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    # Then the owner's rules for footage requests, prefilled with the defaults.
    assert result["step_id"] == "requests"
    assert result["last_step"] is False
    assert _suggested(result) == {**REQUEST_DEFAULTS}
    rules = {
        **REQUEST_DEFAULTS,
        CONF_REQUIRE_CASE: False,
        CONF_MAX_WINDOW_HOURS: 4,
        CONF_MAX_DOWNLOADS: 2.0,
        CONF_SHARE_HOURS: 24.0,
    }
    del rules[CONF_BLOCKED_AGENCIES]
    result = await hass.config_entries.options.async_configure(result["flow_id"], rules)
    # Last, the optional federation port (tests/test_federation_port.py); left off here.
    assert (result["step_id"], result["last_step"]) == ("federation", True)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    assert entry.options == {
        CONF_CAMERAS: [FRONT_DOOR, GARDEN],
        **settings,
        **rules,
        CONF_BLOCKED_AGENCIES: [],
        CONF_MAX_DOWNLOADS: 2,
        CONF_SHARE_HOURS: 24,
        CONF_RELAY: True,
        CONF_TRIGGERS: {
            FRONT_DOOR: {
                CONF_DOORBELL_ENTITIES: ["event.front_doorbell"],
                CONF_MOTION_ENTITIES: ["binary_sensor.porch_motion"],
            },
            GARDEN: {CONF_DOORBELL_ENTITIES: [], CONF_MOTION_ENTITIES: []},
        },
    }
    # OptionsFlowWithReload: the running entry picked up the new cameras and settings.
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.cameras == (FRONT_DOOR, GARDEN)
    assert entry.runtime_data.recorder.settings.continuous is True
    assert entry.runtime_data.desk.settings.rules.require_case is False
    assert entry.runtime_data.desk.settings.max_downloads == 2

    # Opening the options again prefills each camera's triggers from before.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CAMERAS: [FRONT_DOOR], **settings}
    )
    assert _suggested(result) == {
        CONF_DOORBELL_ENTITIES: ["event.front_doorbell"],
        CONF_MOTION_ENTITIES: ["binary_sensor.porch_motion"],
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert _suggested(result)[CONF_MAX_WINDOW_HOURS] == 4
    result = await hass.config_entries.options.async_configure(result["flow_id"], rules)
    await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()


async def test_options_flow_keeps_chosen_camera_without_stream_right_now(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    # A chosen camera whose stream is gone (a doorbell rebooting, say) must stay selectable,
    # or saving the options would silently drop it.
    hass.config_entries.async_update_entry(
        init_integration,
        options={**init_integration.options, CONF_CAMERAS: [FRONT_DOOR, SNAPSHOT_ONLY]},
    )
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert _offered(result) == [FRONT_DOOR, GARDEN, SNAPSHOT_ONLY]
    assert _suggested(result)[CONF_CAMERAS] == [FRONT_DOOR, SNAPSHOT_ONLY]


async def test_options_flow_aborts_when_no_camera_is_left(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    for entity_id in (FRONT_DOOR, GARDEN):
        hass.states.async_remove(entity_id)
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_cameras"


async def test_reconfigure_changes_name_and_location(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert _suggested(result) == {CONF_HOME_NAME: "Maple Street 12", CONF_LOCATION: HOME}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOME_NAME: "", CONF_LOCATION: HOME}
    )
    assert result["errors"] == {CONF_HOME_NAME: "empty_name"}

    moved = {CONF_LATITUDE: 52.0, CONF_LONGITUDE: 5.0}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOME_NAME: "Oak Lane 3", CONF_LOCATION: moved}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.title == "Oak Lane 3"
    assert entry.data == {CONF_HOME_NAME: "Oak Lane 3", CONF_LOCATION: moved}
    assert entry.options == {CONF_CAMERAS: [FRONT_DOOR], **RECORDING_DEFAULTS}
    assert entry.state is ConfigEntryState.LOADED


def _agency_choices(result: dict) -> list[dict[str, str]]:
    """The agencies the requests step offers for the block- and allowlists."""
    for key, selector in result["data_schema"].schema.items():
        if key == CONF_BLOCKED_AGENCIES:
            return list(selector.config["options"])
    raise AssertionError


async def _to_requests_step(hass: HomeAssistant, entry: MockConfigEntry) -> dict:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CAMERAS: [FRONT_DOOR], **RECORDING_DEFAULTS}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["step_id"] == "requests"
    return result


async def test_requests_step_offers_the_agencies_this_home_knows(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    node = init_integration.runtime_data.federation.node
    agency = Node(Identity.generate(), Settings(name="Metro PD", role="agency"), node.clock)
    agency.advertise("https://pd.example/api/porchlight/v1")
    peer = node.import_agency(agency.create_invite().to_text())
    result = await _to_requests_step(hass, init_integration)
    assert _agency_choices(result) == [
        {"value": peer.keyid, "label": f"Metro PD ({peer.fingerprint})"}
    ]


async def test_requests_step_works_while_porchlight_is_not_loaded(
    hass: HomeAssistant, cameras: list[str], mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await _to_requests_step(hass, mock_config_entry)
    assert _agency_choices(result) == []
