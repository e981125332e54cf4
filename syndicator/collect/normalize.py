"""Text normalisation done once, at ingest, so no later stage has to care.

Every string that leaves the collect stage is NFC, free of characters XML 1.0
forbids (publish writes XML; one stray control character would break a whole
feed), and bounded in length. Single-line fields (titles, authors) contain no
line breaks. Bodies are plain text: paragraphs separated by one blank line.
HTML is sanitised with nh3 before its text is taken, so scripts, styles and
comments (where generators like to put "generated at" timestamps) never reach
the text.
"""

from __future__ import annotations

import html
import re
import unicodedata

import nh3

_C1 = re.compile("[\x80-\x9f]")
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ASCII_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_INVISIBLE = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
        "blockquote", "pre", "table", "tr", "section", "article", "header",
        "footer", "hr", "dd", "dt", "dl", "figure", "figcaption", "main",
    }
)  # fmt: skip
_BLOCK_RE = re.compile(r"</?(?:" + "|".join(sorted(_BLOCK_TAGS)) + r")\s*/?>", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\f\v\xa0\u2000-\u200a\u3000]+")


def _demoronize(match: re.Match[str]) -> str:
    try:
        return bytes([ord(match.group())]).decode("cp1252")
    except UnicodeDecodeError:
        return ""


def clean_chars(text: str) -> str:
    """NFC, C1 controls read as the Windows-1252 characters they almost always are
    (``\x92`` → ’), without XML-illegal and invisible direction/zero-width characters."""
    if text.isascii():  # most fields: no C1, nothing to compose, no invisible characters
        return _ASCII_ILLEGAL.sub("", text)
    text = _C1.sub(_demoronize, text)
    text = unicodedata.normalize("NFC", text)
    text = _XML_ILLEGAL.sub("", text)
    return _INVISIBLE.sub("", text)


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def single_line(text: str | None, limit: int = 1000) -> str:
    """A one-line field: every run of whitespace (line breaks included) becomes one space."""
    if not text:
        return ""
    return truncate(" ".join(clean_chars(text).split()), limit)


def paragraphs(text: str) -> list[str]:
    """Split plain text into paragraphs at blank lines, each paragraph on one line."""
    text = clean_chars(text).replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        joined = " ".join(_SPACES.sub(" ", block).split())
        if joined:
            out.append(joined)
    return out


def plain_text(text: str | None, limit: int) -> str:
    """Normalised plain text: paragraphs separated by one blank line, bounded."""
    if not text:
        return ""
    return truncate("\n\n".join(paragraphs(text)), limit)


def html_to_text(markup: str | None, limit: int) -> str:
    """Sanitise HTML with nh3, then keep its text with block elements as paragraph breaks.

    nh3 drops scripts, styles, comments and every attribute, and leaves
    well-formed markup of block tags only, so the remaining tags can be removed
    with a simple pattern and the entities decoded safely.
    """
    if not markup:
        return ""
    # Bound the work before sanitising: a field can be at most ``limit`` chars of text,
    # and markup rarely exceeds ten times its text.
    markup = clean_chars(markup[: limit * 10])
    cleaned = nh3.clean(markup, tags=set(_BLOCK_TAGS), attributes={}, strip_comments=True)
    spaced = _BLOCK_RE.sub("\n\n", cleaned)
    text = html.unescape(_TAG_RE.sub("", spaced))
    return plain_text(text, limit)


def looks_like_html(text: str) -> bool:
    """True when a string that claims to be text carries markup (common in feeds)."""
    return bool(re.search(r"<(?:p|br|div|a|b|i|em|strong|span|ul|li|img)\b[^>]*>", text, re.I))
