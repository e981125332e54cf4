"""Which digest is due for whom: a pure decider, no store, no clock.

Following reader's ``Decider``, this module gets everything it needs as
arguments (the subscriber's ledger state, the delivery settings, ``now``) and
returns a decision, so the rules can be tested across time zones and daylight
saving changes with injected instants and nothing else.

The rules:

* A *slot* is ``digest_time`` on a local calendar day in the subscriber's time
  zone: every day for ``daily``, only on ``weekly_day`` for ``weekly``.
* A subscriber who has been sent a digest is due again at the first slot after
  that digest; it stays due until the next digest goes out. A due digest with
  nothing new in it is not sent, so it waits for its first item (at most one
  digest per slot, never an empty one).
* A subscriber who has never been sent a digest is due at once (from their
  ``subscribed_at``): the first digest goes out on the first run, which is what
  makes the first ``syndicator run`` of a fresh clone produce mail.

A local time that does not exist on a day (the hour skipped when clocks go
forward) resolves to the same wall-clock reading after the gap (02:30 becomes
03:30); a time that happens twice (clocks go back) means its first occurrence.
Both are what :mod:`zoneinfo` does with ``fold=0``, stated here so that nobody
"fixes" it by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from syndicator.config import DeliverySettings
from syndicator.models import Cadence, Subscriber

WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """When one subscriber's digests fall: cadence, local time, weekday, zone."""

    cadence: Cadence
    digest_time: time
    weekly_day: str
    timezone: str

    def __post_init__(self) -> None:
        if self.weekly_day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {self.weekly_day!r}; expected one of {WEEKDAYS}")
        ZoneInfo(self.timezone)  # fail early on an unknown zone

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def slot_on(self, day: date) -> datetime | None:
        """The UTC instant of the slot on a local ``day``, or None if that day has none."""
        if self.cadence == "weekly" and day.weekday() != WEEKDAYS.index(self.weekly_day):
            return None
        local = datetime.combine(day, self.digest_time.replace(tzinfo=None), tzinfo=self.zone)
        return local.astimezone(UTC)

    def first_slot_after(self, instant: datetime) -> datetime:
        """The earliest slot strictly later than ``instant``."""
        _require_aware(instant, "instant")
        day = instant.astimezone(self.zone).date() - timedelta(days=1)
        # A week and two days covers every weekly slot whatever the offsets.
        for offset in range(10):
            slot = self.slot_on(day + timedelta(days=offset))
            if slot is not None and slot > instant:
                return slot
        raise AssertionError("unreachable: a slot falls in every ten days")  # pragma: no cover


def schedule_for(subscriber: Subscriber, delivery: DeliverySettings) -> DigestSchedule:
    """The schedule of one subscriber: their cadence and zone, the service's time and day."""
    return DigestSchedule(
        cadence=subscriber.cadence,
        digest_time=delivery.digest_time,
        weekly_day=delivery.weekly_day,
        timezone=subscriber.timezone,
    )


def next_digest_at(
    schedule: DigestSchedule,
    subscribed_at: datetime,
    last_digest_at: datetime | None,
) -> datetime:
    """When this subscriber's next digest is (or was) due, in UTC.

    A value at or before "now" means a digest is due now. For a subscriber never
    sent a digest it is ``subscribed_at``: the first digest goes out on the first
    run. ``syndicator status`` prints this.
    """
    _require_aware(subscribed_at, "subscribed_at")
    if last_digest_at is None:
        return subscribed_at.astimezone(UTC)
    return schedule.first_slot_after(last_digest_at)


def digest_due(
    schedule: DigestSchedule,
    subscribed_at: datetime,
    last_digest_at: datetime | None,
    now: datetime,
) -> bool:
    """Is a digest due at ``now``? (Whether there is anything to put in it is not asked here.)

    Never for the ``none`` cadence: such a reader gets alerts only.
    """
    _require_aware(now, "now")
    if schedule.cadence == "none":
        return False
    return next_digest_at(schedule, subscribed_at, last_digest_at) <= now


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
