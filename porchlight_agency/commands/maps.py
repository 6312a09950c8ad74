"""The camera map: the merged map of the homes' camera_map messages the inbox kept."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from porchlight_agency.errors import CommandError
from porchlight_agency.maps import load_maps, merged
from porchlight_agency.profile import write_private

from .requests import report_skipped

if TYPE_CHECKING:
    from pathlib import Path

    from . import Context


def cmd_map(ctx: Context) -> int:
    """Print (or write to --out) the merged GeoJSON map; status 1 if none has arrived."""
    ctx.load()
    maps, damaged = load_maps(ctx.profile)
    skipped = report_skipped(ctx, damaged)
    if not maps:
        msg = "no camera map has arrived from a home yet ('porchlight-agency inbox')"
        raise CommandError(msg)
    text = json.dumps(merged(maps), indent=1, sort_keys=True) + "\n"
    out: Path | None = ctx.args.out
    if out is None:
        ctx.out.write(text)
        ctx.out.flush()
    else:
        try:
            write_private(out, text.encode(), parents=False)
        except OSError as err:
            msg = f"cannot write {out}: {err.strerror or err}"
            raise CommandError(msg) from None
        ctx.print(str(out))
    ctx.say(f"camera map of {len(maps)} home(s)")
    if skipped:
        msg = f"{skipped} stored map(s) could not be used (see above)"
        raise CommandError(msg)
    return 0
