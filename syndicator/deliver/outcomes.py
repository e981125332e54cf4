"""What becomes of a message after an attempt: the ledger's states, decided in one place.

Pure (no I/O, no clock), so the rules can be read and tested on their own; the
deliver run asks these functions and tells the store what they answer::

    pending ──attempt──▶ sending ──accepted──────────────────────────────▶ sent
                           ├── 4xx, lost before the end of the data, server
                           │   unavailable (nothing can have arrived) ──▶ pending
                           ├── 5xx to RCPT TO (a bounce) or to DATA ─────▶ failed
                           └── no answer after the final dot ────────────▶ unknown
    unknown ──attempt──▶ resending ──accepted────────────────────────────▶ sent
                           ├── nothing can have arrived ─────────────────▶ unknown
                           └── anything else ────────────────────────────▶ failed

A run that finds a message still ``sending`` (``resending``) knows the run that
sent it stopped before recording the outcome: ``unknown`` (``failed``). So a
message whose outcome is unknown is handed over at most once more, ever, and no
message reaches a reader more than twice. Every state but ``sent`` and
``failed`` also ends: a message not accepted within ``delivery.give_up_after_hours``
fails.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from syndicator.errors import DeliveryOutcome
from syndicator.store.protocol import DispatchState

Attempt = Literal["sending", "resending"]
Unsettled = Literal["pending", "unknown", "failed"]


def attempt_state(state: DispatchState) -> Attempt:
    """The state a message is in while it is handed over: ``resending`` when its
    earlier outcome is unknown (this is then its one more chance)."""
    return "resending" if state in ("unknown", "resending") else "sending"


def after_failure(attempt: Attempt, outcome: DeliveryOutcome) -> Unsettled:
    """The state after an attempt that did not end in "accepted"."""
    if outcome in ("refused", "rejected"):
        return "failed"
    if outcome == "unknown":
        return "failed" if attempt == "resending" else "unknown"
    # temporary or unavailable: the server did not get the whole message, nothing arrived
    return "unknown" if attempt == "resending" else "pending"


def interrupted(state: DispatchState) -> Literal["unknown", "failed"] | None:
    """What a message left in flight by a stopped run becomes; None if it was not in flight."""
    if state == "sending":
        return "unknown"
    if state == "resending":
        return "failed"
    return None


def expired(created_at: datetime, now: datetime, give_up_after: timedelta) -> bool:
    """Whether a message still not accepted is too old to try again."""
    return now - created_at >= give_up_after


def stopped_by_bounces(bounces: int, max_bounces: int) -> bool:
    """Whether mail to an address stops: its last ``max_bounces`` messages were refused."""
    return bounces >= max_bounces
