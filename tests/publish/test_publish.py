"""The publish stage end to end, on every store backend."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import feedparser
import pytest

from syndicator.errors import ConfigError, OutputError
from syndicator.publish import PublishReport, publish
from syndicator.site import item_page
from syndicator.store import SqlStore, open_store
from tests.publish.builders import BASE_URL, NOW, fill, make_item
from tests.publish.conftest import SettingsFactory

TOPIC_IDS = ("corruption", "terrorism", "trafficking-in-persons")
FEEDS = [f"{key}.{ext}" for key in ("all", *TOPIC_IDS) for ext in ("rss", "atom", "json")]
ITEM_PAGES = [
    item_page(source, f"https://www.unodc.org/press/{n}")
    for n, source in ((0, "unodc"), (1, "unodc"), (2, "unodc"), (3, "osce"))
]  # the tagged items of ``filled``; item 4 is untagged and gets no page
PAGES = ["index.html", *(f"{t}.html" for t in TOPIC_IDS), *ITEM_PAGES]


def names(paths: list[Path]) -> list[str]:
    """Paths relative to the output folder (``items/…`` for item pages)."""
    return sorted(f"{p.parent.name}/{p.name}" if p.parent.name == "items" else p.name
                  for p in paths)


def files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in files(folder)
    }


@pytest.fixture
def filled(store: SqlStore) -> SqlStore:
    fill(
        store,
        [
            (make_item(0), ["corruption", "terrorism"]),
            (make_item(1, link=None), ["corruption"]),
            (make_item(2, title="<script>alert(1)</script> seized"), ["trafficking-in-persons"]),
            (make_item(3, source="osce"), ["corruption"]),
            (make_item(4), []),  # untagged: in no feed
        ],
    )
    return store


def test_first_run_writes_every_output(filled: SqlStore, make_settings: SettingsFactory) -> None:
    settings = make_settings()
    report = publish(filled, settings, NOW)
    assert isinstance(report, PublishReport)
    assert names(report.written) == sorted([*FEEDS, *PAGES, "feeds.opml"])
    assert report.unchanged == []
    out = settings.publish.output_dir
    assert all(p.parent in (out, out / "items") for p in report.written)
    assert names(files(out)) == names(report.written)  # no temp files left


def test_every_xml_feed_parses_cleanly_with_the_right_entries(
    filled: SqlStore, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    publish(filled, settings, NOW)
    out = settings.publish.output_dir
    expected = {
        "all": ["Release 0", "Release 1", "<script>alert(1)</script> seized", "Release 3"],
        "corruption": ["Release 0", "Release 1", "Release 3"],
        "terrorism": ["Release 0"],
        "trafficking-in-persons": ["<script>alert(1)</script> seized"],
    }
    for key, titles in expected.items():
        for ext in ("rss", "atom"):
            parsed = feedparser.parse((out / f"{key}.{ext}").read_bytes())
            assert parsed.bozo == 0, (key, ext, parsed.get("bozo_exception"))
            assert [e.title for e in parsed.entries] == titles, (key, ext)
            self_link = next(link.href for link in parsed.feed.links if link.rel == "self")
            assert self_link == f"{BASE_URL}{key}.{ext}"
            assert all(e.tags for e in parsed.entries)


def test_second_run_rewrites_nothing(filled: SqlStore, make_settings: SettingsFactory) -> None:
    settings = make_settings()
    publish(filled, settings, NOW)
    before = snapshot(settings.publish.output_dir)
    report = publish(filled, settings, NOW + timedelta(hours=6))
    assert report.written == []
    assert len(report.unchanged) == len(before)
    assert snapshot(settings.publish.output_dir) == before


def test_a_new_item_rewrites_only_what_shows_it(
    filled: SqlStore, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    publish(filled, settings, NOW)
    later = NOW + timedelta(hours=1)
    fill(filled, [(make_item(9, published_at=later), ["terrorism"])], now=later)
    report = publish(filled, settings, later)
    assert names(report.written) == sorted(
        ["all.rss", "all.atom", "all.json", "index.html",
         "terrorism.rss", "terrorism.atom", "terrorism.json", "terrorism.html",
         item_page("unodc", "https://www.unodc.org/press/9")]
    )
    assert "corruption.atom" in names(report.unchanged)


def test_entry_ids_survive_a_new_database(
    filled: SqlStore, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings()
    publish(filled, settings, NOW)
    out = settings.publish.output_dir
    first = [e.id for e in feedparser.parse((out / "all.atom").read_bytes()).entries]
    other = open_store(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    try:
        # Same items, stored in another order, so every row id differs.
        fill(other, [(make_item(3, source="osce"), ["corruption"])])
        fill(other, [(make_item(2, title="<script>alert(1)</script> seized"),
                      ["trafficking-in-persons"])])
        fill(other, [(make_item(1, link=None), ["corruption"])])
        fill(other, [(make_item(0), ["corruption", "terrorism"])])
        report = publish(other, settings, NOW)
    finally:
        other.close()
    again = [e.id for e in feedparser.parse((out / "all.atom").read_bytes()).entries]
    assert again == first
    assert out / "all.atom" in report.unchanged


def test_max_entries_is_respected(store: SqlStore, make_settings: SettingsFactory) -> None:
    fill(store, [(make_item(n), ["corruption"]) for n in range(8)])
    settings = make_settings(max_entries=5)
    publish(store, settings, NOW)
    out = settings.publish.output_dir
    for name in ("corruption.rss", "corruption.atom", "all.atom"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert [e.title for e in parsed.entries] == [f"Release {n}" for n in range(5)]


def test_only_configured_formats_are_written(
    filled: SqlStore, make_settings: SettingsFactory
) -> None:
    settings = make_settings(formats=["rss", "opml"])
    report = publish(filled, settings, NOW)
    assert names(report.written) == sorted(
        ["all.rss", *(f"{t}.rss" for t in TOPIC_IDS), "feeds.opml"]
    )
    opml = ET.fromstring((settings.publish.output_dir / "feeds.opml").read_bytes())
    assert len(opml.findall("body/outline")) == 4


def test_pages_escape_source_markup(filled: SqlStore, make_settings: SettingsFactory) -> None:
    settings = make_settings()
    publish(filled, settings, NOW)
    out = settings.publish.output_dir
    for page in ("index.html", "trafficking-in-persons.html"):
        html = (out / page).read_text()
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt; seized" in html
    assert '<td class="count">3</td>' in (out / "index.html").read_text()


def test_unwritable_output_folder_raises_output_error_naming_it(
    filled: SqlStore, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the output folder should be")
    settings = make_settings(output_dir=str(blocker / "feeds"))
    with pytest.raises(OutputError, match=re.escape(str(blocker / "feeds"))):
        publish(filled, settings, NOW)


def test_custom_templates_dir_is_used(
    filled: SqlStore, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    pages = tmp_path / "custom" / "pages"
    pages.mkdir(parents=True)
    (pages / "index.html").write_text("index of {{ topics | length }} topics\n")
    (pages / "topic.html").write_text("{{ channel.title }}\n")
    (pages / "item.html").write_text("{{ root }}{{ entry.title }}\n")
    settings = make_settings()
    publish(filled, settings, NOW, templates_dir=tmp_path / "custom")
    out = settings.publish.output_dir
    assert (out / "index.html").read_text() == "index of 3 topics\n"
    assert (out / "terrorism.html").read_text() == "Syndicator: Terrorism\n"
    assert (out / ITEM_PAGES[0]).read_text() == "../Release 0\n"


def test_reserved_topic_id_is_refused_before_writing(
    filled: SqlStore, make_settings: SettingsFactory
) -> None:
    settings = make_settings()
    extra = settings.taxonomy.topics[0].model_copy(update={"id": "all"})
    taxonomy = settings.taxonomy.model_copy(update={"topics": (*settings.taxonomy.topics, extra)})
    with pytest.raises(ConfigError, match="all"):
        publish(filled, settings.model_copy(update={"taxonomy": taxonomy}), NOW)
    assert not settings.publish.output_dir.exists()


def test_all_topics_feed_has_no_entry_without_a_category(
    store: SqlStore, make_settings: SettingsFactory
) -> None:
    """An item tagged only with a topic since removed from the taxonomy is in no feed."""
    fill(store, [(make_item(0), ["retired-topic"]), (make_item(1), ["terrorism"])])
    settings = make_settings(max_entries=1)
    publish(store, settings, NOW)
    out = settings.publish.output_dir
    for ext in ("rss", "atom"):
        parsed = feedparser.parse((out / f"all.{ext}").read_bytes())
        assert [e.title for e in parsed.entries] == ["Release 1"], ext
        assert all(e.tags for e in parsed.entries)


def test_every_tagged_item_gets_a_page_of_its_own_even_outside_the_feeds(
    store: SqlStore, make_settings: SettingsFactory
) -> None:
    """An item can reach an email without being among a feed's newest (old dates, a big
    batch); the page its email links to must exist all the same."""
    fill(store, [(make_item(n, link=None), ["corruption"]) for n in range(5)])
    fill(store, [(make_item(9), [])])  # untagged: no page
    settings = make_settings(max_entries=2)
    report = publish(store, settings, NOW)
    out = settings.publish.output_dir
    pages = sorted(p.name for p in (out / "items").iterdir())
    expected = [item_page("unodc", f"https://www.unodc.org/press/{n}") for n in range(5)]
    assert pages == sorted(p.removeprefix("items/") for p in expected)
    assert set(expected) <= set(names(report.written))
    # The feeds carry only the two newest, and link each to its page.
    for entry in feedparser.parse((out / "corruption.atom").read_bytes()).entries:
        assert entry.link.startswith(BASE_URL + "items/")
        assert (out / entry.link.removeprefix(BASE_URL)).is_file()
    page = (out / expected[4]).read_text(encoding="utf-8")
    assert "<h1>Release 4</h1>" in page
    assert '<a class="badge" href="../corruption.html">Corruption</a>' in page
    assert "<p>First paragraph of 4.</p>\n<p>Second paragraph of 4.</p>" in page
    assert f'<link rel="canonical" href="{BASE_URL}{expected[4]}">' in page
    # Nothing to do the next time: no page is rendered or rewritten again.
    again = publish(store, settings, NOW)
    assert again.written == []


def test_item_pages_follow_changes_and_outlive_the_feeds(
    store: SqlStore, make_settings: SettingsFactory
) -> None:
    settings = make_settings(max_entries=1)
    fill(store, [(make_item(1, link=None), ["corruption"])])
    publish(store, settings, NOW)
    out = settings.publish.output_dir
    first = out / item_page("unodc", "https://www.unodc.org/press/1")
    later = NOW + timedelta(hours=1)
    fill(store, [(make_item(1, link=None, title="Release 1, corrected"), ["corruption"])], later)
    report = publish(store, settings, later)
    assert first in report.written
    assert "Release 1, corrected" in first.read_text(encoding="utf-8")
    # A newer item pushes it out of the feed; its page stays for the links already out.
    fill(store, [(make_item(0, published_at=later), ["corruption"])], later)
    publish(store, settings, later)
    titles = [e.title for e in feedparser.parse((out / "corruption.atom").read_bytes()).entries]
    assert titles == ["Release 0"]
    assert "Release 1, corrected" in first.read_text(encoding="utf-8")


def test_without_html_no_item_pages_are_written(
    filled: SqlStore, make_settings: SettingsFactory
) -> None:
    settings = make_settings(formats=["atom"])
    publish(filled, settings, NOW)
    assert not (settings.publish.output_dir / "items").exists()
