"""Shared entry-to-item logic for every feed format: dedupe, cap, identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from syndicator.collect.identity import item_identity
from syndicator.collect.items import make_item
from syndicator.collect.normalize import html_to_text, looks_like_html, plain_text, single_line
from syndicator.collect.releases.common import structure
from syndicator.config import CollectSettings
from syndicator.models import Item


@dataclass(slots=True)
class RawEntry:
    """An entry as read from any format, before normalisation."""

    title: str = ""
    title_is_html: bool = False
    link: str | None = None
    guid: str | None = None
    summary: str = ""
    summary_is_html: bool = True
    content: str = ""
    content_is_html: bool = True
    published_at: datetime | None = None
    updated_at: datetime | None = None
    author: str | None = None
    lang: str | None = None
    tags: list[str] = field(default_factory=list)


def _text(value: str, is_html: bool, limit: int) -> str:
    if is_html or looks_like_html(value):
        return html_to_text(value, limit)
    return plain_text(value, limit)


def _http_link(link: str | None) -> str | None:
    """HTTP(S) links only (no javascript:, data:, file:), with a lowercase scheme."""
    link = single_line(link, 4000)
    scheme, sep, rest = link.partition("://")
    if sep and scheme.lower() in ("http", "https"):
        return scheme.lower() + sep + rest
    return None


def build_items(
    raw: list[RawEntry],
    *,
    source_id: str,
    settings: CollectSettings,
    lang: str | None,
) -> tuple[tuple[Item, ...], tuple[str, ...]]:
    """Normalise entries into Items: first of duplicate identities wins, at most max_entries."""
    items: list[Item] = []
    warnings: list[str] = []
    seen: set[str] = set()
    limit = settings.max_field_chars
    for index, entry in enumerate(raw):
        if len(items) >= settings.max_entries:
            warnings.append(
                f"feed has more than {settings.max_entries} entries; the rest were skipped"
            )
            break
        title = (
            single_line(html_to_text(entry.title, limit))
            if entry.title_is_html or looks_like_html(entry.title)
            else single_line(entry.title)
        )
        summary = _text(entry.summary, entry.summary_is_html, limit)
        content = _text(entry.content, entry.content_is_html, limit)
        if summary == content:
            summary = ""  # feedparser copies Atom content into a missing summary
        link = _http_link(entry.link)
        guid = single_line(entry.guid, 2000) or None
        _, paragraphs, _, topics = structure(content or summary, title=title)
        if not title:  # untitled (allowed in RSS and JSON Feed): the opening words stand in
            title = single_line(paragraphs[0] if paragraphs else "", 120)
        if not (title or paragraphs or link):
            warnings.append(f"entry {index + 1}: no title, text or link; skipped")
            continue
        identity = item_identity(guid, link, title, entry.published_at, content or summary)
        if identity in seen:
            warnings.append(f"entry {index + 1}: repeats identity {identity!r}; kept the first")
            continue
        seen.add(identity)
        # Only a summary: it stays the summary (without its "Further information" list)
        # and there is no separate content; Item.text falls back to it.
        summary_text = summary if content else "\n\n".join(paragraphs)
        body = paragraphs if content else ()
        items.append(
            make_item(
                source_id=source_id,
                identity=identity,
                title=title,
                paragraphs=body,
                summary=summary_text,
                link=link,
                guid=guid,
                published_at=entry.published_at,
                updated_at=entry.updated_at,
                lang=lang or entry.lang,
                author=entry.author,
                declared_topics=[*entry.tags, *topics],
                max_chars=limit,
            )
        )
    return tuple(items), tuple(warnings)
