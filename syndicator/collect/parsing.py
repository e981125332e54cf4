"""Where feed parsing runs, so that one hostile feed cannot hurt the run.

Parsing is CPU work on untrusted bytes. Documents the fast path accepts (JSON
Feed; well-formed RSS 2.0 / Atom 1.0 without a DTD, up to ``INLINE_BYTES``)
are parsed in-process: C parsers, no entities, linear time, and no
inter-process cost. Everything else (feedparser's lenient paths, big
documents) goes to a small pool of worker processes
(``CollectSettings.parse_workers``), started only when first needed:

* a parse that hangs past ``parse_timeout`` gets its worker killed and its
  source an error (``parse_error``, "timed out"); the pool is replaced and
  parses that were merely caught in the same pool are retried once;
* a worker has an address-space limit (``parse_memory_mb``), so a memory
  blow-up is a MemoryError in that worker (or its death), never the run's;
* measured cost of the pool: about 0.25 s per cycle (start-up and transfer of
  results) for 500 small feeds on two cores, which is why the fast path stays
  in-process (see bench/bench_collect.py).

The workers come from the ``forkserver`` start method: forking the
(multi-threaded) main process is unsafe, and a fresh interpreter per worker
would cost an import of feedparser each time.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from syndicator.collect.feeds import parse_fast, parse_feed
from syndicator.collect.parsed import ParsedFeed, ParseFailure
from syndicator.config import CollectSettings

INLINE_BYTES = 1024 * 1024
"""Largest document parsed in-process by the fast path."""

ParseFunction = Callable[
    [bytes, Mapping[str, str], str, str, CollectSettings, "str | None"], ParsedFeed
]


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
    try:
        return parse_feed(body, headers, url, source_id=source_id, settings=settings, lang=lang)
    except ParseFailure:
        raise
    except MemoryError:
        raise ParseFailure(
            "parse_error", f"parsing {url} needed more than {settings.parse_memory_mb} MB"
        ) from None
    except RecursionError:
        raise ParseFailure("parse_error", f"parsing {url} failed: nesting too deep") from None
    except Exception as exc:
        raise ParseFailure(
            "parse_error", f"parsing {url} failed: {type(exc).__name__}: {exc}"
        ) from None


def _fast_guarded(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    source_id: str,
    settings: CollectSettings,
    lang: str | None,
) -> ParsedFeed | None:
    try:
        return parse_fast(body, headers, url, source_id=source_id, settings=settings, lang=lang)
    except ParseFailure:
        raise
    except (RecursionError, ValueError, MemoryError) as exc:
        raise ParseFailure("parse_error", f"parsing {url} failed: {type(exc).__name__}") from None


class FeedParser:
    """Parses fetched feed documents, in worker processes when ``workers`` > 0.

    One instance serves one cycle; ``close()`` stops its workers.
    """

    def __init__(
        self,
        workers: int = 0,
        timeout: float = 30.0,
        memory_mb: int = 1024,
        target: ParseFunction | None = None,
        inline_bytes: int = INLINE_BYTES,
    ) -> None:
        self.workers = workers
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.target: ParseFunction = target if target is not None else parse_guarded
        """What runs in the worker; a module-level function (tests inject a hanging one)."""
        self.inline_bytes = inline_bytes
        self._pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_settings(cls, settings: CollectSettings) -> FeedParser:
        workers = min(settings.parse_workers, os.cpu_count() or 1) if settings.parse_workers else 0
        return cls(workers, settings.parse_timeout, settings.parse_memory_mb)

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["syndicator.collect.feeds"])
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
        if len(body) <= self.inline_bytes:
            fast = _fast_guarded(body, headers, url, source_id, settings, lang)
            if fast is not None:
                return fast
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = self._ensure_pool()
            future = loop.run_in_executor(
                pool, self.target, body, dict(headers), url, source_id, settings, lang
            )
            try:
                return await asyncio.wait_for(future, self.timeout)
            except TimeoutError:
                self._kill(pool)
                raise ParseFailure(
                    "parse_error", f"parsing {url} took longer than {self.timeout:g}s (stopped)"
                ) from None
            except BrokenProcessPool:
                self._kill(pool)
                if attempt == 2:
                    raise ParseFailure(
                        "parse_error", f"the parser of {url} died (out of memory or crashed)"
                    ) from None
            except ParseFailure:
                raise
            except MemoryError:
                raise ParseFailure(
                    "parse_error", f"parsing {url} needed more than {self.memory_mb} MB"
                ) from None
            except Exception as exc:  # e.g. a result that could not be sent back
                raise ParseFailure(
                    "parse_error", f"parsing {url} failed in its worker: {type(exc).__name__}"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
