"""Output formats are one registry: a format registered in a test alone is validated,
written for every channel, linked from the pages and listed in the OPML list."""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree import ElementTree as ET

import pytest

from syndicator.errors import ConfigError
from syndicator.publish import publish
from syndicator.publish.channels import Channel
from syndicator.publish.formats import (
    OutputFormat,
    known_formats,
    media_type_for,
    register_format,
    unregister_format,
)
from syndicator.store import SqlStore
from tests.publish.builders import BASE_URL, NOW, fill, make_item
from tests.publish.conftest import SettingsFactory


def titles_bytes(channel: Channel) -> bytes:
    """A plain list of the channel's entry titles, one a line: a feed nobody needs."""
    lines = [channel.title, *(f"- {e.title}" for e in channel.entries)]
    return "\n".join(lines).encode("utf-8") + b"\n"


@pytest.fixture
def titles_format() -> Iterator[OutputFormat]:
    fmt = OutputFormat("titles", "text/plain", "Title list", titles_bytes, extension="txt")
    register_format(fmt)
    yield fmt
    unregister_format(fmt.name)


def test_a_registered_feed_format_is_written_linked_and_listed(
    store: SqlStore, make_settings: SettingsFactory, titles_format: OutputFormat
) -> None:
    fill(store, [(make_item(0), ["corruption"]), (make_item(1), ["terrorism"])])
    settings = make_settings(formats=["titles", "opml", "html"])
    publish(store, settings, NOW)
    out = settings.publish.output_dir

    assert sorted((out / "all.txt").read_text(encoding="utf-8").splitlines()[1:]) == [
        "- Release 0",
        "- Release 1",
    ]
    assert "- Release 0" in (out / "corruption.txt").read_text(encoding="utf-8")
    assert not list(out.glob("*.rss"))  # only what publish.formats names

    page = (out / "corruption.html").read_text(encoding="utf-8")
    assert 'href="corruption.txt"' in page
    assert "Title list" in page
    assert 'type="text/plain"' in page  # <link rel="alternate"> announces its media type

    outlines = ET.parse(out / "feeds.opml").getroot().iter("outline")
    assert [o.get("xmlUrl") for o in outlines][:2] == [
        f"{BASE_URL}all.txt",
        f"{BASE_URL}corruption.txt",
    ]
    assert media_type_for("all.txt") == "text/plain"


def test_atom_stays_the_opml_choice_over_a_later_format(
    store: SqlStore, make_settings: SettingsFactory, titles_format: OutputFormat
) -> None:
    fill(store, [(make_item(0), ["corruption"])])
    settings = make_settings(formats=["titles", "rss", "atom", "opml"])
    publish(store, settings, NOW)
    root = ET.parse(settings.publish.output_dir / "feeds.opml").getroot()
    assert {o.get("xmlUrl", "").rsplit(".", 1)[-1] for o in root.iter("outline")} == {"atom"}


def test_an_unknown_format_names_the_key_and_the_known_ones(
    make_settings: SettingsFactory,
) -> None:
    with pytest.raises(ConfigError) as caught:
        make_settings(formats=["rss", "titles"])  # not registered in this test
    message = str(caught.value)
    assert "publish.formats" in message
    assert "'titles'" in message
    assert "known: " + ", ".join(known_formats()) in message


def test_built_in_media_types_come_from_the_registry() -> None:
    assert media_type_for("corruption.atom") == "application/atom+xml"
    assert media_type_for("feeds.opml") == "text/x-opml"
    assert media_type_for("index.html") == "text/html"
    assert media_type_for("notes.unknown") is None
