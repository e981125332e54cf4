"""The one definition of what a query matches. Pure: no database, no clock.

Every path that decides whether an item matches a saved search (an alert run,
a search page, the benchmark's naive loop) ends here. The store only narrows
the items down first (:mod:`syndicator.query.prefilter`); it never decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from syndicator.models import StoredItem
from syndicator.query.syntax import All, Filter, Node, Not, Query, Term
from syndicator.query.words import searchable


@dataclass(frozen=True, slots=True)
class ItemView:
    """What a query looks at in an item, prepared once for matching many queries.

    ``text`` is :func:`~syndicator.query.words.searchable` of the title and the
    body (the content when there is one, else the summary), as the store indexes it.
    """

    text: str
    source_id: str
    topics: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    lang: str | None = None

    @classmethod
    def of(
        cls,
        title: str,
        body: str,
        source_id: str,
        topics: Iterable[str] = (),
        countries: Iterable[str] = (),
        lang: str | None = None,
    ) -> ItemView:
        return cls(
            text=searchable(title, body),
            source_id=source_id,
            topics=frozenset(topics),
            countries=frozenset(countries),
            lang=lang.replace("_", "-").lower() if lang else None,
        )

    @classmethod
    def of_stored(cls, stored: StoredItem) -> ItemView:
        item = stored.item
        return cls.of(
            item.title, item.text, item.source_id, stored.topics, stored.countries, item.lang
        )


def matches(query: Query, item: ItemView | StoredItem) -> bool:
    """Whether the item matches the query."""
    view = item if isinstance(item, ItemView) else ItemView.of_stored(item)
    return _holds(query.root, view, None)


def explain(query: Query, item: ItemView | StoredItem) -> tuple[str, ...] | None:
    """What made the item match, as written in the query (``None`` when it does not).

    Every term and filter found is listed, not only the first alternative of an
    ``OR``, so a reader can be told why an alert reached them.
    """
    view = item if isinstance(item, ItemView) else ItemView.of_stored(item)
    found: list[str] = []
    if not _holds(query.root, view, found):
        return None
    return tuple(dict.fromkeys(found))


def _holds(node: Node, view: ItemView, found: list[str] | None) -> bool:
    if isinstance(node, Term):
        hit = node.needle in view.text
        if hit and found is not None:
            found.append(node.written)
        return hit
    if isinstance(node, Filter):
        hit = _filter_holds(node, view)
        if hit and found is not None:
            found.append(f"{node.name}:{node.value}")
        return hit
    if isinstance(node, Not):
        return not _holds(node.node, view, None)
    if found is None:
        if isinstance(node, All):
            return all(_holds(n, view, None) for n in node.nodes)
        return any(_holds(n, view, None) for n in node.nodes)
    # explaining: a group's findings count only when the group holds
    mine: list[str] = []
    if isinstance(node, All):
        hit = all(_holds(n, view, mine) for n in node.nodes)
    else:  # every alternative is explained, not only the first that holds
        hit = [_holds(n, view, mine) for n in node.nodes].count(True) > 0
    if hit:
        found.extend(mine)
    return hit


def _filter_holds(node: Filter, view: ItemView) -> bool:
    if node.name == "topic":
        return node.value in view.topics
    if node.name == "country":
        return node.value in view.countries
    if node.name == "source":
        return node.value == view.source_id
    lang = view.lang
    return lang is not None and (lang == node.value or lang.startswith(node.value + "-"))
