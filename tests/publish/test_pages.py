"""HTML pages: autoescaped, linked to their feeds, anchors for items without links."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicator.config import Settings
from syndicator.errors import OutputError
from syndicator.models import StoredItem
from syndicator.publish.channels import build_channel
from syndicator.publish.pages import Site, country_names, render_index, render_topic
from syndicator.publish.templates import page_environment
from syndicator.resources import default_templates_dir
from tests.publish.builders import BASE_URL, stored

SITE = Site(
    title="Syndicator",
    description="Press releases.",
    language="en",
    base_url=BASE_URL,
    opml="feeds.opml",
)


def test_default_templates_dir_holds_the_page_templates() -> None:
    folder = default_templates_dir()
    assert (folder / "pages" / "index.html").is_file()
    assert (folder / "pages" / "topic.html").is_file()


def topic_page(settings: Settings, *items: StoredItem) -> str:
    chosen = list(items) or [stored(0, topics=("corruption", "terrorism")), stored(1, link=None)]
    channel = build_channel(settings, settings.taxonomy.topics[0], chosen, 7)
    env = page_environment(default_templates_dir())
    return render_topic(env, SITE, channel).decode()


def test_topic_page_escapes_a_script_in_a_title(settings: Settings) -> None:
    evil = stored(0, title="<script>alert('x')</script>", summary="a <img src=x onerror=y>")
    page = topic_page(settings, evil)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<img" not in page


def test_topic_page_does_not_link_unsafe_urls(settings: Settings) -> None:
    page = topic_page(settings, stored(0, link="javascript:alert(1)"))
    assert "javascript:" not in page


def test_topic_page_lists_items_with_date_source_badges_and_anchor(settings: Settings) -> None:
    page = topic_page(settings)
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert f'href="{BASE_URL}corruption.atom"' in page
    assert f'href="{BASE_URL}corruption.rss"' in page
    assert '<a href="https://www.unodc.org/press/0">Release 0</a>' in page
    assert '<time datetime="2024-05-01T12:00:00+00:00">2024-05-01</time> · UNODC' in page
    assert '<a class="badge" href="terrorism.html">Terrorism</a>' in page
    assert "Summary of release 0." in page
    assert page.index("Release 0") < page.index("Release 1")
    channel = build_channel(settings, settings.taxonomy.topics[0], [stored(1, link=None)])
    entry = channel.entries[0]
    assert f'<li id="{entry.anchor}">' in page
    assert f'<a href="{BASE_URL}{entry.page}">Release 1</a>' in page  # its own page
    # An item with a link of its own names its page beside it, relative to the folder.
    linked = build_channel(settings, settings.taxonomy.topics[0], [stored(0)]).entries[0]
    assert f'<a href="{linked.page}">Details</a>' in page


def test_empty_topic_page_says_so(settings: Settings) -> None:
    channel = build_channel(settings, settings.taxonomy.topics[1], [], 0)
    page = render_topic(page_environment(default_templates_dir()), SITE, channel).decode()
    assert "No items yet." in page


def test_index_lists_topics_with_counts_and_feeds(settings: Settings) -> None:
    items = [stored(0, topics=("corruption",))]
    topics = [build_channel(settings, t, items, n) for n, t in enumerate(settings.taxonomy.topics)]
    everything = build_channel(settings, None, items)
    html = render_index(page_environment(default_templates_dir()), SITE, everything, topics)
    page = html.decode()
    assert '<a href="trafficking-in-persons.html">Trafficking in persons</a>' in page
    assert '<td class="count">2</td>' in page
    assert '<a href="corruption.json" type="application/feed+json">JSON Feed</a>' in page
    alternate = '<link rel="alternate" type="application/rss+xml" title="Syndicator (RSS)"'
    assert f'{alternate} href="{BASE_URL}all.rss">' in page
    assert '<a href="feeds.opml">' in page


def test_missing_templates_raise_output_error(settings: Settings, tmp_path: Path) -> None:
    channel = build_channel(settings, settings.taxonomy.topics[0], [], 0)
    with pytest.raises(OutputError, match=r"topic\.html"):
        render_topic(page_environment(tmp_path), SITE, channel)


def test_broken_template_raises_output_error(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "topic.html").write_text("{% if %}")
    channel = build_channel(settings, settings.taxonomy.topics[0], [], 0)
    with pytest.raises(OutputError, match=r"topic\.html"):
        render_topic(page_environment(tmp_path), SITE, channel)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{% extends "missing-base.html" %}', "missing-base.html"),  # resolved while rendering
        ("{{ chanel.title }}", "chanel"),  # StrictUndefined: a misspelt variable
    ],
)
def test_faults_found_while_rendering_raise_output_error(
    settings: Settings, tmp_path: Path, body: str, message: str
) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "topic.html").write_text(body)
    channel = build_channel(settings, settings.taxonomy.topics[0], [], 0)
    with pytest.raises(OutputError, match=message):
        render_topic(page_environment(tmp_path), SITE, channel)


def test_item_pages_name_countries_in_the_pages_language() -> None:
    assert country_names(["GB", "US", "CI"], "en") == [
        "United Kingdom", "United States", "Côte d’Ivoire"
    ]
    assert country_names(["GB"], "fr") == ["Royaume-Uni"]
    assert country_names(["GB"], "en-GB") == ["United Kingdom"]
    assert country_names(["GB", "QQ"], "not-a-language") == ["United Kingdom", "QQ"]
