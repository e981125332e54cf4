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
import unicodedata
from email.utils import parseaddr
from urllib.parse import urlsplit

# XML 1.0 Char production, minus C1 controls and DEL, which are legal but are
# never meaningful in a press release (they are mojibake) and confuse readers.
_ILLEGAL = re.compile(
    "[^\u0009\u000a\u000d\u0020-\u007e\u00a0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_SPACES = re.compile(r"\s+")
_LINE_BREAKS = re.compile("[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
"""Every character ``str.splitlines`` ends a line at (CR, LF, VT, FF, FS-RS, NEL, LS, PS)."""
ENCODED_WORD_START = "=?"
"""What opens an RFC 2047 encoded word (``=?charset?q?...?=``)."""
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")

EXCERPT_CHARS = 400
"""Length of the plain-text summary put in feeds and pages."""

SAFE_SCHEMES = frozenset({"http", "https"})
_EMAIL = re.compile(r"<?[\w.+-]+@[\w-]+(?:\.[\w-]+)+>?")

ERROR_CHARS = 500
"""Longest error message or warning we keep, log or print (a line an operator can read)."""


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


def header_value(text: str, limit: int | None = None) -> str:
    """``text`` made safe to be one email header value, cut to ``limit`` characters.

    The one rule for every header that carries words we did not write ourselves
    (a release title in the Subject, a subscriber's name, a site or topic title).
    Three things would otherwise reach the header block:

    - a line break (CR, LF, NEL, LS, PS, ...) ends the header and starts one of
      the sender's choosing (``Bcc:``), or ends the header block early;
    - an RFC 2047 encoded word such as ``=?utf-8?q?=0D=0ABcc:_x@example.com?=``:
      Python 3.11 and 3.12 *decode* it when the value is set and write its
      payload out raw, and a mail client would decode it even where Python
      does not. Every ``=?`` gets a space inside (``= ?``), which no reader
      decodes, so the words show as written;
    - invisible format characters (zero-width joiners and spaces, bidi marks
      and overrides, soft hyphens: Unicode category Cf), which make a header
      read differently from what it says.

    Line breaks become spaces, format and control characters go, whitespace
    collapses; the encoded-word rule runs last, so removing a character can
    never join an ``=`` and a ``?`` behind it.
    """
    visible = clean(_LINE_BREAKS.sub(" ", text))
    visible = "".join(c for c in visible if unicodedata.category(c) != "Cf")
    return one_line(visible.replace(ENCODED_WORD_START, "= ?"), limit)


def bounded_error(message: str) -> str:
    """An error message fit to store and print: one line, no control characters, at most
    :data:`ERROR_CHARS` long. Messages can carry text a remote server chose (a garbled
    status line, an exception quoting what it failed on); none may flood a terminal,
    a log line or the sources table, or move a terminal's cursor."""
    # A file name that is not UTF-8 arrives with lone surrogates, which no database
    # encodes: keep them visible as ``\udcxx`` escapes rather than dropping them.
    escaped = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return one_line(escaped, ERROR_CHARS)


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
