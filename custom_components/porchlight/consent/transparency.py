"""This home's transparency digest: what each agency asked of it in one week, counts only.

The digest format, its signature and the neighborhood aggregate are the federation's
(federation/digest.py); this module only counts what the consent store holds. A request
counts in the ISO week (UTC) it arrived in, whatever happened to it later, so each request is
in exactly one week's digest:

- requests_received: every request that reached the home, rejected ones included (an
  untrusted agency asking is part of the record);
- in_area: those the home found itself inside (judging checks the area before any rule, so
  auto-declined ones are in the area);
- clips_shared: the clips the owner approved for them;
- declined, auto_declined, expired: in-area requests that ended so without any clip shared
  (a request with a shared clip counts as none of these, as the digest rules require).

Nothing here leaves home by itself: a digest is signed for the owner (diagnostics) and, once
neighbors exchange them, only travels between paired homes (docs/threat-model.md).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from custom_components.porchlight.federation.digest import AgencyCounts, period_of, sign_digest

from .records import RequestState

if TYPE_CHECKING:
    from collections.abc import Iterable

    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.federation.identity import Identity

    from .records import FootageRequest

_OUTSIDE = frozenset({RequestState.REJECTED, RequestState.NOT_IN_AREA})
_CLOSED_UNSHARED = {
    RequestState.DECLINED: "declined",
    RequestState.AUTO_DECLINED: "auto_declined",
    RequestState.EXPIRED: "expired",
}


def weekly_counts(requests: Iterable[FootageRequest], period: str) -> dict[str, AgencyCounts]:
    """Per agency keyid, the counts of the requests that arrived in period."""
    tallies: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for request in requests:
        if period_of(request.received_at) != period:
            continue
        tally = tallies[request.agency]
        tally["requests_received"] += 1
        if request.state in _OUTSIDE:
            continue
        tally["in_area"] += 1
        tally["clips_shared"] += len(request.consents)
        closed = _CLOSED_UNSHARED.get(request.state)
        if closed is not None and not request.consents:
            tally[closed] += 1
    return {agency: AgencyCounts(**tally) for agency, tally in sorted(tallies.items())}


def home_digest(
    identity: Identity, requests: Iterable[FootageRequest], now: int
) -> dict[str, JSON]:
    """This week's digest of the home, signed with its key."""
    period = period_of(now)
    return sign_digest(identity, period, weekly_counts(requests, period))
