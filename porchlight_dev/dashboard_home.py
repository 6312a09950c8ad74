"""A home for the dashboard's end-to-end tests and benchmark, on a real `hass` process.

Porchlight added through its real config flow, short clips recorded from the RTSP test cameras
by the real recorder (the capture_clip action over the REST API), an agency (the
porchlight-agency CLI's own code) paired and trusted, its inbox a real server on loopback,
and footage requests that travel the real federation path from the agency to the home.
Also a second, non-admin user. Synchronous (plus one small async websocket client), so
module-scoped pytest fixtures and the benchmark share it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import itertools
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

import aiohttp

from custom_components.porchlight.federation.api import API_PREFIX
from custom_components.porchlight.federation.clock import ManualClock
from porchlight_agency.cli import main as agency_main
from porchlight_agency.profile import Profile

from .hass import HassError, Tokens
from .rtsp import free_port

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from custom_components.porchlight.federation.messages import Envelope
    from custom_components.porchlight.federation.node import Node

    from .hass import HassProcess

AGENCY_BIN = "porchlight-agency"
CASE = "2026-000417"
REASON = "Package theft on Maple Street"


class WebsocketError(HassError):
    """A websocket command answered with an error."""

    def __init__(self, code: str, message: str) -> None:
        """Keep HA's error code (such as `unauthorized`) for the caller to check."""
        super().__init__(f"{code}: {message}")
        self.code = code


class HassWebsocket:
    """One authenticated connection to hass' websocket API, as the frontend has."""

    def __init__(self, base_url: str, token: str) -> None:
        """Connect on `async with`."""
        self.url = base_url.replace("http://", "ws://", 1) + "/api/websocket"
        self.token = token
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def __aenter__(self) -> Self:
        """Connect and authenticate; HassError if the token is refused."""
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(self.url, max_msg_size=0)
        hello = await self._ws.receive_json()
        if hello["type"] != "auth_required":
            msg = f"unexpected first websocket message {hello['type']!r}"
            raise HassError(msg)
        await self._ws.send_json({"type": "auth", "access_token": self.token})
        answer = await self._ws.receive_json()
        if answer["type"] != "auth_ok":
            msg = f"websocket authentication failed: {answer.get('message')}"
            raise HassError(msg)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        """Close the connection and its session."""
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    async def send(self, type_: str, **data: Any) -> int:
        """Send a command; return its id (for a subscription's events)."""
        if self._ws is None:
            raise HassError("not connected")
        msg_id = next(self._ids)
        await self._ws.send_json({"id": msg_id, "type": type_, **data})
        return msg_id

    async def receive(self, msg_id: int) -> dict[str, Any]:
        """The next message for `msg_id` (a result or an event); others are dropped."""
        if self._ws is None:
            raise HassError("not connected")
        async with asyncio.timeout(60):
            while True:
                message: dict[str, Any] = await self._ws.receive_json()
                if message.get("id") == msg_id:
                    return message

    async def command(self, type_: str, **data: Any) -> Any:
        """Run one command; its result, or WebsocketError with HA's error code."""
        answer = await self.receive(await self.send(type_, **data))
        if not answer.get("success"):
            error = answer.get("error") or {}
            raise WebsocketError(str(error.get("code")), str(error.get("message")))
        return answer.get("result")


def _in_thread[T](function: Callable[[], T]) -> T:
    """Run blocking or loop-owning work on a thread of its own.

    Callers may be inside a running event loop (an async test) or not (a module fixture);
    asyncio.run and the CLI's own asyncio.run need a thread without one.
    """
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(function).result()


def ws_commands(base_url: str, token: str, *commands: tuple[str, dict[str, Any]]) -> list[Any]:
    """Run websocket commands one after the other on one connection; their results."""

    async def run() -> list[Any]:
        async with HassWebsocket(base_url, token) as ws:
            return [await ws.command(type_, **data) for type_, data in commands]

    return _in_thread(lambda: asyncio.run(run()))


def service(
    hass: HassProcess, token: str, name: str, data: dict[str, Any], *, response: bool = False
) -> Any:
    """Call a Porchlight action over the REST API; its response when `response`."""
    path = f"/api/services/porchlight/{name}" + ("?return_response" if response else "")
    answer = hass.request("POST", path, json_body=data, token=token, timeout=60)
    return answer["service_response"] if response else None


# --- Porchlight ---------------------------------------------------------------------------


def add_porchlight(
    hass: HassProcess,
    token: str,
    *,
    name: str,
    latitude: float,
    longitude: float,
    cameras: list[str],
    post_roll: int = 5,
) -> str:
    """Add Porchlight through its config flow, then make clips short; the entry id.

    The options flow is the owner's way to change recording settings; 1 s before and 5 s
    after a capture (the shortest it allows) keeps the test's recording time small.
    """
    flows = "/api/config/config_entries"
    flow = hass.request("POST", f"{flows}/flow", json_body={"handler": "porchlight"}, token=token)
    created = hass.request(
        "POST",
        f"{flows}/flow/{flow['flow_id']}",
        json_body={
            "home_name": name,
            "location": {"latitude": latitude, "longitude": longitude},
            "cameras": cameras,
        },
        token=token,
    )
    if created.get("type") != "create_entry":
        msg = f"Porchlight's config flow did not create an entry: {created}"
        raise HassError(msg)
    entry_id = str(created["result"]["entry_id"])
    step = hass.request(
        "POST", f"{flows}/options/flow", json_body={"handler": entry_id}, token=token
    )
    answers: dict[str, dict[str, Any]] = {
        "init": {
            "cameras": cameras,
            "pre_roll": 1,
            "post_roll": post_roll,
            "retention_days": 30,
            "storage_cap_gb": 20,
            "continuous": False,
        },
        "triggers": {},
        "requests": {
            "require_case": True,
            "decline_all": False,
            "max_window_hours": 12,
            "max_area_sq_mi": 0.5,
            "max_lookback_days": 45,
            "share_hours": 72,
            "max_downloads": 1,
        },
        "federation": {},
    }
    while step.get("type") == "form":
        step = hass.request(
            "POST",
            f"{flows}/options/flow/{step['flow_id']}",
            json_body=answers[step["step_id"]],
            token=token,
        )
    if step.get("type") != "create_entry":
        msg = f"Porchlight's options flow did not finish: {step}"
        raise HassError(msg)
    wait_loaded(hass, token, entry_id)
    return entry_id


def wait_loaded(hass: HassProcess, token: str, entry_id: str, timeout: float = 60.0) -> None:
    """Until the entry is loaded (after its set-up or an options reload)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = hass.request(
            "GET", "/api/config/config_entries/entry?domain=porchlight", token=token
        )
        if any(e["entry_id"] == entry_id and e["state"] == "loaded" for e in entries):
            return
        time.sleep(0.2)
    msg = f"Porchlight was not loaded within {timeout:.0f} s"
    raise HassError(msg)


def clip_count(hass: HassProcess, token: str, cameras: list[str]) -> int:
    """How many clips the recorder indexed today, through HA's media browser."""
    today = datetime.now(UTC).date().isoformat()  # the test home's time zone is UTC
    found = ws_commands(
        hass.base_url,
        token,
        *(
            ("media_source/browse_media", {"media_content_id": f"media-source://porchlight/{c}"})
            for c in cameras
        ),
    )
    days = [
        camera
        for camera, folder in zip(cameras, found, strict=True)
        if any(child["title"] == today for child in folder["children"])
    ]
    if not days:
        return 0
    clips = ws_commands(
        hass.base_url,
        token,
        *(
            (
                "media_source/browse_media",
                {"media_content_id": f"media-source://porchlight/{c}/{today}"},
            )
            for c in days
        ),
    )
    return sum(len(folder["children"]) for folder in clips)


def record_clips(
    hass: HassProcess, token: str, cameras: list[str], count: int, timeout: float = 120.0
) -> None:
    """Record `count` more clips, round robin over the cameras, one per camera at a time.

    A capture on a camera already recording only lengthens that clip, so each round presses
    every camera once and waits until all of the round's clips are indexed.
    """
    start = clip_count(hass, token, cameras)
    deadline = time.monotonic() + timeout
    made = 0
    while made < count:
        batch = cameras[: count - made]
        for camera in batch:
            service(hass, token, "capture_clip", {"entity_id": camera})
        made += len(batch)
        while clip_count(hass, token, cameras) < start + made:
            if time.monotonic() > deadline:
                msg = f"{made} clips were not recorded within {timeout:.0f} s"
                raise HassError(msg)
            time.sleep(0.5)


def wait_cameras_streaming(
    hass: HassProcess, token: str, cameras: int, timeout: float = 60.0
) -> None:
    """Until the recorder reads every camera (each camera's Stream sensor, connectivity, is on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        streams = [
            s["state"]
            for s in hass.request("GET", "/api/states", token=token)
            if s["entity_id"].startswith("binary_sensor.")
            and s["entity_id"].endswith("_stream")
            and s["attributes"].get("device_class") == "connectivity"
        ]
        if len(streams) == cameras and all(state == "on" for state in streams):
            return
        time.sleep(0.5)
    msg = f"the recorder did not connect to the cameras within {timeout:.0f} s"
    raise HassError(msg)


def create_user(
    hass: HassProcess, owner_token: str, username: str, password: str, *, admin: bool = False
) -> Tokens:
    """Add a user the way Settings > People does, then log in as them."""
    group = "system-admin" if admin else "system-users"
    (created,) = ws_commands(
        hass.base_url,
        owner_token,
        ("config/auth/create", {"name": username.title(), "group_ids": [group]}),
    )
    user = created["user"]
    ws_commands(
        hass.base_url,
        owner_token,
        (
            "config/auth_provider/homeassistant/create",
            {"user_id": user["id"], "username": username, "password": password},
        ),
    )
    return hass.login(username, password)


# --- The agency ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CliResult:
    """What one porchlight-agency command did."""

    status: int
    out: str
    err: str


@dataclass
class Agency:
    """An agency with the porchlight-agency CLI: its profile, and its inbox on loopback."""

    profile_dir: Path
    name: str = "Metro PD"
    port: int = field(default_factory=free_port)
    inbox: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def endpoint(self) -> str:
        """Where homes deliver offers: this agency's inbox."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    def run(self, *argv: str) -> CliResult:
        """Run one CLI command in-process (on a thread: the CLI runs its own event loop)."""

        def command() -> CliResult:
            out, err = io.StringIO(), io.StringIO()
            status = agency_main(["--profile", str(self.profile_dir), *argv], out=out, err=err)
            return CliResult(status, out.getvalue(), err.getvalue())

        return _in_thread(command)

    def must(self, *argv: str) -> str:
        """Run a command that must succeed; its stdout, stripped."""
        result = self.run(*argv)
        if result.status != 0:
            msg = f"porchlight-agency {argv[0]} failed ({result.status}): {result.err}"
            raise HassError(msg)
        return result.out.strip()

    def node(self) -> Node:
        """The agency's node as its profile holds it now."""
        return Profile(self.profile_dir).load(ManualClock(int(time.time())))

    def offers(self, request_id: str) -> list[Envelope]:
        """The offers the inbox received and stored for a request."""
        stored, damaged = Profile(self.profile_dir).offers(request_id)
        if damaged:
            msg = f"damaged offers in the agency's profile: {damaged}"
            raise HassError(msg)
        return [offer.envelope for offer in stored]

    def serve(self, log: Path, timeout: float = 15.0) -> None:
        """Start the inbox (`porchlight-agency inbox`) as its own process, until stop()."""
        executable = str(_venv_bin(AGENCY_BIN))
        with log.open("ab") as out:
            self.inbox = subprocess.Popen(  # noqa: S603
                [executable, "--profile", str(self.profile_dir), "inbox", "--port", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.inbox.poll() is not None:
                msg = f"the agency's inbox exited with {self.inbox.returncode}; see {log}"
                raise HassError(msg)
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        msg = f"the agency's inbox did not listen within {timeout:.0f} s"
        raise HassError(msg)

    def stop(self) -> None:
        """Stop the inbox the way an officer does (Ctrl-C), and reap it."""
        if self.inbox is None:
            return
        if self.inbox.poll() is None:
            self.inbox.send_signal(signal.SIGINT)
            try:
                self.inbox.wait(15)
            except subprocess.TimeoutExpired:
                self.inbox.kill()
                self.inbox.wait()
        self.inbox = None

    def request(self, home: tuple[float, float], start: float, end: float) -> str:
        """Issue a footage request for 200 m around `home` from start to end; its id."""
        return self.must(
            "request",
            "--center",
            f"{home[0]:.5f},{home[1]:.5f}",
            "--radius",
            "200",
            "--from",
            _iso(start),
            "--to",
            _iso(end),
            "--case",
            CASE,
            "--reason",
            REASON,
        )


def _venv_bin(name: str) -> Path:
    from pathlib import Path  # noqa: PLC0415  # only for the type-checking import above

    return Path(sys.executable).with_name(name)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def pair_agency(hass: HassProcess, token: str, agency: Agency) -> str:
    """Pair the agency with the home and trust it, as owner and officer do; its fingerprint.

    The home makes an invite (LAN: everything is on loopback), the officer redeems it and
    reads out the pairing code, both sides confirm it, and the owner trusts the agency.
    """
    endpoint = hass.base_url + API_PREFIX
    invite = service(
        hass, token, "create_invite", {"endpoint": endpoint, "lan": True}, response=True
    )
    code = agency.must("pair", str(invite["invite"]), "--lan")
    agency.must("confirm", str(invite["fingerprint"]), code)
    fingerprint = agency.node().identity.fingerprint
    service(hass, token, "confirm_pairing", {"fingerprint": fingerprint, "code": code})
    service(hass, token, "trust_agency", {"fingerprint": fingerprint})
    return fingerprint


def wait_request(
    hass: HassProcess, token: str, request_id: str, timeout: float = 30.0
) -> dict[str, Any]:
    """The home's view of a request (list_requests), once it arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = service(hass, token, "list_requests", {}, response=True)
        for request in listed["requests"]:
            if request["request_id"] == request_id:
                return dict(request)
        time.sleep(0.2)
    msg = f"request {request_id} did not arrive within {timeout:.0f} s"
    raise HassError(msg)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll until condition() holds; HassError naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            msg = f"{what} did not happen within {timeout:.0f} s"
            raise HassError(msg)
        time.sleep(0.2)


@contextlib.contextmanager
def stopping(agency: Agency) -> Any:
    """Stop the agency's inbox on the way out, whatever happened."""
    try:
        yield agency
    finally:
        agency.stop()
