"""Source kinds are one registry: a kind registered in a test alone is accepted by the
configuration and collected by the collect stage into the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest

from syndicator.collect.collector import Cycle
from syndicator.collect.kinds import SourceKind, known_kinds, register_kind, unregister_kind
from syndicator.config import SourceSettings, Strict, parse_settings
from syndicator.errors import ConfigError
from syndicator.models import CollectResult, Item, SourceState
from syndicator.service.stages import collect_stage
from syndicator.store import open_store

NOW = datetime(2026, 5, 1, tzinfo=UTC)


class InlineRelease(Strict):
    title: str
    text: str


class InlineSource(SourceSettings):
    """Releases written into config.yaml itself."""

    type: Literal["inline"] = "inline"
    releases: tuple[InlineRelease, ...]


async def collect_inline(
    cycle: Cycle, source: InlineSource, state: SourceState | None
) -> CollectResult:
    items = tuple(
        Item(source_id=source.id, identity=f"inline:{n}", title=r.title, content=r.text)
        for n, r in enumerate(source.releases)
    )
    return CollectResult(
        source_id=source.id,
        status="ok",
        items=items,
        next_fetch_at=cycle.success_time(source, {}, cycle.clock()),
    )


@pytest.fixture
def inline_kind() -> Iterator[None]:
    register_kind(SourceKind("inline", InlineSource, collect_inline))
    yield
    unregister_kind("inline")


def settings_with(tmp_path: Path, *sources: dict[str, Any]) -> Any:
    return parse_settings(
        {
            "base_url": "https://feeds.example.org/",
            "sources": list(sources),
            "taxonomy": {"topics": [{"id": "corruption", "title": "Corruption"}]},
        },
        tmp_path / "config.yaml",
    )


def test_a_registered_kind_is_configured_and_collected(tmp_path: Path, inline_kind: None) -> None:
    settings = settings_with(
        tmp_path,
        {
            "id": "notes",
            "type": "inline",
            "interval_minutes": 30,
            "releases": [
                {"title": "Bribery ring dismantled", "text": "Officials were arrested."},
                {"title": "Second release", "text": "More text."},
            ],
        },
    )
    (source,) = settings.sources
    assert isinstance(source, InlineSource)
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        report = collect_stage(store, settings, NOW)
        again = collect_stage(store, settings, NOW + timedelta(minutes=5))
        titles = sorted(i.item.title for i in store.items_by_id(list(range(1, 10))))
        state = store.source_states()["notes"]
    finally:
        store.close()
    [outcome] = report.sources
    assert (outcome.status, outcome.new) == ("ok", 2)
    assert titles == ["Bribery ring dismantled", "Second release"]
    assert again.skipped_not_due == 1  # its interval_minutes counts like any source's
    assert state.next_fetch_at is not None
    assert state.next_fetch_at >= NOW + timedelta(minutes=30)


def test_a_kind_is_validated_by_its_own_model(tmp_path: Path, inline_kind: None) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_with(tmp_path, {"id": "notes", "type": "inline", "releases": [{"title": "x"}]})
    assert "sources.0.releases.0.text: required key is missing" in str(caught.value)


def test_an_unknown_type_names_the_key_and_the_known_kinds(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_with(tmp_path, {"id": "notes", "type": "inline", "releases": []})
    message = str(caught.value)
    assert "sources.0.type: unknown source type 'inline'" in message
    assert "known: " + ", ".join(known_kinds()) in message
    assert known_kinds() == ("feed", "folder", "page")
    with pytest.raises(ConfigError, match=r"sources\.0\.type: unknown source type \(none given\)"):
        settings_with(tmp_path, {"id": "notes", "url": "https://example.org/feed"})
