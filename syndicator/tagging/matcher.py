"""One Aho-Corasick pass finds every term, exclusion, context word and country name.

Why not one regular expression per topic: a single automaton over all patterns
reads each text once whatever the vocabulary size, so adding languages costs
almost nothing at tag time. Inflection is compiled in rather than computed per
token: a term word may end in ``*`` (any continuation: ``traffick*``) or ``~``
(up to three more letters, for case endings: ``торговл~ людьми``) or ``+`` (one
to three: a stem that is itself another word, ``дані+`` for Данія but not "дані"). The automaton
is keyed on the literal text before the first wildcard; the rare candidates it
finds are confirmed by a small anchored regular expression. Every hit must start
and end on a word boundary, so ``drug`` never fires inside ``drugstore``.

Speed: pyahocorasick finds a node's child by a linear search, so a walk that keeps
returning to a root with a hundred children (one per first letter of every
language) costs more than everything else in the tagger. Every key is therefore
stored with a leading space and the text is scanned with one prepended: the root
has a single child, a letter inside a word fails there at once, the big fan-out is
visited once per word instead of once per character, and the start boundary comes
for free (:func:`~syndicator.tagging.normalize.normalize` turns the quotes,
brackets and slashes that may precede a word into spaces). The children of the
space node are created first in order of how often a word starts with the letter,
so the usual letters are found after a few comparisons.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import ahocorasick

from syndicator.errors import TaggingError
from syndicator.tagging.normalize import normalize

WILDCARDS = {"*": r"\w*", "~": r"\w{0,3}", "+": r"\w{1,3}"}
_MIN_KEY = 2


@dataclass(frozen=True, slots=True)
class TermSpec:
    """A term compiled for the automaton: its literal key and, with wildcards, a checker."""

    key: str
    checker: re.Pattern[str] | None


def literal_length(key: str) -> int:
    """How many characters of a normalised term come before its first wildcard."""
    return min((i for i, ch in enumerate(key) if ch in WILDCARDS), default=len(key))


def compile_term(term: str) -> TermSpec:
    """Normalise ``term`` and split it into the automaton key and a confirming regex."""
    text = normalize(term).strip()
    cut = literal_length(text)
    if cut == len(text):
        if len(text) < _MIN_KEY:
            raise TaggingError(f"term {term!r} is too short to match reliably")
        return TermSpec(text, None)
    key = text[:cut]
    if len(key.strip()) < _MIN_KEY:
        raise TaggingError(f"term {term!r} needs at least {_MIN_KEY} letters before its wildcard")
    parts: list[str] = []
    for word in text.split(" "):
        if word and word[-1] in WILDCARDS:
            if any(ch in WILDCARDS for ch in word[:-1]):
                raise TaggingError(f"term {term!r}: a wildcard may only end a word")
            parts.append(re.escape(word[:-1]) + WILDCARDS[word[-1]])
        elif any(ch in WILDCARDS for ch in word):
            raise TaggingError(f"term {term!r}: a wildcard may only end a word")
        else:
            parts.append(re.escape(word))
    return TermSpec(key, re.compile(" ".join(parts) + r"(?!\w)"))


_WORD_INITIALS = (
    "tacsmpdbfiorhelwnguvjkyqzx"
    "пнсвокдрзтиубмчглэаяшжцефхщюєіїґ"
    "0123456789"
)
"""Letters in rough order of how often a word starts with them (Latin, then Cyrillic)."""
_NOTHING: _Value = (0, -1, None, ())
"""The value of a sentinel key: no literal index and no entries, so it yields no hit."""

_Value = tuple[int, int, "re.Pattern[str] | None", tuple[tuple[int, "re.Pattern[str] | None"], ...]]
"""(key length, literal index or -1 - index of a term with a wildcard, its checker, or
the entries of a key shared by several terms)."""
Hit = tuple[int, int, int]
"""(pattern index, start, end) in the normalised text."""
Span = tuple[int, int, int]
"""(start, -end, id): sorting a list of spans puts them in text order, longest first."""


class Matcher:
    """Finds all occurrences of a fixed list of terms in normalised text."""

    def __init__(
        self,
        terms: Sequence[str],
        only: Collection[int] | None = None,
        ids: Sequence[int] | None = None,
    ) -> None:
        """Index ``terms`` (all, or those at the indexes in ``only``).

        Hits name the term's index, or ``ids[index]`` when ``ids`` is given (the
        tagger passes ranks, so that sorting spans also breaks ties by specificity).
        """
        groups: dict[str, list[tuple[int, re.Pattern[str] | None]]] = defaultdict(list)
        for index, term in enumerate(terms):
            if only is not None and index not in only:
                continue
            spec = compile_term(term)
            groups[spec.key].append((index if ids is None else ids[index], spec.checker))
        self._automaton = ahocorasick.Automaton()
        for letter in _WORD_INITIALS:
            # "\x00" never survives into a scanned text: the key only orders children.
            self._automaton.add_word(f" {letter}\x00", _NOTHING)
        for key, entries in groups.items():
            # The value tells the scan loop what to do without an inner loop in the
            # common cases: a key of one literal term stores its index, a key of one
            # term with a wildcard stores -1 - index and the checker, and only keys
            # shared by several terms store their entries.
            if len(entries) == 1:
                index, checker = entries[0]
                if checker is None:
                    value: _Value = (len(key), index, None, ())
                else:
                    value = (len(key), -1 - index, checker, ())
            else:
                value = (len(key), -1, None, tuple(entries))
            self._automaton.add_word(f" {key}", value)
        self._automaton.make_automaton()
        self._empty = not groups

    def scan(self, text: str) -> list[Hit]:
        """All word-bounded matches, overlapping ones included, in text order of their end.

        Offsets are in ``text``; a word must follow the start of the text or a space.
        """
        return [(index, start, -neg_end) for start, neg_end, index in self.spans(text)]

    def spans(self, text: str) -> list[Span]:
        """The matches of :meth:`scan` as spans, ready to be sorted (what the tagger uses)."""
        if self._empty:
            return []
        spans: list[Span] = []
        append = spans.append
        # A space after the text too: every hit has a next character to look at.
        padded = f" {text} "
        for last, (length, literal, checker, entries) in self._automaton.iter(padded):
            # ``last`` is the padded offset of the key's last letter, which is the
            # offset just after it in ``text``.
            if literal >= 0:
                if not (padded[last + 1].isalnum() and padded[last].isalnum()):
                    append((last - length, -last, literal))
            elif checker is not None:
                found = checker.match(text, last - length)
                if found is not None:
                    append((last - length, -found.end(), -1 - literal))
            else:
                start = last - length
                for index, term_checker in entries:
                    if term_checker is None:
                        if not (padded[last + 1].isalnum() and padded[last].isalnum()):
                            append((start, -last, index))
                    else:
                        found = term_checker.match(text, start)
                        if found is not None:
                            append((start, -found.end(), index))
        return spans
