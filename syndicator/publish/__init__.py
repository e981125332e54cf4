"""The publish stage: per-topic feeds, an OPML list and HTML pages from the store.

:func:`publish` reads the store, renders every output in memory
(:func:`render_outputs`, pure apart from the store reads) and only then
touches the output folder, writing each file atomically and only when its
bytes changed. Outputs never depend on the wall clock, so a cycle with
nothing new leaves every file, its mtime and its inode alone.

Layout of the output folder (served at ``settings.base_url``)::

    <topic>.rss  <topic>.atom  <topic>.json  <topic>.html
    all.rss      all.atom      all.json      index.html
    feeds.opml
    items/<uuid>.html   one page per tagged item (see :mod:`syndicator.site`)

Item pages of the items in the feeds are rewritten when they change; every other
tagged item gets its page once, the first time publishing finds it missing, and
pages are never deleted, so a link in an old email or feed keeps working.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from jinja2 import Environment

from syndicator.config import Settings
from syndicator.errors import OutputError
from syndicator.publish import builtin_formats  # noqa: F401 (registers the built-in formats)
from syndicator.publish.atomic import ensure_folder, remove_debris, write_if_changed
from syndicator.publish.channels import (
    Entry,
    build_channel,
    build_entry,
    check_topic_ids,
    one_line_or,
    source_titles,
    topic_refs,
)
from syndicator.publish.formats import output_format
from syndicator.publish.opml import opml_bytes
from syndicator.publish.pages import Site, render_index, render_item, render_topic
from syndicator.publish.templates import page_environment
from syndicator.resources import default_templates_dir
from syndicator.site import INDEX_PAGE, ITEMS_DIR, OPML_FILE, SIGNUP_PATH, item_page
from syndicator.store.protocol import Storage

__all__ = ["PublishReport", "default_templates_dir", "publish", "render_outputs"]

BACKFILL_BATCH = 200
"""Items loaded at a time when writing the pages of items outside the feeds."""


@dataclass(slots=True)
class PublishReport:
    """Which files one publish run wrote and which it found already up to date."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    """Temporary files that earlier, killed publish runs had left behind."""


def publish(
    store: Storage,
    settings: Settings,
    now: datetime,
    templates_dir: Path | None = None,
    checkpoint: Callable[[], None] = lambda: None,
) -> PublishReport:
    """Write every configured output for the store's current items.

    ``now`` is accepted for the stage interface but deliberately not used in
    any output: feed dates come from the entries, so unchanged content gives
    byte-identical files. Temporary files that a killed earlier run left in
    the output folders are removed first; the caller holds the publish lease,
    so no other publisher is writing there. Raises :class:`~syndicator.errors.OutputError`
    naming the folder or file that cannot be written,
    :class:`~syndicator.errors.ConfigError` for a topic id that clashes with
    a reserved file name, and lets :class:`~syndicator.errors.StorageError`
    from the store through. ``checkpoint`` is called before each file is
    written; the service passes its publish lease's check, which raises once
    another worker has taken the lease over.
    """
    del now  # see docstring: outputs must not depend on the clock
    outputs = render_outputs(store, settings, templates_dir)
    folder = settings.publish.output_dir
    ensure_folder(folder)
    report = PublishReport()
    if "html" in settings.publish.formats:
        ensure_folder(folder / ITEMS_DIR)
    for parent in sorted({(folder / name).parent for name in outputs}):
        report.removed.extend(remove_debris(parent))
    for name, data in outputs.items():
        checkpoint()
        _write(folder / name, data, report)
    if "html" in settings.publish.formats:
        missing = _missing_item_pages(store, settings, templates_dir, set(outputs))
        for name, data in missing:
            checkpoint()
            _write(folder / name, data, report)
    return report


def _write(path: Path, data: bytes, report: PublishReport) -> None:
    if write_if_changed(path, data):
        report.written.append(path)
    else:
        report.unchanged.append(path)


def render_outputs(
    store: Storage,
    settings: Settings,
    templates_dir: Path | None = None,
) -> dict[str, bytes]:
    """Every output file's name and bytes, in the order they should be written.

    Feeds come before the OPML list and the pages, so a page never links to a
    feed that has not been written yet; the items' own pages come before the
    lists that link to them.
    """
    check_topic_ids(settings)
    pub = settings.publish
    counts = store.topic_counts()
    recent = {t.id: store.recent_items(t.id, pub.max_entries) for t in settings.taxonomy.topics}
    topics = [
        build_channel(settings, t, recent[t.id], counts.get(t.id, 0))
        for t in settings.taxonomy.topics
    ]
    # The newest items of all topics are among the newest of each topic, so the
    # all-topics channel needs no query of its own, and an item tagged only with a
    # topic since removed from the taxonomy cannot slip into it without a category.
    everything = build_channel(settings, None, [i for items in recent.values() for i in items])
    channels = [everything, *topics]

    outputs: dict[str, bytes] = {}
    for channel in channels:
        for fmt in map(output_format, channel.formats):
            assert fmt.builder is not None  # channels carry feed formats only
            outputs[channel.file_name(fmt.name)] = fmt.builder(channel)
    if "opml" in pub.formats:
        outputs[OPML_FILE] = opml_bytes(f"{everything.title}: feeds", channels)
    if "html" in pub.formats:
        env = page_environment(templates_dir or default_templates_dir())
        site = _site(settings)
        shown = (entry for channel in channels for entry in channel.entries)
        outputs.update(_item_pages(env, site, shown))
        outputs[INDEX_PAGE] = render_index(env, site, everything, topics)
        for channel in topics:
            outputs[channel.page] = render_topic(env, site, channel)
    return outputs


def _site(settings: Settings) -> Site:
    title = one_line_or(settings.publish.title, "Syndicator")
    return Site(
        title=title,
        description=one_line_or(settings.publish.description, title),
        language=settings.publish.language,
        base_url=settings.base_url_text,
        opml=OPML_FILE if "opml" in settings.publish.formats else None,
        signup_url=f"{settings.base_url_text}{SIGNUP_PATH}" if settings.signup.enabled else None,
        signup_topics=tuple((t.id, t.title) for t in settings.taxonomy.topics),
    )


def _item_pages(env: Environment, site: Site, entries: Iterable[Entry]) -> dict[str, bytes]:
    """Each entry's page once (an item is in several channels, always as the same entry)."""
    pages: dict[str, bytes] = {}
    for entry in entries:
        if entry.page not in pages:
            pages[entry.page] = render_item(env, site, entry)
    return pages


def _missing_item_pages(
    store: Storage,
    settings: Settings,
    templates_dir: Path | None,
    rendered: set[str],
) -> Iterator[tuple[str, bytes]]:
    """Pages of tagged items outside the feeds that have none yet, a batch at a time.

    An item can reach an email without ever being among a feed's newest (an archive
    collected today carries old dates); its email links to its page all the same.
    Only the keys of tagged items are read every run; text is loaded for the missing.
    """
    folder = settings.publish.output_dir
    try:
        existing = {f"{ITEMS_DIR}/{p.name}" for p in (folder / ITEMS_DIR).iterdir()}
    except OSError as exc:
        raise OutputError(f"cannot list {folder / ITEMS_DIR}") from exc
    done = rendered | existing
    missing = [
        key.id
        for key in store.tagged_keys(settings.taxonomy.ids)
        if item_page(key.source_id, key.identity) not in done
    ]
    if not missing:
        return
    env = page_environment(templates_dir or default_templates_dir())
    site = _site(settings)
    topics = topic_refs(settings)
    sources = source_titles(settings)
    for start in range(0, len(missing), BACKFILL_BATCH):
        batch = store.items_by_id(missing[start : start + BACKFILL_BATCH])
        entries = (build_entry(i, True, settings.base_url_text, topics, sources) for i in batch)
        yield from _item_pages(env, site, entries).items()
