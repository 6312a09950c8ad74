"""Evidence manifests: signed by the home, checked strictly; evidence folders checked offline."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from typing import TYPE_CHECKING, Any, Self

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.porchlight.federation.canonical import b64u, canon, loads
from custom_components.porchlight.federation.errors import EvidenceError, SchemaError
from custom_components.porchlight.federation.evidence import (
    CHUNK,
    DOMAIN,
    MANIFEST_FILE,
    MAX_TIME,
    README_FILE,
    AuditHead,
    ClipEvidence,
    ClipStatus,
    ConsentRef,
    Manifest,
    readme_text,
    sha256_file,
    sign_manifest,
    verify_folder,
    verify_manifest,
    write_evidence_folder,
)
from custom_components.porchlight.federation.identity import Identity

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from custom_components.porchlight.federation.canonical import JSON

HOME = Identity.generate()
AGENCY = Identity.generate()
REQUEST = "a1" * 32
NOW = 1_795_000_000
AUDIT = (41, "0f" * 32)


def clip_for(name: str, data: bytes, start: int = NOW - 3600) -> ClipEvidence:
    return ClipEvidence(
        clip=name,
        file=f"{name}.mp4",
        camera="Front door",
        start=start,
        end=start + 30,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        type="video/mp4",
        consent={"approved_at": NOW - 60, "by": "Dana", "record": "c0" * 32},
    )


def sign(clips: list[ClipEvidence], case: str = "2026-004711") -> Manifest:
    return sign_manifest(
        HOME, agency=AGENCY.keyid, request=REQUEST, case=case, created=NOW, audit=AUDIT, clips=clips
    )


DATA = {"clip_a": b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8, "clip_b": b"second clip"}


@pytest.fixture
def manifest() -> Manifest:
    return sign([clip_for(name, data) for name, data in DATA.items()])


def resign(obj: dict[str, Any], identity: Identity = HOME) -> dict[str, JSON]:
    """A validly signed copy of obj, so that only the schema check can refuse it."""
    unsigned = {k: v for k, v in obj.items() if k != "sig"}
    return {**unsigned, "sig": b64u(identity.sign(DOMAIN + canon(unsigned)))}


# --- signing and verifying -------------------------------------------------------------------
def test_signed_manifest_round_trips_through_canonical_bytes(manifest: Manifest) -> None:
    data = canon(manifest.to_json())
    again = verify_manifest(loads(data))
    assert again == manifest
    assert canon(again.to_json()) == data
    assert manifest.home == HOME.keyid
    assert manifest.fingerprint == HOME.fingerprint
    assert manifest.audit == AuditHead(41, "0f" * 32)
    assert [c.clip for c in manifest.clips] == ["clip_a", "clip_b"]


def test_signature_covers_the_domain_and_the_canonical_form(manifest: Manifest) -> None:
    wire = manifest.to_json()
    assert set(wire) == {
        "v", "kind", "home", "home_key", "agency", "request", "case", "created", "audit",
        "clips", "sig",
    }  # fmt: skip
    assert wire["v"] == 1
    assert wire["kind"] == "porchlight-evidence"
    assert manifest.sig == HOME.sign(DOMAIN + canon(manifest.unsigned_json()))


def test_evidence_errors_are_schema_errors_answered_with_400() -> None:
    err = EvidenceError("x")
    assert isinstance(err, SchemaError)
    assert err.status == 400
    assert err.payload()["error"] == "invalid_evidence"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m: m.update(case="2026-004712"),
        lambda m: m.update(created=m["created"] + 1),
        lambda m: m.update(agency=Identity.generate().keyid),
        lambda m: m["audit"].update(seq=40),
        lambda m: m["clips"][0].update(sha256="00" * 32),
        lambda m: m["clips"][1].update(size=m["clips"][1]["size"] + 1),
        lambda m: m["clips"][0]["consent"].update(by="automation"),
        lambda m: m["clips"].reverse(),
        lambda m: m["clips"].pop(),
    ],
    ids=["case", "created", "agency", "audit", "sha256", "size", "consent", "order", "dropped"],
)
def test_changed_field_breaks_the_signature(
    manifest: Manifest, tamper: Callable[[dict[str, Any]], None]
) -> None:
    wire = copy.deepcopy(manifest.to_json())
    tamper(wire)
    with pytest.raises(EvidenceError, match="signature does not verify"):
        verify_manifest(wire)


def test_home_key_of_another_home_is_refused(manifest: Manifest) -> None:
    wire = {**manifest.to_json(), "home_key": b64u(AGENCY.public_key)}
    with pytest.raises(EvidenceError, match="home is not the keyid of home_key"):
        verify_manifest(wire)


def test_manifest_claiming_another_home_is_refused(manifest: Manifest) -> None:
    # Consistent keyid and key, but the signature is still by HOME.
    other = Identity.generate()
    wire = {**manifest.to_json(), "home": other.keyid, "home_key": b64u(other.public_key)}
    with pytest.raises(EvidenceError, match="signature does not verify"):
        verify_manifest(wire)


def test_duplicate_clip_id_is_refused(manifest: Manifest) -> None:
    wire = manifest.to_json()
    clips: list[Any] = wire["clips"]  # type: ignore[assignment]
    clips[1] = {**clips[1], "clip": clips[0]["clip"]}
    with pytest.raises(EvidenceError, match="clip ids must be distinct"):
        verify_manifest(resign(wire))


def test_file_names_differing_only_in_case_are_refused(manifest: Manifest) -> None:
    wire = manifest.to_json()
    clips: list[Any] = wire["clips"]  # type: ignore[assignment]
    clips[1] = {**clips[1], "file": clips[0]["file"].upper().replace("MP4", "mp4")}
    with pytest.raises(EvidenceError, match="file names must be distinct"):
        verify_manifest(resign(wire))


def test_float_in_manifest_is_refused(manifest: Manifest) -> None:
    wire: dict[str, Any] = copy.deepcopy(manifest.to_json())
    wire["clips"][0]["start"] = float(wire["clips"][0]["start"])
    with pytest.raises(EvidenceError, match=r"clips\[0\].start must be an integer"):
        verify_manifest(wire)


def test_unknown_field_is_refused(manifest: Manifest) -> None:
    with pytest.raises(EvidenceError, match="manifest must have exactly the fields"):
        verify_manifest(resign({**manifest.to_json(), "location": "nowhere"}))


def test_unknown_clip_field_is_refused(manifest: Manifest) -> None:
    wire: dict[str, Any] = copy.deepcopy(manifest.to_json())
    wire["clips"][1]["lat"] = 1
    with pytest.raises(EvidenceError, match=r"clips\[1\] must have exactly the fields"):
        verify_manifest(resign(wire))


def test_missing_field_is_refused(manifest: Manifest) -> None:
    wire = manifest.to_json()
    del wire["case"]
    with pytest.raises(EvidenceError, match="manifest must have exactly the fields"):
        verify_manifest(resign(wire))


def set_clip(field: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda m: m["clips"][0].__setitem__(field, value)


def set_consent(field: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda m: m["clips"][0]["consent"].__setitem__(field, value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(v=2), "v must be 1"),
        (lambda m: m.update(v=True), "v must be 1"),
        (lambda m: m.update(kind="porchlight-receipt"), "kind must be"),
        (lambda m: m.update(home=m["home"].lower()), "home is not in the expected form"),
        (lambda m: m.update(home_key="!" * 43), "home_key must be a raw Ed25519 key"),
        (lambda m: m.update(home_key=m["home_key"][:42]), "home_key must be a raw Ed25519"),
        (lambda m: m.update(home_key=7), "home_key must be a string"),
        (lambda m: m.update(agency="agency"), "agency is not in the expected form"),
        (lambda m: m.update(request="A1" * 32), "request is not in the expected form"),
        (lambda m: m.update(case="x" * 65), "case must be a string of 0 to 64"),
        (lambda m: m.update(created=-1), "created must be an integer from 0"),
        (lambda m: m.update(created=MAX_TIME + 1), "created must be an integer"),
        (lambda m: m.update(audit=[41]), "audit must be an object"),
        (lambda m: m["audit"].update(extra=1), "audit must have exactly the fields head, seq"),
        (lambda m: m["audit"].update(head="0f"), "audit.head is not in the expected form"),
        (lambda m: m["audit"].update(seq=None), "audit.seq must be an integer"),
        (lambda m: m.update(clips=[]), "clips must be an array of 1 to 100"),
        (lambda m: m.update(clips={}), "clips must be an array"),
        (lambda m: m.update(clips=m["clips"] * 51), "clips must be an array of 1 to 100"),
        (lambda m: m["clips"].append("clip"), r"clips\[2\] must be an object"),
        (set_clip("clip", "a/b"), r"clips\[0\].clip is not in the expected form"),
        (set_clip("clip", ""), r"clips\[0\].clip must be a string of 1 to 64"),
        (set_clip("file", "../../etc/cron.d/x.mp4"), r"clips\[0\].file is not in the expected"),
        (set_clip("file", "clip_a.mp4.exe"), r"clips\[0\].file is not in the expected form"),
        (set_clip("file", "clip_a.MP4"), r"clips\[0\].file is not in the expected form"),
        (set_clip("file", ".mp4"), r"clips\[0\].file is not in the expected form"),
        (set_clip("camera", ""), r"clips\[0\].camera must be a string of 1 to 64"),
        (set_clip("camera", "c" * 65), r"clips\[0\].camera must be a string of 1 to 64"),
        (set_clip("end", NOW - 3600), r"clips\[0\].start must be before its end"),
        (set_clip("end", NOW - 7200), r"clips\[0\].start must be before its end"),
        (set_clip("sha256", "AB" * 32), r"clips\[0\].sha256 is not in the expected form"),
        (set_clip("size", -1), r"clips\[0\].size must be an integer from 0"),
        (set_clip("type", "video/webm"), r'clips\[0\].type must be "video/mp4"'),
        (set_clip("consent", {"by": "Dana"}), r"clips\[0\].consent must have exactly"),
        (set_consent("by", ""), r"clips\[0\].consent.by must be a string of 1 to 64"),
        (set_consent("record", "x"), r"clips\[0\].consent.record is not in the expected"),
        (set_consent("approved_at", "now"), r"clips\[0\].consent.approved_at must be an int"),
    ],
)
def test_malformed_manifest_is_refused_even_when_validly_signed(
    manifest: Manifest, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    wire: dict[str, Any] = copy.deepcopy(manifest.to_json())
    change(wire)
    with pytest.raises(EvidenceError, match=message):
        verify_manifest(resign(wire))


@pytest.mark.parametrize("sig", ["A" * 85, "A" * 86 + "A", 64, "!" * 86])
def test_malformed_signature_is_refused(manifest: Manifest, sig: object) -> None:
    with pytest.raises(EvidenceError, match="sig must be"):
        verify_manifest({**manifest.to_json(), "sig": sig})  # type: ignore[dict-item]


def test_manifest_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(EvidenceError, match="manifest must be an object"):
        verify_manifest(["porchlight-evidence"])


def test_signing_refuses_what_an_agency_would_refuse() -> None:
    bad = clip_for("clip_a", b"x", start=NOW)
    backwards = ClipEvidence(**{**bad.to_json(), "end": NOW})  # type: ignore[arg-type]
    with pytest.raises(EvidenceError, match="start must be before its end"):
        sign([backwards])
    with pytest.raises(EvidenceError, match="clip ids must be distinct"):
        sign([clip_for("same", b"1"), clip_for("same", b"2")])


def test_messages_never_echo_the_values_they_refuse(manifest: Manifest) -> None:
    wire: dict[str, Any] = copy.deepcopy(manifest.to_json())
    wire["clips"][0]["camera"] = "secret-" * 20
    with pytest.raises(EvidenceError) as caught:
        verify_manifest(resign(wire))
    assert "secret" not in str(caught.value.payload())


CLIP_IDS = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
LABELS = st.text(st.characters(codec="utf-8"), min_size=1, max_size=64)
HEX = st.binary(min_size=32, max_size=32).map(bytes.hex)


@st.composite
def clip_lists(draw: st.DrawFn) -> list[ClipEvidence]:
    ids = draw(st.lists(CLIP_IDS, min_size=1, max_size=5, unique_by=str.lower))
    clips = []
    for clip_id in ids:
        start = draw(st.integers(0, MAX_TIME - 1))
        clips.append(
            ClipEvidence(
                clip=clip_id,
                file=f"{clip_id}.mp4",
                camera=draw(LABELS),
                start=start,
                end=draw(st.integers(start + 1, MAX_TIME)),
                sha256=draw(HEX),
                size=draw(st.integers(0, 2**53 - 1)),
                type="video/mp4",
                consent=ConsentRef(
                    approved_at=draw(st.integers(0, MAX_TIME)), by=draw(LABELS), record=draw(HEX)
                ),
            )
        )
    return clips


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    clip_lists(),
    st.text(st.characters(codec="utf-8"), max_size=64),
    st.integers(0, MAX_TIME),
    st.integers(0, 2**53 - 1),
)
def test_any_signed_manifest_verifies_from_its_canonical_bytes(
    clips: list[ClipEvidence], case: str, created: int, seq: int
) -> None:
    manifest = sign_manifest(
        HOME,
        agency=AGENCY.keyid,
        request=REQUEST,
        case=case,
        created=created,
        audit=(seq, "ab" * 32),
        clips=clips,
    )
    data = canon(manifest.to_json())
    assert verify_manifest(loads(data)) == manifest
    assert manifest.clips == tuple(clips)
    readme_text(manifest)  # every valid manifest has a README


# --- the evidence folder ---------------------------------------------------------------------
@pytest.fixture
def downloads(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "downloads"
    folder.mkdir()
    paths = {}
    for name, data in DATA.items():
        path = folder / f"{name}.part"
        path.write_bytes(data)
        paths[name] = path
    return paths


@pytest.fixture
def evidence(tmp_path: Path, manifest: Manifest, downloads: dict[str, Path]) -> Path:
    folder = tmp_path / "case-2026-004711"
    report = write_evidence_folder(folder, manifest, downloads)
    assert report.ok, report.summary()
    return folder


def test_written_folder_verifies(evidence: Path, manifest: Manifest) -> None:
    report = verify_folder(evidence, expected_home=HOME.fingerprint)
    assert report.ok
    assert report.manifest == manifest
    assert [(c.clip, c.status) for c in report.clips] == [
        ("clip_a", ClipStatus.OK),
        ("clip_b", ClipStatus.OK),
    ]
    assert report.extra == ()
    assert report.summary() == (
        f"evidence intact: 2 clip(s), case 2026-004711, home {HOME.fingerprint}"
    )
    report.raise_for_failure()
    assert sorted(p.name for p in evidence.iterdir()) == [
        "README.txt", "clip_a.mp4", "clip_b.mp4", "manifest.json",
    ]  # fmt: skip
    assert (evidence / "clip_b.mp4").read_bytes() == DATA["clip_b"]


def test_manifest_file_holds_the_exact_signed_bytes(evidence: Path, manifest: Manifest) -> None:
    assert (evidence / MANIFEST_FILE).read_bytes() == canon(manifest.to_json())


def test_downloads_are_moved_in_by_default(evidence: Path, downloads: dict[str, Path]) -> None:
    assert not any(path.exists() for path in downloads.values())


def test_downloads_can_be_copied_instead(
    tmp_path: Path, manifest: Manifest, downloads: dict[str, Path]
) -> None:
    report = write_evidence_folder(tmp_path / "ev", manifest, downloads, copy=True, readme=False)
    assert report.ok
    assert all(path.exists() for path in downloads.values())
    assert not (tmp_path / "ev" / README_FILE).exists()


def test_readme_summarises_for_people(evidence: Path) -> None:
    text = (evidence / README_FILE).read_text(encoding="utf-8")
    assert "Case:              2026-004711" in text
    assert f"Home fingerprint:  {HOME.fingerprint}" in text
    assert "recorded:        2026-11-18T10:06:40Z to 2026-11-18T10:07:10Z (30 s)" in text
    assert f"sha256:          {hashlib.sha256(DATA['clip_b']).hexdigest()}" in text
    assert "approved:        2026-11-18T11:05:40Z by Dana" in text
    assert "is not verified" in text


def test_readme_is_not_verified(evidence: Path) -> None:
    (evidence / README_FILE).write_text("anything at all", encoding="utf-8")
    assert verify_folder(evidence).ok
    (evidence / README_FILE).unlink()
    assert verify_folder(evidence).ok


def test_readme_and_summary_escape_control_characters() -> None:
    manifest = sign([clip_for("clip_a", b"x")], case="\x1b[2J\u202eevil\n")
    assert "\\u001b[2J\\u202eevil\\u000a" in readme_text(manifest)
    assert "\x1b" not in readme_text(manifest)
    assert "Case:              (none)" in readme_text(sign([clip_for("clip_a", b"x")], case=""))


def test_flipped_byte_in_a_clip_is_a_mismatch(evidence: Path) -> None:
    path = evidence / "clip_a.mp4"
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(data)
    report = verify_folder(evidence)
    assert not report.ok
    assert report.clips[0].status is ClipStatus.MISMATCH
    assert report.clips[0].detail == "sha256 differs"
    assert report.clips[1].status is ClipStatus.OK
    assert report.summary() == "evidence NOT intact: clip_a.mp4 mismatch (sha256 differs)"
    with pytest.raises(EvidenceError, match=r"clip_a\.mp4 mismatch"):
        report.raise_for_failure()


def test_truncated_clip_is_a_size_mismatch(evidence: Path) -> None:
    path = evidence / "clip_b.mp4"
    path.write_bytes(path.read_bytes()[:-1])
    (check,) = [c for c in verify_folder(evidence).clips if c.clip == "clip_b"]
    assert check.status is ClipStatus.MISMATCH
    assert check.detail == "10 bytes, manifest says 11"


def test_missing_clip_is_reported(evidence: Path) -> None:
    (evidence / "clip_b.mp4").unlink()
    report = verify_folder(evidence)
    assert report.clips[1].status is ClipStatus.MISSING
    assert report.summary() == "evidence NOT intact: clip_b.mp4 missing"


def test_clip_without_a_download_is_written_as_missing(
    tmp_path: Path, manifest: Manifest, downloads: dict[str, Path]
) -> None:
    report = write_evidence_folder(tmp_path / "ev", manifest, {"clip_a": downloads["clip_a"]})
    assert [c.status for c in report.clips] == [ClipStatus.OK, ClipStatus.MISSING]


def test_extra_file_is_a_failure(evidence: Path) -> None:
    (evidence / "clip_c.mp4").write_bytes(b"planted")
    (evidence / "notes").mkdir()
    report = verify_folder(evidence)
    assert all(c.status is ClipStatus.OK for c in report.clips)
    assert report.extra == ("clip_c.mp4", "notes")
    assert not report.ok
    assert report.summary() == ("evidence NOT intact: extra file clip_c.mp4; extra file notes")


def test_symlink_in_place_of_a_clip_is_a_mismatch(evidence: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.mp4"
    (evidence / "clip_b.mp4").rename(outside)
    (evidence / "clip_b.mp4").symlink_to(outside)
    check = verify_folder(evidence).clips[1]
    assert (check.status, check.detail) == (ClipStatus.MISMATCH, "not a regular file")


def test_manifest_reserialized_non_canonically_is_refused(evidence: Path) -> None:
    path = evidence / MANIFEST_FILE
    path.write_text(json.dumps(json.loads(path.read_bytes()), indent=2), encoding="utf-8")
    with pytest.raises(EvidenceError, match=r"manifest\.json is not canonical JSON"):
        verify_folder(evidence)


def test_manifest_field_changed_in_the_folder_fails_the_signature(evidence: Path) -> None:
    path = evidence / MANIFEST_FILE
    wire: dict[str, Any] = loads(path.read_bytes())  # type: ignore[assignment]
    wire["case"] = "2026-000001"
    path.write_bytes(canon(wire))
    with pytest.raises(EvidenceError, match=r"manifest\.json: the home's signature does not"):
        verify_folder(evidence)


def test_float_in_manifest_file_is_refused(evidence: Path) -> None:
    path = evidence / MANIFEST_FILE
    data = path.read_bytes().replace(b'"created":%d' % NOW, b'"created":%d.0' % NOW, 1)
    assert b".0," in data
    path.write_bytes(data)
    with pytest.raises(EvidenceError, match=r"manifest\.json is not canonical JSON"):
        verify_folder(evidence)


def test_missing_manifest_is_refused(evidence: Path) -> None:
    (evidence / MANIFEST_FILE).unlink()
    with pytest.raises(EvidenceError, match=r"manifest\.json is missing"):
        verify_folder(evidence)


def test_unreadable_manifest_is_refused(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_bytes(b"")
    with pytest.raises(EvidenceError, match=r"manifest\.json cannot be read \(Not a directory\)"):
        verify_folder(not_a_folder)


@pytest.mark.parametrize("kind", ["folder", "symlink", "fifo"])
def test_manifest_that_is_not_a_regular_file_is_refused(
    evidence: Path, tmp_path: Path, kind: str
) -> None:
    path = evidence / MANIFEST_FILE
    outside = tmp_path / "elsewhere.json"
    path.rename(outside)
    if kind == "folder":
        path.mkdir()
    elif kind == "symlink":
        path.symlink_to(outside)  # the genuine manifest, but outside the folder
    else:
        os.mkfifo(path)  # opening it for reading must not wait for a writer
    with pytest.raises(EvidenceError, match=r"manifest\.json is not a regular file"):
        verify_folder(evidence)


@pytest.mark.parametrize("kind", ["folder", "symlink"])
def test_readme_that_is_not_a_regular_file_is_extra(
    evidence: Path, tmp_path: Path, kind: str
) -> None:
    readme = evidence / README_FILE
    readme.unlink()
    if kind == "folder":
        readme.mkdir()
        (readme / "hidden.mp4").write_bytes(DATA["clip_a"])
    else:
        (tmp_path / "notes").write_text("anything")
        readme.symlink_to(tmp_path / "notes")
    report = verify_folder(evidence)
    assert report.extra == (README_FILE,)
    assert not report.ok
    assert report.summary() == "evidence NOT intact: extra file README.txt"


def test_fifo_in_place_of_a_clip_is_a_mismatch_without_blocking(evidence: Path) -> None:
    (evidence / "clip_a.mp4").unlink()
    os.mkfifo(evidence / "clip_a.mp4")
    check = verify_folder(evidence).clips[0]
    assert (check.status, check.detail) == (ClipStatus.MISMATCH, "not a regular file")


def test_oversize_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_FILE).write_bytes(b"[" + b"0," * 40_000 + b"0]")
    with pytest.raises(EvidenceError, match="document too large"):
        verify_folder(tmp_path)


def test_expected_home_accepts_keyid_or_fingerprint(evidence: Path) -> None:
    assert verify_folder(evidence, expected_home=HOME.keyid).ok
    assert verify_folder(evidence, expected_home=HOME.fingerprint.lower()).ok


def test_evidence_from_another_home_than_expected_is_refused(evidence: Path) -> None:
    with pytest.raises(EvidenceError, match=f"signed by home {HOME.fingerprint}, not the exp"):
        verify_folder(evidence, expected_home=AGENCY.fingerprint)


def test_existing_non_empty_folder_is_never_overwritten(
    evidence: Path, manifest: Manifest, tmp_path: Path
) -> None:
    before = (evidence / MANIFEST_FILE).read_bytes()
    spare = tmp_path / "spare.mp4"
    spare.write_bytes(DATA["clip_a"])
    with pytest.raises(FileExistsError, match="exists and is not empty"):
        write_evidence_folder(evidence, manifest, {"clip_a": spare})
    assert (evidence / MANIFEST_FILE).read_bytes() == before
    assert spare.exists()


def test_existing_empty_folder_is_used(
    tmp_path: Path, manifest: Manifest, downloads: dict[str, Path]
) -> None:
    (tmp_path / "ev").mkdir()
    assert write_evidence_folder(tmp_path / "ev", manifest, downloads).ok


def test_download_for_a_clip_not_in_the_manifest_is_refused(
    tmp_path: Path, manifest: Manifest, downloads: dict[str, Path]
) -> None:
    with pytest.raises(ValueError, match="not in the manifest: clip_z"):
        write_evidence_folder(tmp_path / "ev", manifest, {"clip_z": downloads["clip_a"]})
    assert not (tmp_path / "ev").exists()


def test_sha256_file_streams_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = bytes(range(256)) * (10 * CHUNK // 256 + 7)  # ten chunks and a bit
    path = tmp_path / "big.mp4"
    path.write_bytes(data)
    sizes: list[int] = []
    real_open = type(path).open

    def spy_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        file = real_open(self, *args, **kwargs)
        real_readinto = file.readinto

        class Spy:
            def __enter__(self) -> Self:
                file.__enter__()
                return self

            def __exit__(self, *exc: object) -> None:
                file.__exit__(*exc)

            def readinto(self, buffer: bytearray) -> int:
                sizes.append(len(buffer))
                return int(real_readinto(buffer))

        return Spy()

    monkeypatch.setattr(type(path), "open", spy_open)
    assert sha256_file(path) == (hashlib.sha256(data).hexdigest(), len(data))
    assert sizes
    assert max(sizes) == CHUNK


def test_sha256_file_of_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    assert sha256_file(path) == (hashlib.sha256(b"").hexdigest(), 0)
