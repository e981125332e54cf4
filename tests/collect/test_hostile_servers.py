"""Collection under hostile servers (issue 7, items 11-15), over the scripted local server.

Each test here names the defect it pins; each failed before the fix.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, TypeVar

import pytest
from collect_helpers import NOW, Script
from feeds_data import RSS
from sqlalchemy import text

from syndicator.cli import main
from syndicator.collect import collect_sources, discover_feeds
from syndicator.collect.feeds import parse_with_feedparser
from syndicator.collect.parsed import ParseFailure
from syndicator.collect.prolog import PROLOG_LIMIT, for_feedparser, scan_prolog
from syndicator.collect.safety import odd_ipv4_spelling
from syndicator.config import CollectSettings, FeedSource
from syndicator.errors import SourceError
from syndicator.models import CollectResult
from syndicator.store import open_store
from syndicator.text import ERROR_CHARS

T = TypeVar("T")


def collect(settings: CollectSettings, *sources: FeedSource) -> list[CollectResult]:
    return collect_sources(list(sources), {}, settings, NOW, rng=random.Random(0))


# ------------------------------------------------------------- 11: Retry-After from the answer


def test_retry_after_counts_from_the_answer_not_the_cycle_start(
    server: Script, settings: CollectSettings
) -> None:
    """Item 11: a 429 that arrives 1.5 s into the cycle with ``Retry-After: 120`` is next
    fetched 120 s after that answer; it used to be 120 s after the cycle began."""
    server.add("/slow", status=429, headers={"Retry-After": "120"}, delay=1.5)
    # A one-minute interval, so the backoff (at most 66 s) is shorter than Retry-After.
    [result] = collect(settings, FeedSource(id="src", url=server.url("/slow"), interval_minutes=1))
    assert result.http_status == 429
    assert result.next_fetch_at is not None
    waited = result.next_fetch_at - NOW
    assert timedelta(seconds=121.4) <= waited <= timedelta(seconds=130), waited


def test_success_interval_counts_from_the_answer(server: Script, settings: CollectSettings) -> None:
    """A max-age, like Retry-After, is a lifetime that starts when the answer arrives."""
    server.add("/slow", RSS, headers={"Cache-Control": "max-age=10800"}, delay=1.5)
    [result] = collect(settings, FeedSource(id="src", url=server.url("/slow")))
    assert result.status == "ok"
    assert result.next_fetch_at is not None
    waited = result.next_fetch_at - NOW
    assert timedelta(hours=3, seconds=1.4) <= waited <= timedelta(hours=3, seconds=10), waited


# ------------------------------------------------ 14: bounded errors, no response bodies in them

GARBAGE = b"GARBAGE-BODY<script>\x1b[2J" * 5000  # 120 KB the server should not have sent


def assert_bounded(result: CollectResult) -> None:
    message = result.error_message or ""
    assert len(message) <= ERROR_CHARS
    assert "\n" not in message
    assert "\x1b" not in message
    assert "GARBAGE" not in message
    assert "<script" not in message
    assert "UNODC press" not in message  # not a byte of a feed body either


def test_body_longer_than_content_length_never_reaches_the_error_text(
    server: Script, settings: CollectSettings
) -> None:
    """Item 14: extra bytes after a declared body are read by the next request on the
    kept-alive connection as its status line; aiohttp quoted them all (126 K characters)
    in its error, which became the source's stored error text."""

    def redirect_and_more(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", "/feed")
        h.send_header("Content-Length", "0")
        h.end_headers()
        h.wfile.write(GARBAGE)

    def feed_and_more(h: BaseHTTPRequestHandler) -> None:
        body = RSS.encode()
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body + GARBAGE)

    server.routes["/moved"] = redirect_and_more
    server.routes["/feed"] = feed_and_more
    server.routes["/other"] = feed_and_more
    results = collect(
        settings,
        FeedSource(id="moved", url=server.url("/moved")),
        FeedSource(id="feed", url=server.url("/feed")),
        FeedSource(id="other", url=server.url("/other")),
    )
    failed = [r for r in results if r.status == "error"]
    assert failed, "the lying server should have broken at least the redirected fetch"
    for result in failed:
        assert result.error_class == "connection_error"
        assert "malformed HTTP response" in (result.error_message or "")
        assert_bounded(result)


def test_body_shorter_than_content_length(server: Script, settings: CollectSettings) -> None:
    def short(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "500000")
        h.end_headers()
        h.wfile.write(RSS.encode())
        h.close_connection = True

    server.routes["/feed"] = short
    [result] = collect(settings, FeedSource(id="src", url=server.url("/feed")))
    assert result.error_class == "connection_error"
    assert_bounded(result)


def test_huge_header_is_not_quoted(server: Script, settings: CollectSettings) -> None:
    def huge_header(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Junk: " + GARBAGE[:60000] + b"\r\n\r\n")

    server.routes["/feed"] = huge_header
    [result] = collect(settings, FeedSource(id="src", url=server.url("/feed")))
    assert result.error_class == "connection_error"
    assert_bounded(result)


def test_error_page_body_is_never_stored(
    server: Script, settings: CollectSettings, tmp_path: Path
) -> None:
    server.add("/feed", GARBAGE * 2, status=500)  # a 240 KB error page
    [result] = collect(settings, FeedSource(id="src", url=server.url("/feed")))
    assert result.error_class == "http_error"
    assert_bounded(result)
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        store.apply_collect(result, NOW)
        stored = store.source_states()["src"].error_message or ""
        assert stored == result.error_message
        assert "HTTP 500" in stored
    finally:
        store.close()


def test_every_error_message_is_bounded_where_results_are_made() -> None:
    """One place bounds messages: the result itself, whatever produced the text."""
    result = CollectResult(
        source_id="src",
        status="error",
        error_class="error",
        error_message="src: unexpected ValueError: " + "x\n\x1b[31m" * 40000,
        warnings=("release page skipped: " + "y" * 100000,),
    )
    message = result.error_message or ""
    assert len(message) <= ERROR_CHARS
    assert "\n" not in message
    assert "\x1b" not in message
    assert message.startswith("src: unexpected ValueError: x [31m")
    assert all(len(w) <= ERROR_CHARS for w in result.warnings)


# ------------------------------------------------- 15: every numeric spelling is blocked_address

SPELLINGS = ["2130706433", "0x7f000001", "017700000001", "127.1", "0177.0.0.1", "0x7f.1"]


@pytest.mark.parametrize("host", SPELLINGS)
def test_numeric_spellings_are_read_as_the_address_they_reach(host: str) -> None:
    assert str(odd_ipv4_spelling(host)) == "127.0.0.1"


@pytest.mark.parametrize("host", ["127.0.0.1", "example.org", "cafe.be", "deadbeef", "1e100.net"])
def test_ordinary_hosts_are_not_odd_spellings(host: str) -> None:
    assert odd_ipv4_spelling(host) is None


@pytest.mark.parametrize("host", SPELLINGS)
def test_redirect_to_a_numeric_spelling_is_blocked(
    server: Script, settings: CollectSettings, host: str
) -> None:
    """Item 15: the decimal spelling was refused by aiohttp as an invalid URL and
    reported as ``http_error``; the hexadecimal one reached the allow-listed server."""
    server.add("/feed", status=302, headers={"Location": f"http://{host}:{server.port}/feed"})
    [result] = collect(settings, FeedSource(id="src", url=server.url("/feed")))
    assert result.error_class == "blocked_address", result.error_message
    assert "127.0.0.1" in (result.error_message or "")
    assert [r.path for r in server.log] == ["/feed"]  # nothing sent to the redirect target


@pytest.mark.parametrize("host", SPELLINGS)
def test_numeric_spelling_as_the_source_url_is_blocked(
    server: Script, settings: CollectSettings, host: str
) -> None:
    """The configuration reads the URL into its standard form (127.0.0.1), which the
    address policy judges; ``sources add`` fetches the URL as typed, and that is refused
    too, whatever the allow-list says."""
    server.add("/feed", RSS)
    url = f"http://{host}:{server.port}/feed"
    [result] = collect(CollectSettings(), FeedSource(id="src", url=url))
    assert result.error_class == "blocked_address"
    with pytest.raises(SourceError) as caught:
        discover_feeds(url, settings)  # 127.0.0.1 allowed, the odd spelling is not
    assert caught.value.error_class == "blocked_address"
    assert server.log == []


def test_sources_command_prints_a_bounded_line_for_an_old_unbounded_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 14: a database written by an older version may hold a 120 K error text;
    ``syndicator sources`` printed it whole."""
    repo = Path(__file__).resolve().parents[2]
    config = tmp_path / "config.yaml"
    config.write_text((repo / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    store = open_store(f"sqlite:///{tmp_path / 'var' / 'syndicator.sqlite3'}")
    try:
        store.apply_collect(
            CollectResult(source_id="europol-news", status="error", error_class="http_error"), NOW
        )
        with store.engine.begin() as conn:  # what an older version stored
            conn.execute(
                text("UPDATE sources SET error_message = :m"),
                {"m": "europol-news: failed: " + GARBAGE.decode()},
            )
    finally:
        store.close()
    assert main(["--config", str(config), "sources"]) == 0
    listing = capsys.readouterr().out
    assert "europol-news" in listing
    assert "GARBAGE-BODY" in listing  # the start of the message is still shown
    assert "\x1b" not in listing
    assert max(len(line) for line in listing.splitlines()) <= ERROR_CHARS + 40


# ------------------------------------------- 13: declarations stripped wherever the prolog ends


def laughs(levels: int, padding: str) -> bytes:
    """A feed whose DTD declares a "billion laughs" entity of 10^(levels+1) characters,
    placed after ``padding`` (which pushes it past the first 64 KiB)."""
    names = [chr(ord("a") + k) for k in range(levels + 1)]
    entities = f'<!ENTITY a "{"a" * 10}">' + "".join(
        f'<!ENTITY {name} "{("&" + before + ";") * 10}">'
        for before, name in itertools.pairwise(names)
    )
    top = names[-1]
    return (
        f'<?xml version="1.0"?>{padding}<!DOCTYPE rss [{entities}]>'
        f'<rss version="2.0"><channel><title>Laughs &{top};</title>'
        f"<item><title>Release &{top};</title><guid>1</guid>"
        f"<description>Text &{top};</description></item></channel></rss>"
    ).encode()


PADDINGS = {
    "comments": "<!--" + "x" * 70_000 + "-->",
    "whitespace": "\n" * 70_000,
    "instructions": "".join(f"<?pi {'y' * 1000}?>" for _ in range(70)),
}


def within(seconds: float, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``work(...)``, failing the test after ``seconds``: a parse that expands entities or
    goes quadratic must fail it, not hang the suite (the stuck thread is abandoned)."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(work, *args, **kwargs).result(timeout=seconds)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def collect_guarded(settings: CollectSettings, source: FeedSource) -> CollectResult:
    [result] = within(60, collect, settings, source)
    return result


@pytest.mark.parametrize("padding", sorted(PADDINGS))
def test_dtd_after_the_first_64_kib_is_stripped_in_process(
    server: Script, settings: CollectSettings, padding: str
) -> None:
    """Item 13: only the first 64 KiB were searched for a DTD. With ``parse_workers: 0``
    this entity (10^6 characters, under expat's own amplification guard) was expanded
    in the cycle's own process, 200,000 "a" kept as the item's text."""
    server.add("/feed", laughs(5, PADDINGS[padding]), headers={"Content-Type": "application/xml"})
    inline = settings.model_copy(update={"parse_workers": 0})
    result = collect_guarded(inline, FeedSource(id="src", url=server.url("/feed")))
    assert result.status == "ok", result.error_message
    [item] = result.items
    assert item.title.startswith("Release")
    for text_ in (item.title, item.summary, item.content):
        assert "aaaaaaaaaa" not in text_


def test_billion_laughs_after_64_kib_never_expands(
    server: Script, settings: CollectSettings
) -> None:
    server.add("/feed", laughs(9, PADDINGS["comments"]))
    inline = settings.model_copy(update={"parse_workers": 0})
    result = collect_guarded(inline, FeedSource(id="src", url=server.url("/feed")))
    assert all("aaaaaaaaaa" not in i.title + i.summary + i.content for i in result.items)


@pytest.mark.parametrize("workers", [0, 1])
def test_prolog_longer_than_the_bound_is_refused(
    server: Script, settings: CollectSettings, workers: int
) -> None:
    """The same refusal in-process and in a parse worker."""
    body = '<?xml version="1.0"?>' + "<!--" + "x" * PROLOG_LIMIT + "-->" + RSS.split("?>", 1)[1]
    server.add("/feed", body)
    chosen = settings.model_copy(update={"parse_workers": workers})
    [result] = collect(chosen, FeedSource(id="src", url=server.url("/feed")))
    assert result.error_class == "parse_error"
    assert "prolog too long" in (result.error_message or "")


def test_dtd_in_a_utf16_document_is_stripped(server: Script, settings: CollectSettings) -> None:
    """A UTF-16 document is read as UTF-8 by the same scan, so its DTD goes too."""
    body = laughs(5, PADDINGS["whitespace"]).decode()
    body = body.replace('"1.0"?>', '"1.0" encoding="utf-16"?>')
    server.add("/feed", body.encode("utf-16"), headers={"Content-Type": "text/xml; charset=utf-16"})
    inline = settings.model_copy(update={"parse_workers": 0})
    result = collect_guarded(inline, FeedSource(id="src", url=server.url("/feed")))
    assert result.status == "ok", result.error_message
    [item] = result.items
    assert item.title.startswith("Release")
    assert "aaaaaaaaaa" not in item.title + item.summary + item.content


def test_prolog_scan_finds_every_declaration() -> None:
    head = b'\xef\xbb\xbf<?xml version="1.0"\n encoding="utf-8"?>\n<!-- a <!DOCTYPE inside -->\n'
    tricky = b'<!DOCTYPE rss SYSTEM "x>y" [<!ENTITY a "]>"><!-- ]> --><?pi ]> ?>]  >'
    body = head + b"\n" * 100_000 + tricky + b"<!ENTITY stray 'z'>junk" + b"<rss/>"
    prolog = scan_prolog(body)
    assert prolog.subset
    assert prolog.doctype is not None
    assert body[prolog.doctype[0] : prolog.doctype[1]] == tricky
    assert len(prolog.strays) == 1
    assert body[prolog.end :] == b"<rss/>"
    cleaned, _ = for_feedparser(body, "")
    assert cleaned == b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>\n<rss/>'


def test_doctype_without_subset_is_kept_for_feedparser() -> None:
    netscape = (
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"\n'
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n\n<rss version="0.91"/>'
    )
    assert not scan_prolog(netscape).declares
    cleaned, _ = for_feedparser(netscape, "")
    assert cleaned == netscape.replace(b"\n\n", b"\n").replace(b'EN"\n', b'EN" ')


def test_feedparser_never_sees_a_long_blank_prolog() -> None:
    """feedparser's declaration search takes time quadratic in the prolog's blank lines
    (70,000 took 50 s); it now gets the prolog reduced to one line."""
    body = b'<?xml version="1.0"?>' + b"\n" * 500_000 + RSS.split("?>", 1)[1].encode()
    cleaned, _ = for_feedparser(body, "application/rss+xml")
    assert cleaned.count(b"\n") < 50
    parsed = within(
        30, parse_with_feedparser, body, {}, "http://x/", source_id="s", settings=CollectSettings()
    )
    assert len(parsed.items) == 2


def test_plain_feed_is_handed_over_unchanged() -> None:
    assert for_feedparser(b"<rss/>", "text/xml") == (b"<rss/>", "text/xml")
    assert for_feedparser(b"\xef\xbb\xbf<rss/>", "") == (b"\xef\xbb\xbf<rss/>", "")


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "unterminated>]><rss/>',
        b"<!DOCTYPE rss [<!ENTITY a 'x'>",
    ],
)
def test_doctype_without_an_end_is_refused(body: bytes) -> None:
    with pytest.raises(ParseFailure, match="DOCTYPE"):
        scan_prolog(body)


# ------------------------------------- 12: an update is a change a reader cares about


def test_feed_that_embeds_the_time_is_not_republished_every_poll(
    server: Script, settings: CollectSettings, tmp_path: Path
) -> None:
    """Item 12: each request stamps its own time into every entry (text, updated, link);
    with no ETag, every poll counted every entry as updated (up to the cap of 24)."""
    requests = itertools.count()
    wording = {"text": "Customs seized 3 tonnes of cocaine in the port."}

    def stamped(h: BaseHTTPRequestHandler) -> None:
        moment = NOW + timedelta(minutes=7 * next(requests), seconds=13)
        clock, iso, epoch = f"{moment:%H:%M:%S}", moment.isoformat(), int(moment.timestamp())
        entries = "".join(
            f"<entry><title>Release {n}</title><id>urn:release:{n}</id>"
            f'<link href="https://agency.example/press/{n}?utm_source=feed&amp;t={epoch}"/>'
            f"<published>2026-01-0{n}T09:00:00Z</published><updated>{iso}</updated>"
            f'<summary type="html">&lt;p&gt;{wording["text"] if n == 1 else "Other news."}'
            f"&lt;/p&gt;&lt;p&gt;Page generated at {clock}, {epoch % 997} views.&lt;/p&gt;"
            "</summary></entry>"
            for n in (1, 2, 3)
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Agency</title><id>urn:agency</id><updated>{iso}</updated>{entries}</feed>"
        ).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/atom+xml")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    server.routes["/feed"] = stamped
    source = FeedSource(id="agency", url=server.url("/feed"))
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")

    def poll(hours: int) -> tuple[int, int]:
        now = NOW + timedelta(hours=hours)
        [result] = collect_sources([source], {}, settings, now)
        assert result.status == "ok", result.error_message
        counts = store.apply_collect(result, now)
        return counts.new, counts.updated

    try:
        assert poll(0) == (3, 0)
        assert poll(1) == (0, 0)
        assert poll(2) == (0, 0)
        wording["text"] = "Customs seized 4 tonnes of cocaine in the port."
        assert poll(3) == (0, 1)
        assert poll(4) == (0, 0)
        stored = store.items_needing_tags("never-tagged")
        [changed] = [s for s in stored if s.item.title == "Release 1"]
        assert "4 tonnes" in changed.item.summary
        assert changed.last_changed_at == NOW + timedelta(hours=3)
    finally:
        store.close()
