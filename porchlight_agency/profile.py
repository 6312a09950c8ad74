"""An agency's state on disk: key, node state, outbox, issued requests and received offers.

Layout of a profile directory (mode 0700; every file 0600)::

    identity.pem            the agency's Ed25519 key (PKCS#8 PEM)
    profile.json            name and endpoint
    state.json              Node.state_json(): peers, open invites, issued requests
    outbox.json             messages waiting for a home
    requests/<id>.json      each issued footage_request, canonical envelope bytes
    offers/<request>/<offer id>.json
                            each footage_offer received, canonical envelope bytes
    .lock                   flock(2) target: one writer at a time

Several commands may run at once (a long-running `inbox` while an officer issues a request), so
every change is made under the profile lock, on state freshly read from disk, and saved before
the lock is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from custom_components.porchlight.federation import (
    API_PREFIX,
    HEX64_RE,
    NAME,
    URL_RE,
    Envelope,
    IdentityFileError,
    Node,
    NodeHooks,
    Outbox,
    ProtocolError,
    Settings,
    grouped,
    load_or_create,
    loads,
    open_envelope,
    read_json,
    sync_folder,
    valid_url,
    write_json,
)
from porchlight_agency.errors import CommandError, UsageError
from porchlight_agency.text import check_typed

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from custom_components.porchlight.federation import Clock, Identity

_FORMAT: Final = 1
DIR_MODE: Final = 0o700
FILE_MODE: Final = 0o600
LOCK_TIMEOUT: Final = 30.0
_LOCK_POLL: Final = 0.05
_MIN_PREFIX: Final = 8
HOME_ENV: Final = "PORCHLIGHT_AGENCY_HOME"


class ProfileError(CommandError):
    """The profile is missing, unreadable or busy (a runtime error, exit status 1)."""


def default_root() -> Path:
    """`$PORCHLIGHT_AGENCY_HOME`, else `~/.config/porchlight-agency`."""
    env = os.environ.get(HOME_ENV)
    return Path(env) if env else Path.home() / ".config" / "porchlight-agency"


def normalize_endpoint(url: str) -> str:
    """The endpoint as advertised: without a trailing slash, the API prefix if no path given.

    Raises ValueError with a message for people when the URL cannot be an endpoint; the
    message shows the URL as typed.
    """
    typed = url.strip()
    url = typed.rstrip("/")
    scheme, sep, rest = url.partition("://")
    url = scheme.lower() + sep + rest
    match = URL_RE.fullmatch(url)
    # The check every home applies to an agency's endpoint (messages.valid_url): refused
    # here, at init, rather than by each home at pairing.
    if match is None or not valid_url(url):
        msg = (
            f"not a usable endpoint URL: {typed!r} (http:// or https://, host, optional port "
            "1 to 65535 and path; no query, user or fragment)"
        )
        raise ValueError(msg)
    if match["path"] is None:
        url += API_PREFIX
    if len(url) > 256:  # noqa: PLR2004  # the schema's limit
        msg = f"the endpoint URL is longer than 256 characters: {typed!r}"
        raise ValueError(msg)
    return url


def check_name(name: str) -> str:
    """The agency's display name, or ValueError."""
    name = check_typed(name.strip(), "--name")
    if not NAME.check(name):
        msg = "the name must be 1 to 64 characters"
        raise ValueError(msg)
    return name


def endpoint_path(endpoint: str) -> str:
    """The path the endpoint's routes are served under (what the homes sign)."""
    return "/" + endpoint.split("://", 1)[1].partition("/")[2]


@dataclass(frozen=True, slots=True)
class StoredOffer:
    """An offer as kept in the profile: the verified envelope and where it lies."""

    envelope: Envelope
    path: Path

    @property
    def home(self) -> str:
        """The grouped fingerprint of the home that sent it."""
        return grouped(self.envelope.sender)

    @property
    def clips(self) -> int:
        """How many clips the home offers."""
        links = self.envelope.body["links"]
        return len(links) if isinstance(links, list) else 0


def load_envelope(path: Path) -> Envelope:
    """Read a stored envelope and check its schema and signature again (not its age).

    A stored message may be older than its lifetime by now; what matters here is that it is
    the message its originator signed. Raises ProfileError if the file was altered.
    """
    try:
        obj = loads(path.read_bytes())
        created = obj.get("created") if isinstance(obj, dict) else None
        return open_envelope(obj, now=created if isinstance(created, int) else 0)
    except (OSError, ProtocolError) as err:
        msg = f"{path} is not a message signed by its sender ({err})"
        raise ProfileError(msg) from err


def write_private(path: Path, data: bytes, *, parents: bool = True) -> None:
    """Write data atomically into a file only its owner can read (creating its folders)."""
    if parents:
        path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, FILE_MODE)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    Path(tmp).replace(path)


class Profile:
    """One agency's directory. Blocking file I/O throughout: it is a command-line tool."""

    def __init__(self, root: Path) -> None:
        """Use the profile at root (which may not exist yet)."""
        self.root = root
        self.key_path = root / "identity.pem"
        self.info_path = root / "profile.json"
        self.state_path = root / "state.json"
        self.outbox_path = root / "outbox.json"
        self.requests_dir = root / "requests"
        self.offers_dir = root / "offers"
        self._lock_path = root / ".lock"
        self._async_lock = asyncio.Lock()

    # --- creation and loading ----------------------------------------------------------------
    def create(self, *, name: str, endpoint: str, clock: Clock) -> Node:
        """Make a new profile (key, endpoint); ProfileError if one is there already.

        The profile is built in a fresh folder next to root and renamed into place, so it
        appears complete or not at all: an init that fails or is interrupted leaves nothing
        another init would refuse, and two inits racing cannot both succeed.
        """
        self._check_free()
        parent = self.root.parent
        parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{self.root.name}.", suffix=".new"))
        try:
            built = Profile(staging)
            identity = load_or_create(built.key_path).identity
            node = built._node(identity, name, clock)  # the same class
            node.advertise(endpoint)
            built.save(node)
            write_json(built.info_path, {"format": _FORMAT, "name": name, "endpoint": endpoint})
            self._check_free()
            (self.root / ".lock").unlink(missing_ok=True)  # left by a command that found nothing
            # Replaces an empty folder, never a non-empty one (OSError if another init won).
            staging.rename(self.root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        sync_folder(parent)
        return self.load(clock)

    def _taken(self) -> ProfileError:
        return ProfileError(
            f"{self.root} already holds an agency profile; refusing to overwrite it"
        )

    def _check_free(self) -> None:
        """ProfileError unless root is missing or an empty folder (a stray .lock aside)."""
        try:
            names = {p.name for p in self.root.iterdir()}
        except FileNotFoundError:
            return
        except NotADirectoryError:
            msg = f"{self.root} cannot be a profile folder: it, or a folder above it, is a file"
            raise ProfileError(msg) from None
        if self.info_path.name in names:
            raise self._taken()
        if self.key_path.name in names:
            msg = (
                f"{self.key_path} is there without a profile.json (an init that did not finish?); "
                "refusing to overwrite a key: move it away if it was never used, then run init"
            )
            raise ProfileError(msg)
        if names - {".lock"}:
            msg = f"{self.root} is not empty; init needs a new or empty folder"
            raise ProfileError(msg)

    def load(self, clock: Clock, hooks: NodeHooks | None = None) -> Node:
        """The agency's node as saved, telling hooks; ProfileError if there is no usable profile."""
        try:
            info: object = read_json(self.info_path)  # any JSON, whatever its annotation says
        except (OSError, ValueError, RecursionError) as err:
            msg = f"cannot read {self.info_path}: {err}"
            raise ProfileError(msg) from err
        if info is None:
            raise self._missing()
        name = info.get("name") if isinstance(info, dict) else None
        try:
            name = check_name(name) if isinstance(name, str) else None
        except ValueError:
            name = None
        if name is None:
            msg = f"{self.info_path} is damaged (no usable agency name in it)"
            raise ProfileError(msg)
        if not self.key_path.exists():
            msg = f"the key file {self.key_path} is missing"
            raise ProfileError(msg)
        try:
            identity = load_or_create(self.key_path).identity
        except IdentityFileError as err:
            msg = f"cannot use {self.key_path}: {err}"
            raise ProfileError(msg) from err
        node = self._node(identity, name, clock, hooks)
        self.refresh(node)
        return node

    def _missing(self) -> ProfileError:
        return ProfileError(
            f"no agency profile in {self.root}; create one with "
            "'porchlight-agency init --name NAME --endpoint URL'"
        )

    def _node(
        self, identity: Identity, name: str, clock: Clock, hooks: NodeHooks | None = None
    ) -> Node:
        return Node(
            identity,
            Settings(name=name, role="agency"),
            clock,
            outbox=Outbox(self.outbox_path),
            hooks=hooks,
        )

    def refresh(self, node: Node) -> None:
        """Replace the node's state and outbox with what is on disk (another command's work)."""
        try:
            state = read_json(self.state_path)
            if state is None:
                msg = f"{self.state_path} is missing"
                raise ProfileError(msg)
            node.load_state(state)
            node.outbox.load()
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as err:
            msg = f"the profile state in {self.root} is damaged ({type(err).__name__}: {err})"
            raise ProfileError(msg) from err

    def save(self, node: Node) -> None:
        """Write the node's state and outbox."""
        write_json(self.state_path, node.state_json())
        node.outbox.save()

    # --- locking -----------------------------------------------------------------------------
    def _open_lock(self) -> int:
        try:
            return os.open(self._lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except FileNotFoundError:
            raise self._missing() from None

    def _busy(self) -> ProfileError:
        return ProfileError(
            f"the profile {self.root} stayed busy for {LOCK_TIMEOUT:.0f} s "
            "(another porchlight-agency command is using it)"
        )

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the profile lock (not re-entrant); ProfileError if it stays busy."""
        fd = self._open_lock()
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while not _try_flock(fd):
                if time.monotonic() >= deadline:
                    raise self._busy()
                time.sleep(_LOCK_POLL)
            yield
        finally:
            os.close(fd)  # releases the lock

    @contextlib.asynccontextmanager
    async def locked_async(self) -> AsyncIterator[None]:
        """Hold the profile lock without blocking the event loop (one holder per process)."""
        async with self._async_lock:
            fd = self._open_lock()
            try:
                deadline = time.monotonic() + LOCK_TIMEOUT
                while not _try_flock(fd):
                    if time.monotonic() >= deadline:
                        raise self._busy()
                    await asyncio.sleep(_LOCK_POLL)
                yield
            finally:
                os.close(fd)

    # --- requests and offers -----------------------------------------------------------------
    def store_request(self, envelope: Envelope) -> Path:
        """Keep an issued request (its canonical bytes) for `offers` and `fetch`."""
        path = self.requests_dir / f"{envelope.event_id}.json"
        write_private(path, envelope.encode())
        return path

    def store_offer(self, envelope: Envelope) -> Path:
        """Keep a received offer as the canonical envelope bytes the home signed."""
        request = str(envelope.body["request"])  # 64 hex digits: the schema checked it
        path = self.offers_dir / request / f"{envelope.event_id}.json"
        write_private(path, envelope.encode())
        return path

    def request_ids(self) -> list[str]:
        """Event ids of every request issued from this profile or answered by an offer."""
        ids = {p.stem for p in _listdir(self.requests_dir) if HEX64_RE.fullmatch(p.stem)}
        ids |= {p.name for p in _listdir(self.offers_dir) if HEX64_RE.fullmatch(p.name)}
        return sorted(ids)

    def resolve_request(self, prefix: str) -> str:
        """The full event id of the request a (unique, ≥ 8 character) prefix names."""
        prefix = prefix.strip().lower()
        ids = self.request_ids() if len(prefix) >= _MIN_PREFIX else []
        matches = [r for r in ids if r.startswith(prefix)]
        if len(matches) != 1:
            why = "matches several requests" if matches else "names no request of this profile"
            msg = f"request {prefix!r} {why} (give at least 8 characters of its id)"
            raise UsageError(msg)
        return matches[0]

    def load_request(self, request: str) -> Envelope | None:
        """The issued request with this event id, if this profile issued it."""
        path = self.requests_dir / f"{request}.json"
        return load_envelope(path) if path.exists() else None

    def offers(self, request: str) -> tuple[list[StoredOffer], list[ProfileError]]:
        """Every stored offer for a request, oldest first, and an error per unusable file.

        A file that was altered or damaged is skipped (and reported), never allowed to hide
        the others: their links expire. Anything but a regular *.json file is not an offer.
        """
        found: list[StoredOffer] = []
        damaged: list[ProfileError] = []
        for path in _listdir(self.offers_dir / request):
            if path.suffix != ".json" or path.name.startswith("."):
                continue
            if not stat.S_ISREG(path.lstat().st_mode):
                continue
            try:
                found.append(StoredOffer(load_envelope(path), path))
            except ProfileError as err:
                damaged.append(err)
        found.sort(key=lambda o: (o.envelope.created, o.envelope.event_id))
        return found, damaged


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _listdir(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except FileNotFoundError:
        return []
