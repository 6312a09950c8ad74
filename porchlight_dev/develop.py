"""scripts/develop: a real Home Assistant with Porchlight and a test camera, to try by hand."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .hass import (
    REPO,
    Camera,
    HassError,
    HassProcess,
    Home,
    make_test_video,
    port_is_free,
    write_config,
)

if TYPE_CHECKING:
    from types import FrameType

USERNAME = "dev"
PASSWORD = "porchlight-dev"  # noqa: S105  # throwaway owner of a hass bound to 127.0.0.1


def main(argv: list[str] | None = None) -> int:
    """Start hass, onboard it on first run, and keep it in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="scripts/develop", description=__doc__)
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--config", type=Path, default=REPO / ".cache" / "develop")
    args = parser.parse_args(argv)

    if not port_is_free(args.port):
        print(f"develop: port {args.port} is in use; pass --port N", file=sys.stderr)
        return 1
    video = make_test_video(args.config / "media" / "doorbell.mp4")
    write_config(
        args.config,
        args.port,
        Home(cameras=(Camera("Front door", str(video)), Camera("Garden", str(video)))),
    )
    hass = HassProcess(args.config, args.port)

    def stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        hass.stop()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        print(f"develop: starting hass with config {args.config} (log: {hass.log_path})")
        hass.start()
        tokens = hass.onboard(USERNAME, PASSWORD)
        if tokens is not None:
            hass.wait_running(tokens.access_token)
    except (HassError, OSError) as err:
        print(f"develop: {err}", file=sys.stderr)
        hass.stop()
        return 1
    print(
        f"develop: Home Assistant is up at {hass.base_url}\n"
        f"develop: log in as {USERNAME} / {PASSWORD}, then Settings > Devices & services >"
        " Add integration > Porchlight.\n"
        "develop: Ctrl-C stops it; the config in .cache/develop is kept between runs."
    )
    with contextlib.suppress(KeyboardInterrupt):
        hass.wait()
    hass.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
