"""Database-managed subscribers receive mail like configured ones; the configuration wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syndicator.deliver import deliver_due
from syndicator.errors import SubscriberError
from syndicator.service.app import Syndicator
from syndicator.store import SqlStore

from .conftest import Collecting, Feeder, MakeSettings

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def test_a_database_added_subscriber_gets_a_digest_through_smtp_and_bounces_count(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    handler, port = smtp_server
    smtp = {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 2}
    settings = make_settings(
        delivery={"transport": "smtp", "smtp": smtp, "max_bounces": 1}, subscribers=[]
    )
    app = Syndicator(settings, store)
    assert app.add_subscriber("Bob@Example.org", ["corruption"], now=T0) == "added"
    assert app.add_subscriber("gone@example.org", ["corruption"], now=T0) == "added"
    handler.refuse = {"gone@example.org"}
    feeder.add("Bribery in ports", ("corruption",), T0)

    report = deliver_due(store, settings, T0 + timedelta(minutes=1))
    assert [(e, k) for e, k, _ in report.sent] == [("bob@example.org", "digest")]
    assert handler.copies("bob@example.org") == 1
    assert report.bounced == [("gone@example.org", 1)]
    again = deliver_due(store, settings, T0 + timedelta(days=1, hours=3))
    assert again.sent == []  # nothing new for bob; gone@ stopped after one bounce
    stopped = store.find_recipient("gone@example.org")
    assert stopped is not None
    assert (stopped.bounces, stopped.managed_by, stopped.consent_source) == (
        1,
        "operator",
        "operator",
    )


def test_a_database_added_subscriber_gets_a_digest_in_the_outbox(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings
) -> None:
    settings = make_settings(subscribers=[])
    Syndicator(settings, store).add_subscriber("bob@example.org", ["corruption"], now=T0)
    feeder.add("Bribery in ports", ("corruption",), T0)
    report = deliver_due(store, settings, T0 + timedelta(minutes=1))
    assert [(e, k, n) for e, k, n in report.sent] == [("bob@example.org", "digest", 1)]
    (message,) = settings.delivery.outbox_dir.glob("*.eml")
    assert "Bribery in ports" in message.read_text(encoding="utf-8")


def test_the_configuration_wins_over_a_database_row_with_the_same_address(
    store: SqlStore, make_settings: MakeSettings
) -> None:
    bare = make_settings(subscribers=[])
    Syndicator(bare, store).add_subscriber(
        "ann@example.org", ["terrorism"], cadence="weekly", now=T0
    )
    configured = make_settings()  # lists ann@example.org for corruption, daily
    app = Syndicator(configured, store)
    (ann,) = [r for r in app.subscribers(now=T0) if r.subscriber.email == "ann@example.org"]
    assert (ann.managed_by, ann.subscriber.topics, ann.subscriber.cadence) == (
        "config",
        ("corruption",),
        "daily",
    )
    with pytest.raises(SubscriberError, match=r"subscribers\.0.*configuration wins"):
        app.add_subscriber("ann@example.org", ["terrorism"], now=T0)
    with pytest.raises(SubscriberError, match="remove it there first"):
        app.remove_subscriber("ann@example.org", now=T0)
    # Taken out of the configuration, the row stops getting mail but keeps its history.
    later = Syndicator(bare, store).subscribers(now=T0)
    (gone,) = [r for r in later if r.subscriber.email == "ann@example.org"]
    assert gone.status == "removed"
    assert store.recipient_states() == []


def test_an_unsubscribe_is_not_undone_by_add_or_import(
    store: SqlStore, make_settings: MakeSettings
) -> None:
    app = Syndicator(make_settings(subscribers=[]), store)
    app.add_subscriber("bob@example.org", ["corruption"], now=T0)
    assert store.unsubscribe("bob@example.org", T0)
    with pytest.raises(SubscriberError, match="unsubscribe --undo"):
        app.add_subscriber("bob@example.org", ["corruption"], now=T0)
    assert app.unsubscribe("bob@example.org", undo=True)
    assert app.add_subscriber("bob@example.org", ["terrorism"], now=T0) == "updated"
