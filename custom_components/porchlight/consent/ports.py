"""What the consent desk needs from outside it: whom to tell, how to send, where to block.

The desk decides; these carry its decisions out. Home Assistant's side (consent_glue.py)
implements them with notifications, events, entities, repair issues, its executor and its
tasks; tests without Home Assistant implement them with a few lines each. No Home Assistant
imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    from .records import FootageRequest, Share, ShareState


class Owner(Protocol):
    """How the desk tells the owner what waits for them, and what changed."""

    def announce(self, request: FootageRequest) -> None:
        """A request waits for the owner's decision (called only for pending requests)."""

    def withdraw(self, request_id: str) -> None:
        """Nothing of the request is left to decide: its announcement can go."""

    def changed(self) -> None:
        """Requests or shares changed (counts, states)."""

    def decided(self, request: FootageRequest) -> None:
        """The request was decided (clips approved, declined) or expired unanswered.

        Whatever was said about it as pending (a phone's notification) can go.
        """

    def share_changed(self, share: Share, what: ShareState, request: FootageRequest | None) -> None:
        """A share was downloaded (each complete download), expired unused or revoked.

        request: the share's request as stored, None only if the store lost it.
        """

    def offer_failed(self, request_id: str, agency: str, error: str) -> None:
        """An offer to agency (its name, else its key) was given up; the owner may retry it."""

    def offers_settled(self, still_failed: Callable[[str], bool]) -> None:
        """Offers were delivered or expired: drop what was said about failed offers.

        still_failed tells for a request id whether an offer of it still waits for a retry.
        """


class Outgoing(Protocol):
    """The home's federation as the desk uses it, beyond its node."""

    def share_endpoint(self, agency: str) -> str:
        """The base URL of the capability links for agency."""
        ...

    async def async_deliver(self) -> int:
        """Try the outbox now."""
        ...


class RunBlocking(Protocol):
    """Runs a blocking call (store, log, clip index) away from the event loop."""

    def __call__[*Ts, T](self, target: Callable[[*Ts], T], /, *args: *Ts) -> Awaitable[T]:
        """Run target(*args) and return its result."""
        ...


class StartTask(Protocol):
    """Starts a coroutine as a task of its own, under name."""

    def __call__(self, target: Coroutine[Any, Any, None], name: str, /) -> object:
        """Start target; the caller does not wait for it."""
        ...
