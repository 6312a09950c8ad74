"""Start a real `hass` process with Porchlight and onboard it over its REST API.

Standard library only (plus the venv's `hass`), synchronous, so it works from a shell script,
from pytest fixtures of any scope and from the demo orchestrator alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
INTEGRATION = REPO / "custom_components" / "porchlight"
HASS_BIN = Path(sys.executable).with_name("hass")


LOCAL_INTEGRATIONS = (
    "assist_pipeline", "automation", "blueprint", "config", "conversation", "energy",
    "frontend", "history", "logbook", "media_source", "mobile_app", "person", "script",
    "stream", "sun", "system_health", "webhook",
)  # fmt: skip

# A record in home-assistant.log starts with HA's own format, "2026-12-03 09:15:02.123 WARNING
# (MainThread) [homeassistant.util.loop] ..."; tracebacks and other continuation lines do not.
_LOG_RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ (?P<level>[A-Z]+) \([^)]*\) \[(?P<logger>[^\]]+)\]"
)
PORCHLIGHT_PATHS = ("custom_components/porchlight", "custom_components.porchlight")


class HassError(RuntimeError):
    """hass did not start, answer or onboard as expected."""


@dataclass(frozen=True, slots=True)
class Camera:
    """A camera for the test home: HA's core ffmpeg camera reading `source`."""

    name: str
    source: str


@dataclass(frozen=True, slots=True)
class Home:
    """What the generated configuration.yaml says about the home."""

    name: str = "Porchlight dev home"
    latitude: float = 52.379189
    longitude: float = 4.899431
    cameras: tuple[Camera, ...] = ()


@dataclass(frozen=True, slots=True)
class Tokens:
    """Tokens of the onboarded owner, in the shape the frontend keeps in localStorage."""

    access_token: str
    refresh_token: str
    expires_in: int

    def frontend_auth(self, base_url: str) -> dict[str, Any]:
        """The `hassTokens` object the HA frontend reads from localStorage."""
        return {
            "hassUrl": base_url,
            "clientId": f"{base_url}/",
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
            "expires": int(time.time() * 1000) + self.expires_in * 1000,
            "token_type": "Bearer",
        }


def write_config(config_dir: Path, port: int, home: Home) -> None:
    """Create a config dir with Porchlight linked in; an existing configuration is kept."""
    custom = config_dir / "custom_components"
    custom.mkdir(parents=True, exist_ok=True)
    link = custom / "porchlight"
    if link.is_symlink() or link.exists():
        if link.resolve() != INTEGRATION:
            msg = f"{link} exists and is not a link to {INTEGRATION}"
            raise HassError(msg)
    else:
        link.symlink_to(INTEGRATION, target_is_directory=True)

    config = config_dir / "configuration.yaml"
    if config.exists():
        return
    _write_http_store(config_dir, port)
    # JSON is valid YAML, so the generated file needs no YAML library and no quoting rules.
    cameras = [{"platform": "ffmpeg", "name": c.name, "input": c.source} for c in home.cameras]
    lines = [
        "homeassistant:",
        f"  name: {json.dumps(home.name)}",
        f"  latitude: {home.latitude}",
        f"  longitude: {home.longitude}",
        "  elevation: 0",
        "  unit_system: metric",
        "  time_zone: UTC",
        "  country: NL",
        "  currency: EUR",
        # default_config minus what cannot work on an offline test machine (go2rtc's binary,
        # cloud, network discovery, bluetooth, usb, alerts) and would only fill the log.
        *(f"{name}:" for name in LOCAL_INTEGRATIONS),
        "ffmpeg:",
        f"camera: {json.dumps(cameras)}",
        "logger:",
        "  default: warning",
        "  logs:",
        "    custom_components.porchlight: debug",
    ]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_http_store(config_dir: Path, port: int) -> None:
    """Bind hass to 127.0.0.1:port the way HA 2026.10 keeps it: in .storage/http.

    YAML `http:` still works but makes the frontend ask the owner to confirm the "new" server
    settings on first login, which is not what a fresh install shows.
    """
    from homeassistant.components.http.config import (  # noqa: PLC0415  # heavy import
        HTTP_STORAGE_SCHEMA,
        STORAGE_KEY,
        STORAGE_MINOR_VERSION,
        STORAGE_VERSION,
    )

    stable = HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": port})
    stable |= {"created_at": "2026-01-01T00:00:00+00:00", "error": None, "error_message": None}
    store = config_dir / ".storage" / STORAGE_KEY
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(
        json.dumps(
            {
                "version": STORAGE_VERSION,
                "minor_version": STORAGE_MINOR_VERSION,
                "key": STORAGE_KEY,
                "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
            }
        ),
        encoding="utf-8",
    )


@dataclass(slots=True)
class HassProcess:
    """One real hass on 127.0.0.1:port."""

    config_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def base_url(self) -> str:
        """The URL the owner's browser uses."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 120.0) -> None:
        """Start hass in the background and wait until its HTTP server answers."""
        if not HASS_BIN.exists():
            msg = f"{HASS_BIN} not found; run scripts/bootstrap"
            raise HassError(msg)
        log = (self.config_dir / "hass.stdout.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [str(HASS_BIN), "-c", str(self.config_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.wait_http(timeout)

    def wait_http(self, timeout: float) -> None:
        """Poll until hass' HTTP server answers on its onboarding endpoint.

        Any HTTP answer counts: once onboarding is done hass no longer serves that endpoint
        and answers 404 (an HTTPError, which is also a URLError, so it is caught first).
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                msg = f"hass exited with {self.process.returncode}; see {self.log_path}"
                raise HassError(msg)
            try:
                self.request("GET", "/api/onboarding")
            except urllib.error.HTTPError:
                return
            except urllib.error.URLError, ConnectionError, TimeoutError:
                time.sleep(0.25)
                continue
            return
        msg = f"hass did not answer on port {self.port} within {timeout:.0f} s"
        raise HassError(msg)

    @property
    def log_path(self) -> Path:
        """Where hass' own output goes."""
        return self.config_dir / "hass.stdout.log"

    def porchlight_warnings(self) -> list[str]:
        """WARNING-or-above records in home-assistant.log that come from or name Porchlight.

        Porchlight's own loggers, and Home Assistant's reports about Porchlight's code (such
        as "Detected blocking call ..." with a traceback into custom_components/porchlight).
        """
        path = self.config_dir / "home-assistant.log"
        if not path.exists():
            return []
        records: list[list[str]] = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if _LOG_RECORD.match(line) or not records:
                records.append([line])
            else:
                records[-1].append(line)
        found = []
        for lines in records:
            head = _LOG_RECORD.match(lines[0])
            if head is None or head["level"] not in {"WARNING", "ERROR", "CRITICAL"}:
                continue
            # The header names the logger, so Porchlight's own loggers match as well.
            text = "\n".join(lines)
            if any(p in text for p in PORCHLIGHT_PATHS):
                found.append(text)
        return found

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> Any:
        """Call hass' HTTP API and return the decoded JSON answer."""
        headers = {}
        data: bytes | None = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(  # noqa: S310  # always http://127.0.0.1
            self.base_url + path, data=data, headers=headers, method=method
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            body = resp.read()
        return json.loads(body) if body else None

    def onboard(self, username: str, password: str) -> Tokens | None:
        """Create the owner account and finish onboarding; None if it was done before."""
        try:
            answer = self.request("GET", "/api/onboarding")
        except urllib.error.HTTPError as err:
            if err.code == HTTPStatus.NOT_FOUND:  # onboarded hass serves no onboarding API
                return None
            raise
        steps = {s["step"]: s["done"] for s in answer}
        if steps.get("user", True):
            return None
        client_id = f"{self.base_url}/"
        code = self.request(
            "POST",
            "/api/onboarding/users",
            json_body={
                "client_id": client_id,
                "name": "Porchlight Developer",
                "username": username,
                "password": password,
                "language": "en",
            },
        )["auth_code"]
        tokens = self.token({"grant_type": "authorization_code", "code": code})
        for step, body in (
            ("core_config", {}),
            ("analytics", {}),
            (
                "integration",
                {"client_id": client_id, "redirect_uri": f"{client_id}?auth_callback=1"},
            ),
        ):
            self.request(
                "POST", f"/api/onboarding/{step}", json_body=body, token=tokens.access_token
            )
        return tokens

    def login(self, username: str, password: str) -> Tokens:
        """Log in as an existing user, the way the frontend's login page does."""
        client_id = f"{self.base_url}/"
        flow = self.request(
            "POST",
            "/auth/login_flow",
            json_body={
                "client_id": client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{client_id}?auth_callback=1",
            },
        )
        answer = self.request(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            json_body={"client_id": client_id, "username": username, "password": password},
        )
        if answer.get("type") != "create_entry":
            msg = f"hass refused the login of {username!r}: {answer.get('errors')}"
            raise HassError(msg)
        return self.token({"grant_type": "authorization_code", "code": answer["result"]})

    def token(self, grant: dict[str, str]) -> Tokens:
        """Exchange an auth code or refresh token for tokens."""
        answer = self.request(
            "POST", "/auth/token", form={**grant, "client_id": f"{self.base_url}/"}
        )
        return Tokens(
            access_token=answer["access_token"],
            refresh_token=answer.get("refresh_token", grant.get("refresh_token", "")),
            expires_in=int(answer["expires_in"]),
        )

    def wait_running(self, token: str, timeout: float = 120.0) -> None:
        """Wait until hass reports state RUNNING (all integrations set up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.request("GET", "/api/config", token=token)["state"] == "RUNNING":
                return
            time.sleep(0.25)
        msg = f"hass did not reach RUNNING within {timeout:.0f} s"
        raise HassError(msg)

    def wait(self) -> int | None:
        """Block until hass exits; return its exit code."""
        return None if self.process is None else self.process.wait()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop hass (SIGTERM, then SIGKILL), reap it, and end everything it started.

        Must not run in a signal handler: Popen.wait() holds a lock while it waits, so a
        handler that interrupts hass.wait() and waits again deadlocks (and leaves a zombie).
        """
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # hass runs in its own session; whatever it started and left behind (an ffmpeg
        # reading a camera) is still in that process group. Done once, right after hass was
        # reaped: the id cannot be reused while any member is alive, and ESRCH means nothing
        # is left.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:port."""
    import socket  # noqa: PLC0415  # only needed here

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def remove_config(config_dir: Path) -> None:
    """Delete a generated config dir (tests and demo use throwaway ones)."""
    shutil.rmtree(config_dir, ignore_errors=True)
