"""The body of a footage offer: links for approved clips and the signed evidence manifest.

Built from consent records only: nothing else a home knows (its location above all) is an
input here, and the property tests check that this stays so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from custom_components.porchlight.federation.evidence import ClipEvidence, sign_manifest

if TYPE_CHECKING:
    from collections.abc import Sequence

    from custom_components.porchlight.federation.canonical import JSON
    from custom_components.porchlight.federation.identity import Identity

    from .records import ConsentRecord, FootageRequest


def clip_evidence(consent: ConsentRecord) -> ClipEvidence:
    """The manifest entry for one approved clip."""
    return ClipEvidence(
        clip=consent.clip,
        file=f"{consent.clip}.mp4",
        camera=consent.camera,
        start=consent.start,
        end=consent.end,
        sha256=consent.sha256,
        size=consent.size,
        type="video/mp4",
        consent={
            "approved_at": consent.approved_at,
            "by": consent.by,
            "record": consent.record_hash,
        },
    )


def offer_body(  # noqa: PLR0913  # every part of an offer is its own input
    identity: Identity,
    *,
    request: FootageRequest,
    consents: Sequence[ConsentRecord],
    links: Sequence[tuple[str, str, int]],
    audit_head: tuple[int, str],
    now: int,
) -> dict[str, JSON]:
    """The `footage_offer` body: links (clip, url, expires) and the manifest signed by identity."""
    manifest = sign_manifest(
        identity,
        agency=request.agency,
        request=request.id,
        case=request.case,
        created=now,
        audit=audit_head,
        clips=[clip_evidence(c) for c in consents],
    )
    return {
        "request": request.id,
        "manifest": manifest.to_json(),
        "links": [{"clip": clip, "url": url, "expires": expires} for clip, url, expires in links],
    }
