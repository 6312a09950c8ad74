"""scripts/develop: a real Home Assistant with Porchlight and a test camera, to try by hand."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .hass import REPO, Camera, HassError, HassProcess, Home, port_is_free, write_config
from .rtsp import RtspError, RtspServer, make_camera_video

if TYPE_CHECKING:
    from types import FrameType

USERNAME = "dev"
PASSWORD = "porchlight-dev"  # noqa: S105  # throwaway owner of a hass bound to 127.0.0.1


def _interrupt(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
    """Treat SIGTERM like Ctrl-C: unwind to main()'s cleanup instead of dying on the spot."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Start hass, onboard it on first run, and keep it in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="scripts/develop", description=__doc__)
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--rtsp-port", type=int, default=8554)
    parser.add_argument("--config", type=Path, default=REPO / ".cache" / "develop")
    args = parser.parse_args(argv)

    for port, flag in ((args.port, "--port"), (args.rtsp_port, "--rtsp-port")):
        if not port_is_free(port):
            print(f"develop: port {port} is in use; pass {flag} N", file=sys.stderr)
            return 1
    # Two test cameras: a loopback RTSP server looping a generated clip, as a doorbell would
    # stream. Its port is fixed so the generated configuration stays valid between runs.
    rtsp = RtspServer(
        make_camera_video(args.config / "media" / "doorbell.mp4", size="1280x720"),
        cams=2,
        port=args.rtsp_port,
    )
    write_config(
        args.config,
        args.port,
        Home(cameras=(Camera("Front door", rtsp.url(1)), Camera("Garden", rtsp.url(2)))),
    )
    hass = HassProcess(args.config, args.port)

    # Ctrl-C (SIGINT) and SIGTERM only raise KeyboardInterrupt; stopping and reaping happen
    # in the finally below, outside any signal handler, so on every way out (signal, error,
    # hass exiting by itself) hass and the RTSP server are stopped and waited for.
    signal.signal(signal.SIGTERM, _interrupt)
    # Set, not assumed: a shell starting `scripts/develop &` without job control starts
    # it with SIGINT ignored, and Python then installs no KeyboardInterrupt handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _run(hass, rtsp, args.config)
    except KeyboardInterrupt:
        print("develop: stopping", flush=True)
        return 0
    finally:
        # A second Ctrl-C while stopping must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        hass.stop()
        rtsp.stop()


def _run(hass: HassProcess, rtsp: RtspServer, config: Path) -> int:
    """Start the cameras and hass, log in, and wait for hass to exit."""
    try:
        rtsp.start()
        print(f"develop: test cameras at {rtsp.url(1)} and {rtsp.url(2)}", flush=True)
        print(f"develop: starting hass with config {config} (log: {hass.log_path})", flush=True)
        hass.start()
        # Onboarding happens on the first run only; later runs log in as the owner made then.
        tokens = hass.onboard(USERNAME, PASSWORD) or hass.login(USERNAME, PASSWORD)
        hass.wait_running(tokens.access_token)
    except (HassError, RtspError, OSError) as err:
        print(f"develop: {err}", file=sys.stderr)
        return 1
    print(
        f"develop: Home Assistant is up at {hass.base_url}\n"
        f"develop: log in as {USERNAME} / {PASSWORD}, then Settings > Devices & services >"
        " Add integration > Porchlight.\n"
        f"develop: Ctrl-C stops it; the config in {config} is kept between runs.",
        flush=True,
    )
    code = hass.wait()
    print(f"develop: hass exited with {code}; see {hass.log_path}", file=sys.stderr)
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
