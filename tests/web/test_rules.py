"""The web application's pure rules: negotiation, preconditions, mount points, rewriting."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicator.config import load_settings
from syndicator.web import mounts
from syndicator.web.preview import rewrite_links
from syndicator.web.representation import Validator, accepts_gzip, content_type, not_modified

from .conftest import write_config


@pytest.mark.parametrize(
    ("header", "gzip"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("GZIP", True),
        ("deflate, gzip;q=0.5", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0, *", False),
        ("*;q=0", False),
        ("br, identity", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_gzip_is_used_only_when_accepted(header: str | None, gzip: bool) -> None:
    assert accepts_gzip(header) is gzip


WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_if_none_match_wins_and_if_modified_since_compares_seconds() -> None:
    assert not_modified(Validator(["abc"], None), "abc", WHEN)
    assert not_modified(Validator(["*"], None), "abc", WHEN)
    assert not not_modified(Validator(["abc"], None), "abc-gzip", WHEN)
    assert not not_modified(Validator(["old"], WHEN), "abc", WHEN)
    assert not_modified(Validator(None, WHEN), "abc", WHEN)
    assert not not_modified(Validator(None, WHEN.replace(hour=11)), "abc", WHEN)
    assert not not_modified(Validator(None, None), "abc", WHEN)


def test_types_carry_utf8_and_unknown_files_are_not_sniffed_as_text() -> None:
    assert content_type("CORRUPTION.ATOM") == "application/atom+xml; charset=utf-8"
    assert content_type("robots.txt") == "text/plain; charset=utf-8"
    assert content_type("logo.png") == "image/png"
    assert content_type("README") == "application/octet-stream"


def test_mount_points_follow_the_public_urls_and_move_to_the_root_in_preview(
    tmp_path: Path,
) -> None:
    settings = load_settings(write_config(tmp_path, base_url="https://x.example/a%20b/feeds"))
    public = mounts(settings)
    assert (public.site, public.unsubscribe, public.preview_of) == (
        "/a b/feeds/",
        "/a b/feeds/unsubscribe",
        None,
    )
    assert public.legacy_unsubscribe == "/unsubscribe"  # what earlier versions answered
    preview = mounts(settings, preview=True)
    assert (preview.site, preview.unsubscribe, preview.legacy_unsubscribe) == (
        "/",
        "/unsubscribe",
        None,
    )
    assert preview.preview_of == "https://x.example/a%20b/feeds/"

    elsewhere = load_settings(
        write_config(
            tmp_path,
            delivery={"unsubscribe_url": "https://mail.example/stop"},
        )
    )
    assert mounts(elsewhere).unsubscribe == "/stop"
    assert mounts(elsewhere, preview=True).unsubscribe == "/stop"


def test_rewriting_replaces_the_base_url_only() -> None:
    body = (
        b'<a href="https://x.example/feeds/a.html">a</a>'
        b'<a href="https://x.example/feeds-old/b.html">b</a>'
        b'<a href="https://other.example/feeds/c.html">c</a>'
    )
    rewritten = rewrite_links(body, "https://x.example/feeds/", "http://127.0.0.1:8470/")
    assert rewritten == (
        b'<a href="http://127.0.0.1:8470/a.html">a</a>'
        b'<a href="https://x.example/feeds-old/b.html">b</a>'
        b'<a href="https://other.example/feeds/c.html">c</a>'
    )
