"""Stored identities (``known``): pages of releases the store has are not fetched again."""

from __future__ import annotations

from pathlib import Path

from collect_helpers import LONG, NOW, Script, article, listing

from syndicator.collect import collect_sources
from syndicator.collect.identity import link_identity
from syndicator.collect.pages import links_to_fetch
from syndicator.config import (
    CollectSettings,
    FeedSource,
    PageSource,
    Settings,
    TaxonomySettings,
    TopicSettings,
)
from syndicator.service.stages import collect_stage
from syndicator.store import open_store


def press(server: Script, links: list[str], etag: str) -> None:
    server.add("/press", listing(links), headers={"Content-Type": "text/html", "ETag": etag})
    for n, link in enumerate(links):
        server.add(link, article(f"Release {link}", f"2024-01-0{n + 1}T10:00:00Z", LONG))


def fetched_releases(server: Script) -> list[str]:
    return sorted(r.path for r in server.log if r.path.startswith("/press/"))


def test_links_to_fetch_skips_known_and_limits_the_rest() -> None:
    links = [f"https://Example.org/r/{n}?utm_source=x#top" for n in range(5)]
    known = frozenset({link_identity("https://example.org/r/0"), link_identity(links[2])})
    assert links_to_fetch(links, known, 2) == [links[1], links[3]]
    assert links_to_fetch(links, None, 2) == links[:2]


def test_page_source_fetches_only_releases_not_stored(
    server: Script, settings: CollectSettings
) -> None:
    press(server, ["/press/1", "/press/2"], '"v1"')
    source = PageSource(id="page", url=server.url("/press"), link_pattern=r"/press/\d+$")
    [first] = collect_sources([source], {}, settings, NOW, known={"page": frozenset()})
    assert len(first.items) == 2
    known = {"page": frozenset(i.identity for i in first.items)}

    server.log.clear()
    press(server, ["/press/1", "/press/2"], '"v2"')  # the listing changed, no new release
    [second] = collect_sources([source], {}, settings, NOW, known=known)
    assert second.status == "ok"
    assert second.items == ()
    assert second.warnings == ()
    assert fetched_releases(server) == []

    server.log.clear()
    press(server, ["/press/3", "/press/1", "/press/2"], '"v3"')
    [third] = collect_sources([source], {}, settings, NOW, known=known)
    assert [i.title for i in third.items] == ["Release /press/3"]
    assert fetched_releases(server) == ["/press/3"]


def test_max_new_per_cycle_counts_only_unknown_releases(
    server: Script, settings: CollectSettings
) -> None:
    links = [f"/press/{n}" for n in range(1, 6)]
    press(server, links, '"v1"')
    source = PageSource(
        id="page", url=server.url("/press"), link_pattern=r"/press/\d+$", max_new_per_cycle=2
    )
    known = {"page": frozenset(link_identity(server.url(p)) for p in links[:2])}
    [result] = collect_sources([source], {}, settings, NOW, known=known)
    assert fetched_releases(server) == ["/press/3", "/press/4"]
    assert len(result.items) == 2


def test_full_text_feed_skips_pages_of_stored_items(
    server: Script, settings: CollectSettings
) -> None:
    base = server.url("")
    server.add(
        "/feed",
        f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
        <item><title>New</title><link>{base}/a/1</link><guid>1</guid>
        <description>Teaser.</description></item>
        <item><title>Stored</title><link>{base}/a/2</link><guid>2</guid>
        <description>Teaser.</description></item>
        <item><title>New, beyond the limit</title><link>{base}/a/3</link><guid>3</guid>
        <description>Teaser.</description></item></channel></rss>""",
    )
    for n in (1, 2, 3):
        server.add(f"/a/{n}", article(f"Page {n}", "2024-02-02", LONG))
    source = FeedSource(id="f", url=server.url("/feed"), full_text=True, full_text_limit=1)
    [result] = collect_sources([source], {}, settings, NOW, known={"f": frozenset({"guid:2"})})
    assert [i.title for i in result.items] == ["New", "New, beyond the limit"]
    assert "Sentence number 7" in result.items[0].content
    assert result.items[1].content == ""  # new: kept with its summary
    assert {r.path for r in server.log if r.path.startswith("/a/")} == {"/a/1"}


def test_collect_stage_passes_stored_identities(
    server: Script, settings: CollectSettings, tmp_path: Path
) -> None:
    press(server, ["/press/1", "/press/2"], '"v1"')
    app = Settings(
        base_url="http://example.org/",
        sources=(PageSource(id="page", url=server.url("/press"), link_pattern=r"/press/\d+$"),),
        collect=settings,
        taxonomy=TaxonomySettings(topics=(TopicSettings(id="corruption", title="Corruption"),)),
    )
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        first = collect_stage(store, app, NOW, force=True)
        assert [(s.status, s.new) for s in first.sources] == [("ok", 2)]
        server.log.clear()
        press(server, ["/press/1", "/press/2"], '"v2"')
        second = collect_stage(store, app, NOW, force=True)
        assert [(s.status, s.new) for s in second.sources] == [("ok", 0)]
        assert fetched_releases(server) == []
    finally:
        store.close()
