"""The digest decider: pure, with injected instants, across zones and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from syndicator.deliver.due import DigestSchedule, digest_due, next_digest_at

VIENNA = "Europe/Vienna"
SUBSCRIBED = datetime(2026, 1, 1, tzinfo=UTC)


def daily(zone: str = "UTC", at: time = time(7, 0)) -> DigestSchedule:
    return DigestSchedule("daily", at, "monday", zone)


def weekly(day: str = "monday", zone: str = "UTC", at: time = time(7, 0)) -> DigestSchedule:
    return DigestSchedule("weekly", at, day, zone)


def local(zone: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold)  # type: ignore[arg-type,misc]


def test_never_digested_is_due_at_once() -> None:
    """The first digest goes out on the first run, whatever the hour."""
    now = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    assert next_digest_at(daily(), SUBSCRIBED, None) == SUBSCRIBED
    assert digest_due(daily(), SUBSCRIBED, None, now)
    assert digest_due(weekly("friday"), SUBSCRIBED, None, now)


def test_daily_is_due_once_per_day_after_the_local_time() -> None:
    last = local(VIENNA, 2026, 3, 3, 7, 10)  # yesterday's digest
    schedule = daily(VIENNA)
    assert next_digest_at(schedule, SUBSCRIBED, last) == local(VIENNA, 2026, 3, 4, 7, 0)
    assert not digest_due(schedule, SUBSCRIBED, last, local(VIENNA, 2026, 3, 4, 6, 59))
    assert digest_due(schedule, SUBSCRIBED, last, local(VIENNA, 2026, 3, 4, 7, 0))
    assert digest_due(schedule, SUBSCRIBED, last, local(VIENNA, 2026, 3, 4, 23, 0))
    sent_today = local(VIENNA, 2026, 3, 4, 7, 15)
    assert not digest_due(schedule, SUBSCRIBED, sent_today, local(VIENNA, 2026, 3, 4, 23, 59))
    assert digest_due(schedule, SUBSCRIBED, sent_today, local(VIENNA, 2026, 3, 5, 7, 0))


def test_a_digest_sent_before_the_slot_leaves_that_days_slot_due() -> None:
    """The first-run digest at 03:00 does not swallow the 07:00 digest of the same day."""
    first = local(VIENNA, 2026, 3, 4, 3, 0)
    assert next_digest_at(daily(VIENNA), SUBSCRIBED, first) == local(VIENNA, 2026, 3, 4, 7, 0)


def test_missed_days_make_one_digest_not_several() -> None:
    last = local(VIENNA, 2026, 3, 1, 7, 0)
    now = local(VIENNA, 2026, 3, 5, 9, 0)
    assert digest_due(daily(VIENNA), SUBSCRIBED, last, now)
    # After it is sent at 09:00 the next one is tomorrow, not one per missed day.
    assert next_digest_at(daily(VIENNA), SUBSCRIBED, now) == local(VIENNA, 2026, 3, 6, 7, 0)


@pytest.mark.parametrize(
    ("zone", "expected_utc_hour"),
    [("UTC", 7), ("Europe/Vienna", 6), ("America/New_York", 12), ("Asia/Tokyo", 22)],
)
def test_the_slot_is_local_time_of_the_subscriber(zone: str, expected_utc_hour: int) -> None:
    last = datetime(2026, 1, 11, 0, 0, tzinfo=UTC)  # in Tokyo already 09:00, past the slot
    slot = next_digest_at(daily(zone), SUBSCRIBED, last)
    assert slot.tzinfo is not None
    assert slot.astimezone(UTC).hour == expected_utc_hour
    assert slot.astimezone(ZoneInfo(zone)).time() == time(7, 0)


def test_same_instant_is_due_for_one_zone_and_not_another() -> None:
    now = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)  # 10:00 in Vienna, 04:00 in New York
    last = datetime(2026, 6, 9, 20, 0, tzinfo=UTC)
    assert digest_due(daily(VIENNA), SUBSCRIBED, last, now)
    assert not digest_due(daily("America/New_York"), SUBSCRIBED, last, now)


def test_weekly_waits_for_its_day() -> None:
    schedule = weekly("monday", VIENNA)
    last = local(VIENNA, 2026, 3, 2, 7, 5)  # Monday 2 March
    assert next_digest_at(schedule, SUBSCRIBED, last) == local(VIENNA, 2026, 3, 9, 7, 0)
    assert not digest_due(schedule, SUBSCRIBED, last, local(VIENNA, 2026, 3, 8, 23, 0))
    assert digest_due(schedule, SUBSCRIBED, last, local(VIENNA, 2026, 3, 9, 7, 0))


def test_weekly_day_is_the_subscribers_local_day() -> None:
    """Monday 07:00 in Tokyo is still Sunday in UTC."""
    schedule = weekly("monday", "Asia/Tokyo")
    last = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # Sunday 09:00 JST
    slot = next_digest_at(schedule, SUBSCRIBED, last)
    assert slot == datetime(2026, 3, 1, 22, 0, tzinfo=UTC)
    assert slot.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%A %H:%M") == "Monday 07:00"


def test_spring_forward_keeps_the_wall_clock_time() -> None:
    """Vienna moves from +01:00 to +02:00 on 29 March 2026; 07:00 stays 07:00."""
    schedule = daily(VIENNA)
    before = next_digest_at(schedule, SUBSCRIBED, local(VIENNA, 2026, 3, 28, 8, 0))
    after = next_digest_at(schedule, SUBSCRIBED, local(VIENNA, 2026, 3, 29, 8, 0))
    assert before == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)  # 07:00 CEST
    assert after == datetime(2026, 3, 30, 5, 0, tzinfo=UTC)
    assert datetime(2026, 3, 28, 6, 0, tzinfo=UTC) == local(VIENNA, 2026, 3, 28, 7, 0)


def test_a_slot_inside_the_skipped_hour_moves_past_the_gap() -> None:
    """02:30 does not exist in Vienna on 29 March 2026: the slot is 03:30 CEST, once."""
    schedule = daily(VIENNA, at=time(2, 30))
    slot = next_digest_at(schedule, SUBSCRIBED, local(VIENNA, 2026, 3, 28, 23, 0))
    assert slot == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert slot.astimezone(ZoneInfo(VIENNA)).strftime("%H:%M %Z") == "03:30 CEST"
    following = next_digest_at(schedule, SUBSCRIBED, slot)
    assert following == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)


def test_a_slot_in_the_repeated_hour_fires_once() -> None:
    """02:30 happens twice in Vienna on 25 October 2026; the first one counts, once."""
    schedule = daily(VIENNA, at=time(2, 30))
    first = next_digest_at(schedule, SUBSCRIBED, local(VIENNA, 2026, 10, 24, 23, 0))
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second_occurrence = local(VIENNA, 2026, 10, 25, 2, 30, fold=1)  # 01:30 UTC
    assert not digest_due(schedule, SUBSCRIBED, first, second_occurrence)
    assert next_digest_at(schedule, SUBSCRIBED, first) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)


def test_fall_back_day_has_one_daily_slot() -> None:
    schedule = daily("America/New_York")
    last = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)  # Sat 08:00 EDT
    slot = next_digest_at(schedule, SUBSCRIBED, last)
    assert slot == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # Sun 07:00 EST (-05:00)
    assert next_digest_at(schedule, SUBSCRIBED, slot) == datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        digest_due(daily(), SUBSCRIBED, None, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="weekday"):
        DigestSchedule("weekly", time(7), "someday", "UTC")
