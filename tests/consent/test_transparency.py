"""This home's weekly counts per agency, and the digest it signs of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from custom_components.porchlight.consent.records import (
    ConsentRecord,
    FootageRequest,
    RequestState,
)
from custom_components.porchlight.consent.transparency import home_digest, weekly_counts
from custom_components.porchlight.federation.digest import (
    AgencyCounts,
    aggregate,
    verify_digest,
)
from custom_components.porchlight.federation.identity import Identity

METRO = "M" * 32
COUNTY = "C" * 32
# Wednesday of ISO week 2026-W49, and the Wednesday before.
THIS_WEEK = int(datetime(2026, 12, 2, 12, tzinfo=UTC).timestamp())
LAST_WEEK = THIS_WEEK - 7 * 86400


def _request(n: int, state: RequestState, *, agency: str = METRO, at: int = THIS_WEEK,
             clips: int = 0) -> FootageRequest:  # fmt: skip
    consents = tuple(
        ConsentRecord(f"r{n}", f"c{i}", "Front door", 10, 30, "a" * 64, 99, 40, "Ann")
        for i in range(clips)
    )
    return FootageRequest(
        id=f"r{n}",
        agency=agency,
        agency_name="Metro PD",
        via=agency,
        case="1",
        reason="r",
        area={"kind": "circle", "lat": 1, "lon": 2, "radius_m": 3},
        start=0,
        end=60,
        reply_to="https://pd.example",
        received_at=at,
        expires=at + 1000,
        state=state,
        consents=consents,
    )


REQUESTS = [
    _request(1, RequestState.REJECTED),
    _request(2, RequestState.NOT_IN_AREA),
    _request(3, RequestState.AUTO_DECLINED),
    _request(4, RequestState.DECLINED),
    _request(5, RequestState.EXPIRED),
    _request(6, RequestState.APPROVED, clips=2),
    # Shared one clip, then the owner closed it: it counts as shared, not as declined.
    _request(7, RequestState.DECLINED, clips=1),
    _request(8, RequestState.PENDING),
    _request(9, RequestState.DECLINED, agency=COUNTY),
    _request(10, RequestState.DECLINED, at=LAST_WEEK),
]


def test_each_request_counts_once_in_the_week_it_arrived() -> None:
    assert weekly_counts(REQUESTS, "2026-W49") == {
        COUNTY: AgencyCounts(requests_received=1, in_area=1, declined=1),
        METRO: AgencyCounts(
            requests_received=8,
            in_area=6,
            clips_shared=3,
            declined=1,
            auto_declined=1,
            expired=1,
        ),
    }
    assert weekly_counts(REQUESTS, "2026-W48") == {
        METRO: AgencyCounts(requests_received=1, in_area=1, declined=1)
    }
    assert weekly_counts(REQUESTS, "2026-W47") == {}


def test_the_home_signs_a_digest_its_neighbors_verify_and_sum() -> None:
    homes = [Identity.generate() for _ in range(3)]
    digests = [home_digest(home, REQUESTS, THIS_WEEK) for home in homes]
    for home, digest in zip(homes, digests, strict=True):
        verified = verify_digest(digest)
        assert (verified.period, verified.home) == ("2026-W49", home.keyid)
    total = aggregate(digests, keys={h.keyid: h.public_key for h in homes}, period="2026-W49")
    assert total.homes == 3
    metro = total.agencies[METRO]
    assert (metro.counts.requests_received, metro.counts.clips_shared) == (24, 9)


def test_a_quiet_week_is_an_empty_digest() -> None:
    digest = home_digest(Identity.generate(), [replace(REQUESTS[0], received_at=0)], THIS_WEEK)
    assert verify_digest(digest).counts == {}
