"""Publisher dates, parsed leniently and always returned as aware UTC.

A date we cannot read is ``None``, never "now": inventing a date would make an
old release look new. The store sorts by first-seen time when the publisher's
date is missing or in the future.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_MONTH_NAMES = [
    # English, French, Spanish, German, Russian (genitive, as in dates)
    ("january jan janvier enero januar января"),
    ("february feb février fevrier febrero februar февраля"),
    ("march mar mars marzo märz maerz марта"),
    ("april apr avril abril апреля"),
    ("may mai mayo мая"),
    ("june jun juin junio juni июня"),
    ("july jul juillet julio juli июля"),
    ("august aug août aout agosto августа"),
    ("september sep sept septembre septiembre setiembre сентября"),
    ("october oct octobre octubre oktober октября"),
    ("november nov novembre noviembre ноября"),
    ("december dec décembre decembre diciembre dezember декабря"),
]
MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names.split()}

_MONTH = r"(?P<month>[^\W\d_]{3,10})\.?"
_DMY = re.compile(
    rf"(?P<day>\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+(?:de\s+)?{_MONTH},?\s+(?:de\s+)?(?P<year>\d{{4}})"
)
_MDY = re.compile(rf"{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})")
_ISO = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})")


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


def _build(year: str, month: str, day: str) -> datetime | None:
    number = int(month) if month.isdigit() else MONTHS.get(month.lower())
    if number is None:
        return None
    try:
        return datetime(int(year), number, int(day), tzinfo=UTC)
    except ValueError:
        return None


def match_date(text: str, *, anchored: bool = False) -> tuple[datetime, int] | None:
    """The first calendar date in ``text`` and where it ends (at its start when ``anchored``)."""
    for pattern in (_DMY, _MDY, _ISO):
        match = pattern.match(text) if anchored else pattern.search(text)
        if match:
            found = _build(match["year"], match["month"], match["day"])
            if found is not None:
                return found, match.end()
    return None


def find_date(text: str, *, anchored: bool = False) -> datetime | None:
    """The first calendar date in ``text`` (at its start when ``anchored``)."""
    found = match_date(text, anchored=anchored)
    return found[0] if found else None
