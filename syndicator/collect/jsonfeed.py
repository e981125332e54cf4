"""JSON Feed 1.0 / 1.1, which feedparser does not read."""

from __future__ import annotations

import json
from typing import Any

from syndicator.collect.dates import parse_date
from syndicator.collect.entries import RawEntry, build_items
from syndicator.collect.normalize import single_line
from syndicator.collect.parsed import ParsedFeed, ParseFailure
from syndicator.config import CollectSettings


def looks_like_json(body: bytes, content_type: str) -> bool:
    return "json" in content_type.lower() or body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _authors(holder: dict[str, Any]) -> list[Any]:
    """``authors`` (1.1) else ``author`` (1.0), whatever JSON types a feed puts there."""
    authors = holder.get("authors")
    if isinstance(authors, list) and authors:
        return authors
    author = holder.get("author")
    return [author] if isinstance(author, dict) else []


def _author(item: dict[str, Any], feed: dict[str, Any]) -> str | None:
    names = [_str(a.get("name")) for a in _authors(item) or _authors(feed) if isinstance(a, dict)]
    return ", ".join(n for n in names if n) or None


def parse_json_feed(
    body: bytes, *, source_id: str, settings: CollectSettings, lang: str | None
) -> ParsedFeed:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ParseFailure("parse_error", f"invalid JSON: {exc}") from None
    if not isinstance(data, dict) or not _str(data.get("version")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise ParseFailure(
            "not_a_feed", "JSON document is not a JSON Feed (no jsonfeed.org version)"
        )
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise ParseFailure("parse_error", "JSON Feed without an 'items' list")
    entries: list[RawEntry] = []
    for item in raw_items[: settings.max_entries + 1]:
        if not isinstance(item, dict):
            continue
        html = _str(item.get("content_html"))
        tags = item.get("tags")
        entries.append(
            RawEntry(
                title=_str(item.get("title")),
                link=_str(item.get("url")) or _str(item.get("external_url")) or None,
                guid=str(item["id"]) if isinstance(item.get("id"), str | int) else None,
                summary=_str(item.get("summary")),
                summary_is_html=False,
                content=html or _str(item.get("content_text")),
                content_is_html=bool(html),
                published_at=parse_date(_str(item.get("date_published"))),
                updated_at=parse_date(_str(item.get("date_modified"))),
                author=_author(item, data),
                lang=_str(item.get("language")) or _str(data.get("language")) or None,
                tags=[t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
            )
        )
    items, warnings = build_items(entries, source_id=source_id, settings=settings, lang=lang)
    return ParsedFeed(single_line(_str(data.get("title"))), "json", items, warnings)
