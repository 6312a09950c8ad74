"""The evidence: fetch (download, check, file) and verify (offline)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp

from custom_components.porchlight.federation import (
    KEYID_RE,
    MANIFEST_FILE,
    README_FILE,
    EvidenceError,
    HttpSender,
    verify_folder,
)
from porchlight_agency.errors import CommandError, UsageError
from porchlight_agency.fetch import INCOMING, Downloader, OfferFetcher, Outcome

from .requests import report_skipped

if TYPE_CHECKING:
    from . import Context


async def cmd_fetch(ctx: Context) -> int:
    """Download, check and file every offer of a request; status 1 unless all is filed."""
    node = ctx.load()
    request = ctx.profile.resolve_request(ctx.args.request)
    offers, damaged = ctx.profile.offers(request)
    skipped = report_skipped(ctx, damaged)
    if not offers and not skipped:
        msg = f"no offer has arrived for request {request} yet ('porchlight-agency inbox')"
        raise CommandError(msg)
    out: Path = ctx.args.out or Path(f"evidence-{request[:16]}")
    async with aiohttp.ClientSession() as session:
        downloader = Downloader(HttpSender(session, ctx.clock), lan=ctx.args.lan, progress=ctx.err)
        fetcher = OfferFetcher(
            downloader,
            request=request,
            agency=node.identity.keyid,
            out=out,
            now=ctx.clock.now(),
            say=ctx.say,
        )
        results = [await fetcher.fetch(offer.envelope) for offer in offers]
    for result in results:
        if result.folder is not None:
            ctx.print(str(result.folder))
    failed = sum(not result.ok for result in results) + skipped
    if failed:
        total = len(results) + skipped
        msg = f"{failed} of {total} offer(s) not completely fetched and verified (see above)"
        if any(Outcome.LAN in result.clips.values() for result in results):
            msg += "; links to private addresses need --lan"
        raise CommandError(msg)
    return 0


def cmd_verify(ctx: Context) -> int:
    """Check evidence folders offline: one line per clip, status 1 if anything is wrong."""
    root: Path = ctx.args.folder
    if not root.is_dir():
        msg = f"{root} is not a folder"
        raise UsageError(msg)
    if ctx.args.home is not None:
        ctx.args.home = _fingerprint(ctx.args.home, "--home")
    strays: list[str] = []
    if os.path.lexists(root / MANIFEST_FILE):
        folders = [root]
    else:
        folders, strays = survey(root)
    if not folders and not strays:
        msg = f"no evidence folder (one holding {MANIFEST_FILE}) in {root}"
        raise CommandError(msg)
    failed = sum(not _verify_one(ctx, folder) for folder in folders)
    for line in strays:
        ctx.print(line)
    problems = []
    if failed:
        problems.append(f"{failed} of {len(folders)} evidence folder(s) failed verification")
    if strays:
        problems.append(f"{len(strays)} item(s) outside any intact evidence folder")
    if problems:
        raise CommandError("; ".join(problems))
    return 0


def _fingerprint(text: str, option: str) -> str:
    """The keyid of a fingerprint as people type it (any case, dashes or spaces)."""
    key_id = text.replace("-", "").replace(" ", "").upper()
    if KEYID_RE.fullmatch(key_id) is None:
        msg = f"{option}: {text!r} is not a fingerprint (8 groups of 4 letters and digits 2-7)"
        raise UsageError(msg)
    return key_id


def survey(root: Path) -> tuple[list[Path], list[str]]:
    """The evidence folders below root, and a line for everything else found there.

    A tree of evidence holds evidence folders and the folders above them, nothing else:
    a file outside an evidence folder (planted, or the clips of a folder whose manifest.json
    went missing) is EXTRA, and downloads fetch has not filed yet are UNFILED. Symbolic
    links are never followed (one to a folder is EXTRA like any other non-folder).
    """
    folders: list[Path] = []
    strays: list[str] = []
    pending = [root]
    while pending:
        directory = pending.pop()
        for entry in sorted(directory.iterdir(), reverse=True):
            if not stat.S_ISDIR(entry.lstat().st_mode):
                strays.append(f"EXTRA     {entry}  (not in an evidence folder)")
            elif entry.name == INCOMING:
                if any(entry.iterdir()):
                    why = "downloads not filed: fetch unfinished, or what it could not file"
                    strays.append(f"UNFILED   {entry}  ({why})")
            elif os.path.lexists(entry / MANIFEST_FILE):
                folders.append(entry)
            else:
                pending.append(entry)
    return sorted(folders), sorted(strays, key=lambda line: line[10:])


def _verify_one(ctx: Context, folder: Path) -> bool:
    try:
        report = verify_folder(folder, expected_home=ctx.args.home)
    except EvidenceError as err:
        ctx.print(f"FAILED    {folder}: {err.detail}")
        return False
    for check in report.clips:
        detail = f" ({check.detail})" if check.detail else ""
        status = check.status.value.upper()
        ctx.print(f"{status:<9} {folder / check.file}  clip {check.clip}{detail}")
    for name in report.extra:
        why = "not a regular file" if name == README_FILE else "not listed in the manifest"
        ctx.print(f"EXTRA     {folder / name}  ({why})")
    ctx.say(f"{folder}: {report.summary()}")
    return report.ok
