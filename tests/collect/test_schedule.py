"""The decider, without network or clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicator.collect import schedule
from syndicator.config import CollectSettings, FeedSource, FolderSource
from syndicator.models import SourceState

NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)
FEED = FeedSource(id="f", url="https://example.org/feed")
SETTINGS = CollectSettings(interval_minutes=60, jitter=0.1, max_interval_minutes=600)


def state(**kw: object) -> SourceState:
    return SourceState(source_id="f", url="https://example.org/feed", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("st", "due"),
    [
        (None, True),
        (state(), True),
        (state(next_fetch_at=NOW), True),
        (state(next_fetch_at=NOW + timedelta(seconds=1)), False),
        (state(error_class="gone", next_fetch_at=None), False),
        (state(next_fetch_at=NOW + timedelta(days=1)).__class__(
            source_id="f", url="https://moved.example/feed", next_fetch_at=NOW + timedelta(1)), True),
    ],
    ids=["new", "never-scheduled", "due-now", "later", "gone", "url-changed"],
)  # fmt: skip
def test_is_due(st: SourceState | None, due: bool) -> None:
    assert schedule.is_due(FEED, st, NOW) is due


def test_force_fetches_even_gone() -> None:
    assert schedule.is_due(FEED, state(error_class="gone"), NOW, force=True)


def test_folder_location_is_its_path(tmp_path: Path) -> None:
    folder = FolderSource(id="d", path=tmp_path)
    assert schedule.source_location(folder) == str(tmp_path)


def test_fetch_url_prefers_permanent_redirect_until_config_changes() -> None:
    moved = state(permanent_url="https://new.example/feed")
    assert schedule.fetch_url(FEED, moved) == "https://new.example/feed"
    other = FeedSource(id="f", url="https://elsewhere.example/rss")
    assert schedule.fetch_url(other, moved) == "https://elsewhere.example/rss"


def test_success_interval_has_bounded_jitter() -> None:
    rng = random.Random(3)
    delays = {
        schedule.next_after_success(NOW, timedelta(hours=1), SETTINGS, rng) - NOW for _ in range(50)
    }
    assert len(delays) > 40
    assert all(timedelta(hours=1) <= d <= timedelta(minutes=66) for d in delays)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Cache-Control": "max-age=7200"}, timedelta(hours=2)),
        ({"cache-control": "public, s-maxage=600, max-age=60"}, timedelta(seconds=60)),
        ({"Expires": "Thu, 15 Jan 2026 14:00:00 GMT"}, timedelta(hours=2)),
        ({"Expires": "0"}, None),
        ({"Expires": "Thu, 15 Jan 2026 10:00:00 GMT"}, timedelta(0)),
        ({}, None),
    ],
)
def test_cache_lifetime(headers: dict[str, str], expected: timedelta | None) -> None:
    assert schedule.cache_lifetime(headers, NOW) == expected


def test_freshness_stretches_but_is_capped() -> None:
    rng = random.Random(0)
    long = schedule.next_after_success(NOW, timedelta(hours=1), SETTINGS, rng, timedelta(days=9))
    assert long == NOW + timedelta(minutes=600)
    short = schedule.next_after_success(
        NOW, timedelta(hours=1), SETTINGS, rng, timedelta(seconds=5)
    )
    assert short >= NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", timedelta(minutes=2)), ("Thu, 15 Jan 2026 13:00:00 GMT", timedelta(hours=1)),
     ("soon", None), ("", None)],
)  # fmt: skip
def test_retry_after(value: str, expected: timedelta | None) -> None:
    assert schedule.retry_after({"Retry-After": value}, NOW) == expected


def test_backoff_doubles_with_jitter_and_caps() -> None:
    rng = random.Random(1)
    delays = [
        schedule.next_after_failure(NOW, timedelta(hours=1), SETTINGS, rng, n) - NOW
        for n in range(8)
    ]
    for n, delay in enumerate(delays[:3]):
        assert timedelta(hours=2**n) <= delay <= timedelta(hours=2**n) * 1.1
    assert delays[-1] == timedelta(minutes=600)
    wait = schedule.next_after_failure(
        NOW, timedelta(hours=1), SETTINGS, rng, 0, timedelta(hours=5)
    )
    assert wait == NOW + timedelta(hours=5)


@pytest.mark.parametrize("failures", [30, 31, 1000])
def test_backoff_of_a_long_dead_daily_source_stays_at_the_cap(failures: int) -> None:
    """A daily source doubled 30 times would overflow timedelta (and fail the cycle)."""
    settings = CollectSettings(interval_minutes=60, max_interval_minutes=7 * 24 * 60)
    at = schedule.next_after_failure(
        NOW, timedelta(days=1), settings, random.Random(0), failures, timedelta(days=3650)
    )
    assert at == NOW + timedelta(days=7)
