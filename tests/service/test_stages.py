"""Stage-level behaviour that the end-to-end tests cannot provoke on demand."""

from __future__ import annotations

from datetime import UTC, datetime

from syndicator.models import CollectResult, Item
from syndicator.service.stages import _apply
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


def test_the_deliver_lease_outlives_the_delivery_deadline() -> None:
    from syndicator.config import Settings
    from syndicator.service.stages import deliver_lease_seconds

    def settings(**delivery: object) -> Settings:
        return Settings.model_validate(
            {
                "base_url": "https://x.example/",
                "taxonomy": {"topics": [{"id": "corruption", "title": "Corruption"}]},
                "delivery": delivery,
            }
        )

    default = settings()
    assert deliver_lease_seconds(default) > default.delivery.deadline_seconds
    assert deliver_lease_seconds(settings(deadline_seconds=7200)) > 7200
