"""The decider: when is a source due, and when should it be fetched next.

Pure functions of (configured source, stored state, response hints, now, a
random generator): no network, no database, no clock, so every scheduling rule
is a unit test. The rules:

* a source without state, or whose configured URL changed, is due now;
* a source whose last fetch said 410 Gone is never fetched again (until its
  URL changes or ``force`` is given);
* after a success the next fetch is one interval later plus up to ``jitter``
  of it, stretched (never shortened) by Cache-Control max-age or Expires, and
  capped at ``max_interval_minutes``;
* after a failure, the interval doubles per consecutive failure, with jitter,
  up to the cap; a Retry-After stretches it within the same cap.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from syndicator.config import CollectSettings, FeedSource, PageSource, SourceSettings
from syndicator.models import SourceState

AnySource = SourceSettings
"""A configured source of any registered kind (:mod:`syndicator.collect.kinds`)."""


def source_location(source: AnySource) -> str | None:
    """The configured URL or folder path, as the store keeps it in ``SourceState.url``."""
    return source.location


def fetch_url(source: FeedSource | PageSource, state: SourceState | None) -> str:
    """Where to fetch: the permanent redirect target we learned, unless the config changed."""
    configured = str(source.url)
    if state is not None and state.permanent_url and state.url in (None, configured):
        return state.permanent_url
    return configured


def is_due(
    source: AnySource, state: SourceState | None, now: datetime, force: bool = False
) -> bool:
    if force or state is None:
        return True
    location = source_location(source)
    if state.url is not None and location is not None and state.url != location:
        return True  # the operator pointed the source elsewhere: forget the old schedule
    if state.next_fetch_at is None:
        # Gone (410) is the one permanent stop; any other missing time means "never scheduled".
        return state.error_class != "gone"
    return now >= state.next_fetch_at


def interval(source: AnySource, settings: CollectSettings) -> timedelta:
    return timedelta(minutes=source.interval_minutes or settings.interval_minutes)


def _cap(settings: CollectSettings) -> timedelta:
    return timedelta(minutes=settings.max_interval_minutes)


def _jittered(delay: timedelta, settings: CollectSettings, rng: random.Random) -> timedelta:
    return delay * (1 + rng.uniform(0, settings.jitter))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else None


def cache_lifetime(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """How long the server says the response stays fresh (max-age, else Expires)."""
    control = _header(headers, "cache-control")
    if control:
        match = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d{1,10})", control, re.I)
        if match:
            return timedelta(seconds=int(match.group(1)))
    expires = _header(headers, "expires")
    if expires:
        when = _http_date(expires)
        if when is not None:
            return max(when - now, timedelta(0))
    return None


def retry_after(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """Retry-After as seconds or as an HTTP date."""
    value = _header(headers, "retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value[:10]))
    when = _http_date(value)
    return max(when - now, timedelta(0)) if when is not None else None


def next_after_success(
    now: datetime,
    every: timedelta,
    settings: CollectSettings,
    rng: random.Random,
    freshness: timedelta | None = None,
) -> datetime:
    delay = _jittered(every, settings, rng)
    if freshness is not None and freshness > delay:
        delay = freshness
    return now + min(delay, _cap(settings))


def next_after_failure(
    now: datetime,
    every: timedelta,
    settings: CollectSettings,
    rng: random.Random,
    previous_failures: int,
    wait: timedelta | None = None,
) -> datetime:
    """Backoff: ``every × 2^previous_failures``, jittered, capped; a longer Retry-After wins."""
    cap = _cap(settings)
    backoff = every
    for _ in range(max(previous_failures, 0)):
        if backoff >= cap:
            break  # doubling on would only overflow timedelta (a daily source, 30 failures)
        backoff *= 2
    delay = min(_jittered(backoff, settings, rng), cap)
    if wait is not None and wait > delay:
        delay = min(wait, cap)
    return now + delay
