"""Where an XML document's prolog ends, what it declares, and what feedparser may see of it.

The prolog is everything before the root element: the XML declaration,
comments, processing instructions, whitespace and at most one DOCTYPE. Only
there can a document declare entities (in the DOCTYPE's internal subset,
``[...]``), which is how "billion laughs" and external-entity attacks begin.
So we read the prolog to its end, however far that is, rather than look at a
fixed-size head: a DTD placed after 64 KiB of comments is still found. A
prolog that goes on past :data:`PROLOG_LIMIT` is refused (``parse_error``):
no feed needs a megabyte before its root element.

feedparser is then given the document with its prolog reduced to the XML
declaration and a DOCTYPE without internal subset (see
:func:`for_feedparser`). Besides the declarations, that drops the prolog's
whitespace: feedparser looks for declarations in it with a ``^\\s*<!ENTITY``
pattern per line, whose time grows with the square of the number of blank
lines (70,000 newlines took 50 s; a megabyte of them, hours).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from syndicator.collect.parsed import ParseFailure

PROLOG_LIMIT = 1024 * 1024
"""Longest prolog (bytes before the root element) we accept."""

_SPACE = re.compile(rb"[ \t\r\n]*")
_SPACES = re.compile(rb"\s+")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_XML_DECLARATION = re.compile(rb"<\?xml[ \t\r\n]")
_ENCODING = re.compile(rb"""encoding\s*=\s*(?:"[^"]*"|'[^']*')""")
_NAME_START = re.compile(rb"<[A-Za-z_:\x80-\xff]")
# Inside a declaration: anything but its end, with quoted literals (which may hold '>').
_DECLARATION = re.compile(rb"""(?:[^\[>"']+|"[^"]*"|'[^']*')*""")
# Inside an internal subset: declarations, literals, comments, PIs, up to the closing ']'.
_SUBSET = re.compile(rb"""(?:[^\]"'<]+|"[^"]*"|'[^']*'|<!--.*?-->|<\?.*?\?>|<)*""", re.S)
_WIDE = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Prolog:
    """What the prolog of a document holds; offsets are into the document's bytes."""

    end: int
    """Offset of the root element's ``<`` (the document's length when there is none)."""
    declaration: Span | None = None
    """The XML declaration (``<?xml version=... encoding=...?>``), if any."""
    doctype: Span | None = None
    """The DOCTYPE declaration, if any."""
    subset: bool = False
    """Whether the DOCTYPE has an internal subset (where entities are declared)."""
    strays: tuple[Span, ...] = ()
    """Other ``<!...>`` declarations outside the DOCTYPE (a stray ``<!ENTITY``...)."""

    @property
    def declares(self) -> bool:
        """Whether anything here can declare entities."""
        return self.subset or bool(self.strays)


def _too_long() -> ParseFailure:
    return ParseFailure(
        "parse_error",
        f"prolog too long: no root element within the first {PROLOG_LIMIT} bytes (refused)",
    )


def _skip(pattern: re.Pattern[bytes], body: bytes, start: int, limit: int) -> int:
    """Where a match of ``pattern`` (one that may be empty, so always matches) ends."""
    match = pattern.match(body, start, limit)
    assert match is not None, "patterns given here match the empty string"
    return match.end()


def wide_encoding(body: bytes) -> str | None:
    """The codec of a UTF-16 or UTF-32 document (by its BOM or its first ``<``), else None."""
    head = body[:4]
    return next((codec for mark, codec in _WIDE if head.startswith(mark)), None)


def scan_prolog(body: bytes) -> Prolog:
    """Read the prolog of ``body`` (an ASCII-compatible encoding) up to its root element.

    Text before the root (not XML, but feedparser reads it leniently) is
    passed over, and declarations after it are found all the same. Raises
    ParseFailure when no root element starts within :data:`PROLOG_LIMIT`
    bytes of a longer document, or when a DOCTYPE has no end we can find
    (its declarations could not be removed).
    """
    limit = min(len(body), PROLOG_LIMIT)
    longer = len(body) > PROLOG_LIMIT
    declaration: Span | None = None
    doctype: Span | None = None
    subset = False
    strays: list[Span] = []
    i = 3 if body.startswith(codecs.BOM_UTF8) else 0
    while True:
        i = _skip(_SPACE, body, i, limit)
        if i >= limit:
            if longer:
                raise _too_long()
            return Prolog(len(body), declaration, doctype, subset, tuple(strays))
        if _NAME_START.match(body, i):
            return Prolog(i, declaration, doctype, subset, tuple(strays))
        if body.startswith(b"<?", i):
            close, skip = body.find(b"?>", i + 2, limit), 2
            if close >= 0 and declaration is None and _XML_DECLARATION.match(body, i):
                declaration = (i, close + 2)
        elif body.startswith(b"<!--", i):
            close, skip = body.find(b"-->", i + 4, limit), 3
        elif _DOCTYPE.match(body, i):
            end, subset = _doctype_end(body, i, limit, longer)
            doctype = (i, end)
            i = end
            continue
        elif body.startswith(b"<!", i):
            close, skip = body.find(b">", i + 2, limit), 1
            if close >= 0:
                strays.append((i, close + 1))
        else:  # text, or a "<" that opens nothing: not XML, passed over to the next "<"
            close, skip = body.find(b"<", i + 1, limit), 0
        if close < 0:
            if longer:
                raise _too_long()
            return Prolog(len(body), declaration, doctype, subset, tuple(strays))
        i = close + skip


def _doctype_end(body: bytes, start: int, limit: int, longer: bool) -> tuple[int, bool]:
    """The end of the DOCTYPE declaration at ``start``, and whether it has a subset."""
    i = _skip(_DECLARATION, body, start + len(b"<!DOCTYPE"), limit)
    subset = i < limit and body[i : i + 1] == b"["
    if subset:
        i = _skip(_SUBSET, body, i + 1, limit)
        if i < limit and body[i : i + 1] == b"]":
            i = _skip(_SPACE, body, i + 1, limit)
    if i < limit and body[i : i + 1] == b">":
        return i + 1, subset
    if i >= limit and longer:
        raise _too_long()
    raise ParseFailure("parse_error", "malformed DOCTYPE before the root element (refused)")


def for_feedparser(body: bytes, content_type: str) -> tuple[bytes, str]:
    """``body`` as feedparser may see it, with the Content-Type to give it.

    The prolog becomes the XML declaration and a DOCTYPE without internal
    subset (an external identifier only, as in Netscape RSS 0.91: feedparser
    reads the version from it and never fetches it), each on one line;
    comments, processing instructions, stray declarations, text and
    whitespace before the root go. A UTF-16 or UTF-32 document is first
    transcoded to UTF-8 (declaration and charset say so), so that the same
    scan applies to it. Raises ParseFailure as :func:`scan_prolog` does.
    """
    wide = wide_encoding(body)
    if wide is not None:
        body = body.decode(wide, errors="replace").encode("utf-8")
        if content_type:
            content_type = content_type.split(";", 1)[0].strip() + "; charset=utf-8"
    prolog = scan_prolog(body)
    bom = codecs.BOM_UTF8 if body.startswith(codecs.BOM_UTF8) else b""
    if prolog.end == len(bom):
        return body, content_type  # the root comes first: nothing to do
    if prolog.end == len(body):
        # No root element: not XML, so feedparser fails on it anyway (and finds no element to
        # split its "head" at); only the declarations go, the rest is its to judge.
        return _without(body, prolog), content_type
    kept: list[bytes] = []
    if prolog.declaration is not None:
        declaration = _SPACES.sub(b" ", body[slice(*prolog.declaration)])
        if wide is not None:
            declaration = _ENCODING.sub(b'encoding="utf-8"', declaration)
        kept.append(declaration)
    if prolog.doctype is not None and not prolog.subset:
        kept.append(_SPACES.sub(b" ", body[slice(*prolog.doctype)]))
    kept.append(body[prolog.end :])
    return bom + b"\n".join(kept), content_type


def _without(body: bytes, prolog: Prolog) -> bytes:
    """``body`` without its stray declarations and a DOCTYPE that has an internal subset."""
    spans = list(prolog.strays)
    if prolog.subset and prolog.doctype is not None:
        spans = sorted([*spans, prolog.doctype])
    parts: list[bytes] = []
    at = 0
    for start, end in spans:
        parts.append(body[at:start])
        at = end
    parts.append(body[at:])
    return b"".join(parts)
