"""The HTTP layer's bounds: deadlines, size caps, redirects, addresses, politeness."""

from __future__ import annotations

import contextlib
import gzip
import itertools
import random
import shutil
import socket
import ssl
import subprocess
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from collect_helpers import NOW, Script
from feeds_data import RSS, rss_items

from syndicator.collect import collect_sources
from syndicator.config import CollectSettings, FeedSource
from syndicator.models import CollectResult, SourceState


def run(server: Script, settings: CollectSettings, path: str = "/feed", **kw: str) -> CollectResult:
    url = kw.get("url") or server.url(path)
    source = FeedSource(id="src", url=url)
    [result] = collect_sources([source], {}, settings, NOW, rng=random.Random(0))
    return result


def test_drip_feed_is_cut_at_the_total_deadline(server: Script) -> None:
    def drip(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "100000")
        h.end_headers()
        for _ in range(100):
            h.wfile.write(b"<")
            h.wfile.flush()
            time.sleep(0.1)

    server.routes["/feed"] = drip
    settings = CollectSettings(allow_networks=("127.0.0.1",), read_timeout=5, total_timeout=1)
    started = time.monotonic()
    result = run(server, settings)
    assert time.monotonic() - started < 3
    assert result.error_class == "timeout"
    assert "deadline" in (result.error_message or "")


def test_slow_headers_time_out(server: Script) -> None:
    server.add("/feed", RSS, delay=2)
    settings = CollectSettings(allow_networks=("127.0.0.1",), read_timeout=0.5, total_timeout=5)
    result = run(server, settings)
    assert result.error_class == "timeout"
    assert "read timeout" in (result.error_message or "")


def test_announced_size_over_cap(server: Script) -> None:
    server.add("/feed", RSS, headers={"Content-Length": str(50 * 1024 * 1024)})
    settings = CollectSettings(allow_networks=("127.0.0.1",), max_bytes=1024 * 1024)
    result = run(server, settings)
    assert result.error_class == "too_large"


def test_short_body_after_lying_content_length(server: Script, settings: CollectSettings) -> None:
    def liar(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "5000")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(RSS.encode()[:100])
        h.close_connection = True

    server.routes["/feed"] = liar
    result = run(server, settings)
    assert result.status == "error"
    assert result.error_class in ("connection_error", "parse_error", "not_a_feed")


def test_chunked_body_over_cap_without_length(server: Script) -> None:
    def chunked(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        block = b"x" * 65536
        for _ in range(40):
            h.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
        h.wfile.write(b"0\r\n\r\n")

    server.routes["/feed"] = chunked
    settings = CollectSettings(allow_networks=("127.0.0.1",), max_bytes=1024 * 1024)
    assert run(server, settings).error_class == "too_large"


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_gzip_bomb_is_cut_while_decompressing(server: Script, layers: int) -> None:
    bomb = b"\0" * (64 * 1024 * 1024)
    for _ in range(layers):
        bomb = gzip.compress(bomb, compresslevel=9)
    assert len(bomb) < 1024 * 1024
    server.add("/feed", bomb, headers={"Content-Encoding": ", ".join(["gzip"] * layers)})
    settings = CollectSettings(allow_networks=("127.0.0.1",), max_bytes=2 * 1024 * 1024)
    started = time.monotonic()
    result = run(server, settings)
    assert result.error_class == "too_large"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as old IIS sends
        ("gzip, deflate", lambda b: zlib.compress(gzip.compress(b))),
    ],
)
def test_compressed_feeds_decode(
    server: Script, settings: CollectSettings, encoding: str, encode: object
) -> None:
    server.add("/feed", encode(RSS.encode()), headers={"Content-Encoding": encoding})  # type: ignore[operator]
    result = run(server, settings)
    assert result.status == "ok", result.error_message
    assert len(result.items) == 2
    assert "gzip" in server.log[0].headers["Accept-Encoding"]


def test_unknown_encoding_is_an_error(server: Script, settings: CollectSettings) -> None:
    server.add("/feed", b"abc", headers={"Content-Encoding": "br"})
    result = run(server, settings)
    assert result.error_class == "http_error"
    assert "br" in (result.error_message or "")


def test_permanent_redirect_reports_new_url(server: Script, settings: CollectSettings) -> None:
    server.add("/old", status=301, headers={"Location": "/newer"})
    server.add("/newer", status=308, headers={"Location": server.url("/new")})
    server.add("/new", RSS)
    result = run(server, settings, "/old")
    assert result.status == "ok"
    assert result.permanent_url == server.url("/new")


def test_temporary_redirect_keeps_url(server: Script, settings: CollectSettings) -> None:
    server.add("/old", status=301, headers={"Location": "/tmp"})
    server.add("/tmp", status=302, headers={"Location": "/new"})
    server.add("/new", RSS)
    result = run(server, settings, "/old")
    assert result.status == "ok"
    assert result.permanent_url == server.url("/tmp")  # the 301 hop, not past the 302


def test_302_alone_never_sets_permanent_url(server: Script, settings: CollectSettings) -> None:
    server.add("/old", status=307, headers={"Location": "/new"})
    server.add("/new", RSS)
    assert run(server, settings, "/old").permanent_url is None


def test_stored_permanent_url_is_used(server: Script, settings: CollectSettings) -> None:
    server.add("/new", RSS)
    source = FeedSource(id="src", url=server.url("/old"))
    state = SourceState(source_id="src", url=server.url("/old"), permanent_url=server.url("/new"))
    [result] = collect_sources([source], {"src": state}, settings, NOW)
    assert result.status == "ok"
    assert [r.path for r in server.log] == ["/new"]
    assert result.permanent_url == server.url("/new")  # reported again, so the store keeps it


def test_redirect_loop(server: Script, settings: CollectSettings) -> None:
    server.add("/a", status=302, headers={"Location": "/b"})
    server.add("/b", status=302, headers={"Location": "/a"})
    result = run(server, settings, "/a")
    assert result.error_class == "http_error"
    assert "loop" in (result.error_message or "")


def test_too_many_redirects(server: Script) -> None:
    for i in range(10):
        server.add(f"/r{i}", status=302, headers={"Location": f"/r{i + 1}"})
    settings = CollectSettings(allow_networks=("127.0.0.1",), max_redirects=3, min_host_interval=0)
    result = run(server, settings, "/r0")
    assert result.error_class == "http_error"
    assert "too many redirects" in (result.error_message or "")
    assert len(server.log) == 4


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://example.org/feed"])
def test_redirect_to_other_scheme_is_refused(
    server: Script, settings: CollectSettings, target: str
) -> None:
    server.add("/feed", status=302, headers={"Location": target})
    result = run(server, settings)
    assert result.error_class == "blocked_address"
    assert target in (result.error_message or "")


def test_redirect_to_blocked_address(server: Script, settings: CollectSettings) -> None:
    server.add("/feed", status=302, headers={"Location": server.url("/x", host="127.0.0.2")})
    result = run(server, settings)
    assert result.error_class == "blocked_address"
    assert len(server.log) == 1


def test_loopback_is_blocked_by_default(server: Script) -> None:
    server.add("/feed", RSS)
    result = run(server, CollectSettings())
    assert result.error_class == "blocked_address"
    assert server.log == []


def test_name_resolving_to_loopback_is_blocked(server: Script) -> None:
    server.add("/feed", RSS)
    result = run(server, CollectSettings(), url=server.url("/feed", host="localhost"))
    assert result.error_class == "blocked_address"
    assert "localhost" in (result.error_message or "")
    assert server.log == []


def test_allow_list_by_network(server: Script) -> None:
    server.add("/feed", RSS)
    result = run(server, CollectSettings(allow_networks=("127.0.0.0/8",)), url=server.url("/feed"))
    assert result.status == "ok"


def test_unreachable_hosts_fail_fast_with_reason(settings: CollectSettings) -> None:
    sources = [
        FeedSource(id="dns", url="http://no-such-host.invalid/feed"),
        FeedSource(id="refused", url="http://127.0.0.1:9/feed"),
    ]
    started = time.monotonic()
    dns, refused = collect_sources(sources, {}, settings, NOW)
    assert time.monotonic() - started < settings.connect_timeout + 1
    assert dns.error_class == "connection_error"
    assert "no-such-host.invalid" in (dns.error_message or "")
    assert refused.error_class == "connection_error"
    assert "refused" in (refused.error_message or "")


def test_per_host_politeness(server: Script) -> None:
    server.add("/feed", rss_items(1), delay=0.05)
    settings = CollectSettings(
        allow_networks=("127.0.0.1",), min_host_interval=0.5, per_host=1, concurrency=10
    )
    sources = [FeedSource(id=f"s{i}", url=server.url(f"/feed?{i}")) for i in range(4)]
    server.routes.update({f"/feed?{i}": server.routes["/feed"] for i in range(4)})
    results = collect_sources(sources, {}, settings, NOW)
    assert all(r.status == "ok" for r in results)
    starts = sorted(r.at for r in server.log)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Spaced by 0.5 s when sent. Arrival times at the server lag by up to ~0.1 s on a
    # loaded machine (a first connection's thread starting late); unspaced requests
    # would arrive ~0.05 s apart.
    assert min(gaps) >= 0.35, gaps


def test_entity_expansion_is_neutralised(server: Script, settings: CollectSettings) -> None:
    lol = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + ']><rss version="2.0"><channel><title>&i;</title><item><title>x &i;</title>'
        "<guid>1</guid></item></channel></rss>"
    )
    server.add("/feed", lol)
    started = time.monotonic()
    result = run(server, settings)
    assert time.monotonic() - started < 3
    assert all(len(i.title) < 1000 for i in result.items)


def test_rotating_etags_are_stored_each_time(server: Script, settings: CollectSettings) -> None:
    for tag in ('"a"', '"b"'):
        server.add(
            "/feed", RSS, headers={"ETag": tag, "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
        )
        result = run(server, settings)
        assert result.caching is not None
        assert result.caching.etag == tag
        assert result.caching.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"


def test_self_signed_tls_is_a_tls_error(tmp_path: Path, settings: CollectSettings) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not available to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with contextlib.suppress(OSError, ssl.SSLError):
                context.wrap_socket(conn, server_side=True).close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        result = run(Script(), settings, url=f"https://127.0.0.1:{port}/feed")
    finally:
        listener.close()
    assert result.error_class == "tls_error"
    assert f"127.0.0.1:{port}" in (result.error_message or "")


def test_hanging_dns_does_not_hold_the_cycle(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def slow(host: str, *args: object, **kwargs: object) -> object:
        if host.endswith(".example"):
            time.sleep(3)
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    settings = CollectSettings(connect_timeout=0.5, total_timeout=5)
    source = FeedSource(id="slow", url="https://stuck-dns.example/feed")
    started = time.monotonic()
    [result] = collect_sources([source], {}, settings, NOW)
    assert time.monotonic() - started < 2
    assert result.error_class == "timeout"
    assert "DNS lookup of stuck-dns.example for https://stuck-dns.example/feed" in (
        result.error_message or ""
    )
    assert "0.5s connect timeout" in (result.error_message or "")


def test_slow_dns_costs_each_fetch_only_its_own_lookup(
    server: Script, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lookups run in parallel (one thread per concurrent fetch), not queued.

    Twenty hosts whose lookups take 0.4 s each, under a 1.2 s connect timeout:
    queued on a few threads they would take 0.4 s per batch and the last
    batches would time out.
    """
    real = socket.getaddrinfo

    def slow(host: str, *args: object, **kwargs: object) -> object:
        if host.endswith(".slowdns.test"):
            time.sleep(0.4)
            host = "127.0.0.1"
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    server.add("/feed", RSS)
    settings = CollectSettings(
        allow_networks=("127.0.0.1",), connect_timeout=1.2, total_timeout=5, min_host_interval=0
    )
    sources = [
        FeedSource(id=f"s{n}", url=f"http://h{n}.slowdns.test:{server.port}/feed")
        for n in range(20)
    ]
    started = time.monotonic()
    results = collect_sources(sources, {}, settings, NOW)
    assert [r.error_message for r in results if r.status != "ok"] == []
    assert time.monotonic() - started < 2.5


def test_host_interval_holds_when_the_global_limit_is_full(server: Script) -> None:
    """Requests to one host queued behind a full ``concurrency`` still start apart.

    The slow feed (on "localhost") holds the only global slot for 0.6 s while
    two feeds of 127.0.0.1 wait; timed from their host slot alone, both would
    start the moment it frees.
    """
    server.add("/slow", rss_items(1), delay=0.6)
    server.add("/fast?1", rss_items(1))
    server.add("/fast?2", rss_items(1))
    settings = CollectSettings(
        allow_networks=("127.0.0.1", "localhost"), concurrency=1, per_host=2, min_host_interval=0.3
    )
    sources = [
        FeedSource(id="slow", url=server.url("/slow", host="localhost")),
        FeedSource(id="f1", url=server.url("/fast?1")),
        FeedSource(id="f2", url=server.url("/fast?2")),
    ]
    results = collect_sources(sources, {}, settings, NOW)
    assert [r.status for r in results] == ["ok"] * 3, [r.error_message for r in results]
    first, second = sorted(r.at for r in server.log if r.path.startswith("/fast"))
    assert second - first >= 0.28


def test_repeated_content_encoding_headers_are_one_list(server: Script) -> None:
    def twice(h: BaseHTTPRequestHandler) -> None:
        body = gzip.compress(gzip.compress(RSS.encode()))
        h.send_response(200)
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    server.routes["/feed"] = twice
    result = run(server, CollectSettings(allow_networks=("127.0.0.1",)))
    assert result.status == "ok", result.error_message
    assert len(result.items) == 2
