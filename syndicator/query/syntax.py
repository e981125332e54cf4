"""The query language, parsed into a small tree; every mistake is reported with its position.

Grammar (``OR`` binds tighter than the space, as in web search engines)::

    query       := conjunction
    conjunction := alternation+              (separated by spaces: all must hold)
    alternation := unary ("OR" unary)*       (upper-case OR: one must hold)
    unary       := ["-"] primary             (a leading "-" excludes)
    primary     := word | '"' phrase '"' | name ":" value | "(" conjunction ")"

Filters (``topic:``, ``country:``, ``lang:``, ``source:``) of the same name
written side by side in one conjunction are ORed (``country:BY country:UA``
means either); filters of different names, and everything else, are ANDed.
See docs/queries.md.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from typing import Literal

from babel import localedata

from syndicator.errors import QuerySyntaxError
from syndicator.query.words import unspaced, words
from syndicator.tagging.vocabulary import load_countries

FilterName = Literal["topic", "country", "lang", "source"]
FILTERS: tuple[FilterName, ...] = ("topic", "country", "lang", "source")
MAX_QUERY_CHARS = 500
MAX_TERMS = 50
"""Bounds on one query: a saved search is checked against every new item."""


@dataclass(frozen=True, slots=True)
class Term:
    """A word or "a phrase": its words must appear one after the other.

    ``needle`` is what is searched for in :func:`~syndicator.query.words.searchable`
    text: the words with spaces around them, or, when a word is in a script
    written without spaces (``substring``), the bare words so they match inside
    longer runs of text.
    """

    written: str
    position: int
    words: tuple[str, ...]
    substring: bool

    @property
    def needle(self) -> str:
        joined = " ".join(self.words)
        return joined if self.substring else f" {joined} "


@dataclass(frozen=True, slots=True)
class Filter:
    """``name:value``; values are stored normalised (country upper case, lang lower case)."""

    name: FilterName
    value: str
    position: int


@dataclass(frozen=True, slots=True)
class Not:
    node: Node
    position: int


@dataclass(frozen=True, slots=True)
class All:
    nodes: tuple[Node, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Any:
    nodes: tuple[Node, ...]
    position: int


Node = Term | Filter | Not | All | Any


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: the text as saved and its tree."""

    text: str
    root: Node


@dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["word", "phrase", "open", "close", "or"]
    text: str
    position: int
    negated: bool = False


def parse(
    text: str,
    topics: Collection[str] | None = None,
    sources: Collection[str] | None = None,
) -> Query:
    """Parse and check a query; raise :class:`QuerySyntaxError` at the first mistake.

    ``topics`` and ``sources``, when given, are the ids that exist: a filter
    naming another one is a mistake (a query that can never match).
    """
    return Query(text, _Parser(text, topics, sources).parse())


class _Parser:
    def __init__(
        self, text: str, topics: Collection[str] | None, sources: Collection[str] | None
    ) -> None:
        self.text = text
        self.topics = topics
        self.sources = sources
        self.tokens = self._lex()
        self.at = 0

    def fail(self, position: int, reason: str) -> QuerySyntaxError:
        return QuerySyntaxError(self.text, position, reason)

    # ------------------------------------------------------------------ tokens

    def _lex(self) -> list[_Token]:
        text = self.text
        if len(text) > MAX_QUERY_CHARS:
            raise self.fail(MAX_QUERY_CHARS, f"a query is at most {MAX_QUERY_CHARS} characters")
        tokens: list[_Token] = []
        i = 0
        while i < len(text):
            char = text[i]
            if char.isspace():
                i += 1
                continue
            start = i
            negated = False
            if char == "-":
                if i + 1 >= len(text) or text[i + 1].isspace() or text[i + 1] in "-)":
                    raise self.fail(i, 'a "-" must touch what it excludes (no space)')
                negated = True
                i += 1
                char = text[i]
            if char == "(":
                tokens.append(_Token("open", "(", start, negated))
                i += 1
            elif char == ")":
                tokens.append(_Token("close", ")", i))
                i += 1
            elif char == '"':
                end = text.find('"', i + 1)
                if end == -1:
                    raise self.fail(i, "this quote is never closed")
                tokens.append(_Token("phrase", text[i + 1 : end], i, negated))
                i = end + 1
            else:
                end = i
                while end < len(text) and not text[end].isspace() and text[end] not in '()"':
                    end += 1
                word = text[i:end]
                kind: Literal["word", "or"] = "or" if word == "OR" and not negated else "word"
                tokens.append(_Token(kind, word, start, negated))
                i = end
        if not tokens:
            raise self.fail(0, "the query is empty")
        terms = [t for t in tokens if t.kind in ("word", "phrase")]
        if len(terms) > MAX_TERMS:
            raise self.fail(terms[MAX_TERMS].position, f"a query has at most {MAX_TERMS} terms")
        return tokens

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    # ------------------------------------------------------------------ grammar

    def parse(self) -> Node:
        root = self.conjunction(0)
        extra = self.peek()
        if extra is not None:  # only a ")" stops a conjunction early
            raise self.fail(extra.position, 'this ")" closes nothing')
        if not _bounded(root):
            raise self.fail(
                _first_exclusion(root), "a query needs something to look for, not only exclusions"
            )
        return root

    def conjunction(self, position: int) -> Node:
        nodes: list[Node] = []
        while (token := self.peek()) is not None and token.kind != "close":
            nodes.append(self.alternation())
        if not nodes:
            raise self.fail(position, "nothing to look for here")
        return _group_filters(nodes, position)

    def alternation(self) -> Node:
        first = self.peek()
        assert first is not None
        if first.kind == "or":
            raise self.fail(first.position, '"OR" needs something on its left')
        nodes = [self.unary()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.at += 1
            following = self.peek()
            if following is None or following.kind in ("or", "close"):
                raise self.fail(token.position, '"OR" needs something on its right')
            nodes.append(self.unary())
        if len(nodes) == 1:
            return nodes[0]
        for node in nodes:
            if not _bounded(node):
                raise self.fail(_position(node), 'each side of "OR" needs something to look for')
        return Any(tuple(nodes), _position(nodes[0]))

    def unary(self) -> Node:
        token = self.peek()
        assert token is not None
        self.at += 1
        node: Node
        if token.kind == "open":
            node = self.conjunction(token.position + token.negated)
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise self.fail(token.position + token.negated, 'this "(" is never closed')
            self.at += 1
        elif token.kind == "phrase":
            node = self.term(token.text, token.position + token.negated, quoted=True)
        elif token.kind == "word":
            node = self.word(token)
        else:  # a ")" where a term was expected
            raise self.fail(token.position, 'this ")" closes nothing')
        return Not(node, token.position) if token.negated else node

    def word(self, token: _Token) -> Node:
        position = token.position + token.negated
        name, colon, value = token.text.partition(":")
        if colon and name.isascii() and name.isalpha():
            if name not in FILTERS:
                raise self.fail(
                    position,
                    f'unknown filter "{name}:" (filters are {", ".join(FILTERS)}); '
                    "put the text in quotes to search for it as words",
                )
            return self.filter(name, value, position + len(name) + 1)
        return self.term(token.text, position, quoted=False)

    def term(self, written: str, position: int, quoted: bool) -> Term:
        found = words(written)
        if not found:
            if quoted:
                raise self.fail(position, "these quotes hold nothing to look for")
            raise self.fail(position, f'"{written}" has no letters or digits to look for')
        substring = any(unspaced(w) for w in found)
        return Term(written, position, tuple(found), substring)

    def filter(self, name: FilterName, value: str, position: int) -> Filter:
        if not value:
            raise self.fail(position, f'"{name}:" needs a value right after the colon')
        if name == "country":
            code = country_code(value)
            if code is None:
                raise self.fail(
                    position, f'unknown country code "{value}" (use ISO 3166-1 alpha-2, e.g. FR)'
                )
            return Filter(name, code, position)
        if name == "lang":
            lang = value.replace("_", "-").lower()
            if not lang.replace("-", "").isascii() or not localedata.exists(lang.replace("-", "_")):
                raise self.fail(position, f'unknown language code "{value}" (e.g. en, fr, zh)')
            return Filter(name, lang, position)
        known = self.topics if name == "topic" else self.sources
        if known is not None and value not in known:
            raise self.fail(position, f'unknown {name} "{value}"')
        return Filter(name, value, position)


def _group_filters(nodes: list[Node], position: int) -> Node:
    """Side-by-side filters of one name become one OR; the rest stay ANDed, in order."""
    grouped: list[Node] = []
    by_name: dict[str, int] = {}
    for node in nodes:
        if isinstance(node, Filter):
            index = by_name.get(node.name)
            if index is not None:
                earlier = grouped[index]
                alternatives = earlier.nodes if isinstance(earlier, Any) else (earlier,)
                grouped[index] = Any((*alternatives, node), _position(earlier))
                continue
            by_name[node.name] = len(grouped)
        grouped.append(node)
    return grouped[0] if len(grouped) == 1 else All(tuple(grouped), position)


def _position(node: Node) -> int:
    return node.position


def _bounded(node: Node) -> bool:
    """Whether matching the node requires something to be present (not only absent).

    Only such queries can be pre-filtered by the store; the others would match
    nearly everything.
    """
    if isinstance(node, (Term, Filter)):
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, All):
        return any(_bounded(n) for n in node.nodes)
    return all(_bounded(n) for n in node.nodes)


def _first_exclusion(node: Node) -> int:
    if isinstance(node, (All, Any)):
        return _first_exclusion(node.nodes[0])
    return node.position


def country_code(value: str) -> str | None:
    """``value`` as a known ISO 3166-1 alpha-2 code (upper case), or None."""
    code = value.strip().upper()
    return code if code in _country_codes() else None


@cache
def _country_codes() -> frozenset[str]:
    """The ISO codes the tagger can find in a text: the only ones a filter can match."""
    return frozenset(load_countries())
