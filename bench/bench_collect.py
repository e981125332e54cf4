"""Benchmark one collect cycle over many local feeds, against sequential feedparser.

500 feeds are served with 100 ms latency each by a separate process
(``collect_server.py``), one feed per loopback address 127.0.0.2 …
127.0.1.245 by default: per-host politeness (2 connections, 1 s between
request starts to one host) still applies to every request, but with one feed
per host it is not what bounds the cycle (``--per-host 2`` shows the layout
where it is: the second feed of each host waits 1 s). The cycle is compared with

* sequential ``feedparser.parse(url)``: a sample of ``--sample`` fetches, timed
  and extrapolated to all sources (stated in the output);
* the latency bound: sources × latency ÷ concurrency (the collector's default
  concurrency, 50, unless ``--concurrency`` says otherwise);

then the same when every source answers 304 Not Modified. Each cycle runs
``--repeat`` times; the median is reported (and the range). Targets: ≥30×
faster than sequential, within 2× of the latency bound.

Also measured: the 200 cycle at other concurrency settings (``--sweep``),
aiohttp against httpx for the same 500 fetches
(``collect_clients.py``; skipped when httpx is not installed, see the
``bench`` extra), and where one feed's parse time goes
(``collect_parse.py``: feedparser with and without its sanitiser, nh3 once).

Usage: ``.venv/bin/python bench/bench_collect.py [--sources 500] [--per-host 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import collect_clients
import collect_parse
import feedparser
from collect_server import feed

from syndicator.collect import collect_sources
from syndicator.collect.collector import collect_all
from syndicator.collect.parsed import ParsedFeed
from syndicator.collect.parsing import FeedParser
from syndicator.config import CollectSettings, FeedSource
from syndicator.models import Caching, CollectResult, SourceState


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        return int(s.getsockname()[1])


def host(n: int) -> str:
    return f"127.0.{(n + 2) // 256}.{(n + 2) % 256}"


class NoParse(FeedParser):
    """Fetch but do not parse: the cycle's cost without its parse work."""

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
        return ParsedFeed(title="", kind="rss20", items=())


def timed_cycle(
    sources: Sequence[FeedSource],
    states: dict[str, SourceState],
    settings: CollectSettings,
    *,
    parse: bool = True,
) -> tuple[float, list[CollectResult], float]:
    """Wall time, results, and CPU time of this (the collector's) process."""
    now = datetime.now(UTC)
    started, cpu = time.perf_counter(), time.process_time()
    if parse:
        results = collect_sources(sources, states, settings, now)
    else:
        results = asyncio.run(
            collect_all(sources, states, settings, now, parser=NoParse())
        )
    return time.perf_counter() - started, results, time.process_time() - cpu


def spread(times: list[float]) -> str:
    return f"median of {len(times)}, range {min(times):.2f}-{max(times):.2f}s"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--per-host", type=int, default=1, help="feeds per loopback address")
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=CollectSettings().concurrency)
    parser.add_argument("--parse-workers", type=int, default=CollectSettings().parse_workers)
    parser.add_argument("--min-host-interval", type=float, default=1.0)
    parser.add_argument("--sample", type=int, default=50, help="sequential fetches to time")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each cycle")
    parser.add_argument(
        "--sweep",
        type=int,
        nargs="*",
        default=[25, 100],
        help="other concurrency settings to time the 200 cycle with (3 runs each)",
    )
    args = parser.parse_args()

    hosts = -(-args.sources // args.per_host)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("collect_server.py")),
         str(port), str(hosts), str(args.latency)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        if server.stdout.readline().strip() != "ready":
            print("server failed to start", file=sys.stderr)
            return 1
        sources = [
            FeedSource(id=f"s{i}", url=f"http://{host(i % hosts)}:{port}/feed/{i}")
            for i in range(args.sources)
        ]
        settings = CollectSettings(
            allow_networks=("127.0.0.0/8",),
            concurrency=args.concurrency,
            parse_workers=args.parse_workers,
            min_host_interval=args.min_host_interval,
        )
        bound = args.sources * args.latency / args.concurrency
        floor = (args.per_host - 1) * settings.min_host_interval + bound / args.per_host

        load = os.getloadavg()[0]
        cycles: list[float] = []
        cycles304: list[float] = []
        cpu: dict[str, list[float]] = {"200": [], "304": []}
        for _ in range(args.repeat):
            took, results, used = timed_cycle(sources, {}, settings)
            cycles.append(took)
            cpu["200"].append(used)
            ok = sum(r.status == "ok" for r in results)
            items = sum(len(r.items) for r in results)
            errors = sorted({r.error_message or "" for r in results if r.status == "error"})
            states = {
                r.source_id: SourceState(
                    source_id=r.source_id, url=str(s.url), caching=r.caching or Caching()
                )
                for r, s in zip(results, sources, strict=True)
            }
            took, again, used = timed_cycle(sources, states, settings)
            cycles304.append(took)
            cpu["304"].append(used)
            not_modified = sum(r.status == "not_modified" for r in again)

        sample = sources[: args.sample]
        started = time.perf_counter()
        for source in sample:
            parsed = feedparser.parse(str(source.url), agent="bench")
            assert parsed.entries, parsed.get("bozo_exception")
        sequential = (time.perf_counter() - started) / len(sample) * args.sources

        urls = [str(s.url) for s in sources]
        clients = collect_clients.compare(urls, args.concurrency, repeat=3)
        sweep: dict[int, list[float]] = {}
        for concurrency in args.sweep:
            swept = settings.model_copy(update={"concurrency": concurrency})
            sweep[concurrency] = [timed_cycle(sources, {}, swept)[0] for _ in range(3)]
        # the 200 cycle without its parse work: how much of the gap to the bound parsing is
        unparsed = [timed_cycle(sources, {}, settings, parse=False)[0] for _ in range(3)]

        print(f"sources={args.sources} hosts={hosts} (feeds per host: {args.per_host}) "
              f"latency={args.latency * 1000:.0f}ms concurrency={args.concurrency} "
              f"per_host={settings.per_host} connections, "
              f"min_host_interval={settings.min_host_interval}s "
              f"parse_workers={settings.parse_workers}; {os.cpu_count()} CPUs, "
              f"load average {load:.2f} at start")  # fmt: skip
        print(f"sequential feedparser.parse(url): {sequential:.1f}s "
              f"(timed {len(sample)} fetches, extrapolated to {args.sources})")  # fmt: skip
        print(f"latency bound (sources x latency / concurrency): {bound:.2f}s")
        print(f"politeness floor of this layout ((feeds per host - 1) x min_host_interval "
              f"+ bound / feeds per host): {floor:.2f}s")  # fmt: skip
        for label, times, good, word in (
            ("200 cycle", cycles, ok, "ok"),
            ("304 cycle", cycles304, not_modified, "not_modified"),
        ):
            took = statistics.median(times)
            print(f"{label}: {took:.2f}s ({spread(times)}), {good}/{args.sources} {word}; "
                  f"{sequential / took:.1f}x faster than sequential (target >= 30x), "
                  f"{took / bound:.2f}x the latency bound (target <= 2x)")  # fmt: skip
        print(f"items parsed per 200 cycle: {items}; CPU of the collector process: "
              f"{statistics.median(cpu['200']):.2f}s per 200 cycle, "
              f"{statistics.median(cpu['304']):.2f}s per 304 cycle")  # fmt: skip
        took = statistics.median(unparsed)
        print(f"200 cycle with parsing stubbed out: {took:.2f}s ({spread(unparsed)}), "
              f"{took / bound:.2f}x the bound")  # fmt: skip
        if errors:
            print("errors:", errors[:5])

        if sweep:
            print("\n200 cycle by concurrency (the bound moves with it):")
        for concurrency, times in sweep.items():
            took = statistics.median(times)
            swept_bound = args.sources * args.latency / concurrency
            print(f"  concurrency={concurrency}: {took:.2f}s ({spread(times)}); "
                  f"{sequential / took:.1f}x sequential, {took / swept_bound:.2f}x its bound "
                  f"({swept_bound:.2f}s)")  # fmt: skip

        print(f"\nraw clients, {len(urls)} GETs, at most {args.concurrency} at a time, "
              "no politeness, no parsing:")  # fmt: skip
        for name, times in clients.items():
            took = statistics.median(times)
            print(f"  {name}: {took:.2f}s ({spread(times)}), {took / bound:.2f}x the bound")
        if "httpx" not in clients:
            print("  httpx: skipped (not installed; pip install -e '.[bench]')")

        print("\nparse time per document:")
        for name, document in (
            ("bench feed (10 items, one-line HTML)", feed("/feed/1")),
            ("rich feed (20 items, 8 HTML paragraphs each)", collect_parse.rich_feed()),
        ):
            print(f"  {name}:")
            for way, seconds in collect_parse.compare(document).items():
                print(f"    {seconds * 1000:6.2f} ms  {way}")
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main())
