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


def compile_term(term: str) -> TermSpec:
    """Normalise ``term`` and split it into the automaton key and a confirming regex."""
    text = normalize(term).strip()
    cut = min((i for i, ch in enumerate(text) if ch in WILDCARDS), default=-1)
    if cut == -1:
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


Hit = tuple[int, int, int]
"""(pattern index, start, end) in the normalised text."""


class Matcher:
    """Finds all occurrences of a fixed list of terms in normalised text."""

    def __init__(self, terms: Sequence[str], only: Collection[int] | None = None) -> None:
        """Index ``terms`` (all, or those at the indexes in ``only``); hits name the index."""
        groups: dict[str, list[tuple[int, re.Pattern[str] | None]]] = defaultdict(list)
        for index, term in enumerate(terms):
            if only is not None and index not in only:
                continue
            spec = compile_term(term)
            groups[spec.key].append((index, spec.checker))
        self._automaton = ahocorasick.Automaton()
        for key, entries in groups.items():
            # A key with one literal term (the common case) stores its index
            # directly, sparing the scan loop an inner loop.
            literal = entries[0][0] if len(entries) == 1 and entries[0][1] is None else -1
            self._automaton.add_word(key, (len(key), literal, tuple(entries)))
        if groups:
            self._automaton.make_automaton()
        self._empty = not groups

    def scan(self, text: str) -> list[Hit]:
        """All word-bounded matches, overlapping ones included, in text order of their end."""
        if self._empty:
            return []
        hits: list[Hit] = []
        size = len(text)
        for last, (length, literal, entries) in self._automaton.iter(text):
            start = last - length + 1
            if start and text[start - 1].isalnum():
                continue
            if literal >= 0:
                end = last + 1
                if end == size or not text[end].isalnum() or not text[last].isalnum():
                    hits.append((literal, start, end))
                continue
            for index, checker in entries:
                if checker is None:
                    end = last + 1
                    if end < size and text[end].isalnum() and text[last].isalnum():
                        continue
                    hits.append((index, start, end))
                else:
                    found = checker.match(text, start)
                    if found is not None:
                        hits.append((index, start, found.end()))
        return hits
