"""Finding the feeds of a website, for ``syndicator sources add URL``.

The URL may be a feed itself; otherwise its <link rel="alternate"> feeds and
a few common paths (/feed, /rss.xml, ...) are tried. Each candidate is
fetched and parsed so the operator sees its title, kind and first items
before adding it: a link that does not parse is not offered.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from syndicator.collect.http import Fetcher, FetchError, Response
from syndicator.collect.parsed import ParseFailure
from syndicator.collect.parsing import parse_guarded
from syndicator.config import CollectSettings
from syndicator.errors import SourceError

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/json",
    "text/xml",
    "application/xml",
)
COMMON_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml", "/feed.json")


@dataclass(frozen=True, slots=True)
class DiscoveredFeed:
    url: str
    title: str
    kind: str
    """feedparser's version (``rss20``, ``atom10``, ...) or ``json``."""
    sample_titles: tuple[str, ...] = ()


def alternate_links(body: bytes, base_url: str) -> list[str]:
    tree = HTMLParser(body.decode("utf-8", errors="replace"))
    links: list[str] = []
    for node in tree.css("link[href]"):
        rel = (node.attributes.get("rel") or "").lower().split()
        kind = (node.attributes.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rel and kind in FEED_TYPES:
            url = urljoin(base_url, node.attributes.get("href") or "")
            if url not in links:
                links.append(url)
    return links


def _describe(response: Response, settings: CollectSettings) -> DiscoveredFeed:
    """The feed ``response`` holds; ParseFailure when it holds none (or a hostile one)."""
    parsed = parse_guarded(
        response.body, response.headers, response.url, "discover", settings, None
    )
    return DiscoveredFeed(
        url=response.url,
        title=parsed.title,
        kind=parsed.kind,
        sample_titles=tuple(i.title for i in parsed.items[:5]),
    )


async def _probe(fetcher: Fetcher, url: str, settings: CollectSettings) -> DiscoveredFeed | None:
    try:
        response = await fetcher.fetch(url)
        return _describe(response, settings) if response.status == 200 else None
    except (FetchError, ParseFailure):
        return None


async def discover(url: str, settings: CollectSettings) -> list[DiscoveredFeed]:
    async with Fetcher(settings) as fetcher:
        response = await fetcher.fetch(url)
        if response.status != 200:
            raise FetchError(
                "http_error", f"{url} answered HTTP {response.status}", status=response.status
            )
        try:
            return [_describe(response, settings)]
        except ParseFailure:
            pass
        candidates = alternate_links(response.body, response.url)
        candidates += [urljoin(response.url, p) for p in COMMON_PATHS]
        found = await asyncio.gather(
            *(_probe(fetcher, c, settings) for c in dict.fromkeys(candidates))
        )
    out: dict[str, DiscoveredFeed] = {}
    for feed in found:
        if feed is not None:
            out.setdefault(feed.url, feed)
    return list(out.values())


def discover_feeds(url: str, settings: CollectSettings) -> list[DiscoveredFeed]:
    """Feeds offered by ``url`` (itself, its alternate links, common paths), each verified.

    Raises :class:`~syndicator.errors.SourceError` (with the fetch's ``error_class``) when
    ``url`` itself cannot be fetched; an empty list means it offers no feed we can read.
    """
    try:
        return asyncio.run(discover(url, settings))
    except FetchError as exc:
        raise SourceError(url, str(exc), exc.error_class) from None
