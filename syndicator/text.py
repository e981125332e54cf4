"""Text hygiene for everything we show to readers (feeds, pages, email), in one place.

Stored item text is plain text written by someone else: it may carry control
characters that XML 1.0 forbids (lxml refuses them outright, so one stray
``\\x0b`` in a title would fail the whole feed), odd whitespace, line breaks
that would inject a header line, and links with schemes a browser would
execute. Publishing and delivery take their strings through these functions so
the rules live here and nowhere else.
"""

from __future__ import annotations

import html
import re
from email.utils import parseaddr
from urllib.parse import urlsplit

# XML 1.0 Char production, minus C1 controls and DEL, which are legal but are
# never meaningful in a press release (they are mojibake) and confuse readers.
_ILLEGAL = re.compile(
    "[^\u0009\u000a\u000d\u0020-\u007e\u00a0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_SPACES = re.compile(r"\s+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")

EXCERPT_CHARS = 400
"""Length of the plain-text summary put in feeds and pages."""

SAFE_SCHEMES = frozenset({"http", "https"})
_EMAIL = re.compile(r"<?[\w.+-]+@[\w-]+(?:\.[\w-]+)+>?")


def clean(text: str) -> str:
    """``text`` without the characters XML cannot carry (and C1 controls)."""
    return _ILLEGAL.sub("", text)


def one_line(text: str, limit: int | None = None) -> str:
    """Cleaned text with every run of whitespace collapsed to one space (titles, headers),
    cut to ``limit`` characters with an ellipsis when given."""
    flat = _SPACES.sub(" ", clean(text)).strip()
    if limit is None or len(flat) <= limit:
        return flat
    return flat[: limit - 1].rstrip() + "…"


def paragraphs(text: str) -> tuple[str, ...]:
    """The paragraphs of plain text: blank lines separate them, line breaks inside do not."""
    cleaned = clean(text).replace("\r\n", "\n").replace("\r", "\n")
    parts = (_SPACES.sub(" ", p).strip() for p in _PARAGRAPH_BREAK.split(cleaned))
    return tuple(p for p in parts if p)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """At most ``limit`` characters of plain text, cut at a word boundary with an ellipsis."""
    flat = one_line(text)
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" .,;:-") + "…"


def paragraphs_html(parts: tuple[str, ...]) -> str:
    """HTML paragraphs built from plain text with escaping; never raw markup from a source."""
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in parts)


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None.

    A source controls its links; ``javascript:`` or ``data:`` in an ``href`` would
    run in a reader's browser, and autoescaping does not stop that.
    """
    if not url:
        return None
    candidate = url.strip()
    # Whitespace or a control character inside would, in a plain-text email part,
    # start a line of the sender's choosing.
    if any(c.isspace() or not c.isprintable() for c in candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc:
        return None
    return candidate


def author_name(value: str | None) -> str | None:
    """The name in an author field, without its email address; None when only an address.

    Feeds and mailed releases name their author "OSCE Newsroom <newsroom@…>": an address
    in Atom's ``<name>`` makes validators warn, and readers gain nothing from it.
    """
    flat = one_line(value or "")
    if "@" not in flat:
        return flat or None
    name, address = parseaddr(flat)
    if "@" in address and name and "@" not in name:
        return one_line(name) or None
    # What parseaddr cannot split ("Jane Doe jane@x.org"): drop the addresses themselves.
    return one_line(_EMAIL.sub(" ", flat)).strip(" ,;:()<>\"'") or None
