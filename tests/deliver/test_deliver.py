"""The deliver stage end to end, against the real SQLite store, the outbox and SMTP."""

from __future__ import annotations

import contextlib
import email
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from syndicator.config import Settings
from syndicator.deliver import DeliveryReport, Failure, deliver_due
from syndicator.errors import LeaseLostError, OutputError
from syndicator.service.leases import LeaseKeeper
from syndicator.store import SqlStore

from .conftest import Collecting, Feeder, MakeSettings, free_port

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday afternoon


def outbox(settings: Settings) -> list[EmailMessage]:
    folder = settings.delivery.outbox_dir
    if not folder.exists():
        return []
    out = []
    for path in sorted(folder.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        out.append(parsed)
    return out


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_first_run_sends_the_first_digest_at_once(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings
) -> None:
    settings = make_settings()
    feeder.add("Bribery in ports", ("corruption",), T0)
    feeder.add("Plot foiled", ("terrorism",), T0)  # not Ann's topic
    report = deliver_due(store, settings, T0 + timedelta(minutes=1))
    assert report.sent == [("ann@example.org", "digest", 1)]
    assert report.failures == []
    (message,) = outbox(settings)
    assert "Bribery in ports" in text_of(message)
    assert "Plot foiled" not in text_of(message)
    assert message["To"] == "Ann <ann@example.org>"


def test_running_again_sends_nothing_twice(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings
) -> None:
    settings = make_settings()
    feeder.add("Bribery in ports", ("corruption",), T0)
    deliver_due(store, settings, T0)
    again = deliver_due(store, settings, T0 + timedelta(minutes=15))
    assert again.sent == []
    assert again.not_due == 1
    # Next morning, nothing new: no empty digest either.
    morning = deliver_due(store, settings, datetime(2026, 11, 28, 7, 5, tzinfo=UTC))
    assert morning.sent == []
    assert morning.nothing_new == 1
    assert len(outbox(settings)) == 1


def test_next_digest_carries_only_new_items_and_waits_for_its_slot(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings
) -> None:
    settings = make_settings()
    feeder.add("Old news", ("corruption",), T0)
    deliver_due(store, settings, T0)
    feeder.add("Fresh news", ("corruption",), T0 + timedelta(hours=2))
    assert deliver_due(store, settings, T0 + timedelta(hours=3)).sent == []  # before 07:00
    report = deliver_due(store, settings, datetime(2026, 11, 28, 7, 0, tzinfo=UTC))
    assert report.sent == [("ann@example.org", "digest", 1)]
    latest = outbox(settings)[-1]
    assert "Fresh news" in text_of(latest)
    assert "Old news" not in text_of(latest)


def test_digest_capped_at_max_items_leaves_the_rest_for_the_next(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings
) -> None:
    settings = make_settings(delivery={"max_items_per_digest": 2})
    for n in range(5):
        feeder.add(f"Release {n}", ("corruption",), T0 + timedelta(minutes=n))
    first = deliver_due(store, settings, T0 + timedelta(hours=1))
    assert first.sent == [("ann@example.org", "digest", 2)]
    days = [datetime(2026, 11, 28 + d, 7, 0, tzinfo=UTC) for d in range(3)]
    counts = [deliver_due(store, settings, day).sent for day in days]
    assert counts == [
        [("ann@example.org", "digest", 2)],
        [("ann@example.org", "digest", 1)],
        [],
    ]
    texts = "".join(text_of(m) for m in outbox(settings))
    for n in range(5):
        assert texts.count(f"* Release {n}\n") == 1  # every item once, none skipped


def test_weekly_subscriber_in_another_zone(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings
) -> None:
    settings = make_settings(
        subscribers=[
            {
                "email": "kim@example.org",
                "topics": ["corruption"],
                "cadence": "weekly",
                "timezone": "Asia/Tokyo",
            },
        ],
    )
    feeder.add("First", ("corruption",), T0)
    assert len(deliver_due(store, settings, T0).sent) == 1  # first digest at once
    feeder.add("Second", ("corruption",), T0 + timedelta(hours=1))
    # Monday 30 Nov 07:00 JST is Sunday 29 Nov 22:00 UTC.
    assert deliver_due(store, settings, datetime(2026, 11, 29, 21, 59, tzinfo=UTC)).sent == []
    due = deliver_due(store, settings, datetime(2026, 11, 29, 22, 0, tzinfo=UTC))
    assert due.sent == [("kim@example.org", "digest", 1)]
    assert "30 Nov 2026" in str(outbox(settings)[-1]["Subject"])  # the subscriber's date


def test_alerts_go_out_per_new_item_and_the_digest_still_lists_them(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings
) -> None:
    settings = make_settings(
        subscribers=[{"email": "ann@example.org", "topics": ["corruption"], "alerts": True}],
    )
    feeder.add("Archive item", ("corruption",), T0 - timedelta(days=30))
    feeder.add("Same cycle item", ("corruption",), T0)  # collected in the cycle that subscribes
    first = deliver_due(store, settings, T0)
    # The archive comes in the first digest, not as a flood of alerts.
    assert first.sent == [("ann@example.org", "digest", 2)]
    feeder.add("Breaking one", ("corruption",), T0 + timedelta(minutes=5))
    feeder.add("Breaking two", ("corruption",), T0 + timedelta(minutes=6))
    feeder.add("Other topic", ("terrorism",), T0 + timedelta(minutes=7))
    report = deliver_due(store, settings, T0 + timedelta(minutes=15))
    assert report.sent == [("ann@example.org", "alert", 1), ("ann@example.org", "alert", 1)]
    assert deliver_due(store, settings, T0 + timedelta(minutes=30)).sent == []
    alerts = [m for m in outbox(settings) if m["Auto-Submitted"]]
    assert sorted(str(m["Subject"]) for m in alerts) == [
        "[Syndicator] Corruption: Breaking one",
        "[Syndicator] Corruption: Breaking two",
    ]
    morning = deliver_due(store, settings, datetime(2026, 11, 28, 7, 0, tzinfo=UTC))
    assert morning.sent == [("ann@example.org", "digest", 2)]


def test_unsubscribed_reader_gets_nothing(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings
) -> None:
    settings = make_settings()
    feeder.add("Bribery in ports", ("corruption",), T0)
    store.sync_config_recipients([], T0)
    deliver_due(store, settings, T0)  # registers Ann and sends her first digest
    assert store.unsubscribe("ann@example.org", T0)
    feeder.add("More bribery", ("corruption",), T0 + timedelta(hours=1))
    report = deliver_due(store, settings, datetime(2026, 11, 28, 8, 0, tzinfo=UTC))
    assert report.sent == []
    assert report.skipped == 1


def smtp_settings(make_settings: MakeSettings, port: int) -> Settings:
    return make_settings(
        delivery={
            "transport": "smtp",
            "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5},
        },
        subscribers=[
            {"email": "ann@example.org", "topics": ["corruption"]},
            {"email": "bob@example.org", "topics": ["corruption"]},
            {"email": "cy@example.org", "topics": ["corruption"]},
        ],
    )


def test_smtp_delivery_of_multipart_digests(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    handler, port = smtp_server
    settings = smtp_settings(make_settings, port)
    feeder.add("Bribery in ports", ("corruption",), T0)
    report = deliver_due(store, settings, T0)
    assert [s[0] for s in report.sent] == ["ann@example.org", "bob@example.org", "cy@example.org"]
    assert len(handler.messages) == 3
    raw = handler.messages[0].content
    assert isinstance(raw, bytes)
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    for header in ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe"):
        assert message[header], header
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not settings.delivery.outbox_dir.exists()


def test_temporary_refusal_is_retried_as_the_same_message_and_never_doubled(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    """451 at RCPT TO (greylisting): pending, retried next run, accepted once."""
    handler, port = smtp_server
    settings = smtp_settings(make_settings, port)
    feeder.add("Bribery in ports", ("corruption",), T0)
    handler.defer.add("bob@example.org")
    first = deliver_due(store, settings, T0)
    assert [s[0] for s in first.sent] == ["ann@example.org", "cy@example.org"]
    (failure,) = first.failures
    assert (failure.email, failure.state) == ("bob@example.org", "pending")
    assert "451" in failure.error
    assert first.bounced == []
    (pending,) = store.pending_dispatches()
    assert (pending.state, pending.attempts) == ("pending", 1)
    assert pending.last_error is not None
    assert "451" in pending.last_error

    handler.defer.clear()
    second = deliver_due(store, settings, T0 + timedelta(minutes=15))
    assert second.sent == [("bob@example.org", "digest", 1)]
    assert second.retried == 1
    assert second.failures == []
    assert handler.copies("bob@example.org") == 1
    assert isinstance(handler.messages[-1].content, bytes)
    resent = email.message_from_bytes(handler.messages[-1].content, policy=policy.default)
    assert resent["Message-ID"] == pending.message_id  # the same message, not a new one

    third = deliver_due(store, settings, T0 + timedelta(minutes=30))
    assert third.sent == []
    assert len(handler.messages) == 3
    assert store.pending_dispatches() == []
    assert store.dispatch_counts()["sent"] == 3


def test_smtp_down_loses_nothing_and_is_reported_once(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    handler, port = smtp_server
    feeder.add("Bribery in ports", ("corruption",), T0)
    down = deliver_due(store, smtp_settings(make_settings, free_port()), T0)
    assert down.sent == []
    assert down.failures == []  # nobody's fault: said once, not per subscriber
    assert down.stopped is not None
    assert "unavailable" in down.stopped
    assert down.left == {"pending": 1, "unknown": 0}  # the first message; no others reserved
    assert down.not_reached == 2
    # New items meanwhile must not be glued onto the retried message nor lost.
    feeder.add("Later release", ("corruption",), T0 + timedelta(hours=1))
    up = deliver_due(store, smtp_settings(make_settings, port), T0 + timedelta(hours=2))
    assert up.failures == []
    assert up.stopped is None
    assert up.retried == 1
    assert sorted((s[0], s[2]) for s in up.sent) == [
        ("ann@example.org", 1),  # the retry, as reserved
        ("bob@example.org", 2),  # first digests, never reserved while the server was down
        ("cy@example.org", 2),
    ]
    tomorrow = deliver_due(
        store, smtp_settings(make_settings, port), datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    )
    assert [(s[0], s[2]) for s in tomorrow.sent] == [("ann@example.org", 1)]
    assert len(handler.messages) == 4


def test_crash_between_send_and_mark_sent_does_not_duplicate_the_outbox_file(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings()
    feeder.add("Bribery in ports", ("corruption",), T0)

    def crash(dispatch_id: int, now: datetime) -> None:
        raise RuntimeError("power cut")

    with monkeypatch.context() as patch:
        patch.setattr(store, "mark_sent", crash)
        with contextlib.suppress(RuntimeError):
            deliver_due(store, settings, T0)
    assert len(outbox(settings)) == 1
    assert len(store.pending_dispatches()) == 1
    report = deliver_due(store, settings, T0 + timedelta(minutes=15))
    assert report.retried == 1
    assert len(outbox(settings)) == 1  # same Message-ID, same file
    assert store.pending_dispatches() == []


def test_report_shape() -> None:
    report = DeliveryReport()
    assert report.ok
    report.failures.append(Failure("a@example.org", "digest", "pending", "boom"))
    assert not report.ok
    assert not DeliveryReport(stopped="deadline").ok


def test_unwritable_outbox_raises_output_error(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    settings = make_settings(delivery={"outbox_dir": str(blocker / "outbox")})
    feeder.add("Bribery in ports", ("corruption",), T0)
    with pytest.raises(OutputError, match="outbox"):
        deliver_due(store, settings, T0)
    assert store.pending_dispatches() == []  # nothing reserved before the transport opened


def test_a_message_that_cannot_be_rendered_is_never_reserved(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Render before reserve: a fault in rendering leaves no pending dispatch to block later runs."""
    from syndicator.deliver.render import Renderer

    settings = make_settings()
    feeder.add("Bribery in ports", ("corruption",), T0)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("template bug")

    with monkeypatch.context() as patch:
        patch.setattr(Renderer, "render", broken)
        with pytest.raises(RuntimeError, match="template bug"):
            deliver_due(store, settings, T0)
    assert store.pending_dispatches() == []
    assert deliver_due(store, settings, T0).sent == [("ann@example.org", "digest", 1)]


def test_missing_email_template_fails_before_anything_is_reserved(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = make_settings()
    feeder.add("Bribery in ports", ("corruption",), T0)
    with pytest.raises(OutputError, match=r"email/digest\.txt"):
        deliver_due(store, settings, T0, templates_dir=tmp_path / "no-templates")
    assert store.pending_dispatches() == []
    assert outbox(settings) == []


def test_pending_dispatch_of_a_reader_who_unsubscribed_is_not_sent(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    handler, port = smtp_server
    settings = smtp_settings(make_settings, port)
    feeder.add("Bribery in ports", ("corruption",), T0)
    handler.defer.add("bob@example.org")
    assert [f.email for f in deliver_due(store, settings, T0).failures] == ["bob@example.org"]
    assert store.unsubscribe("bob@example.org", T0 + timedelta(minutes=5))

    handler.defer.clear()
    later = deliver_due(store, settings, T0 + timedelta(minutes=15))
    assert later.sent == []
    assert later.retried == 0
    assert later.skipped == 2  # the pending dispatch and Bob himself
    assert [m.rcpt_tos for m in handler.messages] == [["ann@example.org"], ["cy@example.org"]]
    # The ledger forgets the message that never went out: no pending retry is left, and
    # if Bob comes back his next digest carries the item.
    assert store.pending_dispatches() == []
    assert store.resubscribe("bob@example.org")
    back = deliver_due(store, settings, T0 + timedelta(days=1, minutes=15))
    assert [(email, kind) for email, kind, _ in back.sent] == [("bob@example.org", "digest")]


def test_a_run_that_loses_its_lease_stops_before_the_next_message(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings
) -> None:
    settings = make_settings(
        subscribers=[
            {"email": "ann@example.org", "topics": ["corruption"]},
            {"email": "bob@example.org", "topics": ["terrorism"]},
        ]
    )
    feeder.add("Bribery in ports", ("corruption",), T0)
    feeder.add("Plot foiled", ("terrorism",), T0)
    checks = 0
    with LeaseKeeper(store) as keeper:
        lease = keeper.acquire("deliver")
        assert lease is not None

        def checkpoint() -> None:
            nonlocal checks
            checks += 1
            if checks == 2:  # after the first message, an operator breaks the lease
                store.break_lease("deliver")
                keeper.renew()  # the heartbeat finds out
            lease.check()

        with pytest.raises(LeaseLostError, match="'deliver'"):
            deliver_due(store, settings, T0 + timedelta(minutes=1), checkpoint=checkpoint)
    assert len(outbox(settings)) == 1
    counts = store.dispatch_counts()
    assert counts["sent"] == 1
    assert counts["pending"] == 0  # nothing reserved after it


def test_unicode_domain_goes_out_in_idna_form(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    """Headers and the envelope need the ASCII domain; the ledger keeps the address as given."""
    handler, port = smtp_server
    settings = make_settings(
        delivery={
            "transport": "smtp",
            "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5},
        },
        subscribers=[{"email": "Ann@Bücher.de", "name": "Ann", "topics": ["corruption"]}],
    )
    feeder.add("Bribery in ports", ("corruption",), T0)
    report = deliver_due(store, settings, T0)
    assert report.sent == [("ann@bücher.de", "digest", 1)]
    (envelope,) = handler.messages
    assert envelope.rcpt_tos == ["ann@xn--bcher-kva.de"]
    assert isinstance(envelope.content, bytes)
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["To"] == "Ann <ann@xn--bcher-kva.de>"
