"""Pathological HTML (release pages, full-text pages, feed entries) fails alone, in time.

Deeply nested markup is the real case: our HTML reader (through nh3) needs
about 12 s for 50,000 nested ``<div>`` (600 KB), far below ``max_bytes``. Such
work runs in a parse worker under ``parse_timeout``, so the page becomes a
warning (or its feed an error) and the rest of the run goes on.
"""

from __future__ import annotations

import time

import pytest
from collect_helpers import LONG, NOW, Script, article, listing

from syndicator.collect import collect_sources
from syndicator.collect.parsing import INLINE_TAGS, markup_count
from syndicator.config import CollectSettings, FeedSource, PageSource

TIMEOUT = 3.0  # generous: a cold fork server (imports trafilatura) takes about 1 s
NESTED = ("<html><body><h1>Nested</h1>" + "<div>x" * 50_000 + "</body></html>").encode()
GOOD_FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>Fine</title><guid>fine</guid><description>Fine.</description></item>
</channel></rss>"""


@pytest.fixture
def strict(settings: CollectSettings) -> CollectSettings:
    return settings.model_copy(update={"parse_timeout": TIMEOUT, "parse_workers": 2})


def test_slow_release_page_is_a_warning_and_the_run_goes_on(
    server: Script, strict: CollectSettings
) -> None:
    server.add("/press", listing(["/press/1", "/press/2"]))
    server.add("/press/1", NESTED, headers={"Content-Type": "text/html"})
    server.add("/press/2", article("Fine release", "2024-01-02", LONG))
    server.add("/feed", GOOD_FEED)
    sources = [
        PageSource(id="page", url=server.url("/press")),
        FeedSource(id="feed", url=server.url("/feed")),
    ]
    started = time.monotonic()
    page, feed = collect_sources(sources, {}, strict, NOW)
    assert time.monotonic() - started < TIMEOUT + 5
    assert page.status == "ok"
    assert [i.title for i in page.items] == ["Fine release"]
    [warning] = page.warnings
    assert "/press/1" in warning
    assert f"took longer than {TIMEOUT:g}s" in warning
    assert feed.status == "ok"


def test_slow_full_text_page_keeps_the_summary(server: Script, strict: CollectSettings) -> None:
    server.add(
        "/feed",
        f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
        <item><title>Nested</title><link>{server.url("/a/1")}</link><guid>1</guid>
        <description>Teaser.</description></item></channel></rss>""",
    )
    server.add("/a/1", NESTED)
    source = FeedSource(id="f", url=server.url("/feed"), full_text=True)
    [result] = collect_sources([source], {}, strict, NOW, known={"f": frozenset()})
    assert result.status == "ok"
    assert [i.text for i in result.items] == ["Teaser."]
    [warning] = result.warnings
    assert "/a/1" in warning
    assert "took longer than" in warning
    assert "kept its summary" in warning


def test_feed_with_deeply_nested_entry_html_fails_alone(
    server: Script, strict: CollectSettings
) -> None:
    """Well-formed RSS the fast path accepts, but whose entry HTML is hostile.

    It must not be read in-process (where nothing could stop nh3): its tag
    count sends it to a worker, which the timeout stops.
    """
    nested = "&lt;div&gt;x" * 50_000
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>Deep</title><guid>d</guid><description>{nested}</description></item>"
        "</channel></rss>"
    ).encode()
    assert markup_count(body) > INLINE_TAGS
    server.add("/deep", body)
    server.add("/feed", GOOD_FEED)
    sources = [
        FeedSource(id="deep", url=server.url("/deep")),
        FeedSource(id="feed", url=server.url("/feed")),
    ]
    started = time.monotonic()
    deep, feed = collect_sources(sources, {}, strict, NOW)
    assert time.monotonic() - started < TIMEOUT + 5
    assert (deep.status, deep.error_class) == ("error", "parse_error")
    assert deep.error_message is not None
    assert "took longer than" in deep.error_message
    assert feed.status == "ok"


def test_markup_count_sees_escaped_tags() -> None:
    assert markup_count(b"<a> &lt;b&gt; &#60;c&#62; \\u003cd\\u003e") == 5  # 1 + 1 + 2 + 1
