"""HTML releases: metadata from the head, text from the main content.

Title: og:title, else the first <h1>, else <title>. Date: <time datetime>,
else meta article:published_time / date / DC.date, else the seed-style date
line. The canonical link, when declared, becomes the item's link.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from syndicator.collect.dates import parse_date
from syndicator.collect.normalize import html_to_text, single_line
from syndicator.collect.releases.common import Release, ReleaseError, decode_text, structure

_META_DATES = (
    'meta[property="article:published_time"]',
    'meta[name="article:published_time"]',
    'meta[name="date"]',
    'meta[name="DC.date"]',
    'meta[name="dc.date"]',
    'meta[name="pubdate"]',
    'meta[itemprop="datePublished"]',
)
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_-]+)""", re.I)
MAX_CHARS = 1_000_000


def _attr(tree: HTMLParser, selector: str, name: str) -> str | None:
    node = tree.css_first(selector)
    if node is None:
        return None
    value = node.attributes.get(name)
    return value.strip() if value and value.strip() else None


def read_html(data: bytes) -> Release:
    declared = _CHARSET.search(data[:4096])
    markup = decode_text(data, declared.group(1).decode("ascii") if declared else None)
    tree = HTMLParser(markup)
    h1 = tree.css_first("h1")
    title_node = tree.css_first("title")
    title = single_line(
        _attr(tree, 'meta[property="og:title"]', "content")
        or (h1.text() if h1 is not None else None)
        or (title_node.text() if title_node is not None else None)
    )
    date_text = _attr(tree, "time[datetime]", "datetime")
    published = parse_date(date_text)
    if published is None:
        for selector in _META_DATES:
            published = parse_date(_attr(tree, selector, "content"))
            if published is not None:
                break
    link = _attr(tree, 'link[rel="canonical"]', "href")
    main = tree.css_first("article") or tree.css_first("main") or tree.body
    for node in main.css("nav, header, footer, aside, script, style") if main else []:
        node.decompose()
    text = html_to_text(main.html if main is not None else markup, MAX_CHARS)
    found_title, body, published, topics = structure(
        text, title=title or None, published_at=published
    )
    if not found_title:
        raise ReleaseError("no title (<h1>, <title> or text) found")
    lang = _attr(tree, "html[lang]", "lang")
    return Release(
        title=found_title,
        paragraphs=body,
        published_at=published,
        declared_topics=topics,
        link=link if link and link.startswith(("http://", "https://")) else None,
        lang=lang,
    )
