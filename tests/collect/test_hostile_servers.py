"""Collection under hostile servers (issue 7, items 11-15), over the scripted local server.

Each test here names the defect it pins; each failed before the fix.
"""

from __future__ import annotations

import random
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from collect_helpers import NOW, Script
from feeds_data import RSS
from sqlalchemy import text

from syndicator.cli import main
from syndicator.collect import collect_sources, discover_feeds
from syndicator.collect.safety import odd_ipv4_spelling
from syndicator.config import CollectSettings, FeedSource
from syndicator.errors import SourceError
from syndicator.models import CollectResult
from syndicator.store import open_store
from syndicator.text import ERROR_CHARS


def collect(settings: CollectSettings, *sources: FeedSource) -> list[CollectResult]:
    return collect_sources(list(sources), {}, settings, NOW, force=True, rng=random.Random(0))


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
