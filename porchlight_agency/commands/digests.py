"""`porchlight-agency digest`: the transparency digests homes sent this agency."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from custom_components.porchlight.federation import DigestError, check_period
from porchlight_agency import digests
from porchlight_agency.errors import CommandError, UsageError
from porchlight_agency.text import shown

if TYPE_CHECKING:
    from custom_components.porchlight.federation import JSON, AgencyView

    from . import Context


def cmd_digest(ctx: Context) -> int:
    """Print the kept views (of one week, or all), each verified again; 1 if there is none."""
    period = _period(ctx.args.period)
    node = ctx.load()
    views, damaged = digests.load(ctx.profile, node.identity.keyid)
    for err in damaged:
        ctx.say(f"skipped: {err}")
    views = [v for v in views if period is None or v.view.period == period]
    if not views:
        which = f" for {period}" if period else ""
        msg = (
            f"no home has sent this agency a transparency digest{which} (homes send one a week, "
            "once their neighborhood has enough homes; 'porchlight-agency inbox' receives them)"
        )
        raise CommandError(msg)
    rows: list[JSON] = []
    for item in views:
        peer = node.peers.get(item.envelope.sender)
        name = peer.name if peer is not None else ""
        counts = item.view.counts
        rows.append(
            {
                "period": item.view.period,
                "home": item.envelope.sender,
                "home_name": name,
                "homes": item.view.homes,
                "counts": counts.to_json() if counts is not None else None,
                "withheld": item.view.withheld,
            }
        )
        if ctx.args.json:
            continue
        what = _what(item.view)
        fingerprint = peer.fingerprint if peer is not None else item.envelope.sender
        ctx.print(
            f"{item.view.period}  from {fingerprint} {shown(name)}  {item.view.homes} homes: {what}"
        )
    if ctx.args.json:
        ctx.print(json.dumps(rows, indent=2))
    if damaged:
        msg = f"{len(damaged)} stored view(s) could not be used (see above)"
        raise CommandError(msg)
    return 0


def _period(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return check_period(text)
    except DigestError as err:
        msg = f"--period: {err}"
        raise UsageError(msg) from None


def _what(view: AgencyView) -> str:
    if view.counts is not None:
        return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in view.counts.to_json().items())
    if view.withheld:
        return "this agency's row withheld (too few homes in the area that did not share)"
    return "no request of this agency"
