"""Listing-page sources, full text for summary-only feeds, and feed discovery."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from collect_helpers import LONG, NOW, Script, article, listing

from syndicator.collect import collect_sources, discover_feeds
from syndicator.config import CollectSettings, FeedSource, PageSource
from syndicator.errors import SourceError
from syndicator.models import SourceState


def test_page_source_reads_release_links(server: Script, settings: CollectSettings) -> None:
    server.add(
        "/press",
        listing(["/press/1", "/press/2", "/press/1#dup", "/other/3", "/press/4", "/press/5"]),
        headers={"Content-Type": "text/html", "ETag": '"list1"'},
    )
    server.add("/press/1", article("First release", "2024-01-02T10:00:00Z", LONG))
    server.add("/press/2", article("Second release", "2024-01-03T10:00:00Z", LONG))
    server.add("/press/4", status=500)
    source = PageSource(
        id="page",
        url=server.url("/press"),
        link_selector="main a[href]",
        link_pattern=r"/press/\d+$",
        max_new_per_cycle=3,
    )
    [result] = collect_sources([source], {}, settings, NOW, rng=random.Random(0))
    assert result.status == "ok"
    titles = [i.title for i in result.items]
    assert titles == ["First release", "Second release"]
    first = result.items[0]
    assert first.identity == "link:" + server.url("/press/1")
    assert first.published_at is not None
    assert first.published_at.year == 2024
    assert "Sentence number 3" in first.content
    assert "Contact us" not in first.content
    assert first.declared_topics == ("UNODC on Corruption",)
    assert result.caching is not None
    assert result.caching.etag == '"list1"'
    assert any("/press/4" in w for w in result.warnings)
    fetched = {r.path for r in server.log}
    assert "/press/5" not in fetched  # max_new_per_cycle
    assert "/other/3" not in fetched  # link_pattern


def test_page_without_matching_links_warns(server: Script, settings: CollectSettings) -> None:
    server.add("/press", "<html><body><p>nothing</p></body></html>")
    source = PageSource(id="page", url=server.url("/press"))
    [result] = collect_sources([source], {}, settings, NOW)
    assert result.status == "ok"
    assert result.items == ()
    assert "no release links" in result.warnings[0]


def test_full_text_for_summary_only_feed(server: Script, settings: CollectSettings) -> None:
    base = server.url("")
    server.add(
        "/feed",
        f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
        <item><title>Short</title><link>{base}/a/1</link><guid>1</guid>
        <description>Teaser only.</description></item>
        <item><title>Broken</title><link>{base}/a/2</link><guid>2</guid>
        <description>Teaser two.</description></item></channel></rss>""",
    )
    server.add("/a/1", article("Short", "2024-02-02", LONG))
    server.add("/a/2", status=404)
    source = FeedSource(id="f", url=server.url("/feed"), full_text=True)
    [result] = collect_sources([source], {}, settings, NOW)
    full, broken = result.items
    assert full.summary == "Teaser only."
    assert "Sentence number 7" in full.content
    assert broken.text == "Teaser two."
    assert any("/a/2" in w for w in result.warnings)


def test_discover_from_html_page(server: Script, settings: CollectSettings) -> None:
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Found RSS</title>'
        "<item><title>One</title><guid>1</guid></item></channel></rss>"
    )
    server.add(
        "/",
        '<html><head><link rel="alternate" type="application/rss+xml" href="/news.rss">'
        '<link rel="stylesheet" href="/s.css"></head><body></body></html>',
        headers={"Content-Type": "text/html"},
    )
    server.add("/news.rss", rss)
    server.add(
        "/feed.json", '{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": []}'
    )
    found = discover_feeds(server.url("/"), settings)
    assert [(f.url, f.title, f.kind) for f in found] == [
        (server.url("/news.rss"), "Found RSS", "rss20"),
        (server.url("/feed.json"), "J", "json"),
    ]
    assert found[0].sample_titles == ("One",)


def test_discover_on_a_feed_url(server: Script, settings: CollectSettings) -> None:
    server.add("/feed", '{"version": "https://jsonfeed.org/version/1", "title": "J", "items": []}')
    [found] = discover_feeds(server.url("/feed"), settings)
    assert found.kind == "json"


def test_discover_unreachable_url_is_a_source_error(settings: CollectSettings) -> None:
    with pytest.raises(SourceError) as caught:
        discover_feeds("http://127.0.0.1:9/", settings)
    assert caught.value.error_class == "connection_error"
    assert "127.0.0.1:9" in str(caught.value)


def test_full_text_never_downgrades_known_items(server: Script, settings: CollectSettings) -> None:
    base = server.url("")
    server.add(
        "/feed",
        f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
        <item><title>New</title><link>{base}/a/1</link><guid>1</guid>
        <pubDate>Thu, 15 Jan 2026 11:00:00 GMT</pubDate><description>Teaser.</description></item>
        <item><title>Old, page now failing</title><link>{base}/a/2</link><guid>2</guid>
        <pubDate>Mon, 05 Jan 2026 10:00:00 GMT</pubDate><description>Teaser.</description></item>
        <item><title>Old, beyond the limit</title><link>{base}/a/3</link><guid>3</guid>
        <pubDate>Sun, 04 Jan 2026 10:00:00 GMT</pubDate><description>Teaser.</description></item>
        </channel></rss>""",
    )
    server.add("/a/1", article("New", "2026-01-15", LONG))
    server.add("/a/2", status=503)
    source = FeedSource(id="f", url=server.url("/feed"), full_text=True, full_text_limit=2)
    known = SourceState(
        source_id="f", url=server.url("/feed"), last_success_at=NOW - timedelta(days=2)
    )
    [result] = collect_sources([source], {"f": known}, settings, NOW)
    assert [i.title for i in result.items] == ["New"]
    assert "Sentence number 7" in result.items[0].content
    assert any("/a/2" in w and "left as stored" in w for w in result.warnings)
    assert "/a/3" not in {r.path for r in server.log}
    [first] = collect_sources([source], {}, settings, NOW)
    assert [i.title for i in first.items] == [
        "New",
        "Old, page now failing",
        "Old, beyond the limit",
    ]
