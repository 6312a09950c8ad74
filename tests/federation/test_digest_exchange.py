"""Digests between real nodes on loopback: neighbors exchange theirs, agencies get one row.

"Digest aggregation verifies and a forged count fails": what the homes exchange sums to an
aggregate anyone with their keys recomputes, and a digest altered after signing, or a home
speaking for another, is refused at the inbox and never enters the sum.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

from custom_components.porchlight.federation.canonical import canon
from custom_components.porchlight.federation.digest import (
    AgencyCounts,
    aggregate,
    period_of,
    sign_digest,
    verify_aggregate,
    verify_digest,
)
from custom_components.porchlight.federation.digest_exchange import (
    KEEP_WEEKS,
    DigestBook,
    accept_digest,
    agency_view,
    check_agency_view,
    neighborhood,
    previous_period,
)
from custom_components.porchlight.federation.errors import DigestError, DigestThresholdError
from custom_components.porchlight.federation.identity import Identity
from custom_components.porchlight.federation.node import NodeHooks

if TYPE_CHECKING:
    from custom_components.porchlight.federation.digest import HomeDigest
    from custom_components.porchlight.federation.node import Node

    from .loopback import Network, Running

WEEK = 7 * 86400
ASKED = AgencyCounts(requests_received=2, in_area=1, declined=1)
SHARED = AgencyCounts(requests_received=1, in_area=1, clips_shared=2)


class Heard:
    """A home's side: the digests its inbox accepted, in a book."""

    def __init__(self) -> None:
        self.book = DigestBook()

    def __call__(self, created: int, digest: HomeDigest) -> None:
        self.book.keep(created, digest)


async def _neighborhood(network: Network, homes: int) -> tuple[list[Running], list[Heard], Running]:
    """homes homes all paired with the first (a star), and an agency paired with it too."""
    heard = [Heard() for _ in range(homes)]
    nodes = [
        await network.start(f"Home {i}", hooks=NodeHooks(on_digest=h)) for i, h in enumerate(heard)
    ]
    for other in nodes[1:]:
        await network.pair(nodes[0], other)
    agency = await network.start("Metro PD", role="agency")
    await network.pair(nodes[0], agency)
    return nodes, heard, agency


def _own(node: Node, period: str, agency: str, counts: AgencyCounts) -> dict[str, Any]:
    return sign_digest(node.identity, period, {agency: counts})


def _keys(nodes: list[Running]) -> dict[str, bytes]:
    return {r.node.identity.keyid: r.node.identity.public_key for r in nodes}


@pytest.mark.usefixtures("socket_enabled")
async def test_digests_exchanged_sum_to_a_verifiable_aggregate_and_the_agency_gets_its_row(
    network: Network,
) -> None:
    nodes, heard, agency = await _neighborhood(network, 5)
    agency_id = agency.node.identity.keyid
    period = period_of(network.clock.now())
    own = [_own(r.node, period, agency_id, ASKED if i < 3 else SHARED) for i, r in enumerate(nodes)]
    for running, digest in zip(nodes[1:], own[1:], strict=True):
        running.node.send(nodes[0].node.identity.keyid, "digest", {"digest": digest}, lifetime=60)
        assert await running.node.deliver(network.sender) == 1

    centre = nodes[0].node.identity
    neighbors = {k: v for k, v in _keys(nodes).items() if k != centre.keyid}
    summed, digests = neighborhood(
        own[0], heard[0].book, neighbors, (centre.keyid, centre.public_key)
    )
    assert summed.homes == 5
    assert summed.agencies[agency_id].counts == ASKED + ASKED + ASKED + SHARED + SHARED
    # Anyone holding the five keys recomputes it from the digests handed over.
    verify_aggregate(summed.to_json(), digests, keys=_keys(nodes))
    forged = copy.deepcopy(summed.to_json())
    forged["agencies"][0]["declined"] -= 1
    with pytest.raises(DigestError, match="does not match"):
        verify_aggregate(forged, digests, keys=_keys(nodes))

    # The agency's view: only its row (k = 3: two homes shared, three did not).
    view = agency_view(summed, agency_id, 3)
    nodes[0].node.send(agency_id, "agency_digest", {"view": view}, lifetime=60)
    assert await nodes[0].node.deliver(network.sender) == 1
    (got,) = agency.node.received
    checked = check_agency_view(got.body["view"], agency_id)
    assert (checked.homes, checked.counts, checked.withheld) == (
        5,
        summed.agencies[agency_id].counts,
        False,
    )
    # No home but the sender is named anywhere in what the agency got.
    text = got.encode().decode()
    assert [r.node.identity.keyid in text for r in nodes] == [True, False, False, False, False]


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.allow_porchlight_warnings(r"was given up \(status 40[03]\)")
async def test_a_forged_count_or_another_homes_digest_is_refused_and_not_summed(
    network: Network,
) -> None:
    nodes, heard, agency = await _neighborhood(network, 3)
    centre = nodes[0].node.identity.keyid
    period = period_of(network.clock.now())
    honest = _own(nodes[1].node, period, agency.node.identity.keyid, ASKED)
    altered = copy.deepcopy(honest)
    altered["agencies"][0]["declined"] = 0  # fewer declines, signature unchanged
    others = _own(nodes[2].node, period, agency.node.identity.keyid, ASKED)
    for digest in (altered, others):
        nodes[1].node.send(centre, "digest", {"digest": digest}, lifetime=60)
    assert await nodes[1].node.deliver(network.sender) == 0
    assert len(heard[0].book) == 0
    # A digest sent to an agency, and a view sent to a neighbor, are refused too.
    nodes[0].node.send(agency.node.identity.keyid, "digest", {"digest": honest}, lifetime=60)
    nodes[1].node.send(centre, "agency_digest", {"view": {}}, lifetime=60)
    assert await nodes[0].node.deliver(network.sender) == 0
    assert await nodes[1].node.deliver(network.sender) == 0
    assert list(agency.node.received) == []
    # The honest one is kept.
    nodes[1].node.send(centre, "digest", {"digest": honest}, lifetime=60)
    assert await nodes[1].node.deliver(network.sender) == 1
    assert [d.to_json() for d in heard[0].book.digests(period)] == [honest]


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.allow_porchlight_warnings(r"was given up \(status 400\)")
async def test_a_view_for_another_agency_is_refused_by_the_agency(network: Network) -> None:
    nodes, _heard, agency = await _neighborhood(network, 3)
    period = period_of(network.clock.now())
    stranger = Identity.generate().keyid
    digests = [_own(r.node, period, stranger, ASKED) for r in nodes]
    summed = aggregate(digests, keys=_keys(nodes), period=period)
    view = agency_view(summed, stranger, 3)
    nodes[0].node.send(agency.node.identity.keyid, "agency_digest", {"view": view}, lifetime=60)
    assert await nodes[0].node.deliver(network.sender) == 0
    assert list(agency.node.received) == []


def test_accept_digest_wants_the_senders_own() -> None:
    home, other = Identity.generate(), Identity.generate()
    digest = sign_digest(home, "2026-W49", {other.keyid: ASKED})
    assert accept_digest({"digest": digest}, home.keyid, home.public_key).home == home.keyid
    with pytest.raises(DigestError, match="own digest"):
        accept_digest({"digest": digest}, other.keyid, other.public_key)
    with pytest.raises(DigestError, match="own digest"):
        accept_digest({"digest": digest}, home.keyid, other.public_key)


def test_the_book_keeps_the_newest_per_home_and_week_and_forgets_old_or_removed() -> None:
    home, agency = Identity.generate(), Identity.generate().keyid
    now = 1_796_000_000  # 2026-W49
    this, last = period_of(now), previous_period(now)
    assert (this, last) == ("2026-W49", "2026-W48")
    newer = verify_digest(sign_digest(home, this, {agency: ASKED}))
    older = verify_digest(sign_digest(home, this, {agency: SHARED}))
    book = DigestBook()
    assert book.keep(20, newer)
    assert not book.keep(10, older)
    assert book.digests(this) == [newer]
    assert book.keep(20, newer)  # the same again: kept, one copy
    stale = verify_digest(sign_digest(home, period_of(now - KEEP_WEEKS * WEEK), {}))
    kept = verify_digest(sign_digest(home, period_of(now - (KEEP_WEEKS - 1) * WEEK), {}))
    book.keep(1, stale)
    book.keep(1, kept)
    restored = DigestBook.from_json(book.to_json())
    assert restored.to_json() == book.to_json()
    assert len(book) == 3
    assert book.prune({home.keyid: home.public_key}, now)
    assert len(book) == 2
    assert not book.prune({home.keyid: home.public_key}, now)
    # Re-keyed or removed: gone.
    assert book.prune({home.keyid: Identity.generate().public_key}, now)
    assert len(book) == 0


@pytest.mark.parametrize(
    "stored",
    [[{"created": "1", "digest": {}}], ["x"], [{"created": 1, "digest": {"v": 1}}]],
)
def test_a_damaged_stored_book_is_refused(stored: Any) -> None:
    with pytest.raises(DigestError):
        DigestBook.from_json(stored)


def test_neighborhood_leaves_out_digests_of_keys_no_longer_pinned() -> None:
    me, friend, gone = (Identity.generate() for _ in range(3))
    agency = Identity.generate().keyid
    book = DigestBook()
    for home in (friend, gone):
        book.keep(1, verify_digest(sign_digest(home, "2026-W49", {agency: ASKED})))
    own = sign_digest(me, "2026-W49", {})
    summed, digests = neighborhood(
        own, book, {friend.keyid: friend.public_key}, (me.keyid, me.public_key)
    )
    assert summed.homes == 2
    assert len(digests) == 2
    assert summed.pinned


def test_agency_view_refuses_too_few_homes_and_shows_only_the_agencys_row() -> None:
    homes = [Identity.generate() for _ in range(5)]
    keys = {h.keyid: h.public_key for h in homes}
    mine, theirs, absent = sorted(Identity.generate().keyid for _ in range(3))
    digests = [
        sign_digest(h, "2026-W49", {mine: ASKED, theirs: SHARED if i else ASKED})
        for i, h in enumerate(homes)
    ]
    summed = aggregate(digests, keys=keys, period="2026-W49")
    view = agency_view(summed, mine, 5)
    assert view["agencies"] == [
        {"agency": mine, **(ASKED + ASKED + ASKED + ASKED + ASKED).to_json()}
    ]
    assert view["withheld"] == 0
    # theirs: four homes shared, so its row would show one home's decline: withheld.
    withheld = agency_view(summed, theirs, 5)
    assert (withheld["agencies"], withheld["withheld"]) == ([], 1)
    assert check_agency_view(withheld, theirs).withheld
    # An agency nobody heard from: no row, nothing withheld; no other agency counted.
    nothing = agency_view(summed, absent, 5)
    assert (nothing["agencies"], nothing["withheld"]) == ([], 0)
    assert check_agency_view(nothing, absent).counts is None
    with pytest.raises(DigestThresholdError):
        agency_view(aggregate(digests[:4], keys=keys, period="2026-W49"), mine, 5)
    # Invariant: no home's keyid in any view.
    for obj in (view, withheld, nothing):
        assert not any(h.keyid in canon(obj).decode() for h in homes)


def _view(**changes: Any) -> dict[str, Any]:
    agency = "A" * 32
    view: dict[str, Any] = {
        "v": 1,
        "kind": "porchlight-agency-digest",
        "period": "2026-W49",
        "homes": 5,
        "agencies": [{"agency": agency, **ASKED.to_json()}],
        "withheld": 0,
    }
    view.update(changes)
    return view


@pytest.mark.parametrize(
    ("view", "error"),
    [
        ("x", "exactly the fields"),
        ({**_view(), "home": "B" * 32}, "exactly the fields"),
        (_view(v=2), "must be v 1"),
        (_view(v=True), "must be v 1"),
        (_view(kind="porchlight-digest"), "must be v 1"),
        (_view(period="2026-W60"), "ISO calendar"),
        (_view(homes=2), "at least 3 homes"),
        (_view(homes="5"), "at least 3 homes"),
        (_view(withheld=2), "0 or 1"),
        (_view(withheld=1), "none when withheld"),
        (_view(agencies={}), "at most one row"),
        (_view(agencies=[{"agency": "A" * 32, **ASKED.to_json()}] * 2), "at most one row"),
        (_view(agencies=[{"agency": "B" * 32, **ASKED.to_json()}]), "receiving agency's row"),
        (_view(agencies=["x"]), "receiving agency's row"),
        (_view(agencies=[{"agency": "A" * 32, "declined": 1}]), "six counts"),
        (
            _view(agencies=[{"agency": "A" * 32, **ASKED.to_json(), "in_area": 3}]),
            "in_area must not exceed",
        ),
    ],
)
def test_check_agency_view_is_strict(view: Any, error: str) -> None:
    with pytest.raises(DigestError, match=error):
        check_agency_view(view, "A" * 32)
