"""The collect stage: sources (feeds, listing pages, folders of files) → Items.

Public API::

    collect_sources(sources, states, settings, now, *, rng=None, known=None)
        -> list[CollectResult]
    discover_feeds(url, settings) -> list[DiscoveredFeed]

``collect_sources`` is a synchronous wrapper around an asyncio implementation
(it calls :func:`asyncio.run`), so it works from a cron run and from an
APScheduler worker thread alike. It never raises for one source's failure.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from datetime import datetime

from syndicator.collect.collector import collect_all
from syndicator.collect.discover import DiscoveredFeed, discover_feeds
from syndicator.collect.schedule import AnySource
from syndicator.config import CollectSettings
from syndicator.models import CollectResult, SourceState


def collect_sources(
    sources: Sequence[AnySource],
    states: Mapping[str, SourceState],
    settings: CollectSettings,
    now: datetime,
    *,
    rng: random.Random | None = None,
    known: Mapping[str, frozenset[str]] | None = None,
) -> list[CollectResult]:
    """Collect every source given; the caller has decided they are due at ``now``.

    Returns one CollectResult per source, in the order given. ``now`` must
    be timezone-aware UTC; ``rng`` makes the jitter reproducible in tests.
    ``known`` maps source ids to the item identities already stored for them
    (``Storage.identities``): page sources and ``full_text`` feeds then fetch
    no page of a stored release, and folder sources warn about an undated file
    once, while it is new. Sources missing from it are collected as if nothing
    were stored (feeds do not need it).
    """
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware UTC datetime")
    return asyncio.run(
        collect_all(sources, states, settings, now, rng=rng, known=known)
    )


__all__ = ["DiscoveredFeed", "collect_sources", "discover_feeds"]
