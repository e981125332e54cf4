"""Where parsing runs, so that one hostile document cannot hurt the run.

Parsing feeds and extracting the text of release pages is CPU work on
untrusted bytes. Documents the feed fast path accepts (JSON Feed; well-formed
RSS 2.0 / Atom 1.0 without a DTD, up to ``INLINE_BYTES`` and ``INLINE_TAGS``)
are parsed in-process: C parsers, no entities, linear time, and no inter-process cost.
Everything else (feedparser's lenient paths, big documents, and every HTML
page given to our release reader and trafilatura, whose lxml trees and
pure-Python passes have no bound of their own) goes to a small pool of worker
processes (``CollectSettings.parse_workers``), started only when first needed:

* a parse that hangs past ``parse_timeout`` gets its worker killed and its
  source an error (``parse_error``, "timed out"), or, for a release page, its
  item a warning; the pool is replaced and jobs that were merely caught in the
  same pool are retried once;
* a worker has an address-space limit (``parse_memory_mb``), so a memory
  blow-up is a MemoryError in that worker (or its death), never the run's;
* measured cost of the pool: about 0.25 s per cycle (start-up and transfer of
  results) for 500 small feeds on two cores, which is why the fast path stays
  in-process (see bench/bench_collect.py).

The workers come from the ``forkserver`` start method: forking the
(multi-threaded) main process is unsafe, and a fresh interpreter per worker
would cost an import of feedparser and trafilatura (≈0.6 s) each time. The
fork server imports them once.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from syndicator.collect.extract import extract_guarded
from syndicator.collect.feeds import parse_fast, parse_feed
from syndicator.collect.parsed import ParsedFeed, ParseFailure, parse_errors
from syndicator.collect.releases.common import Release
from syndicator.config import CollectSettings

T = TypeVar("T")
PRELOAD = ["syndicator.collect.feeds", "syndicator.collect.extract", "trafilatura"]
"""Imported once by the fork server, so each worker starts with them loaded."""

INLINE_BYTES = 1024 * 1024
"""Largest document parsed in-process by the fast path."""
INLINE_TAGS = 10_000
"""Most tag openings (see :func:`markup_count`) in a document parsed in-process.

The fast path's XML parse is linear, but the HTML inside entries goes through
nh3 (html5ever), whose cost grows with tags × nesting depth: 20,000 nested
``<div>`` (120 KB) take 1 s, 50,000 about 9 s. Below this count the worst
case is about 0.3 s; above it the document goes to a worker, under
``parse_timeout``. Ordinary feeds have a few thousand tags at most.
"""


def markup_count(body: bytes) -> int:
    """How many tags a document may open, counting escaped ones too (a few fast scans).

    Escaped: ``&lt;``, any numeric character reference (``&#60;``, ``&#x3c;``;
    counting them all over-counts, which only sends a feed to a worker) and
    JSON's ``\\u003c``.
    """
    return sum(body.count(token) for token in (b"<", b"&lt;", b"&#", b"\\u003c", b"\\u003C"))


ParseFunction = Callable[
    [bytes, Mapping[str, str], str, str, CollectSettings, "str | None"], ParsedFeed
]
ExtractFunction = Callable[[bytes, str], Release]


def _limit_memory(megabytes: int) -> None:  # pragma: no cover - runs in the worker
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass


def parse_guarded(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    source_id: str,
    settings: CollectSettings,
    lang: str | None,
) -> ParsedFeed:
    """parse_feed with every failure turned into ParseFailure (runs in a worker or inline)."""
    with parse_errors(f"parsing {url}", settings.parse_memory_mb):
        return parse_feed(body, headers, url, source_id=source_id, settings=settings, lang=lang)


class FeedParser:
    """Parses fetched feeds and release pages, in worker processes when ``workers`` > 0.

    One instance serves one cycle; ``close()`` stops its workers.
    """

    def __init__(
        self,
        workers: int = 0,
        timeout: float = 30.0,
        memory_mb: int = 1024,
        target: ParseFunction | None = None,
        inline_bytes: int = INLINE_BYTES,
        extract_target: ExtractFunction | None = None,
        inline_tags: int = INLINE_TAGS,
    ) -> None:
        self.workers = workers
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.target: ParseFunction = target if target is not None else parse_guarded
        """What runs in the worker; a module-level function (tests inject a hanging one)."""
        self.extract_target: ExtractFunction = (
            extract_target if extract_target is not None else extract_guarded
        )
        self.inline_bytes = inline_bytes
        self.inline_tags = inline_tags
        self._pool: ProcessPoolExecutor | None = None
        self._turn = asyncio.Lock()
        """Serialises in-process parses, one per event-loop turn, with I/O polled between.

        Responses arrive in bursts (fifty requests started together answer
        together). Parsed back to back, a burst holds the loop for tens of
        milliseconds while finished sockets wait to be read and freed slots wait
        to start the next fetches, and every fetch takes that much longer. Taking
        turns lets the loop serve the network between two parses: measured on
        500 feeds with 100 ms latency, 1.66 s → 1.40 s per cycle (bench/).
        """
        self._free = asyncio.Semaphore(max(workers, 1))
        """One job per worker in flight, so ``timeout`` times the work, not the queue."""

    @classmethod
    def from_settings(cls, settings: CollectSettings) -> FeedParser:
        workers = min(settings.parse_workers, os.cpu_count() or 1) if settings.parse_workers else 0
        return cls(workers, settings.parse_timeout, settings.parse_memory_mb)

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_limit_memory,
                initargs=(self.memory_mb,),
            )
        return self._pool

    def _kill(self, pool: ProcessPoolExecutor) -> None:
        """Kill a pool whose worker hangs; its other tasks fail with BrokenProcessPool."""
        if self._pool is pool:
            self._pool = None
        processes = list(getattr(pool, "_processes", {}).values())
        for process in processes:
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    async def parse(
        self,
        body: bytes,
        headers: Mapping[str, str],
        url: str,
        *,
        source_id: str,
        settings: CollectSettings,
        lang: str | None,
    ) -> ParsedFeed:
        if not self.workers:
            return self.target(body, headers, url, source_id, settings, lang)
        if len(body) <= self.inline_bytes and markup_count(body) <= self.inline_tags:
            async with self._turn:  # one in-process parse per event-loop turn, see __init__
                await asyncio.sleep(0)
                with parse_errors(f"parsing {url}", settings.parse_memory_mb):
                    fast = parse_fast(
                        body, headers, url, source_id=source_id, settings=settings, lang=lang
                    )
            if fast is not None:
                return fast
        return await self._in_worker(
            f"parsing {url}", self.target, body, dict(headers), url, source_id, settings, lang
        )

    async def extract(self, body: bytes, url: str) -> Release:
        """Read a release page (metadata + main text); ReleaseError or ParseFailure if it fails.

        With no workers it runs in a thread: the event loop stays free, but a
        page that hangs the extractor holds that thread (and the cycle's end).
        """
        if not self.workers:
            return await asyncio.to_thread(self.extract_target, body, url)
        return await self._in_worker(f"reading {url}", self.extract_target, body, url)

    async def _in_worker(self, what: str, target: Callable[..., T], *args: Any) -> T:
        """Run ``target(*args)`` in a worker under the timeout; failures → ParseFailure.

        Jobs wait for a free worker before their clock starts: with hundreds of
        pages queued behind two workers, the queue alone would otherwise exceed
        ``timeout`` and fail documents that parse in milliseconds.
        """
        async with self._free:
            with parse_errors(what, self.memory_mb):  # e.g. a result that could not be sent back
                return await self._run(what, target, *args)

    async def _run(self, what: str, target: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = self._ensure_pool()
            future = loop.run_in_executor(pool, target, *args)
            try:
                return await asyncio.wait_for(future, self.timeout)
            except TimeoutError:
                self._kill(pool)
                raise ParseFailure(
                    "parse_error", f"{what} took longer than {self.timeout:g}s (stopped)"
                ) from None
            except BrokenProcessPool:
                self._kill(pool)
                if attempt == 2:
                    raise ParseFailure(
                        "parse_error", f"{what}: the worker died (out of memory or crashed)"
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
