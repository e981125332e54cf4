"""Sliding-window rate limits for the public forms, in memory.

Each ``syndicator serve`` process counts on its own and forgets on restart: good
enough to stop one client from hammering the sign-up form or flooding one mailbox,
and documented as such (docs/subscribers.md). The number of keys is bounded, so a
flood of distinct client addresses costs a bounded amount of memory: past
:data:`MAX_KEYS`, the keys seen least recently are dropped (their clients get a
fresh allowance, which errs on the side of letting readers in).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timedelta

MAX_KEYS = 10_000


class RateLimit:
    """At most ``limit`` events per key in any ``window``."""

    def __init__(self, limit: int, window: timedelta, max_keys: int = MAX_KEYS) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._events: OrderedDict[str, deque[datetime]] = OrderedDict()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def full(self, key: str, now: datetime) -> bool:
        """Would one more event for ``key`` at ``now`` go over the limit?"""
        return len(self._recent(key, now)) >= self.limit

    def note(self, key: str, now: datetime) -> None:
        """Count one event for ``key`` at ``now``."""
        events = self._recent(key, now)
        events.append(now)
        self._events[key] = events
        self._events.move_to_end(key)
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)

    def take(self, key: str, now: datetime) -> bool:
        """Count one event unless the limit is reached; whether it was counted."""
        if self.full(key, now):
            return False
        self.note(key, now)
        return True
