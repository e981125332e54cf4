"""Subscriptions by query and by country get exactly the stored items they ask for,
in digests and alerts, on SQLite and PostgreSQL (the ``store`` fixture runs both)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from syndicator.deliver import deliver_due
from syndicator.models import CollectResult, Item, TagResult
from syndicator.query.subscription import interest
from syndicator.service.app import Syndicator
from syndicator.store import SqlStore
from syndicator.store.search import unsent_for

from .conftest import MakeSettings

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
_n = itertools.count(1)


def add(
    store: SqlStore, title: str, body: str, topics: tuple[str, ...], countries: tuple[str, ...]
) -> int:
    """One collected and tagged item, first seen a minute after T0 (after subscribing)."""
    identity = f"q-item-{next(_n)}"
    item = Item(
        source_id="osce",
        identity=identity,
        title=title,
        link=f"https://example.org/{identity}",
        summary=body,
    )
    seen = T0 + timedelta(minutes=1)
    store.apply_collect(CollectResult(source_id="osce", status="ok", items=(item,)), seen)
    (stored,) = [s for s in store.items_needing_tags("v1") if s.item.identity == identity]
    result = TagResult(
        topics=topics,
        scores=dict.fromkeys(topics, 2.0),
        evidence={t: ["evidence"] for t in topics},
        countries=countries,
    )
    store.save_tags(stored.id, result, "v1", seen)
    return stored.id


def carried(store: SqlStore, email: str) -> dict[str, set[int]]:
    state = store.find_recipient(email)
    assert state is not None
    found: dict[str, set[int]] = {"digest": set(), "alert": set()}
    for dispatch in store.recipient_dispatches(state.id):
        assert dispatch.state == "sent"
        found[dispatch.kind] |= set(dispatch.item_ids)
    return found


def test_query_and_country_subscribers_get_exactly_their_items_in_digests_and_alerts(
    store: SqlStore, make_settings: MakeSettings
) -> None:
    settings = make_settings(
        subscribers=[
            {"email": "topics@example.org", "topics": ["corruption"], "alerts": True},
            {
                "email": "both@example.org",
                "topics": ["corruption"],
                "countries": ["UA"],
                "alerts": True,
            },
        ]
    )
    app = Syndicator(settings, store)
    query = '("money laundering" OR 腐败) -football'
    app.add_subscriber("query@example.org", [], query=query, alerts=True, now=T0)
    app.add_subscriber("country@example.org", [], countries=["ua", "MD"], alerts=True, now=T0)
    deliver_due(store, settings, T0)  # syncs the configured ones at T0 as well

    kyiv = add(
        store, "Port bribery in Kyiv", "Money laundering through ships.", ("corruption",), ("UA",)
    )
    chisinau = add(
        store,
        "Money laundering ring",
        "Football clubs were used to launder money laundering proceeds.",
        ("organized-crime",),
        ("MD",),
    )
    paris = add(store, "Paris court", "A money laundering case opened.", ("corruption",), ("FR",))
    beijing = add(store, "北京审理腐败案件", "法院今天开庭。", ("corruption",), ("CN",))
    seizure = add(
        store, "Drug seizure", "Heroin found at the border.", ("drug-trafficking",), ("UA",)
    )

    report = deliver_due(store, settings, T0 + timedelta(minutes=2))
    assert report.failures == []
    expected = {
        "query@example.org": {kyiv, paris, beijing},
        "country@example.org": {kyiv, chisinau, seizure},
        "both@example.org": {kyiv},
        "topics@example.org": {kyiv, paris, beijing},  # unchanged: the plain SQL path
    }
    for email, items in expected.items():
        assert carried(store, email) == {"digest": items, "alert": items}, email

    # Running again sends nothing more: the ledger excludes what was carried.
    later = deliver_due(store, settings, T0 + timedelta(days=1, hours=1))
    assert later.sent == []


def test_query_path_pages_oldest_first_and_skips_what_was_carried(
    store: SqlStore, make_settings: MakeSettings
) -> None:
    settings = make_settings(subscribers=[])
    Syndicator(settings, store).add_subscriber("q@example.org", [], query="bribery", now=T0)
    state = store.find_recipient("q@example.org")
    assert state is not None
    ids = [
        add(store, f"Bribery case {n}" if n % 2 else f"Fraud case {n}", "Text.", (), ())
        for n in range(1, 8)
    ]
    wanted = [ids[0], ids[2], ids[4], ids[6]]
    subscription = interest((), (), "bribery")
    for batch in (1, 2, 500):  # pages of candidates give the same answer as one page
        found = unsent_for(store, state.id, subscription, "digest", 3, batch=batch)
        assert [s.id for s in found] == wanted[:3], batch
    store.reserve_dispatch(state.id, "digest", wanted[:2], "<m1@example.org>", T0)
    found = unsent_for(store, state.id, subscription, "digest", 10, batch=1)
    assert [s.id for s in found] == wanted[2:]
    assert [s.id for s in unsent_for(store, state.id, subscription, "alert", 10)] == wanted
