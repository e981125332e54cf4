"""OPML 2.0 subscription list of every channel.

One outline per channel (all topics first, then the topics in taxonomy order),
pointing at one feed format so that importing the list into a reader
subscribes once per topic, not once per format: the one with the lowest
``opml_rank`` in :mod:`syndicator.publish.formats` (Atom, then RSS, then JSON
Feed; a format registered later comes after those). No
``dateCreated``: the list changes only when the topics or formats do.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from syndicator.publish.channels import Channel
from syndicator.publish.formats import output_format

SPEC = "http://opml.org/spec2.opml"


def preferred_format(channel: Channel) -> str | None:
    """The feed format the OPML outline of ``channel`` points to, if any is published."""
    ranked = sorted(channel.formats, key=lambda f: output_format(f).opml_rank)
    return ranked[0] if ranked else None


def opml_bytes(title: str, channels: Sequence[Channel]) -> bytes:
    """An OPML 2.0 document listing one feed per channel (UTF-8)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "docs").text = SPEC
    body = ET.SubElement(root, "body")
    for channel in channels:
        fmt = preferred_format(channel)
        if fmt is None:
            continue
        attributes = {
            "type": "rss",  # OPML's word for "a feed", whatever its format
            "text": channel.title,
            "title": channel.title,
            "description": channel.description,
            "xmlUrl": channel.feed_url(fmt),
            "htmlUrl": channel.home_url,
            "language": channel.language,
        }
        if channel.topic is not None:
            attributes["category"] = f"/{channel.topic.id}"
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
