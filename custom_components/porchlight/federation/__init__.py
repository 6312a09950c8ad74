"""Porchlight's federation protocol as a pure library.

Nothing in this package imports Home Assistant: the agency CLI, the demo and the benchmarks use
it directly, and the integration only wraps it. What code outside the package may use is
listed in `__all__` and imported from here (`from custom_components.porchlight.federation
import Node`); the submodules are the library's own layout and may change. QR codes of invites
need the optional segno package: without it qr_svg and qr_text raise QRUnavailableError, and
everything else works.
"""

from .api import API_PREFIX, IDENTITY, INBOX, OFFER, PAIR
from .canonical import JSON, Limits, b64u, b64u_decode, canon, loads
from .clock import Clock, ManualClock, SystemClock
from .errors import (
    AreaError,
    DestinationRefusedError,
    EvidenceError,
    InviteGoneError,
    InviteInvalidError,
    InviteMalformedError,
    MalformedJSONError,
    PairingCodeError,
    PeerRefusedError,
    PeerUnreachableError,
    ProtocolError,
)
from .evidence import (
    MANIFEST_FILE,
    README_FILE,
    ClipEvidence,
    FolderReport,
    Manifest,
    sha256_file,
    sign_manifest,
    verify_folder,
    verify_manifest,
    write_evidence_folder,
)
from .geo import (
    Circle,
    Polygon,
    area_from_json,
    area_sq_mi,
    area_to_json,
    circle_from_degrees,
    contains,
    polygon_from_geojson,
)
from .httpsig import authority_of, new_nonce, sign_request
from .identity import (
    Identity,
    IdentityFileError,
    grouped,
    keyid,
    load_or_create,
    replace_key_file,
    verify,
)
from .invites import Invite, QRUnavailableError, qr_svg, qr_text, token_hash
from .json_file import read_json, sync_folder, write_json
from .listener import Listener
from .messages import (
    BROADCAST,
    HEX64_RE,
    KEYID_RE,
    MAX_HOPS,
    NAME,
    REQUEST_LIFETIME,
    URL_RE,
    Envelope,
    open_envelope,
    seal,
    valid_url,
)
from .node import Node, NodeHooks, Settings
from .outbox import Outbox
from .peers import Peer
from .transport import HttpSender, make_app, serve_identity, serve_inbox, serve_pair

__all__ = [
    "API_PREFIX",
    "BROADCAST",
    "HEX64_RE",
    "IDENTITY",
    "INBOX",
    "JSON",
    "KEYID_RE",
    "MANIFEST_FILE",
    "MAX_HOPS",
    "NAME",
    "OFFER",
    "PAIR",
    "README_FILE",
    "REQUEST_LIFETIME",
    "URL_RE",
    "AreaError",
    "Circle",
    "ClipEvidence",
    "Clock",
    "DestinationRefusedError",
    "Envelope",
    "EvidenceError",
    "FolderReport",
    "HttpSender",
    "Identity",
    "IdentityFileError",
    "Invite",
    "InviteGoneError",
    "InviteInvalidError",
    "InviteMalformedError",
    "Limits",
    "Listener",
    "MalformedJSONError",
    "Manifest",
    "ManualClock",
    "Node",
    "NodeHooks",
    "Outbox",
    "PairingCodeError",
    "Peer",
    "PeerRefusedError",
    "PeerUnreachableError",
    "Polygon",
    "ProtocolError",
    "QRUnavailableError",
    "Settings",
    "SystemClock",
    "area_from_json",
    "area_sq_mi",
    "area_to_json",
    "authority_of",
    "b64u",
    "b64u_decode",
    "canon",
    "circle_from_degrees",
    "contains",
    "grouped",
    "keyid",
    "load_or_create",
    "loads",
    "make_app",
    "new_nonce",
    "open_envelope",
    "polygon_from_geojson",
    "qr_svg",
    "qr_text",
    "read_json",
    "replace_key_file",
    "seal",
    "serve_identity",
    "serve_inbox",
    "serve_pair",
    "sha256_file",
    "sign_manifest",
    "sign_request",
    "sync_folder",
    "token_hash",
    "valid_url",
    "verify",
    "verify_folder",
    "verify_manifest",
    "write_evidence_folder",
    "write_json",
]
