"""Transparency digests on the wire: neighbors exchange theirs, agencies get one row each.

digest.py defines the signed weekly digest, the aggregate and what an agency may see; this
module is what moves between nodes (docs/protocol.md §15):

- `digest` (home -> each active neighbor): {"digest": <the home's own signed HomeDigest>}.
  The receiver verifies it and requires that its home key is the sending peer's pinned key,
  so a home speaks for itself only. `DigestBook` keeps the latest one per (neighbor, week),
  for the last KEEP_WEEKS weeks, and forgets a neighbor that is no longer paired.
- `agency_digest` (home -> each active agency): {"view": <agency view>}, the `for_agency`
  form of the home's neighborhood aggregate for the last complete week, cut down to the
  receiving agency's own row. The envelope signature is the home's, so the agency verifies
  who vouches for the figures; it cannot check the figures themselves (it must never hold
  the neighbors' digests), it trusts the home it is paired with. Not sent below k homes.

Nothing here names a home other than the sender: a view carries counts, the number of homes
and whether the agency's row was withheld, never which homes were asked or declined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Final

from .canonical import JSON, MAX_INT
from .digest import (
    AGENCY_KIND,
    COUNT_FIELDS,
    DEFAULT_K,
    MIN_K,
    VERSION,
    AgencyCounts,
    HomeDigest,
    NeighborhoodDigest,
    aggregate,
    check_period,
    for_agency,
    period_of,
    verify_digest,
)
from .errors import DigestError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# Weeks of neighbors' digests kept: enough for the sensor's last week and a short history.
KEEP_WEEKS: Final = 8
# How long a digest message may wait in the outbox: a week's figures are stale after that.
DIGEST_LIFETIME: Final = 7 * 86400
_VIEW_KEYS: Final = frozenset({"v", "kind", "period", "homes", "agencies", "withheld"})


def previous_period(now: int) -> str:
    """The ISO week before the one now falls in: the last complete week."""
    return period_of(now - 7 * 86400)


def _week_start(period: str) -> date:
    year, week = period.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


def oldest_kept(now: int) -> date:
    """The Monday of the oldest week DigestBook keeps at now."""
    today = datetime.fromtimestamp(now, UTC).date()
    return today - timedelta(days=today.weekday()) - timedelta(weeks=KEEP_WEEKS - 1)


def accept_digest(body: Mapping[str, JSON], sender: str, sender_key: bytes) -> HomeDigest:
    """A neighbor's `digest` message body, verified and its own; raise DigestError if not."""
    digest = verify_digest(body["digest"])
    if digest.home != sender or digest.home_key != sender_key:
        msg = "a home may only send its own digest"
        raise DigestError(msg)
    return digest


@dataclass(frozen=True, slots=True)
class Kept:
    """A neighbor's digest as received: when its envelope was created, and the digest."""

    created: int
    digest: HomeDigest


class DigestBook:
    """The latest digest of each neighbor per week; saved as JSON by its owner."""

    def __init__(self) -> None:
        """An empty book."""
        self._kept: dict[tuple[str, str], Kept] = {}

    def __len__(self) -> int:
        """How many digests are kept."""
        return len(self._kept)

    def keep(self, created: int, digest: HomeDigest) -> bool:
        """Keep digest unless a newer one of that home and week is kept; whether it was.

        Newer by the signed `created` of the envelopes: arrival order could be a replay.
        """
        key = (digest.home, digest.period)
        before = self._kept.get(key)
        if before is not None and before.created > created:
            return False
        self._kept[key] = Kept(created, digest)
        return True

    def prune(self, neighbors: Mapping[str, bytes], now: int) -> bool:
        """Forget digests of homes no longer paired (or re-keyed) and of old weeks; any?"""
        oldest = oldest_kept(now)
        kept = {
            key: item
            for key, item in self._kept.items()
            if neighbors.get(key[0]) == item.digest.home_key and _week_start(key[1]) >= oldest
        }
        changed = len(kept) != len(self._kept)
        self._kept = kept
        return changed

    def digests(self, period: str) -> list[HomeDigest]:
        """The neighbors' digests of one week, by home keyid."""
        return [item.digest for (home, p), item in sorted(self._kept.items()) if p == period]

    def to_json(self) -> list[JSON]:
        """The kept digests, for storage."""
        return [
            {"created": item.created, "digest": item.digest.to_json()}
            for _key, item in sorted(self._kept.items())
        ]

    @classmethod
    def from_json(cls, data: Iterable[JSON]) -> DigestBook:
        """Read what to_json saved; each digest is verified again (the file may be edited)."""
        book = cls()
        for item in data:
            if not isinstance(item, dict) or type(item.get("created")) is not int:
                msg = "a stored digest is malformed"
                raise DigestError(msg)
            book.keep(int(item["created"]), verify_digest(item.get("digest")))  # type: ignore[arg-type]
        return book


def neighborhood(
    own: JSON, book: DigestBook, neighbors: Mapping[str, bytes], own_key: tuple[str, bytes]
) -> tuple[NeighborhoodDigest, list[JSON]]:
    """This home's digest plus its neighbors' for own's week, summed against pinned keys.

    neighbors: the active neighbors' keyids and pinned keys; a kept digest signed by any
    other key is left out (the book is pruned on change, this only guards the sum). Returns
    the aggregate and the digests it sums, so anyone holding the keys can check it.
    """
    period = verify_digest(own).period
    keys = {**neighbors, own_key[0]: own_key[1]}
    digests: list[JSON] = [own]
    digests += [d.to_json() for d in book.digests(period) if neighbors.get(d.home) == d.home_key]
    return aggregate(digests, keys=keys, period=period), digests


def agency_view(summed: NeighborhoodDigest, agency: str, k: int = DEFAULT_K) -> dict[str, JSON]:
    """What one agency may see of an aggregate: `for_agency`, its own row only.

    withheld is 1 when the agency asked this week but its row is held back (too few in-area
    homes that did not share), else 0: other agencies' rows are neither shown nor counted,
    so a view tells an agency nothing of whom else the homes heard from. Raises
    DigestThresholdError below k homes or without pinned keys.
    """
    full = for_agency(summed, k)
    rows = full["agencies"]
    assert isinstance(rows, list)  # noqa: S101  # for_agency builds a list
    own: list[JSON] = [r for r in rows if isinstance(r, dict) and r["agency"] == agency]
    return {**full, "agencies": own, "withheld": int(agency in summed.agencies and not own)}


@dataclass(frozen=True, slots=True)
class AgencyView:
    """A checked agency view: the week, the homes counted, this agency's counts if shown."""

    period: str
    homes: int
    counts: AgencyCounts | None
    withheld: bool


def check_agency_view(obj: JSON, agency: str) -> AgencyView:
    """Parse an `agency_digest` view strictly; raise DigestError unless it is for agency.

    At least MIN_K homes, at most one row and that row this agency's, counts following the
    digest rules, never a row and withheld at once.
    """
    if not isinstance(obj, dict) or set(obj) != _VIEW_KEYS:
        msg = f"an agency view must have exactly the fields {', '.join(sorted(_VIEW_KEYS))}"
        raise DigestError(msg)
    if obj["v"] != VERSION or type(obj["v"]) is not int or obj["kind"] != AGENCY_KIND:
        msg = f'an agency view must be v {VERSION} of kind "{AGENCY_KIND}"'
        raise DigestError(msg)
    period = check_period(obj["period"])
    homes, withheld, rows = obj["homes"], obj["withheld"], obj["agencies"]
    if type(homes) is not int or not MIN_K <= homes <= MAX_INT:
        msg = f"an agency view must count at least {MIN_K} homes"
        raise DigestError(msg)
    if type(withheld) is not int or withheld not in {0, 1}:
        msg = "withheld must be 0 or 1"
        raise DigestError(msg)
    if not isinstance(rows, list) or len(rows) > 1 or (rows and withheld):
        msg = "an agency view holds at most one row, and none when withheld"
        raise DigestError(msg)
    counts = None
    if rows:
        row = rows[0]
        if not isinstance(row, dict) or row.get("agency") != agency:
            msg = "an agency view may only hold the receiving agency's row"
            raise DigestError(msg)
        if set(row) != {"agency", *COUNT_FIELDS}:
            msg = "the row of an agency view must have the six counts"
            raise DigestError(msg)
        counts = AgencyCounts.from_json(row, "agencies[0]")
    return AgencyView(period, homes, counts, bool(withheld))
