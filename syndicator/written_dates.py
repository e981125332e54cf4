"""Calendar dates as press releases write them, in several languages.

Collection reads publication dates from text with these patterns, and the
teasers shown to readers use them to recognise a dateline ("24 February 2026",
"8 de octubre de 2025 – Lima") that says nothing a reader does not see already.
Both stages share this module so they agree on what a written date is.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

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

# Datelines may leave out the year ("VIENNA, 3 March (UNODC) –") and Russian ones add
# "года" after it; only the shape is matched here, :func:`is_month` checks the name.
_YEAR = r"(?:,?\s+(?:de\s+)?\d{4}(?:\s*(?:года|г\.))?)?"
DATELINE_DATE = (
    r"(?:\d{1,2}(?:st|nd|rd|th|er|\.)?\s+(?:de\s+)?(?P<dm>[^\W\d_]{3,10})\.?" + _YEAR
    + r"|(?P<md>[^\W\d_]{3,10})\.?\s+\d{1,2}(?:st|nd|rd|th)?" + _YEAR
    + r"|\d{4}-\d{2}-\d{2})"
)  # fmt: skip
"""A written date at the head of a dateline; the month name is in group ``dm`` or ``md``."""


def is_month(name: str | None) -> bool:
    """True for a month name (or abbreviation) of one of the languages above."""
    return name is not None and name.lower() in MONTHS


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
