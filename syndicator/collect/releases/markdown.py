"""Markdown releases: optional front matter (title, date), else first heading + date line.

Raw HTML inside the Markdown is rendered and then goes through the same nh3
sanitiser as every other HTML, so a <script> in a release file leaves no trace.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import yaml
from markdown_it import MarkdownIt

from syndicator.collect.dates import as_utc, parse_date
from syndicator.collect.normalize import html_to_text, single_line
from syndicator.collect.releases.common import Release, ReleaseError, decode_text, structure

_FRONT = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>.+?)\s*#*\s*$", re.M)
MAX_CHARS = 1_000_000


def _front_date(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        try:
            return as_utc(value)
        except OverflowError:  # year 1 or 9999 pushed out of range by its offset
            return None
    if isinstance(value, date):
        return as_utc(datetime(value.year, value.month, value.day))
    return parse_date(_scalar(value))


def _scalar(value: Any) -> str | None:
    """A front-matter value as text, if it is one. Lists and mappings are refused:
    YAML aliases can nest them so that ``str()`` would print billions of items."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    return None


def read_markdown(data: bytes) -> Release:
    text = decode_text(data).replace("\r\n", "\n")
    meta: dict[str, Any] = {}
    match = _FRONT.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match["yaml"])
        except yaml.YAMLError as exc:
            raise ReleaseError(f"front matter is not valid YAML: {exc}") from None
        if isinstance(loaded, dict):
            meta = {k.lower(): v for k, v in loaded.items() if isinstance(k, str)}
        text = text[match.end() :]
    title = single_line(_scalar(meta.get("title"))) or None
    if title is None:
        heading = _HEADING.search(text)
        if heading:
            title = single_line(heading["title"])
            text = text[: heading.start()] + text[heading.end() :]
    rendered = MarkdownIt("commonmark", {"html": True}).render(text)
    found_title, body, published, topics = structure(
        html_to_text(rendered, MAX_CHARS), title=title, published_at=_front_date(meta.get("date"))
    )
    if not found_title:
        raise ReleaseError("no title (front matter, heading or first line) found")
    extra = meta.get("topics") or meta.get("tags")
    if isinstance(extra, list):
        topics = tuple(dict.fromkeys([*topics, *(single_line(_scalar(t)) for t in extra)]))
    link = meta.get("link") or meta.get("url")
    return Release(
        title=found_title,
        paragraphs=body,
        published_at=published,
        declared_topics=topics,
        link=str(link)
        if isinstance(link, str) and link.startswith(("http://", "https://"))
        else None,
        lang=_scalar(meta.get("lang")),
    )
