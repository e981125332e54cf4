"""The storage contract, run on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    text,
)

from syndicator.config import Settings
from syndicator.deliver import deliver_due
from syndicator.errors import SchemaVersionError, StorageError
from syndicator.models import Caching, CollectResult, Item, Subscriber, TagResult
from syndicator.query.prefilter import Contains, HasValue
from syndicator.store import KeyUse, LeaseRecord, SqlStore, open_store, schema
from syndicator.store.protocol import ERROR_CHARS, RecipientEntry
from syndicator.store.schema import SCHEMA_VERSION
from syndicator.store.sql import MAX_STORED_WARNINGS, MAX_WARNING_CHARS
from syndicator.store.types import UTCDateTime

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def rid(store: SqlStore, address: str) -> int:
    """The recipient id of a stored address (the ledger is keyed on it)."""
    found = store.find_recipient(address)
    assert found is not None, address
    return found.id


def item(identity: str, title: str = "A release", **kw: object) -> Item:
    return Item(source_id="src", identity=identity, title=title, **kw)  # type: ignore[arg-type]


def ok(*items: Item, etag: str | None = None) -> CollectResult:
    return CollectResult(
        source_id="src", status="ok", items=items, caching=Caching(etag=etag), http_status=200
    )


def tag(store: SqlStore, topics: tuple[str, ...], version: str = "v1") -> None:
    for stored in store.items_needing_tags(version):
        store.save_tags(
            stored.id,
            TagResult(
                topics=topics,
                scores=dict.fromkeys(topics, 2.0),
                evidence={t: [f'title:"{t}"'] for t in topics},
                lang="en",
                countries=("BY",),
            ),
            version,
            NOW,
        )


def test_new_items_are_stored_once_and_reruns_change_nothing(store: SqlStore) -> None:
    result = ok(item("guid:1"), item("guid:2"), item("guid:1", title="dup in same feed"))
    assert store.apply_collect(result, NOW).new == 2
    again = store.apply_collect(result, NOW + timedelta(hours=1))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    assert store.item_count() == 2


def test_changed_item_is_updated_in_place_and_retagged(store: SqlStore) -> None:
    store.apply_collect(ok(item("guid:1", summary="first")), NOW)
    tag(store, ("corruption",))
    assert store.items_needing_tags("v1") == []
    counts = store.apply_collect(ok(item("guid:1", summary="second")), NOW + timedelta(hours=1))
    assert (counts.new, counts.updated) == (0, 1)
    (stored,) = store.items_needing_tags("v1")
    assert stored.item.summary == "second"
    assert stored.first_seen_at == NOW  # first seen never moves
    assert stored.last_changed_at == NOW + timedelta(hours=1)
    assert store.item_count() == 1


def test_new_tagger_version_retags_everything(store: SqlStore) -> None:
    store.apply_collect(ok(item("guid:1")), NOW)
    tag(store, ("terrorism",))
    assert len(store.items_needing_tags("v2")) == 1


def test_error_result_keeps_items_and_validators(store: SqlStore) -> None:
    store.apply_collect(ok(item("guid:1"), etag='"abc"'), NOW)
    store.apply_collect(
        CollectResult(source_id="src", status="error", error_class="timeout", error_message="slow"),
        NOW + timedelta(hours=1),
    )
    state = store.source_states()["src"]
    assert state.status == "error"
    assert state.error_class == "timeout"
    assert state.consecutive_failures == 1
    assert state.caching.etag == '"abc"'
    assert state.last_success_at == NOW
    assert store.item_count() == 1
    store.apply_collect(CollectResult(source_id="src", status="not_modified"), NOW)
    assert store.source_states()["src"].consecutive_failures == 0


def test_recent_items_newest_first_by_publisher_date_but_never_future(store: SqlStore) -> None:
    store.apply_collect(
        ok(
            item("a", published_at=NOW - timedelta(days=3)),
            item("b", published_at=NOW - timedelta(days=1)),
            item("c", published_at=NOW + timedelta(days=300)),  # badly dated: sorts as first seen
            item("d"),  # undated: sorts as first seen
        ),
        NOW,
    )
    tag(store, ("corruption",))
    order = [s.item.identity for s in store.recent_items("corruption", 10)]
    # c: badly dated, stands at first-seen (NOW); d: undated, stands below the dated
    # items of the day it was first seen, which here is only c.
    assert order == ["c", "d", "b", "a"]
    assert [s.item.identity for s in store.recent_items(None, 2)] == order[:2]
    assert store.recent_items("terrorism", 10) == []
    assert store.topic_counts() == {"corruption": 4}


def test_undated_items_sort_below_the_dated_items_of_their_first_seen_day(
    store: SqlStore,
) -> None:
    """Issue 8: an undated item used to stand at its first-seen time, above everything
    published that day, as if it were the newest news."""
    morning = NOW.replace(hour=8)
    store.apply_collect(ok(item("dated-yesterday", published_at=NOW - timedelta(days=1))), NOW)
    store.apply_collect(ok(item("undated-early")), morning)
    store.apply_collect(
        ok(
            item("dated-today-midnight", published_at=NOW.replace(hour=0)),  # a bare date
            item("dated-today-9h", published_at=NOW.replace(hour=9)),
            item("undated-late"),
        ),
        NOW,
    )
    tag(store, ("corruption",))
    recent = store.recent_items("corruption", 10)
    order = [s.item.identity for s in recent]
    assert order == [
        "dated-today-9h",
        "dated-today-midnight",
        "undated-late",  # undated, below every dated item of its day; later first seen first
        "undated-early",
        "dated-yesterday",
    ]
    # The one rule in Python (publish, deliver) gives the same order as the SQL.
    assert sorted(recent, key=lambda s: s.sort_key, reverse=True) == recent
    # Shown dates are unchanged: first seen for the undated.
    assert recent[2].sort_date == NOW


def test_tagged_keys_and_items_by_id(store: SqlStore) -> None:
    store.apply_collect(ok(item("1"), item("2"), item("3")), NOW)
    for stored in store.items_needing_tags("v1"):
        topics = {"1": ("corruption",), "2": ("terrorism",), "3": ()}[stored.item.identity]
        store.save_tags(stored.id, TagResult(topics, dict.fromkeys(topics, 2.0), {}), "v1", NOW)
    keys = store.tagged_keys(["corruption", "terrorism"])
    assert [(k.source_id, k.identity) for k in keys] == [("src", "1"), ("src", "2")]
    assert [k.identity for k in store.tagged_keys(["terrorism"])] == ["2"]
    assert store.tagged_keys([]) == []
    found = store.items_by_id([keys[1].id, keys[0].id, 999_999])
    assert [s.item.identity for s in found] == ["1", "2"]
    assert found[0].topics == ("corruption",)
    assert store.items_by_id([]) == []


def test_manual_tags_win_over_the_tagger_and_survive_retagging(store: SqlStore) -> None:
    store.apply_collect(ok(item("guid:1")), NOW)
    tag(store, ("corruption", "terrorism"))
    (stored,) = store.recent_items(None, 1)
    updated = store.set_manual_tags(
        stored.id, add=["organized-crime"], remove=["terrorism"], now=NOW
    )
    assert set(updated.topics) == {"corruption", "organized-crime"}
    tag(store, ("corruption", "terrorism"), version="v2")  # the tagger runs again
    after = store.get_item(stored.id)
    assert after is not None
    assert set(after.topics) == {"corruption", "organized-crime"}
    origins = {t.topic: t.origin for t in after.taggings}
    assert origins == {"corruption": "auto", "organized-crime": "manual"}
    detail = store.tag_result(stored.id)
    assert detail is not None
    assert "terrorism" in detail.scores
    assert detail.countries == ("BY",)
    with pytest.raises(ValueError):
        store.set_manual_tags(stored.id, add=["x"], remove=["x"], now=NOW)


def test_ledger_sends_each_item_once_per_subscriber_and_kind(store: SqlStore) -> None:
    store.sync_config_recipients([Subscriber("Ana@Example.org", ("corruption",))], NOW)
    store.apply_collect(ok(item("1"), item("2"), item("3")), NOW)
    tag(store, ("corruption",))
    first = store.unsent_items(rid(store, "ana@example.org"), ["corruption"], "digest", limit=2)
    assert [s.item.identity for s in first] == ["1", "2"]
    dispatch = store.reserve_dispatch(
        rid(store, "ana@example.org"), "digest", [s.id for s in first], "<m1@x>", NOW
    )
    assert store.pending_dispatches() == [dispatch]
    rest = store.unsent_items(rid(store, "ana@example.org"), ["corruption"], "digest", limit=10)
    assert [s.item.identity for s in rest] == ["3"]
    assert (
        len(store.unsent_items(rid(store, "ana@example.org"), ["corruption"], "alert", limit=10))
        == 3
    )
    with pytest.raises(StorageError, match="already reserved"):
        store.reserve_dispatch(
            rid(store, "ana@example.org"), "digest", [first[0].id], "<m2@x>", NOW
        )
    store.mark_sent(dispatch.id, NOW)
    assert store.pending_dispatches() == []
    (state,) = store.recipient_states()
    assert state.last_digest_at == NOW
    assert store.dispatch_counts() == {
        "pending": 0,
        "sending": 0,
        "unknown": 0,
        "resending": 0,
        "sent": 1,
        "failed": 0,
    }
    later = store.unsent_items(
        rid(store, "ana@example.org"),
        ["corruption"],
        "alert",
        limit=10,
        since=NOW + timedelta(seconds=1),
    )
    assert later == []


def test_subscribers_sync_keeps_unsubscribes(store: SqlStore) -> None:
    store.sync_config_recipients(
        [Subscriber("a@x.org", ("terrorism",), timezone="Europe/Vienna")], NOW
    )
    assert store.unsubscribe("A@x.org", NOW)
    assert not store.unsubscribe("a@x.org", NOW)
    store.sync_config_recipients([Subscriber("a@x.org", ("terrorism", "corruption"))], NOW)
    (state,) = store.recipient_states()
    assert state.unsubscribed_at == NOW
    assert state.subscriber.topics == ("terrorism", "corruption")
    store.sync_config_recipients([], NOW)
    assert store.recipient_states() == []


def test_leases_exclude_other_holders_until_expiry(store: SqlStore) -> None:
    later = NOW + timedelta(seconds=30)
    assert store.acquire_lease("cycle", "w1", 60, NOW)
    assert not store.acquire_lease("cycle", "w2", 60, NOW)
    assert not store.acquire_lease("cycle", "w1", 60, NOW)  # not re-entrant: renew instead
    assert store.renew_lease("cycle", "w1", 60, later)  # now until NOW + 90 s
    assert not store.renew_lease("cycle", "w2", 60, later)
    assert not store.acquire_lease("cycle", "w2", 60, NOW + timedelta(seconds=61))
    assert store.acquire_lease("cycle", "w2", 60, NOW + timedelta(seconds=91))
    assert not store.renew_lease("cycle", "w1", 60, NOW + timedelta(seconds=92))  # lost
    store.release_lease("cycle", "w1")  # someone else's lease is left alone
    assert [(r.name, r.holder) for r in store.leases()] == [("cycle", "w2")]
    store.release_lease("cycle", "w2")
    assert store.leases() == []
    assert store.acquire_lease("cycle", "w1", 60, NOW)


def test_a_dead_holder_is_replaced_by_one_taker_only(store: SqlStore) -> None:
    assert store.acquire_lease("deliver", "dead", 60, NOW)
    assert not store.acquire_lease("deliver", "w1", 60, NOW, replacing="someone-else")
    assert store.acquire_lease("deliver", "w1", 60, NOW, replacing="dead")
    # A second worker that found the same dead holder loses the compare-and-swap.
    assert not store.acquire_lease("deliver", "w2", 60, NOW, replacing="dead")
    (record,) = store.leases()
    assert record == LeaseRecord("deliver", "w1", NOW + timedelta(seconds=60))


def test_leases_are_listed_and_an_operator_can_break_one(store: SqlStore) -> None:
    assert store.acquire_lease("source:b", "w1", 60, NOW)
    assert store.acquire_lease("deliver", "w2", 30, NOW)
    assert store.leases() == [
        LeaseRecord("deliver", "w2", NOW + timedelta(seconds=30)),
        LeaseRecord("source:b", "w1", NOW + timedelta(seconds=60)),
    ]
    assert store.break_lease("deliver") == LeaseRecord("deliver", "w2", NOW + timedelta(seconds=30))
    assert store.break_lease("deliver") is None
    assert not store.renew_lease("deliver", "w2", 30, NOW)  # its holder finds out
    assert [r.name for r in store.leases()] == ["source:b"]
    assert store.acquire_lease("deliver", "w3", 30, NOW)


def test_secret_is_created_once(store: SqlStore) -> None:
    assert store.get_or_create_secret("k", "first") == "first"
    assert store.get_or_create_secret("k", "second") == "first"


def test_a_secret_is_read_without_being_created(store: SqlStore) -> None:
    assert store.get_secret("k") is None
    assert store.get_secret("k") is None  # reading did not create it
    store.get_or_create_secret("k", "first")
    assert store.get_secret("k") == "first"


def key_use(process: str, signs: str, seen_at: datetime, *previous: str) -> KeyUse:
    return KeyUse(process, "worker", signs, (signs, *previous), "SYNDICATOR_SIGNING_KEY", seen_at)


def test_key_uses_are_kept_per_process_and_forgotten_when_stale(store: SqlStore) -> None:
    week = timedelta(days=7)
    store.record_key_use(key_use("a:1", "f1", NOW - timedelta(days=10)), NOW - 2 * week)
    store.record_key_use(key_use("b:2", "f2", NOW - timedelta(hours=1), "f1"), NOW - week)
    assert [u.process for u in store.key_uses(NOW - 2 * week)] == ["b:2"]  # a:1 forgotten
    store.record_key_use(key_use("c:3", "f1", NOW - timedelta(hours=2)), NOW - week)
    store.record_key_use(key_use("b:2", "f3", NOW, "f2", "f1"), NOW - week)  # replaces b:2
    uses = store.key_uses(NOW - week)
    assert uses == [
        KeyUse("b:2", "worker", "f3", ("f3", "f2", "f1"), "SYNDICATOR_SIGNING_KEY", NOW),
        key_use("c:3", "f1", NOW - timedelta(hours=2)),
    ]
    assert all(u.seen_at.tzinfo is not None for u in uses)
    assert store.key_uses(NOW - timedelta(minutes=30)) == uses[:1]
    store.forget_key_use("b:2")
    store.forget_key_use("nobody:0")
    assert [u.process for u in store.key_uses(NOW - week)] == ["c:3"]


def test_version_2_database_gains_the_key_fingerprints(store_url: str) -> None:
    first = open_store(store_url)
    with first.engine.begin() as conn:
        _back_to_version_2(conn)
    first.close()
    migrated = open_store(store_url)
    try:
        assert migrated.schema_version == SCHEMA_VERSION
        migrated.record_key_use(key_use("a:1", "f1", NOW), NOW - timedelta(days=7))
        assert [u.signs for u in migrated.key_uses(NOW)] == ["f1"]
    finally:
        migrated.close()


def test_naive_datetimes_are_refused(store: SqlStore) -> None:
    with pytest.raises(StorageError):
        store.apply_collect(ok(item("1")), datetime(2026, 1, 1))


def test_reopening_keeps_data_and_newer_schema_is_refused(store_url: str) -> None:
    first = open_store(store_url)
    first.apply_collect(ok(item("1")), NOW)
    with first.engine.begin() as conn:
        conn.execute(text("UPDATE meta SET value = '999' WHERE key = 'schema_version'"))
    first.close()
    with pytest.raises(SchemaVersionError, match="newer"):
        open_store(store_url)


def test_unreachable_database_is_a_storage_error(tmp_path: object) -> None:
    with pytest.raises(StorageError):
        open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_changes_a_reader_does_not_see_are_not_updates(store: SqlStore) -> None:
    """A page that stamps "now" into its text, its link and its updated date: unchanged."""
    for n in range(3):
        stamp = NOW + timedelta(minutes=n)
        fresh = item(
            "1",
            summary=f"Customs seized cocaine. Page generated at 16:0{n}:22, {n * 7} views.",
            link=f"https://x.example/1?utm_source=rss&t=17672256{n}0",
            updated_at=stamp,
        )
        counts = store.apply_collect(ok(fresh), stamp)
        assert (counts.new, counts.updated) == ((1, 0) if n == 0 else (0, 0))
    edited = item("1", summary="Customs seized heroin. Page generated at 16:09:22, 99 views.")
    assert store.apply_collect(ok(edited), NOW + timedelta(hours=1)).updated == 1
    (stored,) = store.items_needing_tags("v1")
    assert stored.item.summary.startswith("Customs seized heroin.")
    assert stored.last_changed_at == NOW + timedelta(hours=1)


def test_churn_is_capped_then_rationed_and_a_quiet_poll_ends_it(store: SqlStore) -> None:
    """Changes normalisation cannot see (a random token here): 24 in a row, then one a day."""
    from syndicator.store.changes import CHURN_CAP

    updates = 0
    for n in range(CHURN_CAP + 5):
        counts = store.apply_collect(ok(item("1", summary=f"token {n:x}q")), NOW)
        updates += counts.updated
    assert updates == CHURN_CAP  # the first poll inserted
    assert store.apply_collect(ok(item("1", summary="real news")), NOW).updated == 0
    tomorrow = NOW + timedelta(days=1)
    assert store.apply_collect(ok(item("1", summary="real news")), tomorrow).updated == 1
    assert store.apply_collect(ok(item("1", summary="real news")), tomorrow).unchanged == 1
    # one poll without a change ended the run: changes are taken at once again
    assert store.apply_collect(ok(item("1", summary="more news")), tomorrow).updated == 1


def test_hashes_of_an_older_rule_are_replaced_without_an_update(store: SqlStore) -> None:
    """Upgrading must not make every stored item look updated (republished, re-tagged)."""
    store.apply_collect(ok(item("1", summary="Seized at 10:00"), item("2", summary="Two")), NOW)
    tag(store, ("corruption",))
    with store.engine.begin() as conn:  # what the previous rule (version 1) stored
        conn.execute(text("UPDATE items SET content_hash = '1:' || identity"))
        conn.execute(text("UPDATE items SET tagged_hash = content_hash"))
    later = NOW + timedelta(hours=1)
    counts = store.apply_collect(
        ok(item("1", summary="Seized at 11:30"), item("2", summary="Two, edited")), later
    )
    assert (counts.updated, counts.unchanged) == (1, 1)  # only the real edit
    (retag,) = store.items_needing_tags("v1")  # the unchanged one keeps its tags
    assert retag.item.summary == "Two, edited"
    with store.engine.begin() as conn:
        hashes = conn.execute(text("SELECT content_hash FROM items")).scalars().all()
    assert all(h.startswith("2:") for h in hashes)
    assert store.apply_collect(ok(item("1", summary="Seized at 12:00")), later).updated == 0


def test_source_location_is_kept(store: SqlStore) -> None:
    store.apply_collect(
        CollectResult(source_id="src", status="ok", location="https://x.example/feed"), NOW
    )
    store.apply_collect(CollectResult(source_id="src", status="not_modified"), NOW)
    assert store.source_states()["src"].url == "https://x.example/feed"


def _back_to_version_7(conn: Connection) -> None:
    """Undo what version 8 did: no search index."""
    conn.execute(text("DROP TABLE item_search"))
    conn.execute(text("UPDATE meta SET value = '7' WHERE key = 'schema_version'"))


def _v6_tables() -> tuple[Table, Table, Table]:
    """The subscriber and ledger tables as version 6 wrote them (keyed by address)."""
    md = MetaData()
    Table("items", md, Column("id", Integer, primary_key=True))
    subscribers = Table(
        "subscribers",
        md,
        Column("email", String(320), primary_key=True),
        Column("name", Text),
        Column("topics", JSON, nullable=False),
        Column("cadence", String(10), nullable=False),
        Column("timezone", String(64), nullable=False),
        Column("alerts", Boolean, nullable=False),
        Column("configured", Boolean, nullable=False),
        Column("subscribed_at", UTCDateTime, nullable=False),
        Column("unsubscribed_at", UTCDateTime),
        Column("last_digest_at", UTCDateTime),
        Column("bounces", Integer, nullable=False, default=0),
        Column("bounced_at", UTCDateTime),
    )
    dispatches = Table(
        "dispatches",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("email", String(320), nullable=False),
        Column("kind", String(10), nullable=False),
        Column("message_id", String(400), nullable=False, unique=True),
        Column("created_at", UTCDateTime, nullable=False),
        Column("sent_at", UTCDateTime),
        Column("state", String(10), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("last_attempt_at", UTCDateTime),
        Column("last_error", Text),
        Column("failed_at", UTCDateTime),
    )
    Index("ix_dispatches_state", dispatches.c.state)
    ledger = Table(
        "dispatch_items",
        md,
        Column("email", String(320), primary_key=True),
        Column("kind", String(10), primary_key=True),
        Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
        Column("dispatch_id", Integer, ForeignKey("dispatches.id"), nullable=False),
    )
    return subscribers, dispatches, ledger


def _back_to_version_6(conn: Connection) -> None:
    """Undo versions 8 and 7: recipients become config subscribers, the ledger is keyed by
    address."""
    _back_to_version_7(conn)
    recipients = conn.execute(select(schema.recipients)).mappings().all()
    address = {r["id"]: r["address"] for r in recipients}
    sent = conn.execute(select(schema.dispatches)).mappings().all()
    carried = conn.execute(select(schema.dispatch_items)).mappings().all()
    for table in ("dispatch_items", "dispatches", "recipients"):
        conn.execute(text(f"DROP TABLE {table}"))
    subscribers, dispatches, ledger = _v6_tables()
    for table in (subscribers, dispatches, ledger):
        table.create(conn)
    if recipients:
        conn.execute(
            insert(subscribers),
            [
                {
                    "email": r["address"],
                    "name": r["display_name"],
                    "topics": r["topics"],
                    "cadence": r["cadence"],
                    "timezone": r["timezone"] or "UTC",
                    "alerts": r["alerts"],
                    "configured": r["status"] != "removed",
                    "subscribed_at": r["subscribed_at"],
                    "unsubscribed_at": r["unsubscribed_at"],
                    "last_digest_at": r["last_digest_at"],
                    "bounces": r["bounces"],
                    "bounced_at": r["bounced_at"],
                }
                for r in recipients
            ],
        )
    if sent:
        conn.execute(
            insert(dispatches),
            [
                {k: v for k, v in d.items() if k != "recipient_id"}
                | {"email": address[d["recipient_id"]]}
                for d in sent
            ],
        )
    if carried:
        conn.execute(
            insert(ledger),
            [
                {
                    "email": address[c["recipient_id"]],
                    "kind": c["kind"],
                    "item_id": c["item_id"],
                    "dispatch_id": c["dispatch_id"],
                }
                for c in carried
            ],
        )
    if conn.dialect.name == "postgresql":  # explicit ids left the sequence behind
        conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('dispatches', 'id'), "
                "COALESCE((SELECT MAX(id) FROM dispatches), 0) + 1, false)"
            )
        )
    conn.execute(text("UPDATE meta SET value = '6' WHERE key = 'schema_version'"))


def _back_to_version_5(conn: Connection) -> None:
    """Undo versions 8 to 6: undated items sort at their first-seen time again."""
    _back_to_version_6(conn)
    conn.execute(text("UPDATE items SET sort_at = first_seen_at WHERE published_at IS NULL"))
    conn.execute(text("UPDATE meta SET value = '5' WHERE key = 'schema_version'"))


def _back_to_version_4(conn: Connection) -> None:
    """Undo versions 6 and 5 (source warnings), as version 4 wrote it."""
    _back_to_version_5(conn)
    conn.execute(text("ALTER TABLE sources DROP COLUMN warnings"))
    conn.execute(text("UPDATE meta SET value = '4' WHERE key = 'schema_version'"))


def _back_to_version_3(conn: Connection) -> None:
    """Undo versions 6 to 4 (the ledger's states, bounces), as version 3 wrote it."""
    _back_to_version_4(conn)
    conn.execute(text("DROP INDEX ix_dispatches_state"))
    for column in ("state", "attempts", "last_attempt_at", "last_error", "failed_at"):
        conn.execute(text(f"ALTER TABLE dispatches DROP COLUMN {column}"))
    conn.execute(text("CREATE INDEX ix_dispatches_pending ON dispatches (sent_at)"))
    conn.execute(text("ALTER TABLE subscribers DROP COLUMN bounces"))
    conn.execute(text("ALTER TABLE subscribers DROP COLUMN bounced_at"))
    conn.execute(text("UPDATE meta SET value = '3' WHERE key = 'schema_version'"))


def _back_to_version_2(conn: Connection) -> None:
    """Undo versions 6 to 3 (the key fingerprints), as version 2 wrote it."""
    _back_to_version_3(conn)
    conn.execute(text("DROP TABLE key_fingerprints"))
    conn.execute(text("UPDATE meta SET value = '2' WHERE key = 'schema_version'"))


def _back_to_version_1(conn: Connection) -> None:
    """Undo versions 6 to 2 (source locations, hash-only change counts)."""
    _back_to_version_2(conn)
    conn.execute(text("ALTER TABLE sources DROP COLUMN url"))
    conn.execute(text("ALTER TABLE items DROP COLUMN hash_only_changes"))
    conn.execute(text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))


BACK_TO = {
    1: _back_to_version_1,
    2: _back_to_version_2,
    3: _back_to_version_3,
    4: _back_to_version_4,
    5: _back_to_version_5,
    6: _back_to_version_6,
    7: _back_to_version_7,
}


def test_every_version_is_known_to_the_tests() -> None:
    assert set(BACK_TO) == set(range(1, SCHEMA_VERSION))


@pytest.mark.parametrize("version", sorted(BACK_TO))
def test_older_database_migrates_forward_keeping_data(store_url: str, version: int) -> None:
    first = open_store(store_url)
    first.apply_collect(ok(item("1")), NOW)
    with first.engine.begin() as conn:  # turn it back into an older database
        BACK_TO[version](conn)
    first.close()
    migrated = open_store(store_url)
    try:
        assert migrated.schema_version == SCHEMA_VERSION
        assert migrated.item_count() == 1
        assert migrated.source_states()["src"].warnings == ()
        changed = CollectResult(
            source_id="src", status="ok", items=(item("1", summary="changed"),), warnings=("w",)
        )
        assert migrated.apply_collect(changed, NOW).updated == 1
        assert migrated.source_states()["src"].warnings == ("w",)
    finally:
        migrated.close()


def test_version_3_database_migrates_keeping_the_ledger(store_url: str) -> None:
    """v3 → v4: sent messages become ``sent``, unsent ones ``pending``; no bounces yet."""
    first = open_store(store_url)
    first.sync_config_recipients([Subscriber("a@x.org", ("corruption",))], NOW)
    first.apply_collect(ok(item("1"), item("2")), NOW)
    tag(first, ("corruption",))
    one, two = first.unsent_items(rid(first, "a@x.org"), ["corruption"], "digest", limit=5)
    sent = first.reserve_dispatch(rid(first, "a@x.org"), "digest", [one.id], "<s@x>", NOW)
    first.mark_sent(sent.id, NOW)
    first.reserve_dispatch(rid(first, "a@x.org"), "digest", [two.id], "<p@x>", NOW)
    with first.engine.begin() as conn:
        _back_to_version_3(conn)
    first.close()
    migrated = open_store(store_url)
    try:
        assert migrated.schema_version == SCHEMA_VERSION
        counts = migrated.dispatch_counts()
        assert (counts["sent"], counts["pending"]) == (1, 1)
        (pending,) = migrated.pending_dispatches()
        assert (pending.message_id, pending.state, pending.attempts) == ("<p@x>", "pending", 0)
        (state,) = migrated.recipient_states()
        assert (state.bounces, state.bounced_at) == (0, None)
        assert migrated.record_bounce("a@x.org", NOW) == 1
        migrated.begin_attempt(pending.id, "sending", NOW)
        migrated.mark_sent(pending.id, NOW)
        assert migrated.dispatch_counts()["sent"] == 2
        assert migrated.recipient_states()[0].bounces == 0
    finally:
        migrated.close()


def test_source_health_keeps_the_last_warnings_bounded(store: SqlStore) -> None:
    many = tuple(f"file-{n}.txt: skipped, not a regular file (a FIFO)" for n in range(25))
    long = "x.txt: " + "y" * 2000
    store.apply_collect(
        CollectResult(source_id="src", status="ok", warnings=(long, *many[1:])), NOW
    )
    kept = store.source_states()["src"].warnings
    assert len(kept) == MAX_STORED_WARNINGS + 1
    assert kept[0].startswith("x.txt: yyy")
    assert len(kept[0]) == MAX_WARNING_CHARS
    assert kept[1:MAX_STORED_WARNINGS] == many[1:MAX_STORED_WARNINGS]
    assert kept[-1] == "… and 5 more (see the log)"
    # The next collection's warnings replace them; none clears them.
    store.apply_collect(CollectResult(source_id="src", status="ok", warnings=("z.txt: w",)), NOW)
    assert store.source_states()["src"].warnings == ("z.txt: w",)
    store.apply_collect(CollectResult(source_id="src", status="not_modified"), NOW)
    assert store.source_states()["src"].warnings == ()


def test_warning_naming_a_file_that_is_not_utf8_is_stored(store: SqlStore) -> None:
    name = b"caf\xe9.txt".decode("utf-8", "surrogateescape")  # as os.scandir gives it
    warning = f"{name}: skipped, a symbolic link to a file outside the folder"
    store.apply_collect(CollectResult(source_id="src", status="ok", warnings=(warning,)), NOW)
    assert store.source_states()["src"].warnings == (
        "caf\\udce9.txt: skipped, a symbolic link to a file outside the folder",
    )


def test_identities_of_a_source(store: SqlStore) -> None:
    store.apply_collect(ok(item("link:https://x/1"), item("link:https://x/2")), NOW)
    assert store.identities("src") == {"link:https://x/1", "link:https://x/2"}
    assert store.identities("other") == frozenset()


def test_cancelled_dispatch_releases_its_items(store: SqlStore) -> None:
    store.sync_config_recipients([Subscriber("a@x.org", ("corruption",))], NOW)
    store.apply_collect(ok(item("1")), NOW)
    tag(store, ("corruption",))
    (stored,) = store.unsent_items(rid(store, "a@x.org"), ["corruption"], "digest", limit=5)
    dispatch = store.reserve_dispatch(rid(store, "a@x.org"), "digest", [stored.id], "<c1@x>", NOW)
    assert store.unsent_items(rid(store, "a@x.org"), ["corruption"], "digest", limit=5) == []
    store.cancel_dispatch(dispatch.id)
    assert store.pending_dispatches() == []
    assert [
        s.id for s in store.unsent_items(rid(store, "a@x.org"), ["corruption"], "digest", limit=5)
    ] == [stored.id]


def test_dispatch_states_attempts_and_bounded_errors(store: SqlStore) -> None:
    store.sync_config_recipients([Subscriber("a@x.org", ("corruption",))], NOW)
    store.apply_collect(ok(item("1")), NOW)
    tag(store, ("corruption",))
    (stored,) = store.unsent_items(rid(store, "a@x.org"), ["corruption"], "digest", limit=5)
    dispatch = store.reserve_dispatch(rid(store, "a@x.org"), "digest", [stored.id], "<d@x>", NOW)
    assert (dispatch.state, dispatch.attempts, dispatch.last_error) == ("pending", 0, None)

    store.begin_attempt(dispatch.id, "sending", NOW)
    (found,) = store.pending_dispatches()
    assert (found.state, found.attempts) == ("sending", 1)  # in flight: still to settle
    store.record_failure(dispatch.id, "pending", "451 " + "x" * 2000, NOW)
    (found,) = store.pending_dispatches()
    assert found.state == "pending"
    assert found.last_error is not None
    assert len(found.last_error) == ERROR_CHARS
    assert found.last_error.startswith("451 ")

    store.begin_attempt(dispatch.id, "sending", NOW)
    store.record_failure(dispatch.id, "unknown", "no answer after the final dot", NOW)
    assert store.dispatch_counts()["unknown"] == 1
    store.begin_attempt(dispatch.id, "resending", NOW)
    (found,) = store.pending_dispatches()
    assert (found.state, found.attempts) == ("resending", 3)
    store.record_failure(dispatch.id, "failed", "outcome unknown twice", NOW)
    assert store.pending_dispatches() == []
    counts = store.dispatch_counts()
    assert (counts["failed"], counts["unknown"], counts["sent"]) == (1, 0, 0)
    # A failed message keeps its items: the next digest does not carry them again.
    assert store.unsent_items(rid(store, "a@x.org"), ["corruption"], "digest", limit=5) == []


def test_bounces_count_in_a_row_until_a_delivery_or_a_resubscribe(store: SqlStore) -> None:
    store.sync_config_recipients([Subscriber("a@x.org", ("corruption",))], NOW)
    assert store.record_bounce("A@x.org", NOW) == 1
    later = NOW + timedelta(days=1)
    assert store.record_bounce("a@x.org", later) == 2
    (state,) = store.recipient_states()
    assert (state.bounces, state.bounced_at) == (2, later)

    store.apply_collect(ok(item("1")), NOW)
    tag(store, ("corruption",))
    (stored,) = store.unsent_items(rid(store, "a@x.org"), ["corruption"], "digest", limit=5)
    dispatch = store.reserve_dispatch(rid(store, "a@x.org"), "digest", [stored.id], "<b@x>", NOW)
    store.mark_sent(dispatch.id, later)  # the address works after all
    assert store.recipient_states()[0].bounces == 0

    assert store.record_bounce("a@x.org", later) == 1
    assert store.resubscribe("a@x.org")
    assert store.recipient_states()[0].bounces == 0
    with pytest.raises(StorageError, match=r"nobody@x\.org"):
        store.record_bounce("nobody@x.org", NOW)


def test_version_5_database_moves_undated_items_to_their_day(store_url: str) -> None:
    first = open_store(store_url)
    evening = NOW.replace(hour=20)
    first.apply_collect(ok(item("undated"), item("dated", published_at=NOW)), evening)
    with first.engine.begin() as conn:
        BACK_TO[5](conn)
    tag(first, ("corruption",))
    assert [s.item.identity for s in first.recent_items(None, 5)] == ["undated", "dated"]
    first.close()
    migrated = open_store(store_url)
    try:
        assert migrated.schema_version == SCHEMA_VERSION
        assert [s.item.identity for s in migrated.recent_items(None, 5)] == ["dated", "undated"]
    finally:
        migrated.close()


def test_version_6_database_migrates_keeping_the_ledger_and_nothing_is_resent(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """v6 → v7: subscribers become recipients, the ledger is re-keyed on their ids."""
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", "test-key")
    settings = Settings.model_validate(
        {
            "base_url": "https://news.example.org/",
            "taxonomy": {"topics": [{"id": "corruption", "title": "Corruption"}]},
            "delivery": {"outbox_dir": str(tmp_path / "out"), "sender": "n@example.org"},
            "subscribers": [{"email": "a@x.org", "topics": ["corruption"]}],
        }
    )
    first = open_store(store_url)
    first.sync_config_recipients([Subscriber("a@x.org", ("corruption",))], NOW)
    first.sync_config_recipients(
        [Subscriber("a@x.org", ("corruption",)), Subscriber("left@x.org", ("corruption",))], NOW
    )
    first.apply_collect(ok(item("1"), item("2")), NOW)
    tag(first, ("corruption",))
    ids = [s.id for s in first.unsent_items(rid(first, "a@x.org"), ["corruption"], "digest", 5)]
    sent = first.reserve_dispatch(rid(first, "a@x.org"), "digest", ids, "<s@x>", NOW)
    first.mark_sent(sent.id, NOW)
    gone = first.reserve_dispatch(rid(first, "left@x.org"), "digest", ids[:1], "<g@x>", NOW)
    first.mark_sent(gone.id, NOW)
    first.record_bounce("a@x.org", NOW)
    with first.engine.begin() as conn:
        _back_to_version_6(conn)
        conn.execute(text("DELETE FROM subscribers WHERE email = 'left@x.org'"))  # an orphan
    first.close()
    migrated = open_store(store_url)
    try:
        assert migrated.schema_version == SCHEMA_VERSION
        (state,) = migrated.recipient_states()
        assert (state.subscriber.email, state.status, state.managed_by) == (
            "a@x.org",
            "active",
            "config",
        )
        assert (state.last_digest_at, state.subscribed_at, state.bounces) == (NOW, NOW, 1)
        orphan = migrated.find_recipient("left@x.org")
        assert orphan is not None
        assert orphan.status == "removed"
        assert migrated.dispatch_counts()["sent"] == 2
        assert [d.message_id for d in migrated.recipient_dispatches(state.id)] == ["<s@x>"]
        assert migrated.unsent_items(state.id, ["corruption"], "digest", 5) == []
        report = deliver_due(migrated, settings, NOW + timedelta(days=2))
        assert (report.sent, report.nothing_new) == ([], 1)  # nothing already sent goes again
        migrated.apply_collect(ok(item("3")), NOW + timedelta(days=2))
        tag(migrated, ("corruption",))
        report = deliver_due(migrated, settings, NOW + timedelta(days=3))
        assert report.sent == [("a@x.org", "digest", 1)]
    finally:
        migrated.close()


def test_forgetting_a_recipient_keeps_the_ledger_but_not_the_address(store: SqlStore) -> None:
    store.sync_config_recipients([Subscriber("a@x.org", ("corruption",), name="Ann")], NOW)
    store.sync_config_recipients([], NOW)
    store.apply_collect(ok(item("1")), NOW)
    tag(store, ("corruption",))
    recipient = rid(store, "a@x.org")
    (stored,) = store.unsent_items(recipient, ["corruption"], "digest", limit=5)
    store.mark_sent(store.reserve_dispatch(recipient, "digest", [stored.id], "<f@x>", NOW).id, NOW)
    assert store.forget_recipient("A@x.org", "forgotten:abc", NOW)
    assert store.find_recipient("a@x.org") is None
    (row,) = store.recipient_states(include_gone=True)
    assert (row.id, row.status, row.subscriber.email, row.subscriber.name) == (
        recipient,
        "forgotten",
        "forgotten:abc",
        None,
    )
    (kept,) = store.recipient_dispatches(recipient)
    assert (kept.message_id, kept.item_ids, kept.email) == ("<f@x>", (stored.id,), "forgotten:abc")
    assert not store.unsubscribe("a@x.org", NOW)


def test_operator_rows_are_saved_removed_and_left_alone_by_the_config(store: SqlStore) -> None:
    entry = RecipientEntry(
        Subscriber("b@x.org", ("terrorism",), cadence="none", alerts=True),
        "operator",
        "import people.csv",
    )
    saved = store.save_recipient(entry, NOW)
    assert (saved.status, saved.consent_source, saved.consented_at) == (
        "active",
        "import people.csv",
        NOW,
    )
    store.sync_config_recipients([Subscriber("a@x.org", ("corruption",))], NOW)
    assert [r.subscriber.email for r in store.recipient_states()] == ["a@x.org", "b@x.org"]
    store.sync_config_recipients([], NOW)  # the config's own row goes, the operator's stays
    assert [r.subscriber.email for r in store.recipient_states()] == ["b@x.org"]
    assert store.remove_recipient("B@x.org", NOW)
    assert not store.remove_recipient("b@x.org", NOW)
    assert store.recipient_states() == []
    again = store.save_recipient(entry, NOW + timedelta(days=1))
    assert (again.id, again.status, again.subscribed_at) == (saved.id, "active", NOW)


def test_recipients_keep_their_countries_and_query_from_config_and_operator(
    store: SqlStore,
) -> None:
    wanted = Subscriber("a@x.org", (), countries=("UA", "MD"), query='"money laundering"')
    store.sync_config_recipients([wanted], NOW)
    store.save_recipient(
        RecipientEntry(Subscriber("b@x.org", ("corruption",), query="-x y"), "operator", "t"),
        NOW,
    )
    a, b = store.recipient_states()
    assert (a.subscriber, a.countries, a.query) == (wanted, ("UA", "MD"), '"money laundering"')
    assert (b.subscriber.countries, b.subscriber.query) == ((), "-x y")
    store.sync_config_recipients([Subscriber("a@x.org", (), countries=("FR",))], NOW)
    changed = store.find_recipient("a@x.org")
    assert changed is not None
    assert (changed.subscriber.countries, changed.subscriber.query) == (("FR",), None)


def test_unsent_candidates_are_oldest_first_continue_after_and_skip_the_ledger(
    store: SqlStore,
) -> None:
    for n in range(4):
        title = "Bribery case" if n != 2 else "Fraud case"
        store.apply_collect(ok(item(f"c{n}", title)), NOW + timedelta(minutes=n))
    tag(store, ("corruption",))
    store.sync_config_recipients([Subscriber("a@x.org", ("corruption",))], NOW)
    who = rid(store, "a@x.org")
    bribery = Contains(" bribery ")
    first = store.unsent_candidates(who, bribery, "digest", 2)
    assert [s.item.identity for s in first] == ["c0", "c1"]
    after = (first[-1].first_seen_at, first[-1].id)
    rest = store.unsent_candidates(who, bribery, "digest", 10, after=after)
    assert [s.item.identity for s in rest] == ["c3"]
    store.reserve_dispatch(who, "digest", [first[0].id], "<c@x>", NOW)
    left = store.unsent_candidates(who, HasValue("topic", ("corruption",)), "digest", 10)
    assert [s.item.identity for s in left] == ["c1", "c2", "c3"]
    assert len(store.unsent_candidates(who, bribery, "alert", 10)) == 3
    since = store.unsent_candidates(who, bribery, "digest", 10, since=NOW + timedelta(minutes=3))
    assert [s.item.identity for s in since] == ["c3"]


def test_a_sign_up_is_pending_until_confirmed_and_expires_unconfirmed(
    store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9 (sign-up): pending rows get nothing; confirming activates; expiry deletes."""
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", "test-key")
    settings = Settings.model_validate(
        {
            "base_url": "https://news.example.org/",
            "taxonomy": {"topics": [{"id": "corruption", "title": "Corruption"}]},
            "delivery": {"outbox_dir": str(tmp_path / "out"), "sender": "n@example.org"},
        }
    )
    entry = RecipientEntry(
        Subscriber("c@x.org", ("corruption",), cadence="weekly", alerts=True),
        "self",
        "sign-up page corruption.html",
    )
    pending = store.save_pending(entry, NOW)
    assert (pending.status, pending.managed_by, pending.consent_source) == (
        "pending",
        "self",
        "sign-up page corruption.html",
    )
    assert (pending.consented_at, pending.confirmed_at) == (NOW, None)
    store.apply_collect(ok(item("1")), NOW)
    tag(store, ("corruption",))
    report = deliver_due(store, settings, NOW + timedelta(days=8))
    assert (report.sent, report.skipped) == ([], 1)  # nothing ever goes to a pending address
    later = NOW + timedelta(hours=1)
    confirmed = store.confirm_pending("C@x.org", later)
    assert confirmed is not None
    assert (confirmed.status, confirmed.confirmed_at, confirmed.consented_at) == (
        "active",
        later,
        NOW,
    )
    assert confirmed.subscriber.cadence == "weekly"
    assert confirmed.subscriber.alerts
    assert store.confirm_pending("c@x.org", later) is None  # once only
    assert store.expire_pending(NOW + timedelta(days=30), later) == 0  # active rows stay

    store.save_pending(RecipientEntry(Subscriber("d@x.org", ("terrorism",)), "self", "p"), NOW)
    assert store.expire_pending(NOW, later) == 0  # not older than the cut-off
    assert store.expire_pending(NOW + timedelta(seconds=1), later) == 1
    assert store.find_recipient("d@x.org") is None
    assert store.confirm_pending("d@x.org", later) is None


def test_an_unconfirmed_return_after_unsubscribing_stays_unsubscribed(store: SqlStore) -> None:
    store.sync_config_recipients([Subscriber("e@x.org", ("corruption",))], NOW)
    store.sync_config_recipients([], NOW)
    operator = RecipientEntry(Subscriber("e@x.org", ("corruption",)), "operator", "o")
    store.save_recipient(operator, NOW)
    assert store.unsubscribe("e@x.org", NOW)
    entry = RecipientEntry(Subscriber("e@x.org", ("terrorism",)), "self", "sign-up page index.html")
    assert store.save_pending(entry, NOW).status == "pending"
    assert store.expire_pending(NOW + timedelta(days=8), NOW + timedelta(days=8)) == 1
    row = store.find_recipient("e@x.org")
    assert row is not None
    assert row.status == "unsubscribed"
    assert row.unsubscribed_at == NOW
    store.save_pending(entry, NOW + timedelta(days=9))
    back = store.confirm_pending("e@x.org", NOW + timedelta(days=9))
    assert back is not None
    assert back.status == "active"
    assert back.unsubscribed_at is None
    assert back.subscriber.topics == ("terrorism",)
