"""JSON Feed 1.1 document of a channel.

Item text is plain, so it goes in ``content_text`` (the spec's field for
plain text) rather than HTML we would have to build. Keys keep a fixed order
and the output ends with a newline, so unchanged channels give identical bytes.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from syndicator.publish.channels import Channel, Entry

VERSION = "https://jsonfeed.org/version/1.1"


def json_bytes(channel: Channel) -> bytes:
    """The channel as a JSON Feed 1.1 document (UTF-8)."""
    document: dict[str, Any] = {
        "version": VERSION,
        "title": channel.title,
        "home_page_url": channel.home_url,
        "feed_url": channel.feed_url("json"),
        "description": channel.description,
        "language": channel.language,
        "authors": [{"name": channel.title}],
        "items": [_item(entry) for entry in channel.entries],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _item(entry: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry.id}
    if entry.url is not None:
        item["url"] = entry.url
    item["title"] = entry.title
    item["content_text"] = entry.content_text or entry.title
    if entry.summary:
        item["summary"] = entry.summary
    item["date_published"] = _rfc3339(entry.published)
    item["date_modified"] = _rfc3339(entry.updated)
    if entry.author:
        item["authors"] = [{"name": entry.author}]
    item["tags"] = [t.id for t in entry.topics]
    if entry.lang:
        item["language"] = entry.lang
    return item


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
