"""Text normalisation shared by the vocabulary compiler and the scanner.

Terms and texts go through the same function, so a term written by an operator
("trafico", "Торговля", "anti-corruption") meets the text however the publisher
typed it: case-folded, accents and other combining marks removed (so ``ё`` is
``е`` and ``tráfico`` is ``trafico``), compatibility forms folded (NFKD),
dashes, tabs, line breaks, quotes, apostrophes, brackets and slashes turned into
spaces, one character for one. Every word the matcher may report then follows a
space (see :mod:`~syndicator.tagging.matcher`). The result is not meant for
display; evidence quotes it only as lower-case snippets.

Speed matters: every release passes once, and a whole-text Unicode
decomposition costs more than the matching itself. So:

* text whose characters all fit in Latin-1 (English, and after the common
  typographic quotes and dashes are replaced, French, Spanish, German, Italian,
  Portuguese, Dutch...; after their few distinct letters are folded, Polish,
  Czech, Croatian, Romanian, Turkish, Hungarian) is encoded to bytes and folded
  in one ``bytes.translate`` through a 256-entry table computed from the general
  path below, which runs at memory speed;
* otherwise only the distinct non-ASCII characters present are folded, each once,
  through a small cache (:func:`fold_char`); Cyrillic text has a variant of this
  that skips the letters that never change.

Both give the same result (tests compare them character by character).
"""

from __future__ import annotations

import re
import unicodedata

_COMBINING = re.compile("[\u0300-\u036f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NON_CYRILLIC = re.compile(r"[^\x00-\x7f\u0400-\u045f]")
_NON_LATIN1 = re.compile(r"[^\x00-\xff]")
_PUNCTUATION = {
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00ad\u00a0\u2009\u202f", " "),
    **dict.fromkeys("\u2019\u2018\u02bc\u00b4\u201c\u201d\u00ab\u00bb\u201e\u00bf\u00a1", " "),
    **dict.fromkeys("\u2022\u20ac\u2122\u200b", " "),  # bullet, euro, trade mark, zero width
    "\u2026": ".",  # an ellipsis ends a sentence like a full stop
}
_LETTERS = {"ł": "l", "đ": "d", "ı": "i", "ħ": "h", "ŧ": "t"}
"""Letters NFKD leaves alone that would otherwise keep a text off the byte path."""
_WIDE_PUNCTUATION = tuple((c, f) for c, f in _PUNCTUATION.items() if ord(c) > 0xFF)
"""Punctuation beyond Latin-1, replaced first so the text can take the byte path."""
_ASCII_SPACES = "\"'()[]/#`-\n\t"
"""ASCII characters that become spaces: those that may stand before a word, dashes, breaks."""
_CYRILLIC_MARKED = (("й", "и"), ("ё", "е"), ("ї", "і"), ("ў", "у"), ("ѓ", "г"), ("ќ", "к"))
CYRILLIC_LANGS = frozenset({"ru", "uk", "be", "bg", "sr", "mk"})
_FOLDED: dict[str, str] = {}


def fold_char(char: str) -> str:
    """One character without its marks (``é`` → ``e``, ``й`` → ``и``, ``–`` → space)."""
    folded = _FOLDED.get(char)
    if folded is None:
        folded = _PUNCTUATION.get(char) or _LETTERS.get(char)
        if folded is None:
            folded = _COMBINING.sub("", unicodedata.normalize("NFKD", char))
        _FOLDED[char] = folded
    return folded


def _space_beside_break(text: str) -> bool:
    """Whether a space touches a line break.

    Found with one-character searches, which run at memory speed, while a
    two-character ``" \\n" in text`` costs as much as normalising the text.
    """
    last = len(text) - 1
    at = text.find("\n")
    while at != -1:
        if (at and text[at - 1] == " ") or (at < last and text[at + 1] == " "):
            return True
        at = text.find("\n", at + 1)
    return False


def _join_wrapped_lines(text: str) -> str:
    """Drop carriage returns and the spaces beside line breaks.

    Runs of spaces are left alone elsewhere (collapsing them costs more than the
    whole matching of an ASCII text); only a line break's neighbouring space is
    merged, so a phrase wrapped across lines still matches.
    """
    if "\r" in text:
        text = text.replace("\r", "")
    if _space_beside_break(text):
        text = text.replace(" \n", "\n").replace("\n ", "\n")
    return text


def _general(text: str, cyrillic: bool) -> str:
    """The reference path: fold each distinct non-ASCII character once."""
    text = text.casefold()
    if not text.isascii():
        others = _NON_ASCII
        if cyrillic:
            # the few marked Cyrillic letters first, then only what is not plain Cyrillic
            for char, plain in (*_PUNCTUATION.items(), *_CYRILLIC_MARKED):
                if char in text:
                    text = text.replace(char, plain)
            others = _NON_CYRILLIC
        for char in set(others.findall(text)):
            folded = fold_char(char)
            if folded != char:
                text = text.replace(char, folded)
    # str.replace runs at memory speed; str.translate is several times slower here.
    for char in _ASCII_SPACES:
        if char in text:
            text = text.replace(char, " ")
    return text


def _latin1_table() -> tuple[bytes, bytes]:
    """Byte → folded byte for every Latin-1 character, and the bytes the table cannot fold.

    Computed from :func:`_general`, so both paths agree by construction. ``ß``
    (casefolded to "ss") stays in the table and is replaced after it; the few
    signs whose folding leaves Latin-1 or takes several characters (``µ``, ``½``)
    are left to the general path.
    """
    table = bytearray(range(256))
    unfoldable = bytearray()
    for byte in range(256):
        folded = _general(chr(byte), cyrillic=False)
        if byte == 0xDF:  # ß
            continue
        if len(folded) == 1 and ord(folded) < 256:
            table[byte] = ord(folded)
        else:
            unfoldable.append(byte)
    return bytes(table), bytes(unfoldable)


_LATIN1_TABLE, _LATIN1_UNFOLDABLE = _latin1_table()


def _wide_letters() -> dict[str, str]:
    """Latin Extended letters (Polish, Czech, Croatian, Romanian, Turkish, Hungarian...)
    whose folded form is one Latin-1 character, computed from :func:`_general`."""
    out: dict[str, str] = {}
    for code in range(0x100, 0x250):
        folded = _general(chr(code), cyrillic=False)
        if len(folded) == 1 and ord(folded) < 256:
            out[chr(code)] = folded
    return out


_WIDE_LETTERS = _wide_letters()


def normalize(text: str, cyrillic: bool = False) -> str:
    """Fold case, strip accents, make word-leading punctuation spaces; keep sentence stops.

    ``cyrillic=True`` says the text is probably Cyrillic, so the byte path is
    not tried; the result is the same either way.
    """
    if "\n" in text:
        text = _join_wrapped_lines(text)
    if cyrillic:
        return _general(text, cyrillic)
    if text.isascii():
        # the usual case: no byte the table cannot fold, and no "ß", can occur
        return text.encode("ascii").translate(_LATIN1_TABLE).decode("latin-1")
    for char, plain in _WIDE_PUNCTUATION:
        if char in text:  # constant time when the text is Latin-1 already
            text = text.replace(char, plain)
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        # Central European letters: fold the few distinct ones, then take the byte path.
        # Each search stops at the next letter not yet folded, and each replace folds all
        # of that letter at once: cheaper than listing every such letter of the text.
        search = _NON_LATIN1.search
        folded = text
        found = search(folded)
        while found is not None:
            letter = _WIDE_LETTERS.get(found.group())
            if letter is None:
                return _general(text, cyrillic)
            folded = folded.replace(found.group(), letter)
            found = search(folded, found.start())
        text = folded
        data = text.encode("latin-1")
    for byte in _LATIN1_UNFOLDABLE:
        if byte in data:
            return _general(text, cyrillic)
    text = data.translate(_LATIN1_TABLE).decode("latin-1")
    return text.replace("ß", "ss") if "ß" in text else text
