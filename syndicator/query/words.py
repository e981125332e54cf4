"""The searchable form of a text, and of a query's words: one rule for both sides.

A text becomes its *words*, joined by single spaces with a space at each end
(`` ministry of justice ``): case and accents folded by the tagger's
:func:`~syndicator.tagging.normalize.normalize`, every character that is not a
letter, digit or mark turned into a space. A query word goes through the same
steps, so ``Ministère``, ``MINISTERE`` and ``ministère`` are one word.

Scripts written without spaces between words (Chinese, Japanese, Korean, Thai,
Lao, Khmer, Myanmar, Tibetan) cannot be matched on word boundaries: a term that
contains one of their characters is matched as a substring. Where such a
character touches a letter of another script (``在Apple公司``) a space is put
between them, so the Latin word is still a word.

The store's search index holds exactly this form (:func:`searchable`), which is
why its pre-filter can use plain substring search and never miss a match.
"""

from __future__ import annotations

import re
import unicodedata

from syndicator.tagging.normalize import normalize

UNSPACED = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u0f00-\u0fff"  # Tibetan
    "\u1000-\u109f"  # Myanmar
    "\u1100-\u11ff"  # Hangul jamo (what NFKD makes of Hangul syllables)
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff\u31f0-\u31ff"  # Hiragana, Katakana
    "\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"  # Hangul, Han
    "\U00020000-\U0003134f"  # Han, supplementary planes
)
"""Scripts written without spaces between words, as a regular-expression class body."""
_UNSPACED = re.compile(f"[{UNSPACED}]")
_SCRIPT_EDGE = re.compile(
    f"(?<=[{UNSPACED}])(?=[^\\s{UNSPACED}])|(?<=[^\\s{UNSPACED}])(?=[{UNSPACED}])"
)
_ASCII_SEPARATORS = bytes(b if b >= 0x80 or chr(b).isalnum() else 0x20 for b in range(256))
"""ASCII punctuation → space; bytes of multi-byte UTF-8 characters pass unchanged."""
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_SEPARATOR: dict[str, bool] = {}
SEGMENT_BREAK = "\n"
"""Between the title and the body in :func:`searchable`: no needle contains it, so no
phrase runs from the end of a title into the start of the body."""


def _is_separator(char: str) -> bool:
    """Not a letter, digit or mark (marks stay: Thai vowels and Devanagari signs are marks)."""
    found = _SEPARATOR.get(char)
    if found is None:
        found = unicodedata.category(char)[0] not in "LNM"
        _SEPARATOR[char] = found
    return found


def words(text: str) -> list[str]:
    """The words of ``text`` in searchable form, in order."""
    folded = normalize(text)
    if folded.isascii():
        return folded.encode("ascii").translate(_ASCII_SEPARATORS).decode("ascii").split()
    for char in set(_NON_ASCII.findall(folded)):
        if _is_separator(char):
            folded = folded.replace(char, " ")
    folded = folded.encode("utf-8").translate(_ASCII_SEPARATORS).decode("utf-8")
    if _UNSPACED.search(folded):
        folded = _SCRIPT_EDGE.sub(" ", folded)
    return folded.split()


def unspaced(word: str) -> bool:
    """Whether a word contains a character of a script written without spaces."""
    return _UNSPACED.search(word) is not None


def searchable(title: str, body: str) -> str:
    """The form the matcher searches and the store indexes: `` title words \\n body words ``."""
    return f" {' '.join(words(title))} {SEGMENT_BREAK} {' '.join(words(body))} "
