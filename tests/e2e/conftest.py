"""A real hass process and a real Chromium for end-to-end tests.

These tests talk to hass only over loopback HTTP, as a browser does; they start no hass of
phcc's inside the test process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import pytest_socket

from porchlight_dev.hass import Camera, HassProcess, Home, Tokens, write_config
from porchlight_dev.rtsp import RtspServer, free_port, make_camera_video

if TYPE_CHECKING:
    from collections.abc import Generator
    from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# Flags for a headless Chromium on a machine without network: no background calls out.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OWNER = ("owner", "e2e-password")


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
