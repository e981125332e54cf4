"""Golden files for the outputs the other tests check only in part: JSON Feed, OPML, a
topic page and an item's own page. The RSS and Atom ones are in ``test_feeds.py``.

Publishing never depends on the clock, so nothing needs normalising: the same items
give these bytes exactly. Regenerate after an intended change with
``SYNDICATOR_UPDATE_GOLDEN=1 pytest tests/publish -k golden`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syndicator.config import Settings
from syndicator.publish.channels import Channel, build_channel
from syndicator.publish.jsonfeed import json_bytes
from syndicator.publish.opml import opml_bytes
from syndicator.publish.pages import Site, render_item, render_topic
from syndicator.publish.templates import page_environment
from syndicator.resources import default_templates_dir
from tests.publish.builders import BASE_URL, sample_items

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("SYNDICATOR_UPDATE_GOLDEN") == "1"
SITE = Site(
    "Syndicator",
    "Press releases.",
    "en",
    BASE_URL,
    "feeds.opml",
    signup_url=f"{BASE_URL}signup",
    signup_topics=(("corruption", "Corruption"), ("terrorism", "Terrorism")),
)


def corruption(settings: Settings) -> Channel:
    return build_channel(settings, settings.taxonomy.topics[0], sample_items(), 4)


def json_feed(settings: Settings) -> bytes:
    return json_bytes(corruption(settings))


def opml(settings: Settings) -> bytes:
    everything = build_channel(settings, None, sample_items())
    topics = [build_channel(settings, t, sample_items()) for t in settings.taxonomy.topics]
    return opml_bytes("Syndicator: feeds", [everything, *topics])


def topic_page(settings: Settings) -> bytes:
    return render_topic(page_environment(default_templates_dir()), SITE, corruption(settings))


def item_page(settings: Settings) -> bytes:
    """The undated item: its first-seen date says so, with countries and the original link."""
    entry = corruption(settings).entries[3]
    env = page_environment(default_templates_dir())
    return render_item(env, SITE, entry)


def linkless_item_page(settings: Settings) -> bytes:
    """The item without a link: its page is the only place its whole text is read."""
    entry = corruption(settings).entries[2]
    return render_item(page_environment(default_templates_dir()), SITE, entry)


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (json_feed, "corruption.json"),
        (opml, "feeds.opml"),
        (topic_page, "corruption.html"),
        (item_page, "item-undated.html"),
        (linkless_item_page, "item-linkless.html"),
    ],
)
def test_golden(settings: Settings, build: object, name: str) -> None:
    assert callable(build)
    data = build(settings)
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.write_bytes(data)
    assert data == path.read_bytes()
