r"""The evidence manifest a home signs for the clips its owner approved, and the agency's folder.

A manifest lists each approved clip by file name, size and SHA-256 together with the request,
the case, the consent behind it and the home's audit-log head, and is signed with the home's
key (docs/protocol.md §11)::

    Ed25519(home key, b"porchlight-evidence-v1\n" + canon(manifest without "sig"))

It travels inside a footage offer; the agency keeps it, byte for byte, as `manifest.json` in an
evidence folder next to the downloaded clips, where anyone can check it offline later with
`verify_folder`. A `Manifest` object only ever comes out of the strict parser, so holding one
means its schema and signature were checked. Nothing here knows where the home is.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final, NamedTuple, NoReturn, TypedDict

from .canonical import DEFAULT_LIMITS, JSON, MAX_INT, b64u, b64u_decode, canon, loads
from .errors import EvidenceError, MalformedJSONError
from .identity import grouped, keyid, verify

if TYPE_CHECKING:
    import io
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from .identity import Identity

VERSION: Final = 1
KIND: Final = "porchlight-evidence"
DOMAIN: Final = b"porchlight-evidence-v1\n"
CLIP_TYPE: Final = "video/mp4"
MAX_CLIPS: Final = 100
MAX_LABEL: Final = 64
# 9999-12-31T23:59:59Z: every time in a manifest has an ISO 8601 form for the README.
MAX_TIME: Final = 253_402_300_799
MANIFEST_FILE: Final = "manifest.json"
README_FILE: Final = "README.txt"
CHUNK: Final = 1 << 20
# Files of an evidence folder are read only if they are regular files: a symlink is not
# followed (it could point anywhere) and a FIFO or device never blocks the reader.
_READ_FLAGS: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

KEYID_RE: Final = re.compile(r"[A-Z2-7]{32}")
HEX64_RE: Final = re.compile(r"[0-9a-f]{64}")
CLIP_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
# No separators, no dots but the extension: a name from a manifest is safe to join to a folder.
FILE_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}\.mp4")

_MANIFEST_KEYS: Final = frozenset(
    {"v", "kind", "home", "home_key", "agency", "request", "case", "created", "audit", "clips"}
)
_CLIP_KEYS: Final = frozenset(
    {"clip", "file", "camera", "start", "end", "sha256", "size", "type", "consent"}
)


class ConsentRef(TypedDict):
    """The owner's approval behind one clip: when, by whom, and the hash of its record."""

    approved_at: int
    by: str  # the Home Assistant user's name, or "automation"
    record: str  # hex SHA-256 of the home's consent record


class AuditHead(NamedTuple):
    """The home's audit log at signing time: the last entry's number and its chained hash."""

    seq: int
    head: str


@dataclass(frozen=True, slots=True)
class ClipEvidence:
    """One approved clip as the manifest lists it."""

    clip: str
    file: str
    camera: str
    start: int
    end: int
    sha256: str
    size: int
    type: str
    consent: ConsentRef

    def to_json(self) -> dict[str, JSON]:
        """The wire form."""
        return {
            "clip": self.clip,
            "file": self.file,
            "camera": self.camera,
            "start": self.start,
            "end": self.end,
            "sha256": self.sha256,
            "size": self.size,
            "type": self.type,
            "consent": {
                "approved_at": self.consent["approved_at"],
                "by": self.consent["by"],
                "record": self.consent["record"],
            },
        }

    @classmethod
    def from_json(cls, obj: JSON, where: str = "clip") -> ClipEvidence:
        """Parse one clip entry strictly; raise EvidenceError naming the field at fault."""
        data = _object(obj, _CLIP_KEYS, where)
        consent = _object(
            data["consent"], frozenset({"approved_at", "by", "record"}), f"{where}.consent"
        )
        clip = cls(
            clip=_text(data["clip"], f"{where}.clip", CLIP_ID_RE),
            file=_text(data["file"], f"{where}.file", FILE_RE),
            camera=_text(data["camera"], f"{where}.camera"),
            start=_int(data["start"], f"{where}.start", MAX_TIME),
            end=_int(data["end"], f"{where}.end", MAX_TIME),
            sha256=_text(data["sha256"], f"{where}.sha256", HEX64_RE),
            size=_int(data["size"], f"{where}.size"),
            type=_text(data["type"], f"{where}.type"),
            consent=ConsentRef(
                approved_at=_int(consent["approved_at"], f"{where}.consent.approved_at", MAX_TIME),
                by=_text(consent["by"], f"{where}.consent.by"),
                record=_text(consent["record"], f"{where}.consent.record", HEX64_RE),
            ),
        )
        if clip.type != CLIP_TYPE:
            _fail(f'{where}.type must be "{CLIP_TYPE}"')
        if clip.start >= clip.end:
            _fail(f"{where}.start must be before its end")
        return clip


@dataclass(frozen=True, slots=True)
class Manifest:
    """A signed evidence manifest; obtained from `verify_manifest` or `sign_manifest` only."""

    home: str
    home_key: bytes
    agency: str
    request: str
    case: str
    created: int
    audit: AuditHead
    clips: tuple[ClipEvidence, ...]
    sig: bytes

    def unsigned_json(self) -> dict[str, JSON]:
        """The wire form without the signature: what the signature covers."""
        return {
            "v": VERSION,
            "kind": KIND,
            "home": self.home,
            "home_key": b64u(self.home_key),
            "agency": self.agency,
            "request": self.request,
            "case": self.case,
            "created": self.created,
            "audit": {"seq": self.audit.seq, "head": self.audit.head},
            "clips": [clip.to_json() for clip in self.clips],
        }

    def to_json(self) -> dict[str, JSON]:
        """The signed wire form; canon() of it is the exact bytes that were received."""
        return {**self.unsigned_json(), "sig": b64u(self.sig)}

    @classmethod
    def from_json(cls, obj: JSON) -> Manifest:
        """Parse strictly and verify the home's signature; raise EvidenceError if anything fails.

        Exact key sets, types and ranges; home = keyid(home_key); 1..100 clips with distinct
        clip ids and distinct file names (compared case-insensitively, so no two clips can land
        on one file on a case-insensitive file system).
        """
        data = _object(obj, _MANIFEST_KEYS | {"sig"}, "manifest")
        if type(data["v"]) is not int or data["v"] != VERSION:
            _fail(f"manifest v must be {VERSION}")
        if data["kind"] != KIND:
            _fail(f'manifest kind must be "{KIND}"')
        home = _text(data["home"], "home", KEYID_RE)
        try:
            home_key = b64u_decode(_text(data["home_key"], "home_key", max_len=43), 32)
        except ValueError:
            _fail("home_key must be a raw Ed25519 key in base64url")
        if keyid(home_key) != home:
            _fail("home is not the keyid of home_key")
        audit = _object(data["audit"], frozenset({"seq", "head"}), "audit")
        raw_clips = data["clips"]
        if not isinstance(raw_clips, list) or not 1 <= len(raw_clips) <= MAX_CLIPS:
            _fail(f"clips must be an array of 1 to {MAX_CLIPS} clips")
        clips = tuple(ClipEvidence.from_json(c, f"clips[{i}]") for i, c in enumerate(raw_clips))
        if len({c.clip for c in clips}) != len(clips):
            _fail("clip ids must be distinct")
        if len({c.file.lower() for c in clips}) != len(clips):
            _fail("file names must be distinct")
        try:
            sig = b64u_decode(_text(data["sig"], "sig", max_len=86), 64)
        except ValueError:
            _fail("sig must be a 64-byte signature in base64url")
        manifest = cls(
            home=home,
            home_key=home_key,
            agency=_text(data["agency"], "agency", KEYID_RE),
            request=_text(data["request"], "request", HEX64_RE),
            case=_text(data["case"], "case", min_len=0),
            created=_int(data["created"], "created", MAX_TIME),
            audit=AuditHead(
                _int(audit["seq"], "audit.seq"), _text(audit["head"], "audit.head", HEX64_RE)
            ),
            clips=clips,
            sig=sig,
        )
        if not verify(home_key, sig, DOMAIN + canon(manifest.unsigned_json())):
            _fail("the home's signature does not verify")
        return manifest

    @property
    def fingerprint(self) -> str:
        """The home's fingerprint in the grouped form owners read aloud."""
        return grouped(self.home)


def verify_manifest(obj: JSON) -> Manifest:
    """Check a received manifest (schema and signature); raise EvidenceError if it fails."""
    return Manifest.from_json(obj)


def alert_share_group(alert: str, recipient: str) -> str:
    """The `request` of the manifest for one alert's clips sent to one neighbor.

    Both ends compute it (the poster's shares are filed under it, the recipient checks the
    manifest names it), so a manifest made for one alert and neighbor fits no other.
    """
    return hashlib.sha256(f"porchlight-alert-clips-v1\n{alert}\n{recipient}".encode()).hexdigest()


def sign_manifest(  # noqa: PLR0913  # each is its own field of the manifest
    identity: Identity,
    *,
    agency: str,
    request: str,
    case: str,
    created: int,
    audit: tuple[int, str],
    clips: Sequence[ClipEvidence],
) -> Manifest:
    """Sign a manifest with the home's identity.

    The result goes through the same strict parser a receiver uses, so a manifest this
    returns is one every agency accepts; invalid inputs raise EvidenceError here instead.
    """
    unsigned: dict[str, JSON] = {
        "v": VERSION,
        "kind": KIND,
        "home": identity.keyid,
        "home_key": b64u(identity.public_key),
        "agency": agency,
        "request": request,
        "case": case,
        "created": created,
        "audit": {"seq": audit[0], "head": audit[1]},
        "clips": [clip.to_json() for clip in clips],
    }
    sig = identity.sign(DOMAIN + canon(unsigned))
    return Manifest.from_json({**unsigned, "sig": b64u(sig)})


# --- strict field checks ---------------------------------------------------------------------
def _fail(detail: str) -> NoReturn:
    raise EvidenceError(detail)


def _object(value: JSON, keys: frozenset[str], where: str) -> dict[str, JSON]:
    if not isinstance(value, dict):
        _fail(f"{where} must be an object")
    if set(value) != keys:
        _fail(f"{where} must have exactly the fields {', '.join(sorted(keys))}")
    return value


def _text(
    value: JSON,
    where: str,
    pattern: re.Pattern[str] | None = None,
    *,
    min_len: int = 1,
    max_len: int = MAX_LABEL,
) -> str:
    # Field paths only, never the value: this message may go back to the home that sent it.
    if not isinstance(value, str) or not min_len <= len(value) <= max_len:
        _fail(f"{where} must be a string of {min_len} to {max_len} characters")
    if pattern is not None and not pattern.fullmatch(value):
        _fail(f"{where} is not in the expected form")
    return value


def _int(value: JSON, where: str, high: int = MAX_INT) -> int:
    if type(value) is not int or not 0 <= value <= high:
        _fail(f"{where} must be an integer from 0 to {high}")
    return value


# --- the evidence folder ---------------------------------------------------------------------
class ClipStatus(StrEnum):
    """What verify_folder found for one listed clip."""

    OK = "ok"
    MISMATCH = "mismatch"  # size or SHA-256 differ, or not a regular file
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class ClipCheck:
    """One listed clip and what its file in the folder looks like."""

    clip: str
    file: str
    status: ClipStatus
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FolderReport:
    """The outcome of checking an evidence folder whose manifest verified."""

    manifest: Manifest
    clips: tuple[ClipCheck, ...]
    extra: tuple[str, ...]  # files in the folder the manifest does not list

    @property
    def ok(self) -> bool:
        """Whether every listed clip is intact and nothing else is in the folder."""
        return not self.extra and all(c.status is ClipStatus.OK for c in self.clips)

    def summary(self) -> str:
        """One line for a terminal: what was checked, or everything that is wrong."""
        if self.ok:
            return (
                f"evidence intact: {len(self.clips)} clip(s), case "
                f"{_printable(self.manifest.case) or '(none)'}, home {self.manifest.fingerprint}"
            )
        problems = [
            f"{c.file} {c.status.value}" + (f" ({c.detail})" if c.detail else "")
            for c in self.clips
            if c.status is not ClipStatus.OK
        ]
        problems += [f"extra file {_printable(name)}" for name in self.extra]
        return "evidence NOT intact: " + "; ".join(problems)

    def raise_for_failure(self) -> None:
        """Raise EvidenceError carrying summary() unless the folder is intact."""
        if not self.ok:
            raise EvidenceError(self.summary())


def sha256_file(path: Path) -> tuple[str, int]:
    """Hex SHA-256 and size of a file, read in 1 MiB chunks (clips can be hundreds of MB)."""
    with path.open("rb", buffering=0) as file:
        return _digest(file)


def _digest(file: io.RawIOBase | io.BufferedIOBase) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    while count := file.readinto(buffer):
        digest.update(view[:count])
        size += count
    return digest.hexdigest(), size


def _open_regular(path: Path) -> io.BufferedReader | None:
    """Open path for reading; None if it is not a regular file (OSError as os.open raises)."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as err:
        if err.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink
            return None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb")


def read_manifest(folder: Path) -> Manifest:
    """Parse and verify an evidence folder's manifest.json strictly; raise EvidenceError."""
    path = folder / MANIFEST_FILE
    try:
        file = _open_regular(path)
    except FileNotFoundError:
        _fail(f"{MANIFEST_FILE} is missing")
    except OSError as err:
        _fail(f"{MANIFEST_FILE} cannot be read ({err.strerror})")
    if file is None:
        _fail(f"{MANIFEST_FILE} is not a regular file")
    with file:
        # One byte beyond the limit is enough for the parser to refuse it.
        data = file.read(DEFAULT_LIMITS.max_bytes + 1)
    try:
        obj = loads(data)
    except MalformedJSONError as err:
        _fail(f"{MANIFEST_FILE} is not canonical JSON ({err.detail})")
    try:
        return Manifest.from_json(obj)
    except EvidenceError as err:
        _fail(f"{MANIFEST_FILE}: {err.detail}")


def verify_folder(folder: Path, *, expected_home: str | None = None) -> FolderReport:
    """Check an evidence folder offline. Blocking: reads every clip in full.

    The manifest must parse strictly, be signed by its home and, when expected_home (keyid or
    grouped fingerprint) is given, by that home; otherwise EvidenceError. Each listed file
    must be a regular file with the listed size and SHA-256, and nothing other than
    manifest.json and README.txt may be present, both regular files (a README.txt that is a
    folder or a symlink is extra); those findings are in the report (`ok`, `summary()`,
    `raise_for_failure()`). The content of README.txt is informative and not checked.
    """
    manifest = read_manifest(folder)
    if expected_home is not None and expected_home.replace("-", "").upper() != manifest.home:
        _fail(f"manifest is signed by home {manifest.fingerprint}, not the expected one")
    checks = tuple(_check_clip(folder, clip) for clip in manifest.clips)
    known = {MANIFEST_FILE} | {clip.file for clip in manifest.clips}
    extra = tuple(
        sorted(
            p.name
            for p in folder.iterdir()
            if p.name not in known
            and not (p.name == README_FILE and stat.S_ISREG(p.lstat().st_mode))
        )
    )
    return FolderReport(manifest, checks, extra)


def _check_clip(folder: Path, clip: ClipEvidence) -> ClipCheck:
    try:
        file = _open_regular(folder / clip.file)
    except FileNotFoundError:
        return ClipCheck(clip.clip, clip.file, ClipStatus.MISSING)
    if file is None:
        return ClipCheck(clip.clip, clip.file, ClipStatus.MISMATCH, "not a regular file")
    with file:
        size = os.fstat(file.fileno()).st_size
        if size != clip.size:
            detail = f"{size} bytes, manifest says {clip.size}"
            return ClipCheck(clip.clip, clip.file, ClipStatus.MISMATCH, detail)
        digest, _ = _digest(file)
    if digest != clip.sha256:
        return ClipCheck(clip.clip, clip.file, ClipStatus.MISMATCH, "sha256 differs")
    return ClipCheck(clip.clip, clip.file, ClipStatus.OK)


def write_evidence_folder(
    folder: Path,
    manifest: Manifest,
    files: Mapping[str, Path],
    *,
    copy: bool = False,
    readme: bool = True,
) -> FolderReport:
    """Assemble an evidence folder from downloaded clips, then verify it. Blocking.

    files maps clip ids of the manifest to downloaded files, which are moved in (copied with
    copy=True) under the manifest's file names; a clip without a download is simply absent
    and reported missing. manifest.json is written last, so a folder that has one is complete.
    Raises FileExistsError if folder exists and is not empty, ValueError for a clip id the
    manifest does not list.
    """
    names = {clip.clip: clip.file for clip in manifest.clips}
    unknown = set(files) - set(names)
    if unknown:
        msg = f"not in the manifest: {', '.join(sorted(unknown))}"
        raise ValueError(msg)
    if folder.exists() and any(folder.iterdir()):
        msg = f"{folder} exists and is not empty"
        raise FileExistsError(msg)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for clip_id, source in files.items():
        target = folder / names[clip_id]
        if copy:
            shutil.copyfile(source, target)
        else:
            shutil.move(source, target)
    if readme:
        (folder / README_FILE).write_text(readme_text(manifest), encoding="utf-8")
    (folder / MANIFEST_FILE).write_bytes(canon(manifest.to_json()))
    return verify_folder(folder)


def readme_text(manifest: Manifest) -> str:
    """A human-readable summary of a manifest (times in UTC); informative, never verified."""
    lines = [
        "Porchlight evidence",
        "",
        f"Case:              {_printable(manifest.case) or '(none)'}",
        f"Request:           {manifest.request}",
        f"Agency:            {grouped(manifest.agency)}",
        f"Home fingerprint:  {manifest.fingerprint}",
        f"Signed:            {_iso(manifest.created)} (the home's clock)",
        f"Home audit log:    entry {manifest.audit.seq}, head {manifest.audit.head}",
        "",
        f"Clips ({len(manifest.clips)}):",
    ]
    for clip in manifest.clips:
        recorded = f"{_iso(clip.start)} to {_iso(clip.end)} ({clip.end - clip.start} s)"
        approved = f"{_iso(clip.consent['approved_at'])} by {_printable(clip.consent['by'])}"
        lines += [
            "",
            f"{clip.file}",
            f"  camera:          {_printable(clip.camera)}",
            f"  recorded:        {recorded}",
            f"  size:            {clip.size} bytes",
            f"  sha256:          {clip.sha256}",
            f"  approved:        {approved}",
            f"  consent record:  {clip.consent['record']}",
        ]
    lines += [
        "",
        "This summary is for people and is not verified. What counts is manifest.json, signed",
        "with the home's key (fingerprint above), and the clip files it lists by size and",
        "SHA-256: check the folder with the Porchlight agency tool before relying on it, and",
        "compare the fingerprint with the one the home's owner gave you.",
        "",
    ]
    return "\n".join(lines)


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _printable(text: str) -> str:
    # Labels come from the home and the agency: no terminal control or bidi tricks in output.
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)
