"""JSON Feed 1.1 documents and the OPML subscription list."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from syndicator.config import Settings
from syndicator.publish.channels import Channel, build_channel
from syndicator.publish.jsonfeed import json_bytes
from syndicator.publish.opml import opml_bytes
from tests.publish.builders import BASE_URL, stored
from tests.publish.conftest import SettingsFactory


def channels(settings: Settings) -> list[Channel]:
    items = [stored(0, topics=("corruption", "terrorism")), stored(1, link=None)]
    return [
        build_channel(settings, None, items),
        *(build_channel(settings, t, items, 2) for t in settings.taxonomy.topics),
    ]


def test_json_feed_is_version_1_1_with_ordered_items(settings: Settings) -> None:
    corruption = channels(settings)[1]
    document = json.loads(json_bytes(corruption))
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == f"{BASE_URL}corruption.json"
    assert document["home_page_url"] == f"{BASE_URL}corruption.html"
    first, second = document["items"]
    assert first["id"] == corruption.entries[0].id
    assert first["tags"] == ["corruption", "terrorism"]
    assert first["date_published"] == "2024-05-01T12:00:00Z"
    assert first["content_text"] == "First paragraph of 0.\n\nSecond paragraph of 0."
    assert second["url"] == f"{BASE_URL}items/{second['id'].rsplit(':', 1)[1]}.html"


def test_json_feed_meets_the_spec_requirements(settings: Settings) -> None:
    """feedparser 6.0 cannot read JSON Feed, so check what the 1.1 spec requires directly."""
    document = json.loads(json_bytes(channels(settings)[0]))
    assert isinstance(document["title"], str)
    assert document["feed_url"] == f"{BASE_URL}all.json"
    for item in document["items"]:
        assert isinstance(item["id"], str)
        assert item.get("content_text") or item.get("content_html")
        assert item["url"].startswith("https://")
        assert set(item) <= {
            "id", "url", "title", "content_text", "summary", "date_published",
            "date_modified", "authors", "tags", "language",
        }
    assert [i["title"] for i in document["items"]] == ["Release 0", "Release 1"]


def test_json_feed_is_reproducible_and_keeps_unicode(settings: Settings) -> None:
    channel = build_channel(settings, None, [stored(0, title="Lutte contre la corruption — été")])
    data = json_bytes(channel)
    assert data == json_bytes(channel)
    assert "— été".encode() in data
    assert data.endswith(b"\n")


def test_opml_lists_every_channel_once(settings: Settings) -> None:
    root = ET.fromstring(opml_bytes("Syndicator: feeds", channels(settings)))
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "Syndicator: feeds"
    outlines = root.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [
        f"{BASE_URL}all.atom",
        f"{BASE_URL}corruption.atom",
        f"{BASE_URL}terrorism.atom",
        f"{BASE_URL}trafficking-in-persons.atom",
    ]
    assert all(o.get("type") == "rss" and o.get("text") for o in outlines)
    assert outlines[1].get("htmlUrl") == f"{BASE_URL}corruption.html"


def test_opml_points_to_a_published_format(make_settings: SettingsFactory) -> None:
    settings = make_settings(formats=["rss", "opml"])
    root = ET.fromstring(opml_bytes("t", channels(settings)))
    assert [o.get("xmlUrl") for o in root.findall("body/outline")][:2] == [
        f"{BASE_URL}all.rss",
        f"{BASE_URL}corruption.rss",
    ]
    nothing = make_settings(formats=["opml"])
    assert ET.fromstring(opml_bytes("t", channels(nothing))).findall("body/outline") == []
