"""Builders for the publish tests: stored items and a filled store (importable by tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from syndicator.models import CollectResult, Item, StoredItem, Tagging, TagResult
from syndicator.store.protocol import Storage

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
BASE_URL = "https://feeds.example.org/threats/"
TOPICS = [
    {
        "id": "corruption",
        "title": "Corruption",
        "description": "Bribery, embezzlement and abuse of office.",
        "link": "https://www.unodc.org/unodc/en/corruption/",
    },
    {"id": "terrorism", "title": "Terrorism"},
    {
        "id": "trafficking-in-persons",
        "title": "Trafficking in persons",
        "link": "https://www.unodc.org/unodc/en/human-trafficking/",
    },
]

def make_item(n: int, *, source: str = "unodc", **fields: Any) -> Item:
    values: dict[str, Any] = {
        "source_id": source,
        "identity": f"https://www.unodc.org/press/{n}",
        "title": f"Release {n}",
        "link": f"https://www.unodc.org/press/{n}",
        "summary": f"Summary of release {n}.",
        "content": f"First paragraph of {n}.\n\nSecond paragraph of {n}.",
        "published_at": NOW - timedelta(days=n),
    }
    values.update(fields)
    return Item(**values)


def stored(
    n: int,
    topics: Sequence[str] = ("corruption",),
    *,
    row_id: int | None = None,
    first_seen: datetime | None = None,
    last_changed: datetime | None = None,
    countries: Sequence[str] = (),
    **fields: Any,
) -> StoredItem:
    """A StoredItem as the store would return it, for the pure builders."""
    seen = first_seen or NOW - timedelta(days=n) + timedelta(hours=1)
    return StoredItem(
        id=row_id if row_id is not None else 1000 + n,
        item=make_item(n, **fields),
        first_seen_at=seen,
        last_changed_at=last_changed or seen,
        taggings=tuple(Tagging(topic=t, score=2.0, evidence=("x",)) for t in topics),
        countries=tuple(countries),
    )


def fill(store: Storage, items: Sequence[tuple[Item, Sequence[str]]], now: datetime = NOW) -> None:
    """Store items and tag each with its topics, as collect and tag would."""
    by_source: dict[str, list[Item]] = {}
    for item, _ in items:
        by_source.setdefault(item.source_id, []).append(item)
    for source, source_items in by_source.items():
        store.apply_collect(
            CollectResult(source_id=source, status="ok", items=tuple(source_items)), now
        )
    wanted = {(i.source_id, i.identity): tuple(t) for i, t in items}
    for record in store.items_needing_tags("test-tagger", limit=10_000):
        topics = wanted.get((record.item.source_id, record.item.identity))
        if topics is not None:
            result = TagResult(topics=topics, scores=dict.fromkeys(topics, 2.0), evidence={})
            store.save_tags(record.id, result, "test-tagger", now)


def sample_items() -> list[StoredItem]:
    """A varied set: two topics, markup and XML-illegal characters, an author stored with
    their address, no link with a dateline for a summary, an edit, no date."""
    return [
        stored(0, topics=("corruption", "trafficking-in-persons")),
        stored(
            1,
            title="Officials <b>charged</b> & \x0bconvicted",
            summary="",
            content="Para one with <script>alert(1)</script>.\n\nPara two & more.",
            author="UNODC Press Office <press@unodc.example.org>",
            lang="en",
        ),
        stored(
            2,
            link=None,
            last_changed=NOW - timedelta(hours=3),
            summary="24 February 2026",
            content="24 February 2026\n\nBishkek – Analysts from five units met in Bishkek. "
            "They discussed virtual assets.\n\nA second paragraph.",
        ),
        stored(3, published_at=None, first_seen=NOW - timedelta(days=3), countries=("KZ",)),
    ]
