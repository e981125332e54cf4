"""Where the parse time of one feed goes: feedparser with and without its sanitiser.

Part of bench_collect.py. feedparser's own HTML sanitiser is a large share of
its parse time; the collector passes ``sanitize_html=False`` and sanitises each
field once with nh3 (``html_to_text``), and reads well-formed RSS 2.0 / Atom
1.0 with its ElementTree fast path, which never calls feedparser. Each variant
is timed on the same document, per parse.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import feedparser

from syndicator.collect.feeds import parse_feed, parse_with_feedparser
from syndicator.config import CollectSettings

URL = "http://bench.example/feed"


def _per_call(run: Callable[[], object], seconds: float = 1.0) -> float:
    run()  # warm-up
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        run()
        calls += 1
    return elapsed / calls


def compare(document: bytes, seconds: float = 1.0) -> dict[str, float]:
    """Seconds per parse of ``document`` for each way of parsing it."""
    settings = CollectSettings()

    def feedparser_default() -> object:
        return feedparser.parse(io.BytesIO(document))

    def feedparser_unsanitised() -> object:
        return feedparser.parse(
            io.BytesIO(document), sanitize_html=False, resolve_relative_uris=False
        )

    def ours_feedparser_nh3() -> object:
        return parse_with_feedparser(document, {}, URL, source_id="b", settings=settings)

    def ours_fast_path() -> object:
        return parse_feed(document, {}, URL, source_id="b", settings=settings)

    return {
        "feedparser.parse (sanitize_html=True, its default)": _per_call(
            feedparser_default, seconds
        ),
        "feedparser.parse (sanitize_html=False), no sanitising": _per_call(
            feedparser_unsanitised, seconds
        ),
        "collector, feedparser path (sanitize_html=False + nh3 once)": _per_call(
            ours_feedparser_nh3, seconds
        ),
        "collector, fast path (ElementTree + nh3)": _per_call(ours_fast_path, seconds),
    }


def rich_feed(items: int = 20, paragraphs: int = 8) -> bytes:
    """A press-release feed with full HTML content (content:encoded), as many publish."""
    body = "".join(
        f"<p>Paragraph {p} on <a href='https://example.org/t/{p}'>organised crime</a>, "
        f"<em>corruption</em> and <strong>trafficking</strong> in the region.</p>"
        for p in range(paragraphs)
    )
    entries = "".join(
        f"<item><title>Release {i}</title><link>https://example.org/r/{i}</link>"
        f"<guid>https://example.org/r/{i}</guid>"
        f"<pubDate>Mon, 0{1 + i % 9} Jan 2024 10:00:00 GMT</pubDate>"
        f"<description><![CDATA[<p>Teaser {i}.</p>]]></description>"
        f"<content:encoded><![CDATA[{body}<ul><li>Further information</li></ul>]]>"
        "</content:encoded></item>"
        for i in range(items)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Rich</title>'
        f"<link>https://example.org/</link>{entries}</channel></rss>"
    ).encode()
