"""aiohttp against httpx for the same fetches, with no politeness and no parsing.

Part of bench_collect.py: both clients GET every URL once, at most
``concurrency`` at a time, and read the body. The collector uses aiohttp; this
shows what the choice costs. httpx is optional (``pip install -e .[bench]``):
without it the comparison is skipped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import aiohttp


async def _gather(
    urls: Sequence[str], concurrency: int, get: Callable[[str], Awaitable[int]]
) -> int:
    gate = asyncio.Semaphore(concurrency)

    async def one(url: str) -> int:
        async with gate:
            return await get(url)

    return sum(await asyncio.gather(*(one(u) for u in urls)))


async def with_aiohttp(urls: Sequence[str], concurrency: int) -> int:
    """Bytes read with one aiohttp session (connector limited like the collector's)."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def get(url: str) -> int:
            async with session.get(url) as response:
                return len(await response.read())

        return await _gather(urls, concurrency, get)


async def with_httpx(urls: Sequence[str], concurrency: int) -> int:
    """Bytes read with one httpx.AsyncClient (same limits)."""
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:

        async def get(url: str) -> int:
            response = await client.get(url)
            return len(response.content)

        return await _gather(urls, concurrency, get)


def compare(urls: Sequence[str], concurrency: int, repeat: int) -> dict[str, list[float]]:
    """Wall times per client (``repeat`` runs each, alternating); httpx absent → aiohttp only."""
    clients: dict[str, Callable[[Sequence[str], int], Coroutine[Any, Any, int]]] = {
        "aiohttp": with_aiohttp
    }
    try:
        import httpx  # noqa: F401
    except ImportError:
        pass
    else:
        clients["httpx"] = with_httpx
    times: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(repeat):
        for name, run in clients.items():
            started = time.perf_counter()
            got = asyncio.run(run(urls, concurrency))
            times[name].append(time.perf_counter() - started)
            assert got > 0, f"{name} read nothing"
    return times
