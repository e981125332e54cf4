"""Building :class:`Item` records with every field normalised and bounded once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from syndicator.collect.normalize import single_line, truncate
from syndicator.models import Item
from syndicator.text import author_name

TITLE_CHARS = 1000
LEAD_CHARS = 600


def lang_code(value: str | None) -> str | None:
    """ "en-US" → "en"; anything that is not a plausible language tag → None."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def make_item(
    *,
    source_id: str,
    identity: str,
    title: str,
    paragraphs: Iterable[str] = (),
    summary: str = "",
    link: str | None = None,
    guid: str | None = None,
    published_at: datetime | None = None,
    updated_at: datetime | None = None,
    lang: str | None = None,
    author: str | None = None,
    declared_topics: Iterable[str] = (),
    max_chars: int = 200_000,
) -> Item:
    """An Item whose content is the paragraphs and whose summary is the given one, else the lead."""
    body = truncate("\n\n".join(p for p in paragraphs if p), max_chars)
    lead = summary or (truncate(body.split("\n\n", 1)[0], LEAD_CHARS) if body else "")
    return Item(
        source_id=source_id,
        identity=truncate(identity, 2000),
        title=single_line(title, TITLE_CHARS) or "(untitled)",
        link=link,
        guid=single_line(guid, 2000) or None,
        summary=truncate(lead, max_chars),
        content=body,
        published_at=published_at,
        updated_at=updated_at,
        lang=lang_code(lang),
        # "OSCE Newsroom <newsroom@…>" is stored as "OSCE Newsroom"; a bare address as None.
        author=author_name(single_line(author, 300)),
        declared_topics=tuple(
            dict.fromkeys(t for t in (single_line(x, 300) for x in declared_topics) if t)
        ),
    )
