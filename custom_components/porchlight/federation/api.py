"""The node's HTTP API, transport-neutral: its paths, and a request and its answer.

The standalone aiohttp server (transport.py), the dedicated listener (listener.py) and Home
Assistant's views all turn what arrives into an Incoming, and the Reply the node returns into
a response, so every transport runs the node's one verification path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .canonical import JSON
    from .httpsig import Headers

API_PREFIX: Final = "/api/porchlight/v1"
INBOX: Final = "/inbox"
PAIR: Final = "/pair"
OFFER: Final = "/offer"
IDENTITY: Final = "/identity"
# Seconds a request may take to arrive in full, on HA's port and the federation port alike.
REQUEST_TIMEOUT: Final = 10.0


@dataclass(frozen=True, slots=True)
class Incoming:
    """The parts of an HTTP request the node looks at (query without its '?')."""

    method: str
    authority: str
    path: str
    query: str
    headers: Headers
    content_length: int | None
    remote: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer."""

    status: int
    payload: dict[str, JSON]


# The request body, refused (413, 408) past the given number of bytes or the deadline.
type ReadBody = Callable[[int], Awaitable[bytes]]
