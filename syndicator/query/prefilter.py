"""What the store must look for to find every item a query may match: a superset.

The matcher decides (:mod:`syndicator.query.matcher`); the store only narrows
the items down with its search index, so a saved search costs what its
candidates cost, not what the archive costs. The rule that keeps it from ever
missing a match: exclusions are dropped (they can only remove items), and each
term becomes the substring the matcher looks for (:attr:`Term.needle`), which the
index holds in the same searchable form. Queries without anything to look for
are refused by the parser, so a condition always exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from syndicator.query.syntax import All, Filter, FilterName, Node, Not, Query, Term


@dataclass(frozen=True, slots=True)
class Contains:
    """The item's searchable text contains ``needle``."""

    needle: str


@dataclass(frozen=True, slots=True)
class HasValue:
    """The item's ``name`` (topic, country, lang, source) is one of ``values``.

    For ``lang`` a value also stands for its regional forms (``pt`` for ``pt-BR``).
    """

    name: FilterName
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Both:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Either:
    parts: tuple[Condition, ...]


Condition = Contains | HasValue | Both | Either


def prefilter(query: Query) -> Condition:
    """The condition every match of ``query`` meets."""
    condition = _condition(query.root)
    if condition is None:  # the parser refuses such queries
        raise ValueError(f"query {query.text!r} has nothing to look for")
    return condition


def _condition(node: Node) -> Condition | None:
    if isinstance(node, Term):
        return Contains(node.needle)
    if isinstance(node, Filter):
        return HasValue(node.name, (node.value,))
    if isinstance(node, Not):
        return None
    parts = [_condition(n) for n in node.nodes]
    if isinstance(node, All):
        kept = tuple(p for p in parts if p is not None)
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else Both(kept)
    if any(p is None for p in parts):
        return None
    return Either(tuple(p for p in parts if p is not None))
