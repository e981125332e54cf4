"""Benchmark one collect cycle over many local feeds, against sequential feedparser.

500 feeds are served with 100 ms latency each, spread over loopback
addresses 127.0.0.2, 127.0.0.3, ... (two feeds per address by default, so the
per-host politeness of the default settings, 1 s between requests to one
host, is in play). The cycle is compared with

* sequential ``feedparser.parse(url)``: a sample of 50 fetches, extrapolated
  to all sources (stated in the output);
* the latency bound: sources × latency ÷ concurrency;

then the same again when every source answers 304 Not Modified.
Targets: ≥30× faster than sequential, within 2× of the latency bound.

Usage: ``.venv/bin/python bench/bench_collect.py [--sources 500] [--per-host 2]``
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser

from syndicator.collect import collect_sources
from syndicator.config import CollectSettings, FeedSource
from syndicator.models import Caching, SourceState


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        return int(s.getsockname()[1])


def host(n: int) -> str:
    return f"127.0.{(n + 2) // 256}.{(n + 2) % 256}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--per-host", type=int, default=2, help="feeds per loopback address")
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--parse-workers", type=int, default=2)
    parser.add_argument("--min-host-interval", type=float, default=1.0)
    parser.add_argument("--sample", type=int, default=50, help="sequential fetches to time")
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
        now = datetime.now(UTC)
        bound = args.sources * args.latency / args.concurrency

        started, cpu = time.perf_counter(), time.process_time()
        results = collect_sources(sources, {}, settings, now, force=True)
        cycle = time.perf_counter() - started
        cpu200 = time.process_time() - cpu
        ok = sum(r.status == "ok" for r in results)
        items = sum(len(r.items) for r in results)
        errors = {r.error_message for r in results if r.status == "error"}

        states = {
            r.source_id: SourceState(
                source_id=r.source_id, url=str(s.url), caching=r.caching or Caching()
            )
            for r, s in zip(results, sources, strict=True)
        }
        started, cpu = time.perf_counter(), time.process_time()
        again = collect_sources(sources, states, settings, now, force=True)
        cycle304 = time.perf_counter() - started
        cpu304 = time.process_time() - cpu
        not_modified = sum(r.status == "not_modified" for r in again)

        sample = sources[: args.sample]
        started = time.perf_counter()
        for source in sample:
            parsed = feedparser.parse(str(source.url), agent="bench")
            assert parsed.entries, parsed.get("bozo_exception")
        sequential = (time.perf_counter() - started) / len(sample) * args.sources

        print(f"sources={args.sources} hosts={hosts} latency={args.latency * 1000:.0f}ms "
              f"concurrency={args.concurrency} per_host={settings.per_host} "
              f"min_host_interval={settings.min_host_interval}s "
              f"parse_workers={settings.parse_workers}")  # fmt: skip
        print(f"sequential feedparser.parse(url): {sequential:.1f}s "
              f"(timed {len(sample)} fetches, extrapolated to {args.sources})")  # fmt: skip
        print(f"latency bound (sources x latency / concurrency): {bound:.2f}s")
        floor = (
            args.per_host - 1
        ) * settings.min_host_interval + hosts * args.latency / args.concurrency
        print(f"politeness floor ((feeds per host - 1) x min_host_interval + hosts x latency "
              f"/ concurrency): {floor:.2f}s")  # fmt: skip
        for label, took, good in (("200 cycle", cycle, ok), ("304 cycle", cycle304, not_modified)):
            print(f"{label}: {took:.2f}s, {good}/{args.sources} "
                  f"{'ok' if label.startswith('200') else 'not_modified'}; "
                  f"{sequential / took:.1f}x faster than sequential (target >= 30x), "
                  f"{took / bound:.2f}x the latency bound (target <= 2x)")  # fmt: skip
        print(f"items parsed in the 200 cycle: {items}; collector CPU (main process): "
              f"{cpu200:.2f}s in the 200 cycle, {cpu304:.2f}s in the 304 cycle")  # fmt: skip
        if errors:
            print("errors:", sorted(e for e in errors if e)[:5])
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main())
