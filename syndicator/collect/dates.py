"""Publisher dates, parsed leniently and always returned as aware UTC.

A date we cannot read is ``None``, never "now": inventing a date would make an
old release look new. The store sorts by first-seen time when the publisher's
date is missing or in the future. Month names and the patterns of dates written
in text are shared with the teasers, in :mod:`syndicator.written_dates`.
"""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from syndicator.written_dates import find_date


def from_struct(value: time.struct_time | None) -> datetime | None:
    """feedparser's ``*_parsed`` tuples are UTC; make them aware datetimes."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones converted; to the second (as feedparser)."""
    value = value.replace(microsecond=0)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_date(text: str | None) -> datetime | None:
    """ISO 8601 / RFC 3339, RFC 2822, or "16 November 2018" / "November 16, 2018"."""
    if not text:
        return None
    text = text.strip()
    if not text:
        return None
    # OverflowError: a year-1 or year-9999 date whose offset moves it out of range in UTC.
    try:
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        pass
    try:
        return as_utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    return find_date(text, anchored=True)
