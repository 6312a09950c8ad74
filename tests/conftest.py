"""Shared fixtures: a hass with real cameras, a Porchlight entry, a loaded integration.

Also the loopback federation (`clock`, `network`) that every folder's tests use, and the
agency with recorded clips that the footage tests use (`recorded`, `agency`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import time
from typing import TYPE_CHECKING, Any

# Must come before Home Assistant's loader runs: phcc's testing config has its own
# custom_components package that would otherwise shadow ours.
import custom_components.porchlight  # noqa: F401  # isort: skip


import aiohttp
import pytest
import pytest_socket
from homeassistant.components.camera import Camera, CameraEntityFeature
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_integration,
    mock_platform,
)

from custom_components.porchlight import identity_path
from custom_components.porchlight.const import (
    CONF_CAMERAS,
    CONF_HOME_NAME,
    CONF_LOCATION,
    DOMAIN,
    RECORDING_DEFAULTS,
)
from custom_components.porchlight.federation.node import API_PREFIX
from custom_components.porchlight.recordings.models import Clip, Trigger
from porchlight_dev.rtsp import RtspServer, make_camera_video

from .federation.loopback import FollowingClock, Network
from .footage_helpers import index_root, pair_agency
from .home import FRONT_DOOR, GARDEN, HOME

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddEntitiesCallback
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

    from custom_components.porchlight.federation.clock import ManualClock

    from .federation.loopback import Running


# What a log record must name to count as Porchlight's: its own loggers, or a report by
# Home Assistant (e.g. "Detected blocking call ...") whose text or traceback points into it.
PORCHLIGHT_LOGGER = "custom_components.porchlight"
PORCHLIGHT_PATHS = ("custom_components/porchlight", "custom_components.porchlight")


def names_porchlight(record: logging.LogRecord) -> bool:
    """Whether a log record comes from Porchlight or is about Porchlight's code."""
    if record.name == PORCHLIGHT_LOGGER or record.name.startswith(PORCHLIGHT_LOGGER + "."):
        return True
    text = record.getMessage()
    if record.exc_info:
        text += logging.Formatter().formatException(record.exc_info)
    if record.stack_info:
        text += record.stack_info
    return any(path in text for path in PORCHLIGHT_PATHS)


class _PorchlightWarnings(logging.Handler):
    """Collects WARNING-or-above records that name Porchlight, from any thread."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if names_porchlight(record) and not _slow_step(record):
            self.records.append(record)


def _slow_step(record: logging.LogRecord) -> bool:
    """asyncio's debug-mode report of a step that took over 0.1 s ("Executing <Task ...>").

    Left out: on a loaded machine (two cores, CI) any step can take that long, so the report
    says more about the machine than the code, and a test must not depend on timing. Real
    blocking calls are still caught: Home Assistant reports them as "Detected blocking call".
    """
    return record.name == "asyncio" and record.getMessage().startswith("Executing <")


def pytest_configure(config: pytest.Config) -> None:
    """Register the opt-out marker (here, so --strict-markers knows it)."""
    config.addinivalue_line(
        "markers",
        "allow_porchlight_warnings(*patterns): the test provokes the Porchlight warnings these"
        " regular expressions match (each at least once, nothing else)",
    )


@pytest.fixture(autouse=True)
def fail_on_porchlight_warnings(request: pytest.FixtureRequest) -> Generator[None]:
    """Fail any test during which Porchlight warns, or Home Assistant warns about Porchlight.

    A warning in a homeowner's log is a defect unless a test provokes it on purpose; such a
    test names the warnings it expects, `@pytest.mark.allow_porchlight_warnings("pattern")`
    (regular expressions searched in "logger: message"): each must turn up, and nothing
    else may. Autouse and set up first, so it also sees what hass' teardown (unloading the
    entry) logs.
    """
    handler = _PorchlightWarnings()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    marker = request.node.get_closest_marker("allow_porchlight_warnings")
    expected = [re.compile(pattern) for pattern in (marker.args if marker else ())]
    lines = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in handler.records]
    if marker is not None and not expected:
        shown = "\n".join(line[:500] for line in lines)
        pytest.fail(f"allow_porchlight_warnings needs the warnings it expects:\n{shown}")
    unexpected = [line for line in lines if not any(p.search(line) for p in expected)]
    missing = [p.pattern for p in expected if not any(p.search(line) for line in lines)]
    if unexpected:
        shown = "\n".join(line[:500] for line in unexpected)
        pytest.fail(f"Porchlight warnings in the log:\n{shown}", pytrace=False)
    if missing:
        pytest.fail(f"Expected Porchlight warnings not logged: {missing}", pytrace=False)


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give every test its own config dir: Porchlight writes its key there."""
    return hass_tmp_config_dir


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> Generator[None]:
    """Let Home Assistant load Porchlight from custom_components."""
    return


class SnapshotOnlyCamera(Camera):
    """A camera integration that offers stills but no stream (many cloud doorbells do)."""

    _attr_name = "Porch snapshots"
    _attr_unique_id = "porch_snapshots"

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        return b""


class SwitchedOffCamera(Camera):
    """A streaming camera the owner switched off: it has a stream, but none to record now."""

    _attr_name = "Garage"
    _attr_unique_id = "garage"
    _attr_is_on = False
    _attr_supported_features = CameraEntityFeature.STREAM

    async def stream_source(self) -> str | None:
        return "rtsp://127.0.0.1:8554/garage"


@pytest.fixture(scope="session")
def camera_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small doorbell-like H.264 clip (keyframe every 2 s), made once per session."""
    return make_camera_video(tmp_path_factory.mktemp("video") / "doorbell.mp4")


@pytest.fixture
def rtsp(camera_video: Path) -> Generator[RtspServer]:
    """A running loopback RTSP server with two cameras (/cam1, /cam2)."""
    pytest_socket.enable_socket()
    server = RtspServer(camera_video, cams=2)
    server.start()
    yield server
    server.thaw()
    server.stop()


@pytest.fixture
def camera_sources() -> dict[str, str]:
    """Stream URLs of the two ffmpeg cameras. Nothing listens on port 9 (discard), so by
    default their recorders only retry quietly; recording tests point them at `rtsp`."""
    return {
        "Front door": "rtsp://127.0.0.1:9/front",
        "Garden": "rtsp://127.0.0.1:9/garden",
    }


@pytest.fixture
async def cameras(hass: HomeAssistant, camera_sources: dict[str, str]) -> list[str]:
    """Two real ffmpeg cameras with RTSP streams, a snapshot-only and a switched-off camera."""

    async def setup_snapshot_platform(
        hass: HomeAssistant,
        config: dict[str, Any],
        async_add_entities: AddEntitiesCallback,
        discovery_info: Any = None,
    ) -> None:
        async_add_entities([SnapshotOnlyCamera(), SwitchedOffCamera()])

    mock_integration(hass, MockModule("snapshot_cam"))
    mock_platform(
        hass, "snapshot_cam.camera", MockPlatform(async_setup_platform=setup_snapshot_platform)
    )
    assert await async_setup_component(hass, "ffmpeg", {})
    assert await async_setup_component(
        hass,
        "camera",
        {
            "camera": [
                *(
                    {"platform": "ffmpeg", "name": name, "input": url}
                    for name, url in camera_sources.items()
                ),
                {"platform": "snapshot_cam"},
            ]
        },
    )
    await hass.async_block_till_done()
    return [FRONT_DOOR, GARDEN]


@pytest.fixture
def recording_options() -> dict[str, Any]:
    """Options beyond the camera list; recording tests shorten pre- and post-roll."""
    return dict(RECORDING_DEFAULTS)


@pytest.fixture
def mock_config_entry(recording_options: dict[str, Any]) -> MockConfigEntry:
    """A Porchlight entry as the config flow creates it."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Maple Street 12",
        data={CONF_HOME_NAME: "Maple Street 12", CONF_LOCATION: dict(HOME)},
        options={CONF_CAMERAS: [FRONT_DOOR], **recording_options},
        version=1,
        minor_version=1,
    )


@pytest.fixture
def key_path(hass: HomeAssistant) -> Path:
    """Where the integration keeps this home's identity key."""
    return identity_path(hass)


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, cameras: list[str], mock_config_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """Porchlight set up and loaded."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry


@pytest.fixture
def clock() -> ManualClock:
    """The loopback nodes' clock: real time plus what a test moved it by.

    Home Assistant's node and the agency CLI sign with the system clock. The HA-free library
    tests (federation/, consent/) move time by hand instead (hass_free.hand_moved_clock).
    """
    return FollowingClock()


@pytest.fixture
async def network(socket_enabled: None, clock: ManualClock) -> AsyncGenerator[Network]:
    """Other instances on loopback, on the test's clock, sharing one client session."""
    async with aiohttp.ClientSession() as session:
        net = Network(clock, session)
        yield net
        for running in list(net.running):
            await net.stop(running)


@pytest.fixture
async def endpoint(socket_enabled: None, hass_client_no_auth: ClientSessionGenerator) -> str:
    """Home Assistant's federation endpoint on its test server."""
    client = await hass_client_no_auth()
    return str(client.make_url(API_PREFIX))


@pytest.fixture
async def recorded(
    hass: HomeAssistant, init_integration: MockConfigEntry, camera_video: Path
) -> list[Clip]:
    """Three real clips of the front door in the last hour, in the real index."""
    index = init_integration.runtime_data.recorder.index
    root = index_root(init_integration)
    now = time.time()
    made: list[Clip] = []
    for n, age in enumerate((3000, 2000, 1000)):
        clip_id = f"{n:02d}" + "c" * 14
        path = root / f"{clip_id}.mp4"
        await hass.async_add_executor_job(shutil.copyfile, camera_video, path)
        data = path.read_bytes()
        clip = Clip(
            id=clip_id,
            camera=FRONT_DOOR,
            trigger=Trigger.DOORBELL,
            start=now - age,
            end=now - age + 20,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            path=path,
            thumbnail=None,
            created=now - age + 21,
        )
        await hass.async_add_executor_job(index.add_clip, clip)
        made.append(clip)
    return made


@pytest.fixture
async def agency(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    recorded: list[Clip],
    endpoint: str,
    network: Network,
) -> Running:
    """A trusted agency paired with this home, which has three matching clips."""
    return await pair_agency(hass, init_integration, endpoint, network)
