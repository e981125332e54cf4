"""Parsing: the fast path agrees with feedparser; hostile documents fail alone."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest
from collect_helpers import hang_parse, hog_parse
from feeds_data import ATOM, RSS, rss_items

from syndicator.collect.fastfeed import read_fast
from syndicator.collect.feeds import parse_feed, parse_with_feedparser
from syndicator.collect.parsed import ParseFailure
from syndicator.collect.parsing import FeedParser
from syndicator.collect.prolog import for_feedparser
from syndicator.config import CollectSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from collect_server import feed as bench_feed

SETTINGS = CollectSettings()
URL = "http://feeds.example/feed"

ATOM_XHTML = """<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"
 xml:base="http://base.example/dir/" xml:lang="de"><title>X</title><id>x</id><updated>2024-01-01T00:00:00Z</updated>
<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">A <b>bold</b> title</div></title>
<id>tag:x,2024:1</id><link rel="self" href="/self"/><link href="entry/1"/><updated>2024-01-02T00:00:00Z</updated>
<summary>Plain summary &amp; more</summary>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One</p><p>Two</p></div></content>
<author><name>Ann</name></author><category term="Corruption"/></entry></feed>"""

RSS_CONTENT = """<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Caf\xe9</title><language>fr</language>
<item><title>Caf\xe9 &amp; drugs</title><guid>https://x.example/p/1</guid>
<description>Short</description><content:encoded><![CDATA[<p>Long one</p><p>Long two</p>]]></content:encoded>
<dc:creator>Bob</dc:creator><dc:date>2024-03-04T05:06:07+01:00</dc:date></item>
<item><title>relative</title><link>/rel/2</link><guid isPermaLink="false">2</guid></item>
</channel></rss>""".encode("latin-1")


@pytest.mark.parametrize(
    "body",
    [RSS.encode(), ATOM.encode(), ATOM_XHTML.encode(), RSS_CONTENT, rss_items(5).encode(),
     bench_feed("/feed/1")],
    ids=["rss", "atom", "atom-xhtml", "rss-content", "rss-items", "bench"],
)  # fmt: skip
def test_fast_path_matches_feedparser(body: bytes) -> None:
    assert read_fast(body, URL) is not None
    fast = parse_feed(body, {}, URL, source_id="s", settings=SETTINGS)
    reference = parse_with_feedparser(body, {}, URL, source_id="s", settings=SETTINGS)
    assert fast.items == reference.items
    assert fast.title == reference.title
    assert fast.kind == reference.kind


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE rss><rss version="2.0"><channel></channel></rss>',
        b'<rss version="0.91"><channel><title>t</title></channel></rss>',
        b"<rss version='2.0'><channel><title>broken & unescaped</title></channel></rss>",
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
    ],
)
def test_fast_path_declines_what_it_does_not_know(body: bytes) -> None:
    assert read_fast(body, URL) is None


def test_broken_xml_is_read_leniently_with_a_warning() -> None:
    body = b"<rss version='2.0'><channel><title>T</title><item><title>A & B</title><guid>1</guid></item></channel></rss>"
    parsed = parse_feed(body, {}, URL, source_id="s", settings=SETTINGS)
    assert [i.title for i in parsed.items] == ["A & B"]
    assert parsed.warnings
    assert "not well-formed" in parsed.warnings[0]


def test_internal_dtd_subset_is_stripped() -> None:
    body = b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY x SYSTEM "file:///etc/passwd">\n]>\n<rss/>'
    cleaned, _ = for_feedparser(body, "")
    assert b"ENTITY" not in cleaned
    assert b"passwd" not in cleaned


def test_external_entity_is_never_resolved() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
        b'<rss version="2.0"><channel><title>t</title><item><title>a&xxe;b</title><guid>1</guid>'
        b"</item></channel></rss>"
    )
    parsed = parse_feed(body, {}, URL, source_id="s", settings=SETTINGS)
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else "\0"
    assert all(hostname not in i.title for i in parsed.items)


@pytest.mark.parametrize(
    ("body", "error_class"),
    [
        (b"", "not_a_feed"),
        (b"<html><body>Hello</body></html>", "not_a_feed"),
        (b"{not json", "parse_error"),
        (b'{"version": "1", "items": []}', "not_a_feed"),
        (b"\x00\x01\x02 binary", "parse_error"),
    ],
)
def test_not_a_feed(body: bytes, error_class: str) -> None:
    with pytest.raises(ParseFailure) as caught:
        parse_feed(body, {}, URL, source_id="s", settings=SETTINGS)
    assert caught.value.error_class == error_class


def test_worker_parse_timeout_kills_only_that_parse() -> None:
    hanging = FeedParser(workers=1, timeout=1.0, target=hang_parse, inline_bytes=0)
    parser = FeedParser(workers=1, timeout=5.0, inline_bytes=0)

    async def scenario() -> tuple[ParseFailure, int]:
        with pytest.raises(ParseFailure) as caught:
            await hanging.parse(RSS.encode(), {}, URL, source_id="s", settings=SETTINGS, lang=None)
        good = await parser.parse(
            RSS.encode(), {}, URL, source_id="s", settings=SETTINGS, lang=None
        )
        return caught.value, len(good.items)

    started = time.monotonic()
    try:
        failure, count = asyncio.run(scenario())
    finally:
        hanging.close()
        parser.close()
    assert time.monotonic() - started < 10
    assert failure.error_class == "parse_error"
    assert "took longer than 1s" in str(failure)
    assert count == 2


def test_worker_memory_blowup_is_a_parse_error() -> None:
    parser = FeedParser(workers=1, timeout=20, memory_mb=300, target=hog_parse, inline_bytes=0)

    async def scenario() -> ParseFailure:
        with pytest.raises(ParseFailure) as caught:
            await parser.parse(RSS.encode(), {}, URL, source_id="s", settings=SETTINGS, lang=None)
        return caught.value

    try:
        failure = asyncio.run(scenario())
    finally:
        parser.close()
    assert failure.error_class == "parse_error"
    assert "300 MB" in str(failure) or "died" in str(failure)


def test_utf16_entity_bomb_is_harmless() -> None:
    entities = "".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    doc = (
        f'<?xml version="1.0" encoding="utf-16"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">{entities}]>'
        '<rss version="2.0"><channel><title>t</title><item><title>x &i;</title><guid>1</guid>'
        "</item></channel></rss>"
    )
    body = doc.encode("utf-16")
    assert read_fast(body, URL) is None
    started = time.monotonic()
    try:
        parsed = parse_feed(body, {}, URL, source_id="s", settings=SETTINGS)
    except ParseFailure:
        return
    assert time.monotonic() - started < 5
    assert all(len(i.title) < 1000 for i in parsed.items)


@pytest.mark.parametrize(
    "date",
    ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "Fri, 31 Dec 9999 23:59:59 -0100"],
)
def test_date_out_of_range_in_utc_does_not_fail_the_feed(date: str) -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>x</title>'
        f"<guid>1</guid><pubDate>{date}</pubDate></item></channel></rss>"
    ).encode()
    [item] = parse_feed(body, {}, URL, source_id="s", settings=SETTINGS).items
    # the time cannot be had in UTC; at most the calendar date written there is kept
    assert item.published_at is None or item.published_at.year in (1, 9999)


def test_json_feed_authors_of_the_wrong_type_are_ignored() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "authors": [{"name": "Feed"}],'
        b' "items": [{"id": "1", "title": "T", "authors": 5}]}'
    )
    [item] = parse_feed(body, {}, URL, source_id="s", settings=SETTINGS).items
    assert item.author == "Feed"


def test_in_process_fast_path_failure_is_a_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A document that breaks the fast path fails its source as it would in a worker."""

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr("syndicator.collect.parsing.parse_fast", broken)
    parser = FeedParser(workers=1)
    with pytest.raises(ParseFailure) as caught:
        asyncio.run(
            parser.parse(RSS.encode(), {}, URL, source_id="s", settings=SETTINGS, lang=None)
        )
    assert caught.value.error_class == "parse_error"
    assert "KeyError" in str(caught.value)
    assert URL in str(caught.value)
