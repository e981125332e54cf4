"""RSS and Atom documents: valid for feedparser, ordered, categorised, reproducible."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import feedparser
import pytest

from syndicator.config import Settings
from syndicator.models import StoredItem
from syndicator.publish.channels import Channel, build_channel
from syndicator.publish.feeds import atom_bytes, rss_bytes
from tests.publish.builders import BASE_URL, NOW, sample_items, stored
from tests.publish.conftest import SettingsFactory

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("SYNDICATOR_UPDATE_GOLDEN") == "1"


def corruption(settings: Settings, items: list[StoredItem] | None = None) -> Channel:
    chosen = sample_items() if items is None else items
    return build_channel(settings, settings.taxonomy.topics[0], chosen, 4)


def parse(data: bytes) -> Any:
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


@pytest.mark.parametrize(("build", "version"), [(rss_bytes, "rss20"), (atom_bytes, "atom10")])
def test_feed_parses_cleanly_with_entries_newest_first(
    settings: Settings, build: Any, version: str
) -> None:
    parsed = parse(build(corruption(settings)))
    assert parsed.version == version
    titles = [e.title for e in parsed.entries]
    assert titles == ["Release 0", "Officials <b>charged</b> & convicted", "Release 2", "Release 3"]
    assert parsed.feed.title == "Syndicator: Corruption"


@pytest.mark.parametrize(("build", "ext"), [(rss_bytes, "rss"), (atom_bytes, "atom")])
def test_self_link_is_absolute_and_names_the_topic(
    settings: Settings, build: Any, ext: str
) -> None:
    parsed = parse(build(corruption(settings)))
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == f"{BASE_URL}corruption.{ext}"
    assert links["alternate"] == f"{BASE_URL}corruption.html"


def test_atom_categories_carry_term_label_and_scheme(settings: Settings) -> None:
    parsed = parse(atom_bytes(corruption(settings)))
    first = parsed.entries[0]
    assert [(t.term, t.label, t.scheme) for t in first.tags] == [
        ("corruption", "Corruption", "https://www.unodc.org/unodc/en/corruption/"),
        ("trafficking-in-persons", "Trafficking in persons",
         "https://www.unodc.org/unodc/en/human-trafficking/"),
    ]
    assert all(e.tags for e in parsed.entries)


def test_rss_categories_are_topic_ids_with_domain(settings: Settings) -> None:
    parsed = parse(rss_bytes(corruption(settings)))
    assert [(t.term, t.scheme) for t in parsed.entries[0].tags] == [
        ("corruption", "https://www.unodc.org/unodc/en/corruption/"),
        ("trafficking-in-persons", "https://www.unodc.org/unodc/en/human-trafficking/"),
    ]


@pytest.mark.parametrize("build", [rss_bytes, atom_bytes])
def test_entry_ids_are_stable_and_not_row_ids(settings: Settings, build: Any) -> None:
    items = sample_items()
    renumbered = [StoredItem(i.id + 500, i.item, i.first_seen_at, i.last_changed_at, i.taggings)
                  for i in items]
    first = parse(build(corruption(settings, items)))
    second = parse(build(corruption(settings, renumbered)))
    assert [e.id for e in first.entries] == [e.id for e in second.entries]
    assert all(e.id.startswith("urn:uuid:") for e in first.entries)


@pytest.mark.parametrize("build", [rss_bytes, atom_bytes])
def test_same_items_give_identical_bytes(settings: Settings, build: Any) -> None:
    assert build(corruption(settings)) == build(corruption(settings))


def test_feed_updated_is_newest_entry_change_not_now(settings: Settings) -> None:
    atom = parse(atom_bytes(corruption(settings)))
    assert atom.feed.updated == NOW.isoformat()  # Release 0 was published at NOW
    rss = parse(rss_bytes(corruption(settings, [stored(5), stored(7)])))
    assert rss.feed.updated == "Fri, 26 Apr 2024 12:00:00 +0000"


def test_source_markup_is_escaped_never_raw(settings: Settings) -> None:
    for data in (rss_bytes(corruption(settings)), atom_bytes(corruption(settings))):
        assert b"<script" not in data
        assert b"<b>" not in data
    atom = parse(atom_bytes(corruption(settings)))
    content = atom.entries[1].content[0]
    assert content.type == "text/html"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content.value
    assert "<p>Para two &amp; more.</p>" in content.value


def test_atom_summary_is_plain_excerpt(settings: Settings) -> None:
    long = stored(1, summary="word " * 300)
    atom = parse(atom_bytes(corruption(settings, [long])))
    assert atom.entries[0].summary_detail.type == "text/plain"
    assert len(atom.entries[0].summary) <= 400


@pytest.mark.parametrize("build", [rss_bytes, atom_bytes])
def test_linkless_item_links_to_its_own_page(settings: Settings, build: Any) -> None:
    parsed = parse(build(corruption(settings)))
    entry = parsed.entries[2]
    assert entry.link == f"{BASE_URL}items/{entry.id.rsplit(':', 1)[1]}.html"


def test_empty_feed_is_valid(settings: Settings) -> None:
    for data in (rss_bytes(corruption(settings, [])), atom_bytes(corruption(settings, []))):
        assert parse(data).entries == []


def test_all_topics_feed(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    channel = build_channel(settings, None, sample_items())
    parsed = parse(atom_bytes(channel))
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == f"{BASE_URL}all.atom"
    assert links["alternate"] == f"{BASE_URL}index.html"


@pytest.mark.parametrize(("build", "name"), [(rss_bytes, "corruption.rss"),
                                             (atom_bytes, "corruption.atom")])
def test_golden(settings: Settings, build: Any, name: str) -> None:
    """The whole document, byte for byte: catches what the assertions above forget.

    Regenerate after an intended change with SYNDICATOR_UPDATE_GOLDEN=1 and review the diff.
    """
    data = build(corruption(settings))
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.write_bytes(data)
    assert data == path.read_bytes()


@pytest.mark.parametrize("build", [rss_bytes, atom_bytes])
def test_an_author_stored_with_an_address_is_published_by_name_only(
    settings: Settings, build: Any
) -> None:
    """Issue 8: "Name <addr@x>" in Atom's <name> makes the W3C validator warn."""
    data = build(corruption(settings))
    assert b"press@unodc.example.org" not in data
    if build is atom_bytes:
        assert parse(data).entries[1].author == "UNODC Press Office"
