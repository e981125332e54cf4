"""A feed server for bench_collect.py: many loopback addresses, fixed latency, ETags.

Run as a separate process so that serving does not compete with the
collector's event loop: ``python bench/collect_server.py PORT HOSTS LATENCY``.
Every path answers a small RSS feed after LATENCY seconds; a request whose
If-None-Match matches the feed's ETag gets 304.
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web


def feed(path: str, items: int = 10) -> bytes:
    entries = "".join(
        f"<item><title>{path} item {i}</title><link>https://example.org{path}/{i}</link>"
        f"<guid isPermaLink='false'>{path}-{i}</guid>"
        f"<pubDate>Mon, 0{1 + i % 9} Jan 2024 10:00:00 GMT</pubDate>"
        f"<description>&lt;p&gt;Paragraph about organised crime {i}.&lt;/p&gt;</description></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{path}</title>'
        f"<link>https://example.org{path}</link>{entries}</channel></rss>"
    ).encode()


async def main(port: int, hosts: int, latency: float) -> None:
    async def handle(request: web.Request) -> web.Response:
        await asyncio.sleep(latency)
        etag = f'"{request.path}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=feed(request.path), content_type="application/rss+xml", headers={"ETag": etag}
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for n in range(hosts):
        await web.TCPSite(runner, f"127.0.{(n + 2) // 256}.{(n + 2) % 256}", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
