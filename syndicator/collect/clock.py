"""The cycle's clock: the injected "now", moved on by the time that has really passed.

Tests inject ``now`` so that every schedule decision is reproducible. But a
cycle takes time: under load a slow server answers a minute after the cycle
began, and its ``Retry-After: 120`` means two minutes after that answer, not
after the cycle's start. So the moment an answer arrived is ``now`` plus the
monotonic time elapsed since the cycle began: anchored to the injected
``now`` (never mixed with the wall clock), and immune to clock jumps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""Returns the current moment, aware UTC."""


class ElapsedClock:
    """``start`` plus the monotonic time elapsed since this clock was made."""

    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError("the start of a clock must be an aware UTC datetime")
        self.start = start
        self._monotonic = monotonic
        self._origin = monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=self._monotonic() - self._origin)


def wall_clock() -> ElapsedClock:
    """A clock that starts at the real current time (operator commands such as discovery)."""
    return ElapsedClock(datetime.now(UTC))
