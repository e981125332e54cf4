"""The output folder served by the web application, on aiohttp's test server at 127.0.0.1.

Every request goes over a real socket exactly as written (see ``conftest.request``),
against a real published site whose ``base_url`` has a path, ``/syndicator/``.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from syndicator.config import load_settings
from syndicator.deliver.tokens import TokenSigner
from syndicator.web import make_app

from .conftest import SIGNING_KEY, SUBSCRIBER, Site, request, write_config

HTML = "text/html; charset=utf-8"
MARKER = "top-secret-marker-7f3a"


@pytest.fixture
async def port(site: Site, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[int]:
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", SIGNING_KEY)
    async with TestServer(make_app(load_settings(site.config)), host="127.0.0.1") as server:
        assert server.port is not None
        yield server.port


def an_item_page(site: Site) -> str:
    return "items/" + sorted(p.name for p in (site.feeds / "items").glob("*.html"))[0]


async def test_each_format_goes_out_byte_for_byte_with_its_type(site: Site, port: int) -> None:
    expected = {
        "index.html": HTML,
        "corruption.html": HTML,
        an_item_page(site): HTML,
        "corruption.rss": "application/rss+xml; charset=utf-8",
        "all.atom": "application/atom+xml; charset=utf-8",
        "corruption.json": "application/feed+json; charset=utf-8",
        "feeds.opml": "text/x-opml; charset=utf-8",
    }
    for name, content_type in expected.items():
        answer = await request(port, f"/syndicator/{name}")
        assert answer.status == 200, name
        assert answer.headers["content-type"] == content_type, name
        assert answer.body == (site.feeds / name).read_bytes(), name
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "public, max-age=300"
        assert "content-encoding" not in answer.headers  # not asked for
    index = await request(port, "/syndicator/")
    assert index.body == (site.feeds / "index.html").read_bytes()
    # The shipped pages need their inline style and no script; the policy allows exactly that.
    policy = index.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert b"<style>" in index.body
    assert b"<script" not in index.body
    feed = await request(port, "/syndicator/all.atom")
    assert "sandbox" in feed.headers["content-security-policy"]


async def test_conditional_requests_get_304_until_the_file_changes(site: Site, port: int) -> None:
    url = "/syndicator/corruption.atom"
    first = await request(port, url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")

    by_tag = await request(port, url, headers={"If-None-Match": etag})
    assert (by_tag.status, by_tag.body, by_tag.headers["etag"]) == (304, b"", etag)
    assert (await request(port, url, headers={"If-None-Match": f'"x", W/{etag}'})).status == 304
    assert (await request(port, url, headers={"If-None-Match": "*"})).status == 304
    by_date = await request(port, url, headers={"If-Modified-Since": modified})
    assert by_date.status == 304
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    other = await request(
        port, url, headers={"If-None-Match": '"x"', "If-Modified-Since": modified}
    )
    assert other.status == 200
    head = await request(port, url, method="HEAD")
    assert (head.status, head.body, head.headers["etag"]) == (200, b"", etag)

    path = site.feeds / "corruption.atom"
    path.write_bytes(path.read_bytes().replace(b"</feed>", b"<!-- republished --></feed>"))
    later = os.stat(path).st_mtime + 60
    os.utime(path, (later, later))
    changed = await request(port, url, headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.body == path.read_bytes()
    assert changed.headers["etag"] != etag
    assert (await request(port, url, headers={"If-Modified-Since": modified})).status == 200


async def test_gzip_only_when_accepted_with_its_own_etag(site: Site, port: int) -> None:
    url = "/syndicator/all.json"
    plain = await request(port, url)
    packed = await request(port, url, headers={"Accept-Encoding": "br, gzip;q=0.8"})
    assert packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed.body) == (site.feeds / "all.json").read_bytes()
    assert len(packed.body) < len(plain.body)
    assert packed.headers["vary"] == "Accept-Encoding"
    assert plain.headers["vary"] == "Accept-Encoding"  # a cache must not mix the two
    assert packed.headers["etag"] != plain.headers["etag"]
    revalidated = await request(
        port, url, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["etag"]}
    )
    assert revalidated.status == 304
    for refusing in ("gzip;q=0, *", "identity", "deflate, br"):
        answer = await request(port, url, headers={"Accept-Encoding": refusing})
        assert "content-encoding" not in answer.headers, refusing
        assert answer.body == plain.body
    assert (await request(port, url, headers={"Accept-Encoding": "*"})).headers[
        "content-encoding"
    ] == "gzip"


async def test_dotfiles_links_out_and_traversal_get_a_quiet_404(
    site: Site, port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    (site.root / "secret.txt").write_text(MARKER, encoding="utf-8")
    (site.feeds / ".syndicator-tmp-4242-abcd.tmp").write_text(MARKER, encoding="utf-8")
    (site.feeds / ".git").mkdir()
    (site.feeds / ".git" / "config").write_text(MARKER, encoding="utf-8")
    (site.feeds / "leak.html").symlink_to(site.root / "secret.txt")
    (site.feeds / "outside").symlink_to(site.root, target_is_directory=True)
    (site.feeds / "hidden.html").symlink_to(site.feeds / ".git" / "config")
    refused = [
        "/syndicator/.syndicator-tmp-4242-abcd.tmp",
        "/syndicator/%2esyndicator-tmp-4242-abcd.tmp",
        "/syndicator/.git/config",
        "/syndicator/.git/",
        "/syndicator/../secret.txt",
        "/syndicator/%2e%2e/secret.txt",
        "/syndicator/%2E%2E%2Fsecret.txt",
        "/syndicator/..%2fsecret.txt",
        "/syndicator/..%5csecret.txt",
        "/syndicator/..\\secret.txt",
        "/syndicator/items/%2e%2e/%2e%2e/secret.txt",
        "/syndicator/items/..%5c..%5csecret.txt",
        "/syndicator/./index.html",
        "/syndicator//etc/passwd",
        "/syndicator/index.html%00.txt",
        "/syndicator/leak.html",
        "/syndicator/hidden.html",
        "/syndicator/outside/secret.txt",
        "/syndicator/outside/",
        "/syndicator/items/",  # no listings
        "/syndicator/items",
        "/syndicator/corruption.atom/",
        "/syndicator/missing.html",
    ]
    for target in refused:
        answer = await request(port, target)
        assert answer.status == 404, target
        assert answer.body == b"Not found.\n", target
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert "Traceback" not in caplog.text
    assert MARKER not in caplog.text
    assert not [record for record in caplog.records if record.exc_info]
    # A link that stays inside the folder is an ordinary file.
    (site.feeds / "latest.atom").symlink_to(site.feeds / "all.atom")
    assert (await request(port, "/syndicator/latest.atom")).status == 200


async def test_only_get_and_head_on_files_and_post_only_on_unsubscribe(port: int) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        answer = await request(port, "/syndicator/index.html", method=method)
        assert answer.status == 405, method
        assert "GET" in answer.headers["allow"]
    assert (
        await request(port, "/syndicator/unsubscribe?token=forged", method="POST")
    ).status == 400


async def test_the_site_answers_under_the_path_of_base_url(site: Site, port: int) -> None:
    root = await request(port, "/")
    assert (root.status, root.headers["location"]) == (302, "/syndicator/")
    bare = await request(port, "/syndicator")
    assert (bare.status, bare.headers["location"]) == (301, "/syndicator/")
    assert (await request(port, "/index.html")).status == 404
    (site.feeds / "archive").mkdir()
    (site.feeds / "archive" / "index.html").write_text("<p>archive</p>", encoding="utf-8")
    folder = await request(port, "/syndicator/archive")
    assert (folder.status, folder.headers["location"]) == (301, "/syndicator/archive/")
    assert (await request(port, "/syndicator/archive/")).body == b"<p>archive</p>"


async def test_unsubscribe_answers_at_the_path_of_unsubscribe_url(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", SIGNING_KEY)
    config = write_config(
        site.root,
        delivery={
            "outbox_dir": "outbox",
            "unsubscribe_url": "https://mail.example.org/lists/unsubscribe",
        },
    )
    token = TokenSigner(SIGNING_KEY).sign(SUBSCRIBER)
    async with TestServer(make_app(load_settings(config)), host="127.0.0.1") as server:
        assert server.port is not None
        page = await request(server.port, f"/lists/unsubscribe?token={token}")
        assert page.status == 200
        assert SUBSCRIBER.encode() in page.body
        assert (await request(server.port, f"/syndicator/unsubscribe?token={token}")).status == 404
        # Where earlier versions answered, for proxies that still rewrite to it.
        assert (await request(server.port, f"/unsubscribe?token={token}")).status == 200
        assert (await request(server.port, "/syndicator/corruption.rss")).status == 200


def test_the_published_files_are_where_the_tests_expect(site: Site) -> None:
    """Guards the fixture: a change of file names would otherwise make the tests vacuous."""
    names = {p.name for p in site.feeds.iterdir()}
    assert {"index.html", "corruption.rss", "all.atom", "all.json", "feeds.opml"} <= names
    assert Path(site.feeds / "items").is_dir()


async def test_preview_trusts_only_a_plain_host_header(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", SIGNING_KEY)
    app = make_app(load_settings(site.config), preview=True)
    async with TestServer(app, host="127.0.0.1") as server:
        assert server.port is not None
        named = await request(server.port, "/all.atom", headers={"Host": "localhost:8000"})
        assert b'href="http://localhost:8000/all.atom"' in named.body
        hostile = await request(server.port, "/all.atom", headers={"Host": 'x"><script>a</script>'})
        assert hostile.status == 200
        assert b"<script>" not in hostile.body
        assert f'href="http://127.0.0.1:{server.port}/all.atom"'.encode() in hostile.body
