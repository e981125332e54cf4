"""Feed bytes → Items: RSS 0.9x/1.0/2.0, Atom, RDF via feedparser; JSON Feed ourselves.

feedparser gets bytes (never a URL, so it never fetches anything itself) plus
the response headers, after the prolog is reduced to what it needs
(:func:`syndicator.collect.prolog.for_feedparser`): entity declarations are how
"billion laughs" and external-entity attacks start, and real feeds do not need
them. Its dicts are turned into Items right here.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

import feedparser

from syndicator.collect.dates import from_struct
from syndicator.collect.entries import RawEntry, build_items
from syndicator.collect.fastfeed import read_fast
from syndicator.collect.jsonfeed import looks_like_json, parse_json_feed
from syndicator.collect.normalize import single_line
from syndicator.collect.parsed import ParsedFeed, ParseFailure
from syndicator.collect.prolog import for_feedparser
from syndicator.config import CollectSettings

_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _content_type(headers: Mapping[str, str]) -> str:
    return next((v for k, v in headers.items() if k.lower() == "content-type"), "")


def _is_html(detail: Any) -> bool:
    kind = str(detail.get("type", "")) if isinstance(detail, Mapping) else ""
    return kind in _HTML_TYPES or kind == "html" or kind == "xhtml"


def _raw(entry: Any, key: str) -> Any:
    """A key exactly as parsed: FeedParserDict.get maps some missing keys to others (and warns)."""
    return dict.get(entry, key) if isinstance(entry, dict) else None


def _entry(raw: Any) -> RawEntry:
    contents = raw.get("content") or []
    best = max(contents, key=lambda c: len(str(c.get("value", ""))), default=None)
    tags = [str(t.get("term") or t.get("label") or "") for t in raw.get("tags") or []]
    return RawEntry(
        title=str(raw.get("title", "")),
        title_is_html=_is_html(raw.get("title_detail")),
        link=str(raw["link"]) if raw.get("link") else None,
        guid=str(raw["id"]) if raw.get("id") else None,
        summary=str(raw.get("summary", "")),
        summary_is_html=_is_html(raw.get("summary_detail")) or "summary_detail" not in raw,
        content=str(best.get("value", "")) if best is not None else "",
        content_is_html=_is_html(best) if best is not None else True,
        published_at=from_struct(_raw(raw, "published_parsed") or _raw(raw, "created_parsed"))
        or (from_struct(_raw(raw, "updated_parsed")) if not _raw(raw, "published") else None),
        updated_at=from_struct(_raw(raw, "updated_parsed")),
        author=str(raw["author"]) if raw.get("author") else None,
        lang=str((best or {}).get("language") or "") or None,
        tags=[t for t in tags if t],
    )


def parse_feed(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    *,
    source_id: str,
    settings: CollectSettings,
    lang: str | None = None,
) -> ParsedFeed:
    """Parse a fetched document into Items; raise ParseFailure when it is not a feed."""
    fast = parse_fast(body, headers, url, source_id=source_id, settings=settings, lang=lang)
    if fast is not None:
        return fast
    return parse_with_feedparser(
        body, headers, url, source_id=source_id, settings=settings, lang=lang
    )


def parse_fast(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    *,
    source_id: str,
    settings: CollectSettings,
    lang: str | None = None,
) -> ParsedFeed | None:
    """JSON Feed, or well-formed RSS 2.0 / Atom 1.0 without a DTD; None means "ask feedparser".

    Everything here runs in C parsers (json, expat without entities) plus our
    bounded normalisation, so it is safe to run in-process.
    """
    if looks_like_json(body, _content_type(headers)):
        return parse_json_feed(body, source_id=source_id, settings=settings, lang=lang)
    fast = read_fast(body, url)
    if fast is None:
        return None
    items, warnings = build_items(
        fast.entries,
        source_id=source_id,
        settings=settings,
        lang=lang or fast.language,
    )
    return ParsedFeed(single_line(fast.title), fast.kind, items, warnings)


def parse_with_feedparser(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    *,
    source_id: str,
    settings: CollectSettings,
    lang: str | None = None,
) -> ParsedFeed:
    """The reference path: feedparser on the DTD-stripped bytes, lenient with broken XML."""
    content_type = _content_type(headers)
    cleaned, parser_type = for_feedparser(body, content_type)
    response_headers = {k.lower(): v for k, v in headers.items()}
    response_headers.setdefault("content-location", url)
    response_headers.pop("content-encoding", None)  # already decoded by our client
    if parser_type:
        response_headers["content-type"] = parser_type
    parsed = feedparser.parse(
        io.BytesIO(cleaned),
        response_headers=response_headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    version = parsed.get("version") or ""
    entries = parsed.get("entries") or []
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not version and not entries:
        if content_type.split(";")[0].strip().lower() in _HTML_TYPES or _HTML_START.match(
            body[:4096]
        ):
            raise ParseFailure("not_a_feed", f"{url} is an HTML page, not a feed")
        if problem is not None:
            raise ParseFailure("parse_error", f"{url} is not a readable feed: {problem}")
        raise ParseFailure("not_a_feed", f"{url} has no RSS, Atom, RDF or JSON Feed content")
    warnings: list[str] = []
    if problem is not None:
        warnings.append(f"feed is not well-formed, read leniently: {problem}")
    feed = parsed.get("feed") or {}
    feed_lang = lang or (str(feed.get("language")) if feed.get("language") else None)
    items, more = build_items(
        [_entry(e) for e in entries[: settings.max_entries + 1]],
        source_id=source_id,
        settings=settings,
        lang=feed_lang,
    )
    return ParsedFeed(
        title=single_line(str(feed.get("title", ""))),
        kind=version or "feed",
        items=items,
        warnings=(*warnings, *more),
    )
