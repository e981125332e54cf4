"""Text normalisation shared by the vocabulary compiler and the scanner.

Terms and texts go through the same function, so a term written by an operator
("trafico", "Торговля", "anti-corruption") meets the text however the publisher
typed it: case-folded, accents and other combining marks removed (so ``ё`` is
``е`` and ``tráfico`` is ``trafico``), compatibility forms folded (NFKD),
typographic apostrophes and quotes unified, dashes, tabs and line breaks turned
into spaces. The result is not meant for display; evidence quotes it only as
lower-case snippets.

Speed matters (every release passes once, and a whole-text Unicode
decomposition costs more than the matching itself): ASCII text takes a fast
path, and otherwise only the distinct non-ASCII characters present are folded,
each once, through a small cache.
"""

from __future__ import annotations

import re
import unicodedata

_COMBINING = re.compile("[\u0300-\u036f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NON_CYRILLIC = re.compile(r"[^\x00-\x7f\u0400-\u045f]")
_PUNCTUATION = {
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00ad\u00a0\u2009\u202f", " "),
    **dict.fromkeys("\u2019\u2018\u02bc\u00b4`", "'"),
    **dict.fromkeys("\u201c\u201d\u00ab\u00bb\u201e", '"'),
}
_CYRILLIC_MARKED = (("й", "и"), ("ё", "е"), ("ї", "і"), ("ў", "у"), ("ѓ", "г"), ("ќ", "к"))
CYRILLIC_LANGS = frozenset({"ru", "uk", "be", "bg", "sr", "mk"})
_FOLDED: dict[str, str] = {}


def fold_char(char: str) -> str:
    """One character without its marks (``é`` → ``e``, ``й`` → ``и``, ``–`` → space)."""
    folded = _FOLDED.get(char)
    if folded is None:
        folded = _PUNCTUATION.get(char)
        if folded is None:
            folded = _COMBINING.sub("", unicodedata.normalize("NFKD", char))
        _FOLDED[char] = folded
    return folded


def normalize(text: str, cyrillic: bool = False) -> str:
    """Fold case, strip accents, unify punctuation; keep words and sentence stops.

    ``cyrillic=True`` is a faster path with the same result for Cyrillic text,
    where nearly every character is non-ASCII but only a handful carry marks.
    """
    text = text.casefold()
    if not text.isascii():
        if cyrillic:
            for char, plain in (*_PUNCTUATION.items(), *_CYRILLIC_MARKED):
                if char in text:
                    text = text.replace(char, plain)
            for char in set(_NON_CYRILLIC.findall(text)):
                folded = fold_char(char)
                if folded != char:
                    text = text.replace(char, folded)
        else:
            for char in set(_NON_ASCII.findall(text)):
                folded = fold_char(char)
                if folded != char:
                    text = text.replace(char, folded)
    # Runs of spaces are left alone (collapsing them costs more than the whole
    # matching of an ASCII text); only a line break's neighbouring space is
    # merged, so a phrase wrapped across lines still matches.
    if "\n" in text:
        text = text.replace(" \n", "\n").replace("\n ", "\n").replace("\r", "")
    return text.replace("-", " ").replace("\n", " ").replace("\t", " ")
