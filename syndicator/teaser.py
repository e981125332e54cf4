"""What a reader sees first of an item: its first real sentences, not its dateline.

Press releases open with a dateline: "24 February 2026" or "8 de octubre de
2025 – Lima, Perú" as a paragraph of its own, "Abidjan, 4 juin 2025 – Trente-deux
officiers…" or "15 April 2025 - Bangkok - Police…" glued to the first sentence,
"VIENNA, 3 March (UNODC) –" with the organisation, and sometimes the place left
for the next paragraph ("Bishkek – Analysts…"). A summary made of it says nothing
the date and source shown beside it do not. Feeds, pages and email take their
summaries from :func:`teaser`, at the time they are made, so items stored before
this rule existed get it too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from syndicator.text import EXCERPT_CHARS, excerpt, one_line, paragraphs
from syndicator.written_dates import DATELINE_DATE, find_date, is_month

_PLACE_CHARS = r"[^\W\d_][^\d:|–—]{0,40}?"
_LEAD = re.compile(
    rf"(?:(?P<place>[^\W\d_][^,\d:|–—]{{0,40}}?),\s*)?(?:{DATELINE_DATE})(?:\s*\([^()]{{1,40}}\))?"
)
_SEP_TEXT = r"\s*(?:[.,]\s*)?(?:[–—:|]|-(?=\s)|(?<=\s)-|(?<=\.)-)[-–—:|]*\s*"
_SEP = re.compile(_SEP_TEXT)
"""Between a date and what follows: "–", " - ", ":", ".-"; never the hyphen inside a word."""
_PLACE_THEN_SEP = re.compile(rf"\s*,?\s*(?P<place>{_PLACE_CHARS})(?={_SEP_TEXT}|\s*$)")
_PLACE_THEN_DASH = re.compile(rf"(?P<place>{_PLACE_CHARS})\s+[-–—]\s+")
"""A place before the text: the dash must be spaced, so "Trente-deux" is no separator."""
_CONNECTORS = frozenset(
    {
        "de", "del", "della", "da", "do", "dos", "das", "di", "du", "des", "d'", "of", "on",
        "upon", "am", "an", "der", "im", "la", "le", "les", "el", "los", "las", "y", "et", "and",
    }
)  # fmt: skip
_STOP = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s+[\"'“‘«(\[]?\w)")
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "st", "mt", "no", "nos", "art", "arts", "para", "vol",
        "fig", "inc", "ltd", "co", "jr", "sr", "gen", "col", "lt", "sgt", "hon", "rev", "approx",
        "ca", "cf", "vs",
    }
)  # fmt: skip
LABEL_CHARS = 80
"""A first paragraph this short that holds a date and no sentence is a dateline
("Press statement 13 November 2025 Vienna")."""


def teaser(summary: str, content: str = "", limit: int = EXCERPT_CHARS) -> str:
    """The first real sentences of an item, at most ``limit`` characters, plain text.

    The summary wins when anything but a dateline is left of it; else the content.
    """
    for text in (summary, content):
        body = strip_dateline(paragraphs(text))
        if body:
            return first_sentences(" ".join(body), limit)
    return ""


def strip_dateline(parts: Sequence[str]) -> tuple[str, ...]:
    """``parts`` (plain-text paragraphs) without a leading dateline, wherever it ends."""
    rest = list(parts)
    dropped = False
    for _ in range(2):  # a label line and a date line at most
        if not rest:
            break
        head = _after_dateline(rest[0])
        if head is None:
            break
        if head:
            rest[0] = head  # the date was glued to the first sentence
            return tuple(rest)
        rest.pop(0)
        dropped = True
    if dropped and rest:
        # "9 December 2024" then "Tirana – On International Anti-Corruption Day, …"
        rest[0] = _without_place(rest[0])
    return tuple(rest)


def _after_dateline(paragraph: str) -> str | None:
    """What follows a dateline opening ``paragraph``: "" when it is all dateline, None when
    the paragraph does not open with one (a date starting a sentence is no dateline)."""
    lead = _LEAD.match(paragraph)
    if lead is not None:
        month = lead["dm"] or lead["md"]
        place = lead["place"]
        if (month is None or is_month(month)) and (place is None or is_place(place)):
            after = _after_date(paragraph[lead.end() :])
            if after is not None:
                return after
    if len(paragraph) <= LABEL_CHARS and paragraph[-1] not in ".!?…" and find_date(paragraph):
        return ""
    return None


def _after_date(rest: str) -> str | None:
    if not rest.strip(" \t.,;:|-–—"):
        return ""
    place = _PLACE_THEN_SEP.match(rest)  # "24 February 2026, Vienna – …"
    if place is not None and is_place(place["place"]):
        rest = rest[place.end() :]
        if not rest.strip(" \t.,;:|-–—"):
            return ""
    sep = _SEP.match(rest)
    if sep is None or not sep.group().strip():
        return None
    rest = rest[sep.end() :]
    rest = _without_place(rest)  # "15 April 2025 - Bangkok - Police, …"
    if is_place(rest.rstrip(" .")):  # "26 June 2024 – Guayaquil, Ecuador"
        return ""
    return rest


def _without_place(text: str) -> str:
    """``text`` without a leading "Place – " when a sentence starts after it ("The OSCE -
    which …" keeps its words: what follows the dash must start with a capital)."""
    place = _PLACE_THEN_DASH.match(text)
    if place is None or not is_place(place["place"]):
        return text
    rest = text[place.end() :]
    return rest if _starts_sentence(rest) else text


def _starts_sentence(text: str) -> bool:
    head = text.lstrip("\"'“‘«([")
    return bool(head) and (head[0].isupper() or head[0].isdigit())


def is_place(text: str) -> bool:
    """True for what can name a place in a dateline: a few capitalised words, no digits."""
    words = text.replace(",", " ").replace("/", " ").split()
    if not (0 < len(text.strip()) <= 40 and 0 < len(words) <= 5):
        return False
    if any(c.isdigit() or c in '!?;:"“”«»' for c in text):
        return False
    if not words[0][0].isupper():
        return False
    return all(w[0].isupper() or w.lower() in _CONNECTORS or w[0] in "('" for w in words)


def first_sentences(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Whole sentences of ``text`` up to ``limit`` characters; a word-cut excerpt with an
    ellipsis when the first sentence alone is too long (or the sentences that fit are
    too short to be worth more than the cut)."""
    flat = one_line(text)
    if len(flat) <= limit:
        return flat
    best = 0
    for stop in _STOP.finditer(flat):
        if stop.end() > limit:
            break
        if _starts_sentence(flat[stop.end() :].lstrip()) and not _abbreviation(
            flat[: stop.start()]
        ):
            best = stop.end()
    if best >= limit // 3:
        return flat[:best]
    return excerpt(flat, limit)


def _abbreviation(before: str) -> bool:
    """True when the full stop after ``before`` ends an abbreviation or an initial."""
    word = before.rsplit(None, 1)[-1].lstrip("(\"'“‘«") if before.strip() else ""
    return len(word) <= 1 or "." in word or word.lower() in _ABBREVIATIONS
