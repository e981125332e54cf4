"""feedparser's own ~2,200 test documents, run through our parsing.

The corpus ships in feedparser's sdist, not its wheel; fetch it once with
``tests/collect/fetch_feedparser_corpus.py`` (or point FEEDPARSER_TESTS at a
``tests`` folder). Without it these tests skip, and the odd-feed cases of
test_parsing.py still run.

Checked for every document: parsing either yields Items or a ParseFailure
(nothing else escapes), every Item holds our invariants, and wherever the fast
path accepts a document it agrees with feedparser, except for the few
documented cases where it is deliberately different.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from syndicator.collect.fastfeed import read_fast
from syndicator.collect.feeds import parse_feed, parse_with_feedparser
from syndicator.collect.parsed import ParseFailure
from syndicator.config import CollectSettings
from syndicator.models import Item

CORPUS = Path(
    os.environ.get("FEEDPARSER_TESTS", Path.home() / ".cache" / "syndicator" / "feedparser-tests")
)
URL = "http://example.org/feed"
SETTINGS = CollectSettings()
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Where the fast path differs on purpose (or feedparser guesses):
KNOWN_DIFFERENCES = {
    "double-encoded-html.xml",  # feedparser undoes UTF-8-read-as-Latin-1 mojibake
    "entry_content_text_plain_brackets.xml",  # type="text": "<blink>" is literal text
    "target.xml",  # RSS <item> inside an Atom feed (fast path declines; feedparser too lenient)
    "http_status_304.xml",
}


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p for p in CORPUS.rglob("*.xml") if "http" not in p.parts or p.name.endswith(".xml")
    )


pytestmark = pytest.mark.skipif(
    not corpus_files(), reason=f"feedparser test corpus not found at {CORPUS}"
)


def check_invariants(item: Item) -> None:
    assert item.identity.startswith(("guid:", "link:", "hash:"))
    assert "\n" not in item.title
    assert "\r" not in item.title
    for text in (item.title, item.summary, item.content, *item.declared_topics):
        assert not ILLEGAL.search(text)
        assert "<script" not in text.lower()
    assert item.published_at is None or item.published_at.tzinfo is not None
    assert item.link is None or item.link.startswith(("http://", "https://"))


def test_every_document_parses_or_fails_cleanly() -> None:
    started = time.monotonic()
    parsed = failed = 0
    classes: set[str] = set()
    for path in corpus_files():
        try:
            feed = parse_feed(path.read_bytes(), {}, URL, source_id="s", settings=SETTINGS)
        except ParseFailure as exc:
            classes.add(exc.error_class)
            failed += 1
            continue
        parsed += 1
        for item in feed.items:
            check_invariants(item)
    assert parsed > 1500
    assert classes <= {"parse_error", "not_a_feed"}
    assert time.monotonic() - started < 30


def test_fast_path_agrees_with_feedparser() -> None:
    compared = 0
    for path in corpus_files():
        if path.name in KNOWN_DIFFERENCES or path.name.startswith("entry_id_no_normalization"):
            continue  # the fast path keeps an Atom id exactly as written (RFC 4287 4.2.6.1)
        body = path.read_bytes()
        if read_fast(body, URL) is None:
            continue
        fast = parse_feed(body, {}, URL, source_id="s", settings=SETTINGS)
        reference = parse_with_feedparser(body, {}, URL, source_id="s", settings=SETTINGS)
        assert fast.items == reference.items, path
        compared += 1
    assert compared > 700
