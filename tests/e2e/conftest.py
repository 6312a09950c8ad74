"""A real hass process and a real Chromium for end-to-end tests.

These tests talk to hass only over loopback HTTP, as a browser does; they start no hass of
phcc's inside the test process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import pytest_socket

from porchlight_dev import dashboard_home
from porchlight_dev.dashboard_home import Agency
from porchlight_dev.hass import Camera, HassProcess, Home, Tokens, write_config
from porchlight_dev.rtsp import RtspServer, free_port, make_camera_video

if TYPE_CHECKING:
    from collections.abc import Generator
    from pathlib import Path

OWNER = ("owner", "e2e-password")
NEIGHBOR = ("guest", "e2e-guest-password")  # a household member without admin rights
CAMERAS = ["camera.front_door", "camera.garden"]
HOME = Home(name="Maple Street 12", latitude=52.379189, longitude=4.899431)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(socket_enabled: None) -> None:
    """Override the package-wide fixture: hass runs as its own process here.

    phcc blocks sockets in every test; these talk to hass over real sockets. Its allow-list
    (127.0.0.1 only) stays in force, so nothing here can reach beyond loopback.
    """
    return


@pytest.fixture(scope="module")
def real_hass(tmp_path_factory: pytest.TempPathFactory) -> Generator[tuple[HassProcess, Tokens]]:
    """One onboarded hass per test module, with Porchlight linked in and two cameras."""
    # Module fixtures are set up before the function-scoped socket_enabled above.
    pytest_socket.enable_socket()
    config_dir: Path = tmp_path_factory.mktemp("hass")
    video = make_camera_video(tmp_path_factory.getbasetemp() / "media" / "doorbell.mp4")
    rtsp = RtspServer(video, cams=2)
    port = free_port()
    write_config(
        config_dir,
        port,
        Home(
            name="Maple Street 12",
            cameras=(Camera("Front door", rtsp.url(1)), Camera("Garden", rtsp.url(2))),
        ),
    )
    hass = HassProcess(config_dir, port)
    try:
        rtsp.start()
        hass.start()
        tokens = hass.onboard(*OWNER)
        assert tokens is not None
        hass.wait_running(tokens.access_token)
        yield hass, tokens
    finally:
        hass.stop()
        rtsp.stop()


@dataclass
class DashboardHome:
    """A running home with three recorded clips, a paired agency and a pending request."""

    hass: HassProcess
    owner: Tokens
    user: Tokens  # not an administrator
    agency: Agency
    agency_fingerprint: str
    # The window of every request issued here: it holds exactly the three recorded clips.
    window: tuple[float, float]
    request: dict[str, Any]  # the first request, as the home's list_requests shows it

    def new_request(self, window: tuple[float, float] | None = None) -> dict[str, Any]:
        """Another request from the agency (default: the first window), once the home has it."""
        request_id = self.agency.request((HOME.latitude, HOME.longitude), *(window or self.window))
        return dashboard_home.wait_request(self.hass, self.owner.access_token, request_id)

    def record_clips(self, count: int) -> None:
        """Record `count` more clips, after the window of the first requests."""
        dashboard_home.record_clips(self.hass, self.owner.access_token, CAMERAS, count)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Generator[DashboardHome]:
    """One real hass per module with Porchlight, two cameras, 3 clips and a paired agency.

    Everything goes through the doors a real home has: the config and options flows, the
    capture_clip action (the real recorder reading the RTSP cameras with ffmpeg), pairing
    with the agency CLI's code, and the agency's request over loopback HTTP, answered by its
    inbox running as its own process.
    """
    pytest_socket.enable_socket()
    config_dir: Path = tmp_path_factory.mktemp("dashboard-hass")
    video = make_camera_video(tmp_path_factory.getbasetemp() / "media" / "doorbell.mp4")
    rtsp = RtspServer(video, cams=2)
    port = free_port()
    cameras = (Camera("Front door", rtsp.url(1)), Camera("Garden", rtsp.url(2)))
    write_config(
        config_dir,
        port,
        Home(HOME.name, HOME.latitude, HOME.longitude, cameras),
    )
    hass = HassProcess(config_dir, port)
    agency = Agency(tmp_path_factory.mktemp("agency") / "profile")
    try:
        rtsp.start()
        hass.start()
        owner = hass.onboard(*OWNER)
        assert owner is not None
        token = owner.access_token
        hass.wait_running(token)
        dashboard_home.add_porchlight(
            hass,
            token,
            name=HOME.name,
            latitude=HOME.latitude,
            longitude=HOME.longitude,
            cameras=CAMERAS,
        )
        user = dashboard_home.create_user(hass, token, *NEIGHBOR)

        agency.must("init", "--name", agency.name, "--endpoint", agency.endpoint)
        fingerprint = dashboard_home.pair_agency(hass, token, agency)
        agency.serve(config_dir / "agency-inbox.log")

        dashboard_home.wait_cameras_streaming(hass, token, len(CAMERAS))
        start = time.time() - 5  # a clip starts one second (its pre-roll) before the press
        dashboard_home.record_clips(hass, token, CAMERAS, 3)
        end = time.time() - 0.5
        request_id = agency.request((HOME.latitude, HOME.longitude), start, end)
        request = dashboard_home.wait_request(hass, token, request_id)
        yield DashboardHome(hass, owner, user, agency, fingerprint, (start, end), request)
    finally:
        agency.stop()
        hass.stop()
        rtsp.stop()
