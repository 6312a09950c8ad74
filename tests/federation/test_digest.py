"""Transparency digests: signed per home, checked strictly, summed so that anyone can recompute."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.porchlight.federation.canonical import MAX_INT, b64u, canon, loads
from custom_components.porchlight.federation.digest import (
    COUNT_FIELDS,
    DOMAIN,
    MAX_AGENCIES,
    AgencyCounts,
    NeighborhoodDigest,
    aggregate,
    check_period,
    for_agency,
    period_of,
    sign_digest,
    verify_aggregate,
    verify_digest,
)
from custom_components.porchlight.federation.errors import (
    DigestError,
    DigestThresholdError,
    SchemaError,
)
from custom_components.porchlight.federation.identity import Identity

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from custom_components.porchlight.federation.canonical import JSON

PERIOD = "2026-W49"
HOMES = [Identity.generate() for _ in range(8)]
KEYS = {home.keyid: home.public_key for home in HOMES}
# Sorted so that tests can name "the first agency" in wire order.
AGENCY_A, AGENCY_B, AGENCY_C = sorted(Identity.generate().keyid for _ in range(3))
TYPICAL = AgencyCounts(
    requests_received=4, in_area=3, clips_shared=2, declined=1, auto_declined=0, expired=1
)
DECLINED = AgencyCounts(requests_received=2, in_area=1, declined=1)


def signed(home: Identity = HOMES[0], period: str = PERIOD, **counts: AgencyCounts) -> Any:
    """A signed digest; counts by agency name ("a", "b", "c")."""
    names = {"a": AGENCY_A, "b": AGENCY_B, "c": AGENCY_C}
    return sign_digest(home, period, {names[name]: row for name, row in counts.items()})


def resign(obj: dict[str, Any], home: Identity = HOMES[0]) -> dict[str, Any]:
    """Sign an edited digest again, so that only the edit (not the signature) is at fault."""
    unsigned = {key: value for key, value in obj.items() if key != "sig"}
    return {**unsigned, "sig": b64u(home.sign(DOMAIN + canon(unsigned)))}


# --- one home's digest -----------------------------------------------------------------------
def test_round_trip() -> None:
    obj = signed(a=TYPICAL, b=DECLINED)
    # What a neighbor receives is canonical bytes; the strict parser takes them as they are.
    digest = verify_digest(loads(canon(obj)))
    assert digest.period == PERIOD
    assert digest.home == HOMES[0].keyid
    assert digest.home_key == HOMES[0].public_key
    assert dict(digest.counts) == {AGENCY_A: TYPICAL, AGENCY_B: DECLINED}
    assert digest.to_json() == obj
    assert [row["agency"] for row in obj["agencies"]] == [AGENCY_A, AGENCY_B]


def test_sign_sorts_rows_and_leaves_zeros_out() -> None:
    obj = sign_digest(
        HOMES[0], PERIOD, {AGENCY_C: DECLINED, AGENCY_B: AgencyCounts(), AGENCY_A: TYPICAL}
    )
    assert [row["agency"] for row in obj["agencies"]] == [AGENCY_A, AGENCY_C]
    empty = sign_digest(HOMES[0], PERIOD, {})
    assert verify_digest(empty).counts == {}


def test_sign_refuses_what_a_neighbor_would_refuse() -> None:
    with pytest.raises(DigestError, match="in_area must not exceed"):
        signed(a=AgencyCounts(requests_received=1, in_area=2))
    with pytest.raises(DigestError, match="period"):
        signed(period="2026-49", a=TYPICAL)


def test_tampered_count_fails() -> None:
    obj = signed(a=TYPICAL)
    forged = copy.deepcopy(obj)
    forged["agencies"][0]["declined"] = 0  # still consistent: only the signature catches it
    with pytest.raises(DigestError, match="signature does not verify"):
        verify_digest(forged)
    moved = copy.deepcopy(obj)
    moved["period"] = "2026-W48"
    with pytest.raises(DigestError, match="signature does not verify"):
        verify_digest(moved)


def test_wrong_key_fails() -> None:
    obj = signed(a=TYPICAL)
    other = HOMES[1]
    # Claiming another home: its keyid and key, the first home's signature.
    claimed = {**obj, "home": other.keyid, "home_key": b64u(other.public_key)}
    with pytest.raises(DigestError, match="signature does not verify"):
        verify_digest(claimed)
    with pytest.raises(DigestError, match="home is not the keyid of home_key"):
        verify_digest({**obj, "home": other.keyid})


def test_other_domains_do_not_verify() -> None:
    obj = signed(a=TYPICAL)
    unsigned = {key: value for key, value in obj.items() if key != "sig"}
    as_message = HOMES[0].sign(b"porchlight-msg-v1\n" + canon(unsigned))
    with pytest.raises(DigestError, match="signature"):
        verify_digest({**obj, "sig": b64u(as_message)})


def _set(path: Sequence[str | int], value: object = None) -> Callable[[Any], None]:
    def edit(obj: Any) -> None:
        target = obj
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return edit


def _drop(path: Sequence[str | int]) -> Callable[[Any], None]:
    def edit(obj: Any) -> None:
        target = obj
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return edit


def _row(**changes: object) -> Callable[[Any], None]:
    def edit(obj: Any) -> None:
        obj["agencies"][0].update(changes)

    return edit


SCHEMA_ERRORS: list[tuple[str, Callable[[Any], None], str]] = [
    ("missing field", _drop(["period"]), "exactly the fields"),
    ("extra field", _set(["note"], "hi"), "exactly the fields"),
    ("v 2", _set(["v"], 2), "v must be 1"),
    ("v true", _set(["v"], value=True), "v must be 1"),
    ("kind", _set(["kind"], "porchlight-evidence"), "kind must be"),
    ("period int", _set(["period"], 202649), "ISO week"),
    ("period form", _set(["period"], "2026-w49"), "ISO week"),
    ("week 0", _set(["period"], "2026-W00"), "not a week"),
    ("week 53 of 2025", _set(["period"], "2025-W53"), "not a week"),
    ("home", _set(["home"], "not-a-keyid"), "home must be a keyid"),
    ("home_key type", _set(["home_key"], 7), "home_key must be 32 bytes"),
    ("home_key size", _set(["home_key"], b64u(b"x" * 31)), "home_key must be 32 bytes"),
    ("agencies type", _set(["agencies"], {}), "agencies must be an array"),
    ("row type", _set(["agencies", 0], 3), r"agencies\[0\] must be an object"),
    ("row field", _drop(["agencies", 0, "expired"]), r"agencies\[0\] must have exactly"),
    ("agency", _row(agency="police"), r"agencies\[0\].agency must be a keyid"),
    ("negative", _row(expired=-1), r"agencies\[0\].expired must be an integer"),
    ("bool", _row(declined=True), r"agencies\[0\].declined must be an integer"),
    ("too big", _row(requests_received=MAX_INT + 1), "must be an integer from 0"),
    ("zero row", _row(**dict.fromkeys(COUNT_FIELDS, 0)), "at least 1"),
    ("in_area", _row(in_area=5), "in_area must not exceed requests_received"),
    ("closed", _row(expired=3), "must not exceed in_area"),
    ("shared", _row(declined=2), "clips_shared needs"),
]


@pytest.mark.parametrize(
    ("edit", "match"), [c[1:] for c in SCHEMA_ERRORS], ids=[c[0] for c in SCHEMA_ERRORS]
)
def test_schema_errors(edit: Callable[[Any], None], match: str) -> None:
    obj = copy.deepcopy(signed(a=TYPICAL, b=DECLINED))
    edit(obj)
    # Signed again, so each case fails on its own fault, not on the signature.
    with pytest.raises(DigestError, match=match) as caught:
        verify_digest(resign(obj))
    assert isinstance(caught.value, SchemaError)
    assert caught.value.code == "invalid_digest"


def test_bad_signature_field() -> None:
    obj = signed(a=TYPICAL)
    for sig in ("!!", b64u(b"s" * 63), 64):
        with pytest.raises(DigestError, match="sig must be 64 bytes"):
            verify_digest({**obj, "sig": sig})


def test_not_an_object() -> None:
    with pytest.raises(DigestError, match="digest must be an object"):
        verify_digest([])


def test_rows_sorted_without_repeats() -> None:
    obj = signed(a=TYPICAL, b=DECLINED)
    swapped = {**obj, "agencies": obj["agencies"][::-1]}
    with pytest.raises(DigestError, match="sorted"):
        verify_digest(resign(swapped))
    repeated = {**obj, "agencies": [obj["agencies"][0]] * 2}
    with pytest.raises(DigestError, match="sorted"):
        verify_digest(resign(repeated))
    too_many = {**obj, "agencies": [obj["agencies"][0]] * (MAX_AGENCIES + 1)}
    with pytest.raises(DigestError, match="at most 100"):
        verify_digest(resign(too_many))


def test_periods() -> None:
    stamp = int(datetime(2026, 12, 4, 13, tzinfo=UTC).timestamp())
    assert period_of(stamp) == "2026-W49"
    # 1 January 2027 is a Friday: it belongs to the 53rd week of 2026.
    assert period_of(int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())) == "2026-W53"
    assert check_period("2026-W53") == "2026-W53"


# --- a neighborhood --------------------------------------------------------------------------
def five_homes() -> list[Any]:
    return [
        signed(HOMES[0], a=TYPICAL, b=DECLINED),
        signed(HOMES[1], a=DECLINED),
        signed(HOMES[2], a=AgencyCounts(requests_received=3)),
        signed(HOMES[3], a=TYPICAL),
        signed(HOMES[4]),  # asked nothing this week, still one of the homes
    ]


def test_aggregate_of_five_homes_verifies() -> None:
    digests = five_homes()
    total = aggregate(digests, keys=KEYS, period=PERIOD)
    assert total.homes == 5
    assert total.pinned
    a, b = total.agencies[AGENCY_A], total.agencies[AGENCY_B]
    assert a.counts == TYPICAL + DECLINED + AgencyCounts(requests_received=3) + TYPICAL
    assert (a.homes_in_area, a.homes_sharing) == (3, 2)
    assert b.counts == DECLINED
    assert (b.homes_in_area, b.homes_sharing) == (1, 0)
    wire = canon(total.to_json())
    for home in HOMES:
        assert home.keyid.encode() not in wire
        assert b64u(home.public_key).encode() not in wire
    # A neighbor holding the same digests and keys recomputes it byte for byte.
    assert verify_aggregate(loads(wire), digests, keys=KEYS) == total


@pytest.mark.parametrize(
    "edit",
    [
        _set(["homes"], 6),
        _set(["agencies", 0, "declined"], 2),
        _set(["agencies", 0, "homes_sharing"], 1),
        _drop(["agencies", 1]),
        _set(["period"], "2026-W48"),
    ],
    ids=["homes", "total", "home number", "row", "period"],
)
def test_forged_aggregate_fails(edit: Callable[[Any], None]) -> None:
    digests = five_homes()
    forged = aggregate(digests, keys=KEYS, period=PERIOD).to_json()
    edit(forged)
    with pytest.raises(DigestError):
        verify_aggregate(forged, digests, keys=KEYS)


def test_aggregate_that_is_not_an_object_fails() -> None:
    with pytest.raises(DigestError, match="period"):
        verify_aggregate([], five_homes(), keys=KEYS)


def test_altered_digest_in_an_aggregate_fails() -> None:
    digests = five_homes()
    digests[1]["agencies"][0]["requests_received"] = 9
    with pytest.raises(DigestError, match="signature does not verify"):
        aggregate(digests, keys=KEYS, period=PERIOD)


def test_duplicate_home() -> None:
    digests = five_homes()
    # The same signed digest twice (relayed by two neighbors) counts once.
    total = aggregate([*digests, copy.deepcopy(digests[0])], keys=KEYS, period=PERIOD)
    assert total == aggregate(digests, keys=KEYS, period=PERIOD)
    # Two different digests of one home for one week: equivocation, refused whatever the order.
    other = signed(HOMES[0], a=DECLINED)
    for order in ([*digests, other], [other, *digests]):
        with pytest.raises(DigestError, match="two different digests"):
            aggregate(order, keys=KEYS, period=PERIOD)


def test_unknown_key_refused() -> None:
    digests = five_homes()
    stranger = Identity.generate()
    with pytest.raises(DigestError, match="not pinned"):
        aggregate([*digests, signed(stranger)], keys=KEYS, period=PERIOD)
    # A keyid pinned to some other key is refused as well.
    wrong = {**KEYS, HOMES[0].keyid: HOMES[1].public_key}
    with pytest.raises(DigestError, match="not pinned"):
        aggregate(digests, keys=wrong, period=PERIOD)
    unpinned = aggregate([*digests, signed(stranger)], keys=None, period=PERIOD)
    assert unpinned.homes == 6
    assert not unpinned.pinned


def test_other_period_refused() -> None:
    with pytest.raises(DigestError, match="is for 2026-W48"):
        aggregate([signed(period="2026-W48")], keys=KEYS, period=PERIOD)
    with pytest.raises(DigestError, match="ISO week"):
        aggregate([], keys=KEYS, period="last week")


# --- what an agency may see ------------------------------------------------------------------
def test_k_threshold() -> None:
    digests = five_homes()
    total = aggregate(digests, keys=KEYS, period=PERIOD)
    with pytest.raises(DigestThresholdError, match="fewer than 6"):
        for_agency(total, k=6)
    with pytest.raises(ValueError, match="at least 3"):
        for_agency(total, k=2)
    few = aggregate(digests[:4], keys=KEYS, period=PERIOD)
    with pytest.raises(DigestThresholdError, match="4 homes, fewer than 5"):
        for_agency(few)
    with pytest.raises(DigestThresholdError, match="pinned"):
        for_agency(aggregate(digests, keys=None, period=PERIOD))
    # Agency A: 3 in-area homes, 2 of which shared (the agency knows those from their offers):
    # the one left would stand alone, so the row is withheld even at k = 3. So is B's.
    shown = for_agency(total, k=3)
    assert shown["agencies"] == []
    assert shown["withheld"] == 2
    assert shown["homes"] == 5


def test_rows_shown_when_enough_homes_hide_each_other() -> None:
    digests = [signed(home, a=DECLINED, b=TYPICAL) for home in HOMES[:5]]
    digests += [signed(home, b=TYPICAL) for home in HOMES[5:]]
    total = aggregate(digests, keys=KEYS, period=PERIOD)
    shown = for_agency(total)
    assert shown == {
        "v": 1,
        "kind": "porchlight-agency-digest",
        "period": PERIOD,
        "homes": 8,
        "agencies": [
            {"agency": AGENCY_A, **{name: 5 * n for name, n in DECLINED.to_json().items()}}
        ],
        "withheld": 1,  # B: all 8 homes shared, so no decline hides behind others
    }
    loads(canon(shown))  # the agency's copy is canonical JSON like everything else


# --- sums ------------------------------------------------------------------------------------
@st.composite
def rows(draw: st.DrawFn) -> AgencyCounts:
    received = draw(st.integers(1, 50))
    in_area = draw(st.integers(0, received))
    declined = draw(st.integers(0, in_area))
    auto_declined = draw(st.integers(0, in_area - declined))
    expired = draw(st.integers(0, in_area - declined - auto_declined))
    open_left = in_area - declined - auto_declined - expired
    shared = draw(st.integers(0, 200)) if open_left else 0
    return AgencyCounts(received, in_area, shared, declined, auto_declined, expired)


AGENCIES = (AGENCY_A, AGENCY_B, AGENCY_C)
homes_counts = st.lists(
    st.dictionaries(st.sampled_from(AGENCIES), rows(), max_size=3), max_size=len(HOMES)
)


@settings(max_examples=60, deadline=None)
@given(homes_counts)
def test_aggregate_is_the_sum_of_its_inputs(per_home: list[dict[str, AgencyCounts]]) -> None:
    digests: list[JSON] = [
        sign_digest(home, PERIOD, counts) for home, counts in zip(HOMES, per_home, strict=False)
    ]
    total = aggregate(digests, keys=KEYS, period=PERIOD)
    assert total.homes == len(per_home)
    for agency in AGENCIES:
        rows_of = [counts[agency] for counts in per_home if agency in counts]
        if not rows_of:
            assert agency not in total.agencies
            continue
        expected = AgencyCounts()
        for row in rows_of:
            expected += row
        totals = total.agencies[agency]
        assert totals.counts == expected
        assert totals.homes_in_area == sum(row.in_area > 0 for row in rows_of)
        assert totals.homes_sharing == sum(row.clips_shared > 0 for row in rows_of)
        # Sums keep the rules a home's row follows.
        totals.counts.check("total")
    assert verify_aggregate(total.to_json(), digests, keys=KEYS) == total
    assert isinstance(total, NeighborhoodDigest)
