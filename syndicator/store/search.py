"""Saved searches and subscriptions over the store: the index narrows, the one matcher decides."""

from __future__ import annotations

from datetime import datetime

from syndicator.models import StoredItem, Subscriber
from syndicator.query import Query, matches, prefilter
from syndicator.query.subscription import Interest, condition, interest, wants
from syndicator.store.protocol import DeliveryKind, Storage


def matching_items(
    store: Storage,
    query: Query,
    since: datetime | None = None,
    limit: int | None = None,
    batch: int = 500,
) -> list[StoredItem]:
    """The stored items that match ``query``, newest row first, at most ``limit``.

    Candidates are read page by page (:meth:`Storage.candidate_items`) and each is
    put to :func:`syndicator.query.matches`, so what matches is the same on every
    backend; reading stops once ``limit`` matches are found.
    """
    condition = prefilter(query)
    found: list[StoredItem] = []
    before: int | None = None
    while limit is None or len(found) < limit:
        page = store.candidate_items(condition, since=since, before_id=before, limit=batch)
        found.extend(item for item in page if matches(query, item))
        if len(page) < batch:
            break
        before = page[-1].id
    return found if limit is None else found[:limit]


def unsent_for(
    store: Storage,
    recipient_id: int | None,
    subscription: Interest,
    kind: DeliveryKind,
    limit: int,
    since: datetime | None = None,
    batch: int = 500,
) -> list[StoredItem]:
    """The unsent items of this kind the subscription wants, oldest first, at most ``limit``.

    A topics-only subscription is decided exactly by SQL (:meth:`Storage.unsent_items`);
    any other reads candidates page by page (:meth:`Storage.unsent_candidates`) and
    puts each to :func:`syndicator.query.subscription.wants`, so the two paths agree
    and a capped digest still leaves only newer items for the next one.
    """
    if subscription.topics_only:
        return store.unsent_items(recipient_id, sorted(subscription.topics), kind, limit, since)
    where = condition(subscription)
    found: list[StoredItem] = []
    after: tuple[datetime, int] | None = None
    while len(found) < limit:
        page = store.unsent_candidates(recipient_id, where, kind, batch, since, after)
        found.extend(item for item in page if wants(subscription, item))
        if len(page) < batch:
            break
        after = (page[-1].first_seen_at, page[-1].id)
    return found[:limit]


def unsent_for_subscriber(
    store: Storage,
    recipient_id: int | None,
    subscriber: Subscriber,
    kind: DeliveryKind,
    limit: int,
    since: datetime | None = None,
) -> list[StoredItem]:
    """:func:`unsent_for` of the subscriber's topics, countries and query.

    Raises :class:`~syndicator.errors.QuerySyntaxError` when the stored query does
    not parse (it was checked when saved, so only by a newer grammar's rules).
    """
    wanted = interest(subscriber.topics, subscriber.countries, subscriber.query)
    return unsent_for(store, recipient_id, wanted, kind, limit, since)
