"""The shape every release file is read into, and the seed format's conventions.

Press releases share a layout whatever their file type: a title (sometimes
repeated), a date line that opens the first paragraph ("16 November 2018 -
The importance ..."), body paragraphs, and a "Further information:" list of
links to the organisation's topic pages. :func:`structure` finds those parts
in plain text; the HTML, Markdown and e-mail readers turn their format into
plain text and a few metadata hints, then call it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from syndicator.collect.normalize import clean_chars
from syndicator.written_dates import match_date

_FURTHER = re.compile(
    r"^\s*(?:for\s+)?(?:further|more|additional)\s+information\s*(?:on\s+\w+\s*)?:?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_STOP = re.compile(r"^\s*(?:contacts?|media\s+(?:contact|enquiries|inquiries)|for\s+media)\b", re.I)
_PLACE = re.compile(r"^[^\W\d_][\w .'’()/-]{1,40},\s+")
_AFTER_DATE = re.compile(r"^\s*(?:[-–—:|]|\s*$|\()")
MAX_TOPIC_LINE = 150


class ReleaseError(Exception):
    """A file could not be read as a release (undecodable, empty...)."""


@dataclass(frozen=True, slots=True)
class Release:
    """A release file read into its parts; paragraphs are single-line plain text."""

    title: str
    paragraphs: tuple[str, ...]
    published_at: datetime | None = None
    declared_topics: tuple[str, ...] = ()
    link: str | None = None
    guid: str | None = None
    author: str | None = None
    lang: str | None = None


def decode_text(data: bytes, declared: str | None = None) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or a declared charset; else ReleaseError."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReleaseError(f"not valid UTF-16: {exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    raise ReleaseError(
        f"not valid UTF-8 (byte {utf8_error.start}: {utf8_error.reason}) "
        "and no usable declared charset"
    )


def blocks(text: str) -> list[list[str]]:
    """Blank-line separated blocks, each a list of its non-empty stripped lines."""
    text = clean_chars(text).replace("\r\n", "\n").replace("\r", "\n")
    out: list[list[str]] = []
    for raw in re.split(r"\n[ \t\xa0]*\n", text):
        lines = [" ".join(line.split()) for line in raw.split("\n")]
        lines = [line for line in lines if line]
        if lines:
            out.append(lines)
    return out


def date_line(paragraph: str) -> datetime | None:
    """The date opening a paragraph, optionally after a place ("Vienna, 16 November 2018 - ...")."""
    text = paragraph.strip()
    for candidate in (text, _PLACE.sub("", text, count=1)):
        found = match_date(candidate, anchored=True)
        if found and _AFTER_DATE.match(candidate[found[1] :]):
            return found[0]
    return None


def structure(
    text: str,
    *,
    title: str | None = None,
    published_at: datetime | None = None,
) -> tuple[str, tuple[str, ...], datetime | None, tuple[str, ...]]:
    """Split plain text into (title, body paragraphs, date, declared topics).

    ``title`` and ``published_at`` are hints from metadata; when given they win
    and a leading repeat of the title is dropped from the body.
    """
    parts = blocks(text)
    if title is None and parts:
        title = " ".join(parts.pop(0))
    title = title or ""
    while parts and " ".join(parts[0]).casefold() == title.casefold():
        parts.pop(0)

    body: list[str] = []
    topics: list[str] = []
    in_further = False
    for lines in parts:
        if in_further:
            for line in lines:
                if _STOP.match(line) or len(line) > MAX_TOPIC_LINE:
                    in_further = False
                    break
                topics.append(line.rstrip(" ;,."))
            if not in_further:
                body.append(" ".join(lines))
            continue
        match = _FURTHER.match(lines[0])
        if match and len(lines[0]) <= MAX_TOPIC_LINE:
            in_further = True
            first = [match["rest"]] if match["rest"] else []
            topics.extend(line.rstrip(" ;,.") for line in [*first, *lines[1:]] if line)
            continue
        body.append(" ".join(lines))

    if published_at is None:
        for paragraph in body[:3]:
            published_at = date_line(paragraph)
            if published_at is not None:
                break
    return title, tuple(body), published_at, tuple(dict.fromkeys(t for t in topics if t))
