"""What counts as a change a reader cares about (store/changes.py), without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syndicator.store.changes import (
    CHURN_CAP,
    CHURN_COOLDOWN,
    HASH_VERSION,
    Decision,
    content_hash,
    decide,
    is_current,
    steady_link,
    steady_text,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Page generated at 16:03:22", "Page generated at 16:04:51"),
        (
            "Generated 2026-01-15T12:00:03Z by the CMS",
            "Generated 2026-01-15T12:30:59+01:00 by the CMS",
        ),
        (
            "Last updated: Tuesday, 3 March 2026 at 4:05 p.m. CET",
            "Last updated: 4 March 2026 at 9:15 a.m. CET",
        ),
        ("Updated March 3, 2026", "Updated March 4, 2026"),
        ("Printed 03/03/2026", "Printed 04/03/2026"),
        ("1,234 views · 12 comments", "1,301 views · 15 comments"),
        ("Views: 5312", "Views: 5400"),
        ("Posted 3 minutes ago", "Posted an hour ago"),
        ("Build 1767225600 served", "Build 1767229200 served"),
        ("Viewed 12 times", "Viewed 40 times"),
        (
            "Read more: https://example.org/a?id=5&utm_source=rss&t=1767225600",
            "Read more: https://example.org/a?id=5&utm_source=mail&t=1767229999",
        ),
    ],
)
def test_volatile_spans_do_not_change_the_text(first: str, second: str) -> None:
    assert steady_text(first) == steady_text(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Police seized 3 tonnes of cocaine.", "Police seized 4 tonnes of cocaine."),
        ("Twelve people were arrested.", "Thirteen people were arrested."),
        ("The minister visits 3 countries.", "The minister visits 5 countries."),
        ("See https://example.org/a?id=5", "See https://example.org/a?id=6"),
        ("Phase 1.2.3 of the plan", "Phase 1.2.4 of the plan"),
    ],
)
def test_substantive_changes_remain(first: str, second: str) -> None:
    assert steady_text(first) != steady_text(second)


def test_steady_link_drops_tracking_sessions_and_cache_busters() -> None:
    assert (
        steady_link(
            "HTTPS://Example.ORG/press/1;jsessionid=AB12?id=7&utm_medium=x&fbclid=1&_=17&t=5#top"
        )
        == "https://example.org/press/1?id=7"
    )
    assert (
        steady_link("https://example.org/news?page=2&mc_cid=9") == "https://example.org/news?page=2"
    )
    assert steady_link(None) == ""


def test_hash_covers_title_link_and_text_only() -> None:
    base = content_hash("Title", "https://x.org/1?utm_source=rss", "Summary at 10:00", "Body")
    assert base.startswith(f"{HASH_VERSION}:")
    assert is_current(base)
    assert not is_current("1:" + base.split(":", 1)[1])
    assert base == content_hash(
        "Title", "https://x.org/1?utm_source=mail", "Summary at 11:30", "Body"
    )
    assert base != content_hash("Title!", "https://x.org/1", "Summary at 10:00", "Body")
    assert base != content_hash("Title", "https://x.org/2", "Summary at 10:00", "Body")
    assert base != content_hash("Title", "https://x.org/1", "Summary", "Body")
    assert base != content_hash("Title", "https://x.org/1", "Summary at 10:00", "Body, edited")


def _decide(**kw: Any) -> Decision:
    args: dict[str, Any] = {
        "stored_hash": "2:a",
        "baseline": "2:a",
        "changes": 0,
        "last_changed_at": NOW - timedelta(hours=1),
        "fresh_hash": "2:a",
        "now": NOW,
    }
    return decide(**{**args, **kw})


def test_decide_unchanged_updated_and_reset() -> None:
    assert _decide() == _decide(changes=0)
    unchanged = _decide(changes=3)
    assert (unchanged.verdict, unchanged.content_hash, unchanged.changes) == ("unchanged", None, 0)
    updated = _decide(fresh_hash="2:b", changes=3)
    assert (updated.verdict, updated.content_hash, updated.changes) == ("updated", "2:b", 4)


def test_decide_rations_churn_after_the_cap() -> None:
    churn = _decide(fresh_hash="2:b", changes=CHURN_CAP)
    assert (churn.verdict, churn.content_hash, churn.changes) == ("churn", None, CHURN_CAP)
    later = _decide(fresh_hash="2:b", changes=CHURN_CAP, last_changed_at=NOW - CHURN_COOLDOWN)
    assert later.verdict == "updated"


def test_decide_rehashes_an_old_version_without_an_update() -> None:
    same = _decide(stored_hash="1:old", baseline="2:a", fresh_hash="2:a")
    assert (same.verdict, same.content_hash) == ("unchanged", "2:a")
    changed = _decide(stored_hash="1:old", baseline="2:a", fresh_hash="2:b")
    assert (changed.verdict, changed.content_hash) == ("updated", "2:b")
    capped = _decide(stored_hash="1:old", baseline="2:a", fresh_hash="2:b", changes=CHURN_CAP)
    assert (capped.verdict, capped.content_hash) == ("churn", "2:a")
