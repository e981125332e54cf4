"""One collection cycle: fetch and parse the sources the service found due, build results.

Every source's work is wrapped so that its failure becomes an error
:class:`CollectResult` (class + message naming what failed) and never stops
the others. Results carry the next fetch time computed by
:mod:`syndicator.collect.schedule`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from syndicator.collect import schedule
from syndicator.collect.clock import Clock, ElapsedClock
from syndicator.collect.http import Fetcher, FetchError, Response
from syndicator.collect.kinds import kind_of
from syndicator.collect.parsed import ParseFailure
from syndicator.collect.parsing import FeedParser
from syndicator.collect.schedule import AnySource
from syndicator.config import CollectSettings, FeedSource, PageSource
from syndicator.models import Caching, CollectResult, Item, SourceState

log = logging.getLogger("syndicator.collect")


class Cycle:
    """The shared machinery of one cycle: settings, clock, randomness, HTTP client, parser.

    ``now`` is when the cycle began (what decided which sources are due);
    ``clock`` tells the time since, on the same scale. Next-fetch times count
    from the moment each answer arrived (``Response.received_at``), or, for a
    failure without an answer, from when the failure was seen.
    """

    def __init__(
        self,
        settings: CollectSettings,
        now: datetime,
        fetcher: Fetcher,
        parser: FeedParser,
        rng: random.Random,
        known: Mapping[str, frozenset[str]] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.now = now
        self.clock: Clock = clock if clock is not None else ElapsedClock(now)
        self.fetcher = fetcher
        self.parser = parser
        self.rng = rng
        self.known = known

    def known_identities(self, source_id: str) -> frozenset[str] | None:
        """Identities the store holds for a source; None when the caller did not say."""
        return None if self.known is None else self.known.get(source_id)

    # ------------------------------------------------------------------ results

    def error(
        self,
        source: AnySource,
        state: SourceState | None,
        error_class: str,
        message: str,
        *,
        http_status: int | None = None,
        headers: Mapping[str, str] | None = None,
        permanent_url: str | None = None,
        at: datetime | None = None,
    ) -> CollectResult:
        """An error result; ``at`` is when the answer arrived (default: the clock's now)."""
        if error_class == "gone":
            next_at = None
        else:
            at = at if at is not None else self.clock()
            wait = schedule.retry_after(headers or {}, at)
            next_at = schedule.next_after_failure(
                at,
                schedule.interval(source, self.settings),
                self.settings,
                self.rng,
                state.consecutive_failures if state else 0,
                wait,
            )
        return CollectResult(
            source_id=source.id,
            status="error",
            error_class=error_class,
            error_message=f"{source.id}: {message}",
            http_status=http_status,
            next_fetch_at=next_at,
            permanent_url=permanent_url,
            caching=state.caching if state else None,
        )

    def ok(
        self,
        source: FeedSource | PageSource,
        response: Response,
        items: tuple[Item, ...],
        warnings: Sequence[str],
    ) -> CollectResult:
        """The result of a source whose URL answered 2xx, with its validators kept."""
        return CollectResult(
            source_id=source.id,
            status="ok",
            items=items,
            caching=Caching(
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            ),
            http_status=response.status,
            next_fetch_at=self.success_time(source, response.headers, response.received_at),
            permanent_url=response.permanent_url,
            warnings=tuple(warnings),
        )

    def success_time(self, source: AnySource, headers: Mapping[str, str], at: datetime) -> datetime:
        """The next fetch after a success whose answer arrived ``at``."""
        return schedule.next_after_success(
            at,
            schedule.interval(source, self.settings),
            self.settings,
            self.rng,
            schedule.cache_lifetime(headers, at),
        )

    # ------------------------------------------------------------------ sources

    async def collect(self, source: AnySource, state: SourceState | None) -> CollectResult:
        try:
            return await kind_of(source).collect(self, source, state)
        except FetchError as exc:
            return self.error(
                source,
                state,
                exc.error_class,
                str(exc),
                http_status=exc.status,
                headers=exc.headers,
            )
        except ParseFailure as exc:
            return self.error(source, state, exc.error_class, str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or a library surprise: record it, keep the cycle going
            log.exception("collecting %s failed unexpectedly", source.id)
            return self.error(source, state, "error", f"unexpected {type(exc).__name__}: {exc}")

    async def fetch_source(
        self, source: FeedSource | PageSource, state: SourceState | None, accept: str
    ) -> tuple[Response | None, CollectResult | None]:
        """Fetch the source URL conditionally; return the 2xx response or the finished result."""
        url = schedule.fetch_url(source, state)
        caching = state.caching if state is not None else None
        if state is not None and state.url not in (None, str(source.url)):
            caching = None  # validators of another URL mean nothing here
        response = await self.fetcher.fetch(url, caching=caching, accept=accept)
        if response.permanent_url is None and url != str(source.url):
            # Fetched from the stored permanent URL: report it again so the store keeps it.
            response = replace(response, permanent_url=url)
        permanent = response.permanent_url
        if response.status == 304:
            return None, CollectResult(
                source_id=source.id,
                status="not_modified",
                caching=caching,
                http_status=304,
                next_fetch_at=self.success_time(source, response.headers, response.received_at),
                permanent_url=permanent,
            )
        if response.status == 410:
            return None, self.error(
                source,
                state,
                "gone",
                f"{response.url} answered 410 Gone; it will not be fetched again",
                http_status=410,
                permanent_url=permanent,
                at=response.received_at,
            )
        if not 200 <= response.status < 300:
            return None, self.error(
                source,
                state,
                "http_error",
                f"{response.url} answered HTTP {response.status}",
                http_status=response.status,
                headers=response.headers,
                permanent_url=permanent,
                at=response.received_at,
            )
        return response, None


async def collect_all(
    sources: Sequence[AnySource],
    states: Mapping[str, SourceState],
    settings: CollectSettings,
    now: datetime,
    *,
    rng: random.Random | None = None,
    parser: FeedParser | None = None,
    known: Mapping[str, frozenset[str]] | None = None,
) -> list[CollectResult]:
    """Collect every source given, concurrently; one result per source, in input order.

    Whether a source is due is decided once, by the caller
    (:func:`syndicator.service.stages.collect_stage` asks
    :func:`syndicator.collect.schedule.is_due`): what is handed in is fetched.

    ``known`` maps a source id to the identities the store already holds for it,
    so page sources and full-text feeds do not fetch pages of stored releases, and
    folder sources report an undated file only while it is new.
    """
    if not sources:
        return []
    own_parser = parser is None
    feed_parser = parser if parser is not None else FeedParser.from_settings(settings)
    try:
        clock = ElapsedClock(now)
        async with Fetcher(settings, clock) as fetcher:
            cycle = Cycle(settings, now, fetcher, feed_parser, rng or random.Random(), known, clock)
            results = await asyncio.gather(*(cycle.collect(s, states.get(s.id)) for s in sources))
    finally:
        if own_parser:
            feed_parser.close()
    # The service logs one event per source once the store has applied the result
    # (with new/updated counts, which only the store knows).
    return list(results)
