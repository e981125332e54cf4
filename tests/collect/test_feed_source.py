"""Feed sources end to end over a real local HTTP server."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from collect_helpers import NOW, Script
from feeds_data import ATOM, JSON_FEED, RDF, RSS, rss_items

from syndicator import __version__
from syndicator.collect import collect_sources, schedule
from syndicator.config import CollectSettings, FeedSource
from syndicator.models import Caching, CollectResult, SourceState


def feed(server: Script, path: str = "/feed", **kw: object) -> FeedSource:
    return FeedSource(id="src", url=server.url(path), **kw)


def run(
    sources: list[FeedSource],
    settings: CollectSettings,
    states: dict[str, SourceState] | None = None,
) -> list[CollectResult]:
    return collect_sources(sources, states or {}, settings, NOW, rng=random.Random(1))


def one(server: Script, settings: CollectSettings, **kw: object) -> CollectResult:
    [result] = run([feed(server, **kw)], settings)  # type: ignore[arg-type]
    return result


def about(moment: datetime | None, expected: datetime) -> bool:
    """Next-fetch times count from the answer, a moment after NOW (the cycle's start)."""
    return moment is not None and expected <= moment <= expected + timedelta(seconds=5)


def test_rss_items_are_wrapped_and_normalised(server: Script, settings: CollectSettings) -> None:
    server.add("/feed", RSS, headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'})
    result = one(server, settings)
    assert result.status == "ok", result.error_message
    first, second = result.items
    assert first.identity == "guid:unodc-1"
    assert first.title == "Drug trafficking route disrupted"
    assert first.published_at == datetime(2018, 11, 16, 10, 0, tzinfo=UTC)
    assert first.summary == "First paragraph bold.\n\nSecond."
    assert "alert" not in first.summary + first.content
    assert first.declared_topics == ("Drug Trafficking",)
    assert first.lang == "en"
    assert second.identity == "link:https://example.org/press/2"
    assert second.published_at is None
    assert result.caching == Caching(etag='"v1"', last_modified=None)
    assert result.next_fetch_at is not None
    assert NOW + timedelta(minutes=60) <= result.next_fetch_at <= NOW + timedelta(minutes=66)


def test_user_agent_names_version_and_contact(server: Script, settings: CollectSettings) -> None:
    server.add("/feed", RSS)
    one(server, settings)
    agent = server.log[0].headers["User-Agent"]
    assert __version__ in agent
    assert settings.contact in agent


@pytest.mark.parametrize(
    ("body", "kind", "title"),
    [
        (ATOM, "atom10", "Corruption <conference>"),
        (RDF, "rss10", "RDF item"),
        (JSON_FEED, "json", "Trafficking ring dismantled"),
    ],
)
def test_formats(
    server: Script, settings: CollectSettings, body: str, kind: str, title: str
) -> None:
    server.add("/feed", body)
    result = one(server, settings)
    assert result.status == "ok", result.error_message
    assert result.items[0].title == title


def test_atom_relative_link_dates_and_further_information(
    server: Script, settings: CollectSettings
) -> None:
    server.add("/feed", ATOM, headers={"Content-Type": "application/atom+xml"})
    [item] = one(server, settings).items
    assert item.link == server.url("/news/1")
    assert item.published_at == datetime(2024, 5, 1, 6, 30, tzinfo=UTC)
    assert item.updated_at == datetime(2024, 5, 2, 8, 30, tzinfo=UTC)
    assert item.content == "Body one."
    assert item.declared_topics == ("UNODC on Corruption",)


def test_json_feed(server: Script, settings: CollectSettings) -> None:
    server.add("/feed", JSON_FEED, headers={"Content-Type": "application/feed+json"})
    result = one(server, settings)
    first, second = result.items
    assert first.identity == "guid:e-1"
    assert first.summary == "Twelve arrests"
    assert first.content == "Officers arrested 12.\n\nSecond para."
    assert first.author == "Press Office"
    assert first.declared_topics == ("Trafficking in Persons",)
    assert first.published_at == datetime(2024, 3, 1, 9, tzinfo=UTC)
    assert second.identity == "guid:2"
    assert second.content == "Only text\n\nin two paragraphs"


def test_conditional_request_and_304(server: Script, settings: CollectSettings) -> None:
    server.add("/feed", b"", status=304, headers={"ETag": '"v1"'})
    state = SourceState(
        source_id="src",
        url=server.url("/feed"),
        caching=Caching(etag='"v1"', last_modified="Wed, 01 Jan 2025 00:00:00 GMT"),
    )
    [result] = run([feed(server)], settings, {"src": state})
    assert result.status == "not_modified"
    assert result.error_class is None
    assert result.items == ()
    assert result.caching == state.caching
    sent = server.log[0].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Wed, 01 Jan 2025 00:00:00 GMT"


def test_the_collector_fetches_what_it_is_handed(server: Script, settings: CollectSettings) -> None:
    """Whether a source is due is decided once, by the service (collect_stage); the
    collector no longer decides again (it used to, and the service turned that off)."""
    server.add("/feed", RSS)
    later = SourceState(source_id="src", url=server.url("/feed"), next_fetch_at=NOW + timedelta(1))
    [result] = run([feed(server)], settings, {"src": later})
    assert result.status == "ok"
    assert len(server.log) == 1


def test_html_page_is_not_a_feed(server: Script, settings: CollectSettings) -> None:
    server.add(
        "/feed",
        "<!DOCTYPE html><html><body>hi</body></html>",
        headers={"Content-Type": "text/html"},
    )
    result = one(server, settings)
    assert (result.status, result.error_class) == ("error", "not_a_feed")
    assert "HTML page" in (result.error_message or "")


def test_duplicate_guids_keep_first(server: Script, settings: CollectSettings) -> None:
    body = rss_items(2).replace(">g1<", ">g0<")
    server.add("/feed", body)
    result = one(server, settings)
    assert [i.title for i in result.items] == ["Item 0"]
    assert any("repeats identity" in w for w in result.warnings)


def test_volatile_generator_stamps_do_not_change_items(
    server: Script, settings: CollectSettings
) -> None:
    server.add("/feed", rss_items(3, stamp="Mon, 01 Jan 2024 10:00:00 GMT"))
    before = one(server, settings).items
    server.add("/feed", rss_items(3, stamp="Mon, 01 Jan 2024 10:05:00 GMT"))
    after = one(server, settings).items
    assert before == after


def test_entries_and_fields_are_capped(server: Script) -> None:
    settings = CollectSettings(allow_networks=("127.0.0.1",), max_entries=5, max_field_chars=100)
    long = "word " * 500
    server.add("/feed", rss_items(20).replace("Body 0", long))
    result = one(server, settings)
    assert len(result.items) == 5
    assert any("more than 5 entries" in w for w in result.warnings)
    assert len(result.items[0].content) <= 100
    assert len(result.items[0].summary) <= 100


def test_gone_is_permanent(server: Script, settings: CollectSettings) -> None:
    server.add("/feed", b"", status=410)
    result = one(server, settings)
    assert (result.status, result.error_class, result.http_status) == ("error", "gone", 410)
    assert result.next_fetch_at is None
    gone = SourceState(source_id="src", url=server.url("/feed"), error_class="gone")
    assert not schedule.is_due(feed(server), gone, NOW)


def test_http_error_backs_off_exponentially(server: Script, settings: CollectSettings) -> None:
    server.add("/feed", b"oops", status=500)
    delays = []
    for failures in (0, 1, 2, 3):
        state = SourceState(source_id="src", url=server.url("/feed"), consecutive_failures=failures)
        [result] = run([feed(server)], settings, {"src": state})
        assert result.error_class == "http_error"
        assert "HTTP 500" in (result.error_message or "")
        assert result.next_fetch_at is not None
        delays.append(result.next_fetch_at - NOW)
    assert timedelta(minutes=60) <= delays[0] <= timedelta(minutes=66)
    assert timedelta(minutes=240) <= delays[2] <= timedelta(minutes=264)
    assert delays[0] < delays[1] < delays[2] < delays[3]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_honoured_within_cap(
    server: Script, settings: CollectSettings, status: int
) -> None:
    server.add("/feed", b"", status=status, headers={"Retry-After": "7200"})
    result = one(server, settings)
    assert result.error_class == "http_error"
    assert about(result.next_fetch_at, NOW + timedelta(seconds=7200))
    server.add("/feed", b"", status=status, headers={"Retry-After": "99999999"})
    assert about(one(server, settings).next_fetch_at, NOW + timedelta(days=1))


def test_retry_after_http_date(server: Script, settings: CollectSettings) -> None:
    server.add("/feed", b"", status=503, headers={"Retry-After": "Thu, 15 Jan 2026 15:00:00 GMT"})
    assert one(server, settings).next_fetch_at == NOW + timedelta(hours=3)  # a moment, exactly


def test_cache_control_stretches_interval(server: Script, settings: CollectSettings) -> None:
    server.add("/feed", RSS, headers={"Cache-Control": "public, max-age=10800"})
    assert about(one(server, settings).next_fetch_at, NOW + timedelta(hours=3))
    server.add("/feed", RSS, headers={"Cache-Control": "max-age=10"})
    short = one(server, settings).next_fetch_at
    assert short is not None
    assert short >= NOW + timedelta(minutes=60)
    server.add("/feed", RSS, headers={"Expires": "Sat, 17 Jan 2026 12:00:00 GMT"})
    assert about(one(server, settings).next_fetch_at, NOW + timedelta(days=1))


def test_one_failing_source_does_not_stop_others(server: Script, settings: CollectSettings) -> None:
    server.add("/good", RSS)
    server.add("/bad", "garbage <<<", headers={"Content-Type": "application/xml"})
    results = run(
        [
            FeedSource(id="bad", url=server.url("/bad")),
            FeedSource(id="good", url=server.url("/good")),
            FeedSource(id="missing", url=server.url("/nothing")),
        ],
        settings,
    )
    assert [r.source_id for r in results] == ["bad", "good", "missing"]
    assert results[0].status == "error"
    assert results[0].error_class in ("not_a_feed", "parse_error")
    assert results[1].status == "ok"
    assert results[2].error_class == "http_error"
    assert "HTTP 404" in (results[2].error_message or "")
    assert all(r.error_message is None or r.source_id in r.error_message for r in results)
