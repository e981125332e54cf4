"""Delivery failures end: a real aiosmtpd server on 127.0.0.1 that stalls, defers and refuses.

Each test runs the deliver stage against the real store (SQLite and PostgreSQL)
and counts what the server received: how many copies reached a reader after
which failure, what the ledger says, and that a run ends.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syndicator.config import Settings
from syndicator.deliver import deliver_due
from syndicator.service.report import print_delivery, print_status, status_snapshot
from syndicator.service.stages import deliver_stage
from syndicator.store import SqlStore

from .conftest import Collecting, Feeder, MakeSettings

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday afternoon
MORNING = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
PEOPLE = ["ann@example.org", "bob@example.org", "cy@example.org", "dan@example.org", "eve@x.org"]


def settings_for(
    make_settings: MakeSettings, port: int, readers: int = 3, **delivery: Any
) -> Settings:
    """SMTP with 1-second timeouts (the RFC's minutes would make a slow test)."""
    return make_settings(
        delivery={
            "transport": "smtp",
            "smtp": {
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "timeout": 1,
                "data_timeout": 1,
            },
            **delivery,
        },
        subscribers=[{"email": e, "topics": ["corruption"]} for e in PEOPLE[:readers]],
    )


def bounces(store: SqlStore) -> dict[str, int]:
    return {s.subscriber.email: s.bounces for s in store.recipient_states()}


# --------------------------------------------------------------------------- unknown


def test_no_answer_to_the_final_dot_is_unknown_and_resent_once_at_most(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    handler, port = smtp_server
    handler.data_delay = 3  # the server keeps the message but answers after data_timeout
    settings = settings_for(make_settings, port, readers=1)
    feeder.add("Bribery in ports", ("corruption",), T0)

    first = deliver_due(store, settings, T0)
    assert first.sent == []
    (failure,) = first.failures
    assert failure.state == "unknown"
    assert "final dot" in failure.error
    assert handler.copies("ann@example.org") == 1  # never resent within the run
    (waiting,) = store.pending_dispatches()
    assert (waiting.state, waiting.attempts) == ("unknown", 1)

    second = deliver_due(store, settings, T0 + timedelta(minutes=15))  # still too slow
    assert handler.copies("ann@example.org") == 2  # the one more time
    (failure,) = second.failures
    assert failure.state == "failed"
    assert "unknown twice" in failure.error
    assert store.pending_dispatches() == []

    third = deliver_due(store, settings, T0 + timedelta(minutes=30))
    assert third.sent == []
    assert third.failures == []
    assert handler.copies("ann@example.org") == 2  # at most two copies, ever
    assert store.dispatch_counts()["failed"] == 1


def test_unknown_outcome_resent_once_is_sent_when_the_server_answers(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    handler, port = smtp_server
    handler.data_delay = 3
    settings = settings_for(make_settings, port, readers=1)
    feeder.add("Bribery in ports", ("corruption",), T0)
    assert [f.state for f in deliver_due(store, settings, T0).failures] == ["unknown"]

    handler.data_delay = 0
    second = deliver_due(store, settings, T0 + timedelta(minutes=15))
    assert second.sent == [("ann@example.org", "digest", 1)]
    assert second.retried == 1
    later = deliver_due(store, settings, MORNING)
    assert later.sent == []
    assert handler.copies("ann@example.org") == 2
    counts = store.dispatch_counts()
    assert (counts["sent"], counts["unknown"], counts["pending"]) == (1, 0, 0)


def test_a_crash_after_handing_over_gives_at_most_one_extra_copy(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server accepted, the process died before recording it: twice in a row."""
    handler, port = smtp_server
    settings = settings_for(make_settings, port, readers=1)
    feeder.add("Bribery in ports", ("corruption",), T0)

    def crash(dispatch_id: int, now: datetime) -> None:
        raise RuntimeError("power cut")

    with monkeypatch.context() as patch:
        patch.setattr(store, "mark_sent", crash)
        for minutes in (0, 15):
            with contextlib.suppress(RuntimeError):
                deliver_due(store, settings, T0 + timedelta(minutes=minutes))
    assert handler.copies("ann@example.org") == 2
    (waiting,) = store.pending_dispatches()
    assert waiting.state == "resending"  # the second crash hit its one more chance

    after = deliver_due(store, settings, T0 + timedelta(minutes=30))
    assert [f.state for f in after.failures] == ["failed"]
    assert deliver_due(store, settings, MORNING).sent == []
    assert handler.copies("ann@example.org") == 2


# --------------------------------------------------------------------------- refusals


def test_recipient_refused_fails_bounces_and_later_mail_still_goes(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    handler, port = smtp_server
    handler.refuse.add("bob@example.org")
    settings = settings_for(make_settings, port)
    feeder.add("Bribery in ports", ("corruption",), T0)

    first = deliver_due(store, settings, T0)
    assert [s[0] for s in first.sent] == ["ann@example.org", "cy@example.org"]
    (failure,) = first.failures
    assert (failure.email, failure.state) == ("bob@example.org", "failed")
    assert "550" in failure.error
    assert first.bounced == [("bob@example.org", 1)]
    assert bounces(store)["bob@example.org"] == 1
    assert store.pending_dispatches() == []  # not retried

    snapshot = status_snapshot(store, settings, T0)
    messages = snapshot["messages"]
    assert (messages["sent"], messages["failed"], messages["pending"]) == (2, 1, 0)
    (bob,) = [s for s in snapshot["subscribers"] if s["email"] == "bob@example.org"]
    assert (bob["bounces"], bob["stopped_by_bounces"]) == (1, False)

    handler.refuse.clear()
    feeder.add("Later release", ("corruption",), T0 + timedelta(hours=1))
    morning = deliver_due(store, settings, MORNING)
    assert sorted(morning.sent) == [
        ("ann@example.org", "digest", 1),
        ("bob@example.org", "digest", 1),  # the later item only: the refused one is carried
        ("cy@example.org", "digest", 1),
    ]
    assert bounces(store)["bob@example.org"] == 0  # delivered: the count was not "in a row"


def test_mail_stops_after_max_bounces_until_undo(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler, port = smtp_server
    handler.refuse.add("bob@example.org")
    settings = settings_for(make_settings, port, readers=2, max_bounces=2)
    days = [MORNING + timedelta(days=d) for d in range(4)]
    for day in days[:3]:
        feeder.add(f"Release of {day:%d %b}", ("corruption",), day - timedelta(hours=1))
        deliver_due(store, settings, day)
    assert bounces(store)["bob@example.org"] == 2
    assert handler.rcpt == 3 + 2  # Ann thrice, Bob only until his second refusal
    snapshot = status_snapshot(store, settings, days[2])
    (bob,) = [s for s in snapshot["subscribers"] if s["email"] == "bob@example.org"]
    assert bob["stopped_by_bounces"]
    print_status(snapshot, sys.stdout)
    assert "STOPPED after 2 bounces" in capsys.readouterr().out

    handler.refuse.clear()
    assert store.resubscribe("bob@example.org")  # `syndicator unsubscribe --undo`
    back = deliver_due(store, settings, days[3])
    assert ("bob@example.org", "digest", 1) in back.sent  # the third day's release
    assert handler.copies("bob@example.org") == 1


def test_sender_refused_at_mail_from_blames_nobody_and_stops_the_run(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    handler, port = smtp_server
    handler.mail_reply = "550 5.7.1 sender address not allowed"
    settings = settings_for(make_settings, port)
    feeder.add("Bribery in ports", ("corruption",), T0)

    first = deliver_due(store, settings, T0)
    assert first.sent == []
    assert first.failures == []
    assert first.bounced == []
    assert first.stopped is not None
    assert "MAIL FROM answered 550" in first.stopped
    assert "delivery.sender" in first.stopped
    assert handler.mail_from == 1  # asked once, not once per subscriber
    assert first.left == {"pending": 1, "unknown": 0}
    assert first.not_reached == 2
    assert set(bounces(store).values()) == {0}

    handler.mail_reply = None
    second = deliver_due(store, settings, T0 + timedelta(minutes=15))
    assert second.retried == 1
    assert sorted(s[0] for s in second.sent) == PEOPLE[:3]
    assert second.stopped is None


def test_message_rejected_at_end_of_data_fails_alone_and_later_mail_goes(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    handler, port = smtp_server
    handler.data_reply["bob@example.org"] = "554 5.6.0 message content rejected"
    settings = settings_for(make_settings, port)
    feeder.add("Bribery in ports", ("corruption",), T0)

    first = deliver_due(store, settings, T0)
    assert [s[0] for s in first.sent] == ["ann@example.org", "cy@example.org"]
    (failure,) = first.failures
    assert (failure.email, failure.state) == ("bob@example.org", "failed")
    assert "554" in failure.error
    assert first.bounced == []  # the message's fault, not the address's
    assert bounces(store)["bob@example.org"] == 0
    assert store.pending_dispatches() == []

    handler.data_reply.clear()
    feeder.add("Later release", ("corruption",), T0 + timedelta(hours=1))
    morning = deliver_due(store, settings, MORNING)
    assert ("bob@example.org", "digest", 1) in morning.sent  # no loop on the rejected item
    assert handler.copies("bob@example.org") == 1


# --------------------------------------------------------------------------- hanging


def test_server_that_stalls_is_dropped_after_two_hangs_and_what_is_left_is_reported(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    handler, port = smtp_server
    handler.stall_rcpt = True  # never answers RCPT TO
    settings = settings_for(make_settings, port, readers=5, deadline_seconds=60)
    feeder.add("Bribery in ports", ("corruption",), T0)

    started = time.monotonic()
    report = deliver_due(store, settings, T0)
    assert time.monotonic() - started < 60  # within the deadline; in fact two timeouts
    assert handler.rcpt == 2
    assert report.stopped is not None
    assert "stopped answering 2 times" in report.stopped
    assert [(f.email, f.state) for f in report.failures] == [
        ("ann@example.org", "pending"),
        ("bob@example.org", "pending"),
    ]
    assert "no answer at RCPT TO" in report.failures[0].error
    assert report.left == {"pending": 2, "unknown": 0}
    assert report.not_reached == 3


@pytest.fixture
def mute_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (no greeting)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def test_server_that_never_greets_is_tried_once_and_reported_once(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings, mute_server: int
) -> None:
    settings = settings_for(make_settings, mute_server, readers=5, deadline_seconds=60)
    feeder.add("Bribery in ports", ("corruption",), T0)
    started = time.monotonic()
    report = deliver_due(store, settings, T0)
    assert time.monotonic() - started < 60
    assert report.failures == []
    assert report.stopped is not None
    assert "unavailable" in report.stopped
    assert report.left == {"pending": 1, "unknown": 0}
    assert report.not_reached == 4


class Clock:
    """Monotonic seconds that move only when the test says (here: per message received)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_deadline_ends_the_run_and_the_rest_waits_for_the_next(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    handler, port = smtp_server
    clock = Clock()

    def slow() -> None:
        clock.now += 400  # each message takes 400 s on this server

    handler.on_data = slow
    settings = settings_for(make_settings, port, readers=5, deadline_seconds=900)
    feeder.add("Bribery in ports", ("corruption",), T0)

    report = deliver_due(store, settings, T0, clock=clock)
    # Started at 0, 400 and 800 s; at 1200 s the deadline (900 s) has passed.
    assert [s[0] for s in report.sent] == PEOPLE[:3]
    assert report.stopped is not None
    assert "deadline" in report.stopped
    assert report.not_reached == 2
    assert report.left == {"pending": 0, "unknown": 0}  # nothing reserved after the deadline

    handler.on_data = None
    rest = deliver_due(store, settings, T0 + timedelta(minutes=15))
    assert [s[0] for s in rest.sent] == PEOPLE[3:]
    assert len(handler.messages) == 5


def test_the_service_says_once_that_delivery_stopped_and_what_is_left(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    mute_server: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = settings_for(make_settings, mute_server, readers=3)
    feeder.add("Bribery in ports", ("corruption",), T0)
    with caplog.at_level(logging.INFO, logger="syndicator"):
        report = deliver_stage(store, settings, T0)
    assert report is not None
    events = [r.getMessage() for r in caplog.records if r.getMessage().startswith("event=")]
    stopped = [e for e in events if e.startswith("event=delivery_stopped")]
    assert len(stopped) == 1
    assert "pending=1" in stopped[0]
    assert "not_reached=2" in stopped[0]
    assert not [e for e in events if e.startswith("event=delivery_failed")]
    out = io.StringIO()
    print_delivery(report, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "deliver: 0 message(s) sent, 0 not accepted"
    assert lines[1].startswith("deliver: stopped early — SMTP server 127.0.0.1:")
    assert lines[1].endswith(
        "left for the next run: 1 pending, 0 outcome unknown, 2 subscriber(s) not reached"
    )


def test_a_message_deferred_for_too_long_fails_and_the_reader_moves_on(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    """No message is retried forever: after give_up_after_hours it fails (items carried)."""
    handler, port = smtp_server
    handler.defer.add("bob@example.org")
    settings = settings_for(make_settings, port, readers=2, give_up_after_hours=96)
    feeder.add("Bribery in ports", ("corruption",), T0)
    deliver_due(store, settings, T0)
    for day in range(1, 4):  # retried every day, deferred every time
        deliver_due(store, settings, MORNING + timedelta(days=day))
    (waiting,) = store.pending_dispatches()
    assert (waiting.state, waiting.attempts) == ("pending", 4)

    handler.defer.clear()
    feeder.add("Later release", ("corruption",), T0 + timedelta(days=1))
    late = deliver_due(store, settings, T0 + timedelta(hours=97))
    (failure,) = late.failures
    assert (failure.email, failure.state) == ("bob@example.org", "failed")
    assert "give_up_after_hours" in failure.error
    assert "451" in failure.error  # the last error is kept
    assert ("bob@example.org", "digest", 1) in late.sent  # the later item only; no loop
    assert store.pending_dispatches() == []
    assert handler.copies("bob@example.org") == 1
