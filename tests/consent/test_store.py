"""The consent store: requests and shares survive reopening; failures are typed."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING

import pytest

from custom_components.porchlight.consent.records import (
    Candidate,
    ConsentRecord,
    FootageRequest,
    RequestState,
    Share,
    ShareState,
    token_id,
)
from custom_components.porchlight.consent.store import ConsentStore, ConsentStoreError

if TYPE_CHECKING:
    from pathlib import Path


def request(request_id: str, received_at: int) -> FootageRequest:
    """A pending request with one candidate and one consent."""
    consent = ConsentRecord(request_id, "c1", "Front door", 10, 30, "a" * 64, 99, 40, "Ann")
    return FootageRequest(
        id=request_id,
        agency="A" * 32,
        agency_name="Metro PD",
        via="A" * 32,
        case="1",
        reason="r",
        area={"kind": "circle", "lat": 1, "lon": 2, "radius_m": 3},
        start=0,
        end=60,
        reply_to="https://pd.example",
        received_at=received_at,
        expires=1000,
        state=RequestState.APPROVED,
        candidates=(Candidate("c1", "Front door", 10, 30), Candidate("c2", "Garden", 20, 50)),
        consents=(consent,),
    )


def test_requests_and_shares_survive_reopening(tmp_path: Path) -> None:
    store = ConsentStore(tmp_path / "consent.sqlite3")
    first, second = request("r1", 5), request("r2", 9)
    store.put_request(first)
    store.put_request(second)
    share = Share(token_id("t" * 43), "r1", "c1", first.consents[0].record_hash, 1, 2)
    store.put_share(share)
    store.put_share(Share(token_id("u" * 43), "r2", "c1", "x", 1, 2, ShareState.REVOKED))
    store.close()

    again = ConsentStore(tmp_path / "consent.sqlite3")
    assert again.requests() == [second, first]  # newest first
    assert again.request("r1") == first
    assert again.request("nope") is None
    assert again.share(share.id) == share
    assert again.share("nope") is None
    assert [s.request for s in again.shares()] == ["r1", "r2"]
    assert again.shares("r2")[0].state is ShareState.REVOKED
    assert first.candidate("c2") == Candidate("c2", "Garden", 20, 50)
    assert first.candidate("c3") is None
    assert first.approved("c2") is None
    assert first.open
    again.close()


def test_consent_record_hash_covers_every_field() -> None:
    base = ConsentRecord("r", "c", "Front door", 1, 2, "a" * 64, 3, 4, "Ann")
    changed = ConsentRecord("r", "c", "Front door", 1, 2, "a" * 64, 3, 4, "Bob")
    assert base.record_hash != changed.record_hash
    assert ConsentRecord.from_json(base.to_json()) == base


def test_unopenable_store_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "consent.sqlite3").write_bytes(b"not a database" * 100)
    with pytest.raises(ConsentStoreError, match=r"cannot open consent\.sqlite3"):
        ConsentStore(tmp_path / "consent.sqlite3")


def test_store_in_a_folder_that_cannot_be_made_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "porchlight").write_text("a file where the folder should be")
    with pytest.raises(ConsentStoreError, match=r"cannot open consent\.sqlite3"):
        ConsentStore(tmp_path / "porchlight" / "consent.sqlite3")


def test_failed_write_is_a_typed_error(tmp_path: Path) -> None:
    store = ConsentStore(tmp_path / "consent.sqlite3")
    with closing(sqlite3.connect(tmp_path / "consent.sqlite3", isolation_level=None)) as db:
        db.execute("DROP TABLE shares")
    with pytest.raises(ConsentStoreError, match="cannot save"):
        store.put_share(Share("x", "r", "c", "h", 1, 2))
    store.close()


def test_changing_a_share_that_is_not_stored_is_a_typed_error(tmp_path: Path) -> None:
    store = ConsentStore(tmp_path / "consent.sqlite3")
    with pytest.raises(ConsentStoreError, match="not in the store"):
        store.change_share("f" * 64, lambda share: share)
    store.close()


def test_the_store_is_private_to_home_assistants_user(tmp_path: Path) -> None:
    path = tmp_path / "porchlight" / "consent.sqlite3"
    store = ConsentStore(path)
    store.put_share(Share("x", "r", "c", "h", 1, 2))
    for file in path.parent.iterdir():  # the database, its -wal and -shm
        assert file.stat().st_mode & 0o777 == 0o600, file.name
    assert path.parent.stat().st_mode & 0o777 == 0o700
    store.close()
    path.chmod(0o644)  # a store made before this rule is tightened when opened
    ConsentStore(path).close()
    assert path.stat().st_mode & 0o777 == 0o600


def test_an_interrupted_download_counts_as_done_when_the_store_opens_again(
    tmp_path: Path,
) -> None:
    store = ConsentStore(tmp_path / "consent.sqlite3")
    store.put_share(Share("cut", "r", "c", "h", 1, 2, in_flight=1000, partial=200))
    store.put_share(Share("idle", "r", "c", "h", 1, 2))
    [settled] = store.settle_interrupted()
    assert (settled.id, settled.state, settled.downloads, settled.in_flight) == (
        "cut",
        ShareState.DOWNLOADED,
        1,
        0,
    )
    assert store.settle_interrupted() == []
    store.close()
