r"""Signed transparency digests: what each home saw of each agency's requests in one ISO week.

Why: neighbors (and, in aggregate, the public) should be able to see how often agencies ask and
how often homes say no, without anyone having to trust one home's word. A home signs its own
weekly counts per agency with its identity key::

    Ed25519(home key, b"porchlight-digest-v1\n" + canon(digest without "sig"))

The domain prefix is the digest's own, so no digest is ever a valid message, evidence manifest
or key transition (and none of those is a valid digest). `aggregate` sums the verified digests
of a neighborhood into a `NeighborhoodDigest` that names no home; anyone holding the same
digests and the homes' pinned keys recomputes it byte for byte with `verify_aggregate`, so an
altered digest or an aggregate claiming other totals is refused.

Period: one ISO 8601 week, written "2026-W49" (`period_of` turns a timestamp into one). A
request is counted in the week it arrived, whatever week it was answered in, so each request is
counted once, in exactly one digest; a home signs a week's digest after that week's requests
have closed (they live at most 14 days).

Counts per agency (non-negative integers):

- requests_received: footage requests of that agency this home received (relayed or direct);
- in_area: those whose area contained the home;
- clips_shared: clips the owner shared in answer to those (a request may yield many clips);
- declined / auto_declined / expired: in-area requests the owner declined, a decline rule
  declined, or that closed unanswered. A request from which any clip was shared counts as
  none of these, so each in-area request is in at most one of them.

Consistency rules (each one holds for every honest home, and sums of rows that hold them hold
them too, so the same rules check aggregates): in_area <= requests_received; declined +
auto_declined + expired <= in_area; clips_shared > 0 only if some in-area request was not
declined or expired (declined + auto_declined + expired < in_area). clips_shared has no upper
bound tied to the others: one request can be answered with many clips. A row with
requests_received = 0 would be all zeros; it is left out, so every digest has a single form.

Privacy: the product invariant is that the agency never learns who declined or was asked. A
home's digest is attributable (it is signed and names the home), so it travels only between
paired neighbors, never to an agency. What an agency may see is `for_agency(aggregate, k)`:
only an aggregate of at least k homes (default 5, never below 3), built against pinned keys,
and in it only the agencies' rows for which at least k in-area homes did not share a clip (the
homes whose answer the agency does not already know from their offers); other rows are
withheld and only their number is given. Homes should sign a digest every week, an empty one
too, so that "homes" counts the neighborhood, not the homes that were asked.

Residual risk (docs/threat-model.md): whoever aggregates sees every home's digest; two
aggregates of one week over home sets that differ by one home give that home's row away by
subtraction (so a neighborhood releases one aggregate per week); an agency colluding with all
but one of the homes in a row learns the last one's counts; the homes count reveals the
neighborhood's size; and the agency cannot check an aggregate itself (it must not hold the
digests), so it trusts the neighbor that gave it the figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Final, NoReturn, Self

from .canonical import JSON, MAX_INT, b64u, b64u_decode, canon
from .errors import DigestError, DigestThresholdError
from .identity import keyid, verify

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from .identity import Identity

VERSION: Final = 1
KIND: Final = "porchlight-digest"
AGGREGATE_KIND: Final = "porchlight-neighborhood-digest"
AGENCY_KIND: Final = "porchlight-agency-digest"
DOMAIN: Final = b"porchlight-digest-v1\n"
# The strict parser's array limit (canonical.Limits.max_array): a digest stays receivable.
MAX_AGENCIES: Final = 100
DEFAULT_K: Final = 5
# Below 3 an agency that knows its own answer (or one sharing home) learns the other's exactly.
MIN_K: Final = 3

KEYID_RE: Final = re.compile(r"[A-Z2-7]{32}")
PERIOD_RE: Final = re.compile(r"([0-9]{4})-W([0-9]{2})")

_DIGEST_KEYS: Final = frozenset({"v", "kind", "period", "home", "home_key", "agencies", "sig"})


@dataclass(frozen=True, slots=True)
class AgencyCounts:
    """One agency's counts in one digest (or their sum over homes)."""

    requests_received: int = 0
    in_area: int = 0
    clips_shared: int = 0
    declined: int = 0
    auto_declined: int = 0
    expired: int = 0

    def __add__(self, other: AgencyCounts) -> AgencyCounts:
        """Field-wise sum; the consistency rules survive it."""
        return AgencyCounts(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    def values(self) -> tuple[int, ...]:
        """The counts in field order."""
        return tuple(getattr(self, name) for name in COUNT_FIELDS)

    def to_json(self) -> dict[str, JSON]:
        """The counts as wire fields."""
        return dict(zip(COUNT_FIELDS, self.values(), strict=True))

    @classmethod
    def from_json(cls, data: Mapping[str, JSON], where: str) -> Self:
        """Read and check the six count fields of a row (other fields are the caller's)."""
        counts = cls(*(_int(data[name], f"{where}.{name}") for name in COUNT_FIELDS))
        counts.check(where)
        return counts

    def check(self, where: str) -> None:
        """Raise DigestError unless the counts follow the module's consistency rules."""
        closed = self.declined + self.auto_declined + self.expired
        if self.requests_received < 1:
            _fail(f"{where}.requests_received must be at least 1 (rows of zeros are left out)")
        if self.in_area > self.requests_received:
            _fail(f"{where}.in_area must not exceed requests_received")
        if closed > self.in_area:
            _fail(f"{where}: declined + auto_declined + expired must not exceed in_area")
        if self.clips_shared and closed == self.in_area:
            _fail(f"{where}: clips_shared needs an in-area request that was not closed unshared")


COUNT_FIELDS: Final = tuple(f.name for f in fields(AgencyCounts))


@dataclass(frozen=True, slots=True)
class HomeDigest:
    """One home's signed counts for one week; obtained from `verify_digest` only."""

    period: str
    home: str
    home_key: bytes
    counts: Mapping[str, AgencyCounts]  # agency keyid -> counts, sorted by keyid
    sig: bytes

    def to_json(self) -> dict[str, JSON]:
        """The wire form as received; the signature covers canon() of it without "sig"."""
        return {
            **_unsigned(self.period, self.home, self.home_key, self.counts),
            "sig": b64u(self.sig),
        }


def period_of(timestamp: int) -> str:
    """The ISO week ("2026-W49", UTC) a request that arrived at timestamp is counted in."""
    year, week, _ = datetime.fromtimestamp(timestamp, UTC).isocalendar()
    return f"{year:04d}-W{week:02d}"


def check_period(value: JSON) -> str:
    """Return value if it is an ISO week that exists ("2026-W53" does, "2025-W53" does not)."""
    match = PERIOD_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        _fail('period must be an ISO week such as "2026-W49"')
    try:
        date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        _fail("period is not a week of the ISO calendar")
    return match[0]


def sign_digest(
    identity: Identity, period: str, counts: Mapping[str, AgencyCounts]
) -> dict[str, JSON]:
    """Sign a home's counts for one week and return the wire form.

    Rows of zeros are dropped (an absent agency means zeros). The result goes through the
    parser a receiver uses, so invalid input raises DigestError here and never gets signed
    into something a neighbor refuses.
    """
    rows = {agency: row for agency, row in sorted(counts.items()) if any(row.values())}
    unsigned = _unsigned(period, identity.keyid, identity.public_key, rows)
    signed = {**unsigned, "sig": b64u(identity.sign(DOMAIN + canon(unsigned)))}
    verify_digest(signed)
    return signed


def verify_digest(obj: JSON) -> HomeDigest:
    """Parse a received digest strictly and verify the home's signature; raise DigestError.

    Exact key sets and types; home = keyid(home_key); agency rows sorted by keyid without
    repeats and following the consistency rules. The signature is checked last, over the
    canonical form of what was parsed, so a digest altered after signing never verifies.
    """
    data = _object(obj, _DIGEST_KEYS, "digest")
    if type(data["v"]) is not int or data["v"] != VERSION:
        _fail(f"digest v must be {VERSION}")
    if data["kind"] != KIND:
        _fail(f'digest kind must be "{KIND}"')
    period = check_period(data["period"])
    home = _keyid(data["home"], "home")
    home_key = _b64(data["home_key"], "home_key", 32)
    if keyid(home_key) != home:
        _fail("home is not the keyid of home_key")
    counts = _rows(data["agencies"])
    sig = _b64(data["sig"], "sig", 64)
    if not verify(home_key, sig, DOMAIN + canon(_unsigned(period, home, home_key, counts))):
        _fail("the home's signature does not verify")
    return HomeDigest(period, home, home_key, counts, sig)


@dataclass(frozen=True, slots=True)
class AgencyTotals:
    """One agency's summed counts over a neighborhood and how many homes they come from."""

    counts: AgencyCounts
    homes_in_area: int  # homes with in_area >= 1 for this agency
    homes_sharing: int  # homes with clips_shared >= 1 for this agency

    def to_json(self) -> dict[str, JSON]:
        """The counts and home numbers as wire fields (no agency keyid: the caller adds it)."""
        return {
            **self.counts.to_json(),
            "homes_in_area": self.homes_in_area,
            "homes_sharing": self.homes_sharing,
        }


@dataclass(frozen=True, slots=True)
class NeighborhoodDigest:
    """Verified digests of one week summed per agency; carries no home keyid.

    pinned says whether every digest was checked against keys the caller pinned; without
    that, anyone can mint homes, so `for_agency` refuses an unpinned aggregate.
    """

    period: str
    homes: int
    agencies: Mapping[str, AgencyTotals]  # agency keyid -> totals, sorted by keyid
    pinned: bool

    def to_json(self) -> dict[str, JSON]:
        """The wire form neighbors compare (`verify_aggregate`); not for agencies."""
        return {
            "v": VERSION,
            "kind": AGGREGATE_KIND,
            "period": self.period,
            "homes": self.homes,
            "agencies": [
                {"agency": agency, **totals.to_json()} for agency, totals in self.agencies.items()
            ],
        }


def aggregate(
    digests: Iterable[JSON], *, keys: Mapping[str, bytes] | None, period: str
) -> NeighborhoodDigest:
    """Verify each digest and sum them per agency for one week; raise DigestError on any fault.

    Every digest must verify, be for period and, when keys is given, be signed by the key
    pinned there for its home (keyid -> raw public key); one unknown or wrong key fails the
    whole aggregate rather than being skipped, so an aggregate never silently covers fewer
    homes than were handed in. A digest received twice (say from two neighbors) counts once;
    two different digests of one home for one week are refused: there is no signed order to
    pick the latest by, and picking by arrival would let two neighbors recompute different
    totals from the same digests.
    """
    period = check_period(period)
    by_home: dict[str, HomeDigest] = {}
    for obj in digests:
        digest = verify_digest(obj)
        if digest.period != period:
            _fail(f"a digest is for {digest.period}, not {period}")
        if keys is not None and keys.get(digest.home) != digest.home_key:
            _fail("a digest is signed by a key that is not pinned")
        seen = by_home.setdefault(digest.home, digest)
        if seen.sig != digest.sig:
            _fail("one home signed two different digests for this period")
    totals: dict[str, AgencyTotals] = {}
    for digest in by_home.values():
        for agency, row in digest.counts.items():
            before = totals.get(agency, AgencyTotals(AgencyCounts(), 0, 0))
            totals[agency] = AgencyTotals(
                before.counts + row,
                before.homes_in_area + (row.in_area > 0),
                before.homes_sharing + (row.clips_shared > 0),
            )
    return NeighborhoodDigest(
        period, len(by_home), dict(sorted(totals.items())), pinned=keys is not None
    )


def verify_aggregate(
    obj: JSON, digests: Iterable[JSON], *, keys: Mapping[str, bytes] | None
) -> NeighborhoodDigest:
    """Recompute an aggregate from its digests; raise DigestError unless obj is exactly it.

    The comparison is of canonical bytes, so any total, home number, row or field that differs
    from what the digests add up to fails.
    """
    period = check_period(obj.get("period") if isinstance(obj, dict) else None)
    recomputed = aggregate(digests, keys=keys, period=period)
    if canon(obj) != canon(recomputed.to_json()):
        _fail("the aggregate does not match the digests it sums")
    return recomputed


def for_agency(neighborhood: NeighborhoodDigest, k: int = DEFAULT_K) -> dict[str, JSON]:
    """The form of an aggregate an agency may see; raise DigestThresholdError if none may be.

    Refused unless the aggregate was built against pinned keys and covers at least k homes.
    An agency's row is kept only if at least k in-area homes did not share a clip: the agency
    knows the sharing homes from their offers, so only the others hide one another's declines.
    Kept rows carry the summed counts only, no home numbers; "withheld" says how many rows
    were left out. Raises ValueError for k below MIN_K.
    """
    if k < MIN_K:
        msg = f"k must be at least {MIN_K}"
        raise ValueError(msg)
    if not neighborhood.pinned:
        msg = "the aggregate was built without pinned keys"
        raise DigestThresholdError(msg)
    if neighborhood.homes < k:
        msg = f"the aggregate covers {neighborhood.homes} homes, fewer than {k}"
        raise DigestThresholdError(msg)
    rows: list[JSON] = [
        {"agency": agency, **totals.counts.to_json()}
        for agency, totals in neighborhood.agencies.items()
        if totals.homes_in_area - totals.homes_sharing >= k
    ]
    return {
        "v": VERSION,
        "kind": AGENCY_KIND,
        "period": neighborhood.period,
        "homes": neighborhood.homes,
        "agencies": rows,
        "withheld": len(neighborhood.agencies) - len(rows),
    }


# --- strict field checks ---------------------------------------------------------------------
def _unsigned(
    period: str, home: str, home_key: bytes, counts: Mapping[str, AgencyCounts]
) -> dict[str, JSON]:
    return {
        "v": VERSION,
        "kind": KIND,
        "period": period,
        "home": home,
        "home_key": b64u(home_key),
        "agencies": [{"agency": agency, **row.to_json()} for agency, row in counts.items()],
    }


def _rows(value: JSON) -> dict[str, AgencyCounts]:
    if not isinstance(value, list) or len(value) > MAX_AGENCIES:
        _fail(f"agencies must be an array of at most {MAX_AGENCIES} rows")
    counts: dict[str, AgencyCounts] = {}
    for i, item in enumerate(value):
        where = f"agencies[{i}]"
        row = _object(item, frozenset({"agency", *COUNT_FIELDS}), where)
        agency = _keyid(row["agency"], f"{where}.agency")
        # Strictly ascending: one order only, so one set of counts has one signed form.
        if counts and agency <= next(reversed(counts)):
            _fail("agencies must be sorted by keyid without repeats")
        counts[agency] = AgencyCounts.from_json(row, where)
    return counts


def _fail(detail: str) -> NoReturn:
    # Field paths only, never values: this message may go back to the neighbor that sent it.
    raise DigestError(detail)


def _object(value: JSON, keys: frozenset[str], where: str) -> dict[str, JSON]:
    if not isinstance(value, dict):
        _fail(f"{where} must be an object")
    if set(value) != keys:
        _fail(f"{where} must have exactly the fields {', '.join(sorted(keys))}")
    return value


def _keyid(value: JSON, where: str) -> str:
    if not isinstance(value, str) or not KEYID_RE.fullmatch(value):
        _fail(f"{where} must be a keyid")
    return value


def _b64(value: JSON, where: str, size: int) -> bytes:
    if isinstance(value, str):
        try:
            return b64u_decode(value, size)
        except ValueError:
            pass
    _fail(f"{where} must be {size} bytes in base64url")


def _int(value: JSON, where: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_INT:
        _fail(f"{where} must be an integer from 0 to {MAX_INT}")
    return value
