"""Listing pages of organisations without feeds, and full text for summary-only feeds.

A page source is read like a feed whose entries are the links its listing
page shows: the links matching ``link_selector`` and ``link_pattern`` are
resolved and deduplicated; those whose identity the store already holds
(``known``, handed in by the caller) are skipped *before* fetching, and the
first ``max_new_per_cycle`` of the rest are fetched and read as articles.
Without that, every change of a listing page (a new release, a rotating
banner) would refetch ``max_new_per_cycle`` pages we already have. Each
item's identity is its canonical link, so the store recognises a release it
already has. A release page that fails is a warning, not a failure of the
source.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from syndicator.collect.http import PAGE_ACCEPT, FetchError
from syndicator.collect.identity import canonical_link, item_identity, link_identity
from syndicator.collect.items import make_item
from syndicator.collect.normalize import truncate
from syndicator.collect.parsed import ParseFailure
from syndicator.collect.releases.common import Release, ReleaseError
from syndicator.config import PageSource
from syndicator.models import CollectResult, Item, SourceState

if TYPE_CHECKING:
    from syndicator.collect.collector import Cycle

log = logging.getLogger("syndicator.collect")


def release_links(body: bytes, base_url: str, selector: str, pattern: str | None) -> list[str]:
    """Release URLs on a listing page, in page order, without duplicates or the page itself."""
    tree = HTMLParser(body.decode("utf-8", errors="replace"))
    base_tag = tree.css_first("base[href]")
    base = urljoin(base_url, base_tag.attributes.get("href") or "") if base_tag else base_url
    compiled = re.compile(pattern) if pattern else None
    own = canonical_link(base_url)
    seen: set[str] = set()
    links: list[str] = []
    for node in tree.css(selector):
        href = (node.attributes.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        url = urljoin(base, href).split("#", 1)[0]
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        if compiled is not None and not compiled.search(url):
            continue
        key = canonical_link(url)
        if key == own or key in seen:
            continue
        seen.add(key)
        links.append(url)
    return links


def links_to_fetch(links: list[str], known: frozenset[str] | None, limit: int) -> list[str]:
    """The first ``limit`` links whose identity is not already stored.

    The identity of a link is the one the item would get (:func:`link_identity`),
    so "known" means "stored under this link". A release whose page declares a
    different canonical link is stored under that one and is not recognised
    here; it is fetched again (as every release was before ``known`` existed).
    """
    if known:
        links = [link for link in links if link_identity(link) not in known]
    return links[:limit]


async def read_page(cycle: Cycle, url: str) -> tuple[str, Release]:
    """Fetch an article page and read it (in a parse worker); return its final URL and it."""
    response = await cycle.fetcher.fetch(url, accept=PAGE_ACCEPT)
    if not 200 <= response.status < 300:
        raise FetchError(
            "http_error", f"{url} answered HTTP {response.status}", status=response.status
        )
    return response.url, await cycle.parser.extract(response.body, response.url)


async def fetch_article(cycle: Cycle, url: str, source_id: str, lang: str | None) -> Item:
    """Fetch one article page and read it into an Item identified by its canonical link."""
    final_url, release = await read_page(cycle, url)
    link = release.link or final_url
    return make_item(
        source_id=source_id,
        identity=item_identity(None, link, release.title, release.published_at),
        title=release.title,
        paragraphs=release.paragraphs,
        link=link,
        published_at=release.published_at,
        lang=lang or release.lang,
        declared_topics=release.declared_topics,
        max_chars=cycle.settings.max_field_chars,
    )


def failure_note(url: str, failure: Exception) -> str:
    """Why a page failed, for a warning; a failure that is no fetch or read error is logged."""
    if isinstance(failure, FetchError | ReleaseError | ParseFailure):
        return str(failure)
    log.error("reading page %s failed unexpectedly", url, exc_info=failure)
    return f"{type(failure).__name__}: {failure}"


async def collect_page(
    cycle: Cycle, source: PageSource, state: SourceState | None
) -> CollectResult:
    response, done = await cycle.fetch_source(source, state, accept=PAGE_ACCEPT)
    if done is not None:
        return done
    assert response is not None
    limit = min(source.max_new_per_cycle, cycle.settings.max_entries)
    found = release_links(response.body, response.url, source.link_selector, source.link_pattern)
    links = links_to_fetch(found, cycle.known_identities(source.id), limit)
    warnings: list[str] = []
    if not found:
        warnings.append(
            f"no release links on {response.url} match selector {source.link_selector!r}"
            + (f" and pattern {source.link_pattern!r}" if source.link_pattern else "")
        )
    outcomes = await asyncio.gather(
        *(fetch_article(cycle, link, source.id, source.lang) for link in links),
        return_exceptions=True,
    )
    items: list[Item] = []
    seen: set[str] = set()
    for link, outcome in zip(links, outcomes, strict=True):
        if isinstance(outcome, Item):
            if outcome.identity not in seen:
                seen.add(outcome.identity)
                items.append(outcome)
        elif isinstance(outcome, Exception):
            warnings.append(f"release page {link} skipped: {failure_note(link, outcome)}")
        else:
            raise outcome
    return cycle.ok(source, response, tuple(items), warnings)


def likely_new(item: Item, state: SourceState | None) -> bool:
    """Whether the store probably lacks ``item``: first collection, or dated after the last success.

    Only an estimate, used when the caller did not say which identities are
    stored (``known``). It keeps full-text sources from overwriting stored full
    text with a bare summary.
    """
    if state is None or state.last_success_at is None:
        return True
    return item.published_at is not None and item.published_at > state.last_success_at


async def add_full_text(
    cycle: Cycle,
    items: tuple[Item, ...],
    limit: int,
    state: SourceState | None,
    known: frozenset[str] | None = None,
) -> tuple[tuple[Item, ...], list[str]]:
    """Give the first ``limit`` new items their linked page's main text as content.

    With ``known`` (the identities stored for the source), items already stored
    are left out of the result without fetching their page: the store keeps
    their full text as it is, and an unchanged feed costs no page fetches.
    Without it, the first ``limit`` items are fetched and :func:`likely_new`
    estimates which are new.

    A new item whose full text we could not get this cycle (a failed page, or
    beyond ``limit``) comes with its summary; one that is not new is left out
    (the store keeps items a result omits, whereas a summary-only copy would
    replace the full text stored earlier and then flip back next cycle, an
    endless update churn).
    """

    def is_new(item: Item) -> bool:
        return item.identity not in known if known is not None else likely_new(item, state)

    async def one(item: Item) -> Item:
        if not item.link:
            return item
        _, release = await read_page(cycle, item.link)
        text = "\n\n".join(release.paragraphs)
        if len(text) <= len(item.text):
            return item
        return replace(
            item,
            content=truncate(text, cycle.settings.max_field_chars),
            declared_topics=tuple(dict.fromkeys([*item.declared_topics, *release.declared_topics])),
        )

    candidates = items if known is None else tuple(i for i in items if i.identity not in known)
    chosen = candidates[:limit]
    outcomes = await asyncio.gather(*(one(i) for i in chosen), return_exceptions=True)
    out: list[Item] = []
    warnings: list[str] = []
    for item, outcome in zip(chosen, outcomes, strict=True):
        if isinstance(outcome, Item):
            out.append(outcome)
        elif isinstance(outcome, Exception):
            kept = is_new(item)
            if kept:
                out.append(item)
            warnings.append(
                f"full text of {item.link} not fetched ({failure_note(str(item.link), outcome)}); "
                + ("kept its summary" if kept else "left as stored")
            )
        else:
            raise outcome
    rest = [item for item in candidates[limit:] if is_new(item)]
    return (*out, *rest), warnings
