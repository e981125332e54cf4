"""A saved search over the store: the index narrows, the one matcher decides."""

from __future__ import annotations

from datetime import datetime

from syndicator.models import StoredItem
from syndicator.query import Query, matches, prefilter
from syndicator.store.protocol import Storage


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
