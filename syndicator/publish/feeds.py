"""RSS 2.0 and Atom 1.0 documents of a channel, built with feedgen.

Two feedgen quirks shape this module:

* ``add_entry()`` prepends by default (lkiesow/python-feedgen issues 55, 70);
  channels are already newest first, so entries are added with
  ``order="append"``.
* A fresh ``FeedGenerator`` or ``FeedEntry`` stamps ``updated`` and
  ``lastBuildDate`` with the wall clock. Every date is set explicitly from
  the channel, so the same entries always give the same bytes and the atomic
  writer can skip unchanged files.

Each format gets its own generator because the self link (and, for RSS, the
shape of categories and descriptions) differs between them.
"""

from __future__ import annotations

import html
from typing import Any, Literal

from feedgen.feed import FeedGenerator

from syndicator.publish.channels import Channel, Entry
from syndicator.publish.formats import output_format

XmlFormat = Literal["rss", "atom"]
GENERATOR = "Syndicator"
"""Without a version on purpose: an upgrade alone must not rewrite every feed."""


def rss_bytes(channel: Channel) -> bytes:
    """The channel as RSS 2.0 (UTF-8, with an absolute atom:link rel=self)."""
    fg = _generator(channel, "rss")
    for entry in channel.entries:
        fe = _common_entry(fg, entry)
        # RSS <description> is entity-encoded HTML: escape the plain text once
        # more so a "<" in a press release is shown, not interpreted.
        if entry.summary:
            fe.description(html.escape(entry.summary, quote=False))
        if entry.paragraphs:
            fe.content(entry.content_html)  # content:encoded
        # RSS has no label: the category text is the topic id, like Atom's term.
        fe.category([_category(t.id, None, t.scheme) for t in entry.topics])
    return _serialise(fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True))


def atom_bytes(channel: Channel) -> bytes:
    """The channel as Atom 1.0 (UTF-8, absolute self link, categories with labels)."""
    fg = _generator(channel, "atom")
    for entry in channel.entries:
        fe = _common_entry(fg, entry)
        if entry.summary:
            fe.summary(entry.summary)  # type="text": plain text, XML-escaped by lxml
        if entry.paragraphs:
            fe.content(entry.content_html, type="html")
        elif entry.url is None:
            # Atom requires content or an alternate link; the title is all we have.
            fe.content(entry.title, type="text")
        if entry.author:
            fe.author({"name": entry.author})
        fe.category([_category(t.id, t.title, t.scheme) for t in entry.topics])
    return _serialise(fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True))


def _generator(channel: Channel, fmt: XmlFormat) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(channel.feed_url(fmt))
    fg.title(channel.title)
    fg.subtitle(channel.description)  # also the RSS channel <description>
    fg.author({"name": channel.title})
    fg.link(href=channel.feed_url(fmt), rel="self", type=output_format(fmt).media_type)
    # feedgen makes the *last* link the RSS <link>, which must be the page, not the feed.
    fg.link(href=channel.home_url, rel="alternate", type="text/html")
    fg.language(channel.language)
    fg.generator(GENERATOR)
    fg.updated(channel.updated)  # atom:updated and rss lastBuildDate, from the entries
    if channel.topic is not None:
        topic = channel.topic
        label = topic.title if fmt == "atom" else None
        fg.category([_category(topic.id, label, topic.scheme)])
    return fg


def _common_entry(fg: FeedGenerator, entry: Entry) -> Any:
    fe = fg.add_entry(order="append")
    fe.id(entry.id)  # also the RSS guid, isPermaLink="false"
    fe.title(entry.title)
    if entry.url is not None:
        fe.link(href=entry.url, rel="alternate")
    fe.published(entry.published)
    fe.updated(entry.updated)
    return fe


def _category(term: str, label: str | None, scheme: str | None) -> dict[str, str]:
    category = {"term": term}
    if label is not None:
        category["label"] = label
    if scheme is not None:
        category["scheme"] = scheme
    return category


def _serialise(document: object) -> bytes:
    if not isinstance(document, bytes):  # lxml returns bytes for an explicit encoding
        raise TypeError(f"feedgen returned {type(document).__name__}, expected bytes")
    return document
