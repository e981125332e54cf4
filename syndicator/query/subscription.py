"""What a subscription asks for: topics × countries × query, defined once. Pure.

An item is for a reader when all three hold: no topics listed or the item has
one of them, no countries listed or the item has one of them, no query or the
query matches (:func:`syndicator.query.matches`). Digests, alerts and previews
all decide through :func:`wants`; the store only narrows the items down first
(:func:`condition`, a superset), as it does for a saved search.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from syndicator.errors import QuerySyntaxError
from syndicator.models import StoredItem
from syndicator.query.matcher import ItemView, matches
from syndicator.query.prefilter import Both, Condition, HasValue, prefilter
from syndicator.query.syntax import Query, country_code, parse


@dataclass(frozen=True, slots=True)
class Interest:
    """A subscription's filter, its query parsed."""

    topics: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    query: Query | None = None

    @property
    def topics_only(self) -> bool:
        """Only topics asked for: the store's plain SQL path decides it exactly."""
        return bool(self.topics) and not self.countries and self.query is None


def interest(topics: Iterable[str], countries: Iterable[str], query: str | None) -> Interest:
    """The filter of a stored subscription; :class:`QuerySyntaxError` if its query is bad.

    Topic and source names in the query are not checked against the configuration
    here (they were when it was saved): a topic removed since then simply matches
    nothing, rather than stopping the reader's mail.
    """
    return Interest(
        frozenset(topics),
        frozenset(c.upper() for c in countries),
        parse(query) if query else None,
    )


def wants(subscription: Interest, item: ItemView | StoredItem) -> bool:
    """Whether the item is for a reader with this subscription."""
    view = item if isinstance(item, ItemView) else ItemView.of_stored(item)
    if subscription.topics and subscription.topics.isdisjoint(view.topics):
        return False
    if subscription.countries and subscription.countries.isdisjoint(view.countries):
        return False
    return subscription.query is None or matches(subscription.query, view)


def condition(subscription: Interest) -> Condition:
    """What the store looks for to find every item the subscription wants (a superset)."""
    parts: list[Condition] = []
    if subscription.topics:
        parts.append(HasValue("topic", tuple(sorted(subscription.topics))))
    if subscription.countries:
        parts.append(HasValue("country", tuple(sorted(subscription.countries))))
    if subscription.query is not None:
        parts.append(prefilter(subscription.query))
    if not parts:
        raise ValueError("a subscription with no topics, countries or query wants everything")
    return parts[0] if len(parts) == 1 else Both(tuple(parts))


def check_countries(codes: Collection[str]) -> tuple[str, ...]:
    """The codes upper-cased, in order, without repeats; ValueError naming the first
    unknown one (the same check as a query's ``country:``)."""
    found: list[str] = []
    for written in codes:
        code = country_code(written)
        if code is None:
            raise ValueError(f'unknown country code "{written}" (use ISO 3166-1 alpha-2, e.g. FR)')
        if code not in found:
            found.append(code)
    return tuple(found)


def check_query(
    text: str, topics: Collection[str] | None = None, sources: Collection[str] | None = None
) -> str:
    """The query as saved, after checking it; :class:`QuerySyntaxError` at the mistake."""
    parse(text, topics, sources)
    return text


__all__ = [
    "Interest",
    "QuerySyntaxError",
    "check_countries",
    "check_query",
    "condition",
    "interest",
    "wants",
]
