"""A fast path for the two formats most feeds use: well-formed RSS 2.0 and Atom 1.0.

feedparser costs about 3 ms for a ten-entry feed, nearly all of it in
Python-level SAX callbacks; a 500-feed cycle spends more time parsing than
waiting for the network. ElementTree parses the same document in C in a
tenth of the time. This reader handles only documents it fully understands
and answers ``None`` for anything else (a DOCTYPE, malformed XML, RSS 0.9x,
RDF, Atom 0.3, unknown root), which then goes to feedparser, the reference.
Both paths produce the same :class:`RawEntry` records; a test holds them
equal on every fixture feed. One deliberate difference: feedparser resolves a
relative permalink guid ("123") against the feed URL, so the identity would
change when the feed moves; this reader keeps the guid as written.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urljoin

from syndicator.collect.dates import parse_date
from syndicator.collect.entries import RawEntry
from syndicator.collect.prolog import scan_prolog

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
XML = "{http://www.w3.org/XML/1998/namespace}"
RSS_ITEM_TAGS = frozenset(
    {"title", "link", "description", "guid", "pubDate", "author", "category", "comments",
     "enclosure", "source"}
)  # fmt: skip
ATOM_ENTRY_TAGS = frozenset(
    ATOM + t
    for t in ("title", "link", "id", "updated", "published", "summary", "content", "author",
              "contributor", "category", "rights", "source")
)  # fmt: skip
RSS_EXTENSIONS = frozenset({CONTENT + "encoded", DC + "creator", DC + "date"})
IGNORED_NAMESPACES = (
    "{http://purl.org/rss/1.0/modules/slash/}",  # comment counts
    "{http://wellformedweb.org/CommentAPI/}",  # comment feeds
)
TEXT_TYPES = frozenset({"text", "html", "xhtml"})


def _understood(children: list[ET.Element], plain: frozenset[str]) -> bool:
    """Only elements this reader knows, or extensions whose meaning does not affect items."""
    for child in children:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if tag in plain or tag.startswith(IGNORED_NAMESPACES):
            continue
        return False
    return True


@dataclass(frozen=True, slots=True)
class FastFeed:
    title: str
    kind: str
    language: str | None
    entries: list[RawEntry]


def _text(node: ET.Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


def read_fast(body: bytes, url: str) -> FastFeed | None:
    """RSS 2.0 / Atom 1.0 entries, or None when feedparser should decide."""
    if b"\x00" in body[:512]:
        return None  # UTF-16/32: feedparser (after scan_prolog has looked at it)
    prolog = scan_prolog(body)  # to the root element, however far (ParseFailure if too far)
    if prolog.doctype is not None or prolog.declares:
        return None  # a DTD: feedparser, once its declarations are stripped
    try:
        root = ET.fromstring(body)  # noqa: S314 - no DTD (checked above), so no entities
    except (ET.ParseError, ValueError, LookupError):  # LookupError: unknown declared encoding
        return None
    if root.tag == "rss" and root.get("version") == "2.0":
        return _rss(root, url)
    if root.tag == ATOM + "feed":
        if any(isinstance(c.tag, str) and not c.tag.startswith("{") for c in root):
            return None  # RSS elements inside Atom: feedparser's lenient reading
        return _atom(root, url)
    return None


def _rss(root: ET.Element, url: str) -> FastFeed | None:
    channel = root.find("channel")
    if channel is None:
        return None
    entries: list[RawEntry] = []
    for item in channel.iter("item"):
        if not _understood(list(item), RSS_ITEM_TAGS | RSS_EXTENSIONS) or any(
            len(child) for child in item if child.tag in RSS_ITEM_TAGS
        ):
            return None  # Atom elements in RSS, markup nested in RSS text: feedparser's job
        link = _text(item.find("link")) or None
        guid_node = item.find("guid")
        guid = _text(guid_node) or None
        if (
            link is None
            and guid
            and guid_node is not None
            and guid_node.get("isPermaLink") != "false"
        ):
            link = guid  # as feedparser does; non-HTTP links are dropped later
        published = _text(item.find("pubDate")) or _text(item.find(DC + "date"))
        entries.append(
            RawEntry(
                title=_text(item.find("title")),
                title_is_html=False,
                link=urljoin(url, link) if link else None,
                guid=guid,
                summary=_text(item.find("description")),
                summary_is_html=True,
                content=_text(item.find(CONTENT + "encoded")),
                content_is_html=True,
                published_at=parse_date(published) if published else None,
                updated_at=parse_date(_text(item.find(DC + "date"))),  # feedparser: dc:date=updated
                author=_text(item.find("author")) or _text(item.find(DC + "creator")) or None,
                tags=[t for t in (_text(c) for c in item.findall("category")) if t],
                lang=_lang(item),
            )
        )
    return FastFeed(
        title=_text(channel.find("title")),
        kind="rss20",
        language=_text(channel.find("language")) or root.get(XML + "lang") or None,
        entries=entries,
    )


def _lang(item: ET.Element) -> str | None:
    encoded = item.find(CONTENT + "encoded")
    found = encoded.get(XML + "lang") if encoded is not None else None
    return found or item.get(XML + "lang")


def _atom_text(node: ET.Element | None) -> tuple[str, bool]:
    """(value, is_html) of an Atom text construct."""
    if node is None:
        return "", False
    kind = (node.get("type") or "text").lower()
    if kind not in TEXT_TYPES or node.get("mode") or (kind != "xhtml" and len(node)):
        raise _Decline  # base64, other media types, markup inside a text construct
    if kind == "xhtml":
        parts = [node.text or ""]
        for child in node:
            plain = copy.deepcopy(child)
            for element in plain.iter():
                if isinstance(element.tag, str):
                    element.tag = element.tag.rsplit("}", 1)[-1]  # XHTML namespace → bare tags
            parts.append(ET.tostring(plain, encoding="unicode"))
        return "".join(parts).strip(), True
    return (node.text or "").strip(), kind in ("html", "text/html")


def _atom_author(node: ET.Element | None) -> str | None:
    """feedparser's form: "Name (email)" when both are given."""
    if node is None:
        return None
    name, email = _text(node.find(ATOM + "name")), _text(node.find(ATOM + "email"))
    if name and email:
        return f"{name} ({email})"
    return name or email or None


class _Decline(Exception):
    """Something only feedparser handles (base64 content, other media types)."""


def _atom(root: ET.Element, url: str) -> FastFeed | None:
    try:
        return _atom_entries(root, url)
    except _Decline:
        return None


def _atom_entries(root: ET.Element, url: str) -> FastFeed | None:
    base = urljoin(url, root.get(XML + "base") or "")
    entries: list[RawEntry] = []
    for entry in root.iter(ATOM + "entry"):
        if not _understood(list(entry), ATOM_ENTRY_TAGS):
            return None
        entry_base = urljoin(base, entry.get(XML + "base") or "")
        link = None
        for node in entry.findall(ATOM + "link"):
            if node.get("rel", "alternate") == "alternate" and node.get("href"):
                link = urljoin(entry_base, node.get("href", ""))
                break
        guid = _text(entry.find(ATOM + "id")) or None
        if link is None and guid and guid.lower().startswith(("http://", "https://")):
            link = guid  # as feedparser does: a URL id stands in for a missing link
        title, title_html = _atom_text(entry.find(ATOM + "title"))
        summary, summary_html = _atom_text(entry.find(ATOM + "summary"))
        content_node = entry.find(ATOM + "content")
        if content_node is not None and content_node.get("src"):
            return None  # out-of-line content: let feedparser handle the oddity
        content, content_html = _atom_text(content_node)
        published = _text(entry.find(ATOM + "published"))
        updated = _text(entry.find(ATOM + "updated"))
        author = entry.find(ATOM + "author")
        entries.append(
            RawEntry(
                title=title,
                title_is_html=title_html,
                link=link,
                guid=guid,
                summary=summary,
                summary_is_html=summary_html,
                content=content,
                content_is_html=content_html,
                published_at=parse_date(published) if published else parse_date(updated),
                updated_at=parse_date(updated),
                author=_atom_author(author),
                lang=entry.get(XML + "lang")
                or (content_node.get(XML + "lang") if content_node is not None else None),
                tags=[c.get("term", "") for c in entry.findall(ATOM + "category") if c.get("term")],
            )
        )
    title, _ = _atom_text(root.find(ATOM + "title"))
    return FastFeed(title=title, kind="atom10", language=root.get(XML + "lang"), entries=entries)
