"""The storage contract, run on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from syndicator.errors import SchemaVersionError, StorageError
from syndicator.models import Caching, CollectResult, Item, Subscriber, TagResult
from syndicator.store import SqlStore, open_store
from syndicator.store.schema import SCHEMA_VERSION

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


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
        store.save_tags(
            stored.id, TagResult(topics, dict.fromkeys(topics, 2.0), {}), "v1", NOW
        )
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
    store.sync_subscribers([Subscriber("Ana@Example.org", ("corruption",))], NOW)
    store.apply_collect(ok(item("1"), item("2"), item("3")), NOW)
    tag(store, ("corruption",))
    first = store.unsent_items("ana@example.org", ["corruption"], "digest", limit=2)
    assert [s.item.identity for s in first] == ["1", "2"]
    dispatch = store.reserve_dispatch(
        "ana@example.org", "digest", [s.id for s in first], "<m1@x>", NOW
    )
    assert store.pending_dispatches() == [dispatch]
    rest = store.unsent_items("ana@example.org", ["corruption"], "digest", limit=10)
    assert [s.item.identity for s in rest] == ["3"]
    assert len(store.unsent_items("ana@example.org", ["corruption"], "alert", limit=10)) == 3
    with pytest.raises(StorageError, match="already reserved"):
        store.reserve_dispatch("ana@example.org", "digest", [first[0].id], "<m2@x>", NOW)
    store.mark_sent(dispatch.id, NOW)
    assert store.pending_dispatches() == []
    (state,) = store.subscriber_states()
    assert state.last_digest_at == NOW
    assert store.dispatch_counts() == {"sent": 1, "pending": 0}
    later = store.unsent_items(
        "ana@example.org", ["corruption"], "alert", limit=10, since=NOW + timedelta(seconds=1)
    )
    assert later == []


def test_subscribers_sync_keeps_unsubscribes(store: SqlStore) -> None:
    store.sync_subscribers([Subscriber("a@x.org", ("terrorism",), timezone="Europe/Vienna")], NOW)
    assert store.unsubscribe("A@x.org", NOW)
    assert not store.unsubscribe("a@x.org", NOW)
    store.sync_subscribers([Subscriber("a@x.org", ("terrorism", "corruption"))], NOW)
    (state,) = store.subscriber_states()
    assert state.unsubscribed_at == NOW
    assert state.subscriber.topics == ("terrorism", "corruption")
    store.sync_subscribers([], NOW)
    assert store.subscriber_states() == []


def test_leases_exclude_other_holders_until_expiry(store: SqlStore) -> None:
    assert store.acquire_lease("cycle", "w1", 60, NOW)
    assert not store.acquire_lease("cycle", "w2", 60, NOW)
    assert store.acquire_lease("cycle", "w1", 60, NOW)  # renewal
    assert store.acquire_lease("cycle", "w2", 60, NOW + timedelta(seconds=61))
    store.release_lease("cycle", "w2")
    assert store.acquire_lease("cycle", "w1", 60, NOW)


def test_secret_is_created_once(store: SqlStore) -> None:
    assert store.get_or_create_secret("k", "first") == "first"
    assert store.get_or_create_secret("k", "second") == "first"


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


def test_hash_only_changes_are_capped_until_the_publisher_updates(store: SqlStore) -> None:
    from syndicator.store.sql import HASH_ONLY_UPDATE_CAP

    stamp = NOW - timedelta(days=1)
    updates = 0
    for n in range(HASH_ONLY_UPDATE_CAP + 5):  # a page that embeds "now" in its body
        counts = store.apply_collect(ok(item("1", summary=f"at {n}", updated_at=stamp)), NOW)
        updates += counts.updated
    assert updates == HASH_ONLY_UPDATE_CAP  # the first run inserted; then the cap holds
    republished = ok(item("1", summary="real news", updated_at=stamp + timedelta(hours=1)))
    assert store.apply_collect(republished, NOW).updated == 1
    (stored,) = store.items_needing_tags("v1")
    assert stored.item.summary == "real news"


def test_source_location_is_kept(store: SqlStore) -> None:
    store.apply_collect(
        CollectResult(source_id="src", status="ok", location="https://x.example/feed"), NOW
    )
    store.apply_collect(CollectResult(source_id="src", status="not_modified"), NOW)
    assert store.source_states()["src"].url == "https://x.example/feed"


def test_version_1_database_migrates_forward_keeping_data(store_url: str) -> None:
    first = open_store(store_url)
    first.apply_collect(ok(item("1")), NOW)
    with first.engine.begin() as conn:  # turn it back into a version 1 database
        conn.execute(text("ALTER TABLE sources DROP COLUMN url"))
        conn.execute(text("ALTER TABLE items DROP COLUMN hash_only_changes"))
        conn.execute(text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
    first.close()
    migrated = open_store(store_url)
    try:
        assert migrated.schema_version == SCHEMA_VERSION
        assert migrated.item_count() == 1
        assert migrated.apply_collect(ok(item("1", summary="changed")), NOW).updated == 1
    finally:
        migrated.close()


def test_identities_of_a_source(store: SqlStore) -> None:
    store.apply_collect(ok(item("link:https://x/1"), item("link:https://x/2")), NOW)
    assert store.identities("src") == {"link:https://x/1", "link:https://x/2"}
    assert store.identities("other") == frozenset()


def test_cancelled_dispatch_releases_its_items(store: SqlStore) -> None:
    store.sync_subscribers([Subscriber("a@x.org", ("corruption",))], NOW)
    store.apply_collect(ok(item("1")), NOW)
    tag(store, ("corruption",))
    (stored,) = store.unsent_items("a@x.org", ["corruption"], "digest", limit=5)
    dispatch = store.reserve_dispatch("a@x.org", "digest", [stored.id], "<c1@x>", NOW)
    assert store.unsent_items("a@x.org", ["corruption"], "digest", limit=5) == []
    store.cancel_dispatch(dispatch.id)
    assert store.pending_dispatches() == []
    assert [s.id for s in store.unsent_items("a@x.org", ["corruption"], "digest", limit=5)] == [
        stored.id
    ]


def test_version_2_database_moves_undated_items_to_their_day(store_url: str) -> None:
    first = open_store(store_url)
    evening = NOW.replace(hour=20)
    first.apply_collect(ok(item("undated"), item("dated", published_at=NOW)), evening)
    with first.engine.begin() as conn:  # turn it back into version 2: sort_at = first seen
        conn.execute(
            text("UPDATE items SET sort_at = first_seen_at WHERE published_at IS NULL")
        )
        conn.execute(text("UPDATE meta SET value = '2' WHERE key = 'schema_version'"))
    tag(first, ("corruption",))
    assert [s.item.identity for s in first.recent_items(None, 5)] == ["undated", "dated"]
    first.close()
    migrated = open_store(store_url)
    try:
        assert migrated.schema_version == SCHEMA_VERSION == 3
        assert [s.item.identity for s in migrated.recent_items(None, 5)] == ["dated", "undated"]
    finally:
        migrated.close()
