"""Main text of an article page: our HTML reader for metadata, trafilatura for the text.

trafilatura is good at telling an article from its navigation and footer;
our own reader knows the release conventions (date line, "Further
information" list, canonical link). Using both gives the best of each.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from syndicator.collect.dates import parse_date
from syndicator.collect.parsed import parse_errors
from syndicator.collect.releases.common import Release, structure
from syndicator.collect.releases.html import read_html

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def extract_article(body: bytes) -> Release:
    """Title, date, paragraphs and declared topics of an article page (blocking, CPU)."""
    release = read_html(body)
    try:
        import trafilatura

        markup = body.decode("utf-8", errors="replace")
        text = trafilatura.extract(
            markup, include_comments=False, include_tables=False, favor_precision=True
        )
        meta = trafilatura.extract_metadata(markup) if release.published_at is None else None
    except Exception:  # trafilatura is an optional refinement; our reader already has a result
        return release
    published = release.published_at
    if meta is not None and getattr(meta, "date", None):
        published = parse_date(str(meta.date))
    if text:
        _, paragraphs, found, topics = structure(
            text.replace("\n", "\n\n"), title=release.title, published_at=published
        )
        if sum(map(len, paragraphs)) >= sum(map(len, release.paragraphs)) * 0.5:
            return replace(
                release,
                paragraphs=paragraphs,
                published_at=found,
                declared_topics=release.declared_topics or topics,
            )
    return replace(release, published_at=published)


def extract_guarded(body: bytes, url: str) -> Release:
    """extract_article with every failure but ReleaseError turned into ParseFailure.

    Runs in a parse worker (or a thread when there are none): only exceptions
    that pickle by their arguments may leave it, and none may be a bug's.
    """
    with parse_errors(f"reading {url}"):
        return extract_article(body)
