"""What goes into a channel: ids, order, caps, dates, links, topics; no I/O, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from syndicator.errors import ConfigError
from syndicator.publish.channels import (
    EPOCH,
    build_channel,
    check_topic_ids,
    entry_id,
    entry_updated,
)
from tests.publish.builders import BASE_URL, NOW, stored
from tests.publish.conftest import SettingsFactory


def test_entry_id_derives_from_source_and_identity_not_the_row_id() -> None:
    a = stored(1, row_id=1)
    same_item_other_database = stored(1, row_id=99)
    assert entry_id(a) == entry_id(same_item_other_database)
    assert entry_id(a).startswith("urn:uuid:")
    assert entry_id(a) != entry_id(stored(2, row_id=1))
    assert entry_id(a) != entry_id(stored(1, source="osce"))


def test_entry_id_is_pinned() -> None:
    """Changing the namespace or the name would make every item look new to every reader."""
    # uuid5 of "unodc\nhttps://www.unodc.org/press/1" in the hard-coded namespace.
    assert entry_id(stored(1)) == "urn:uuid:56bedd6e-69ff-507a-8917-c50c46eb6c52"
    assert entry_id(stored(1, title="edited title", row_id=5)) == entry_id(stored(1))


def test_channel_is_newest_first_and_capped(make_settings: SettingsFactory) -> None:
    settings = make_settings(max_entries=3)
    items = [stored(n) for n in (4, 1, 3, 0, 2)]
    channel = build_channel(settings, settings.taxonomy.topics[0], items, 5)
    assert [e.title for e in channel.entries] == ["Release 0", "Release 1", "Release 2"]
    assert channel.count == 5
    assert channel.key == "corruption"


def test_same_date_ties_are_broken_reproducibly(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    same = NOW - timedelta(days=1)
    items = [stored(n, published_at=same, first_seen=NOW) for n in range(5)]
    first = build_channel(settings, None, items)
    second = build_channel(settings, None, list(reversed(items)))
    assert [e.id for e in first.entries] == [e.id for e in second.entries]


def test_publisher_date_in_our_future_falls_back_to_first_seen(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    future = stored(1, published_at=NOW + timedelta(days=30), first_seen=NOW - timedelta(hours=1))
    (entry,) = build_channel(settings, None, [future]).entries
    assert entry.published == NOW - timedelta(hours=1)


def test_naive_datetimes_are_taken_as_utc(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    naive = stored(
        1,
        published_at=(NOW - timedelta(days=2)).replace(tzinfo=None),
        first_seen=NOW.replace(tzinfo=None),
    )
    (entry,) = build_channel(settings, None, [naive]).entries
    assert entry.published == NOW - timedelta(days=2)
    assert entry.published.tzinfo is not None


def test_entry_updated_follows_real_changes_only() -> None:
    untouched = stored(3)
    assert entry_updated(untouched) == untouched.sort_date
    changed = stored(3, last_changed=NOW)
    assert entry_updated(changed) == NOW
    publisher_update = stored(3, updated_at=NOW - timedelta(days=1), last_changed=NOW)
    assert entry_updated(publisher_update) == NOW
    # A publisher's "updated" later than when we saw the item is not believed.
    claimed = stored(3, updated_at=NOW + timedelta(days=9))
    assert entry_updated(claimed) == claimed.sort_date


def test_channel_updated_comes_from_entries_not_the_clock(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    channel = build_channel(settings, None, [stored(2), stored(5)])
    assert channel.updated == NOW - timedelta(days=2)
    assert build_channel(settings, None, []).updated == EPOCH


def test_item_without_link_points_to_its_own_page(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    topic = settings.taxonomy.topics[0]
    item = stored(1, link=None)
    (in_topic,) = build_channel(settings, topic, [item]).entries
    # The page is named after the entry id's UUID, the same in every channel.
    assert in_topic.url == f"{BASE_URL}items/56bedd6e-69ff-507a-8917-c50c46eb6c52.html"
    assert in_topic.url == in_topic.permalink
    assert in_topic.page == "items/56bedd6e-69ff-507a-8917-c50c46eb6c52.html"
    assert in_topic.original is None
    (in_all,) = build_channel(settings, None, [item]).entries
    assert in_all.url == in_topic.url


def test_item_with_a_link_keeps_it_and_still_has_a_page(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    (entry,) = build_channel(settings, None, [stored(1)]).entries
    assert entry.url == entry.original == "https://www.unodc.org/press/1"
    assert entry.permalink == f"{BASE_URL}{entry.page}"


def test_unsafe_link_is_replaced_by_the_item_page(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    (entry,) = build_channel(settings, None, [stored(1, link="javascript:alert(1)")]).entries
    assert entry.original is None
    assert entry.url == entry.permalink
    assert entry.url is not None
    assert entry.url.startswith(BASE_URL + "items/")


def test_without_pages_a_linkless_item_has_no_url(make_settings: SettingsFactory) -> None:
    settings = make_settings(formats=["rss", "atom"])
    channel = build_channel(settings, None, [stored(1, link=None)])
    assert channel.entries[0].url is None
    assert channel.entries[0].permalink is None
    assert channel.home_url == BASE_URL
    assert channel.formats == ("rss", "atom")


def test_topics_are_configured_ones_in_taxonomy_order(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    item = stored(1, topics=("trafficking-in-persons", "retired-topic", "corruption"))
    (entry,) = build_channel(settings, None, [item]).entries
    assert [t.id for t in entry.topics] == ["corruption", "trafficking-in-persons"]
    assert entry.topics[0].scheme == "https://www.unodc.org/unodc/en/corruption/"
    assert entry.topics[0].title == "Corruption"


def test_titles_and_text_are_cleaned(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    item = stored(1, title="Bad\x0b title\x00 \n here", summary="", content="A\x01b.\n\nC.")
    (entry,) = build_channel(settings, None, [item]).entries
    assert entry.title == "Bad title here"
    assert entry.paragraphs == ("Ab.", "C.")
    assert entry.summary == "Ab. C."


def test_empty_title_gets_a_fallback(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    (entry,) = build_channel(settings, None, [stored(1, title="  ")]).entries
    assert entry.title == "Summary of release 1."
    (bare,) = build_channel(
        settings, None, [stored(1, title="", summary="", content="")]
    ).entries
    assert bare.title == "Untitled"


def test_same_item_twice_appears_once(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    item = stored(1)
    channel = build_channel(settings, None, [item, replace(item, id=7)])
    assert len(channel.entries) == 1


@pytest.mark.parametrize("reserved", ["all", "index"])
def test_topic_ids_that_clash_with_file_names_are_refused(
    make_settings: SettingsFactory, reserved: str
) -> None:
    settings = make_settings()
    extra = settings.taxonomy.topics[0].model_copy(update={"id": reserved})
    topics = (*settings.taxonomy.topics, extra)
    clashing = settings.model_copy(
        update={"taxonomy": settings.taxonomy.model_copy(update={"topics": topics})}
    )
    with pytest.raises(ConfigError, match=reserved):
        check_topic_ids(clashing)
    check_topic_ids(settings)


def test_item_of_retired_topics_only_is_in_no_channel(make_settings: SettingsFactory) -> None:
    """Its topics were removed from the taxonomy: it would be an entry without a category."""
    settings = make_settings()
    retired = stored(1, topics=("retired-topic",))
    current = stored(2)
    for topic in (None, settings.taxonomy.topics[0]):
        channel = build_channel(settings, topic, [retired, current])
        assert [e.title for e in channel.entries] == ["Release 2"]
        assert all(e.topics for e in channel.entries)


def test_entry_language_is_cleaned(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    (entry,) = build_channel(settings, None, [stored(1, lang="en\x00\ud800")]).entries
    assert entry.lang == "en"
    (blank,) = build_channel(settings, None, [stored(1, lang=" ")]).entries
    assert blank.lang is None


def test_summary_is_the_first_real_sentences_not_the_dateline(
    make_settings: SettingsFactory,
) -> None:
    """Issue 8: folder items whose lead is "24 February 2026" showed only that."""
    settings = make_settings()
    item = stored(
        1,
        summary="8 de octubre de 2025 – Lima, Perú",
        content="8 de octubre de 2025 – Lima, Perú\n\nLa unidad incautó cocaína.",
    )
    (entry,) = build_channel(settings, None, [item]).entries
    assert entry.summary == "La unidad incautó cocaína."
