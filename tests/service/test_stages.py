"""Stage-level behaviour that the end-to-end tests cannot provoke on demand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from syndicator.config import Settings, parse_settings
from syndicator.models import CollectResult, Item
from syndicator.service.stages import _apply, collect_stage
from syndicator.store import open_store

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def test_a_source_the_database_refuses_does_not_cost_the_others(postgres_url: str) -> None:
    store = open_store(postgres_url)
    try:
        # PostgreSQL refuses NUL in text: this source's items cannot be stored.
        refused = CollectResult(
            source_id="bad",
            status="ok",
            items=(Item(source_id="bad", identity="guid:1", title="nul\x00byte"),),
        )
        fine = CollectResult(
            source_id="good",
            status="ok",
            items=(Item(source_id="good", identity="guid:1", title="fine"),),
        )
        outcome = _apply(store, refused, NOW)
        assert outcome.status == "error"
        assert outcome.error is not None
        assert "bad: fetched, but could not be stored" in outcome.error
        assert _apply(store, fine, NOW).new == 1
        assert "bad" not in store.source_states()  # untouched: retried next cycle
        assert store.item_count() == 1
    finally:
        store.close()


def test_an_undated_release_is_reported_in_its_first_cycle_only(tmp_path: Path) -> None:
    """Issue 8: the "no date found" warning used to repeat every cycle."""
    (tmp_path / "releases").mkdir()
    (tmp_path / "releases" / "undated.txt").write_text(
        "A title\n\nA release that gives no date.", encoding="utf-8"
    )
    settings = parse_settings(
        {
            "base_url": "https://feeds.example.org/",
            "sources": [{"id": "files", "type": "folder", "path": "releases"}],
            "taxonomy": {"topics": [{"id": "corruption", "title": "Corruption"}]},
        },
        tmp_path / "config.yaml",
    )
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        first = collect_stage(store, settings, NOW, force=True)
        second = collect_stage(store, settings, NOW + timedelta(hours=1), force=True)
    finally:
        store.close()
    [new] = first.sources
    assert new.new == 1
    assert any("undated.txt: no date found" in w for w in new.warnings)
    [again] = second.sources
    assert again.status == "ok"
    assert again.warnings == ()


def _folder_settings(tmp_path: Path) -> Settings:
    (tmp_path / "releases").mkdir()
    (tmp_path / "releases" / "one.txt").write_text(
        "A title\n\n1 May 2026 - A release.", encoding="utf-8"
    )
    return parse_settings(
        {
            "base_url": "https://feeds.example.org/",
            "sources": [
                {"id": "files", "type": "folder", "path": "releases", "interval_minutes": 60}
            ],
            "taxonomy": {"topics": [{"id": "corruption", "title": "Corruption"}]},
        },
        tmp_path / "config.yaml",
    )


def test_the_stage_alone_decides_what_is_due_and_force_overrides_it(tmp_path: Path) -> None:
    settings = _folder_settings(tmp_path)
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        first = collect_stage(store, settings, NOW)
        soon = NOW + timedelta(minutes=5)
        waiting = collect_stage(store, settings, soon)
        forced = collect_stage(store, settings, soon, force=True)
        later = collect_stage(store, settings, NOW + timedelta(hours=3))
    finally:
        store.close()
    assert [s.status for s in first.sources] == ["ok"]
    assert (waiting.sources, waiting.skipped_not_due) == ([], 1)
    assert [s.source_id for s in forced.sources] == ["files"]
    assert forced.skipped_not_due == 0
    assert [s.source_id for s in later.sources] == ["files"]
