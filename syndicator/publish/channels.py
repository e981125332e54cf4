"""What to publish, decided apart from how it is written.

A :class:`Channel` is one topic (or all topics) with its entries already
cleaned, ordered, capped and given their stable ids and URLs. Every output
format (RSS, Atom, JSON Feed, OPML, HTML) is rendered from channels, so the
formats cannot disagree about order, ids, links or dates, and the builders
stay small. Nothing here does I/O or reads the clock: the same stored items
always give the same channel, which is what makes unchanged output
byte-identical.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from syndicator import site, text
from syndicator.config import Settings, TopicSettings
from syndicator.errors import ConfigError
from syndicator.models import SortKey, StoredItem
from syndicator.publish.formats import feed_formats, output_format
from syndicator.site import ALL, INDEX_PAGE, RESERVED_TOPIC_IDS
from syndicator.teaser import teaser

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""``updated`` of a feed with no entries: fixed, so an empty feed is not rewritten every cycle."""


@dataclass(frozen=True, slots=True)
class TopicRef:
    """A topic as shown on an entry: category in feeds, badge on pages."""

    id: str
    title: str
    scheme: str | None
    """The organisation's page on the topic, used as the category scheme."""
    page: str
    """File name of our HTML page for the topic."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One item as every format of one channel shows it."""

    id: str
    """``urn:uuid:`` from source id + item identity: stable across runs, databases and hosts."""
    anchor: str
    """Fragment id of the item on the channel's HTML page."""
    title: str
    url: str | None
    """The publisher's http(s) link, else the item's own page (when pages are published)."""
    original: str | None
    """The publisher's http(s) link, if it has a safe one."""
    page: str
    """The item's own page, relative to the output folder (``items/<uuid>.html``)."""
    permalink: str | None
    """The item's own page as an absolute URL; None when pages are not published."""
    published: datetime
    dated: bool
    """False when the publisher gave no date and ``published`` is when we first saw it."""
    updated: datetime
    summary: str
    """Plain-text teaser: the first real sentences, without the dateline."""
    paragraphs: tuple[str, ...]
    """The full text as plain-text paragraphs."""
    author: str | None
    source_id: str
    source_title: str
    lang: str | None
    topics: tuple[TopicRef, ...]
    countries: tuple[str, ...]
    """ISO 3166-1 alpha-2 codes of the countries the text names, most named first."""

    @property
    def content_html(self) -> str:
        return text.paragraphs_html(self.paragraphs)

    @property
    def content_text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True, slots=True)
class Channel:
    """One feed family (RSS, Atom, JSON) and its page: a topic, or all topics."""

    key: str
    topic: TopicRef | None
    """None for the all-topics channel."""
    title: str
    description: str
    language: str
    base_url: str
    page: str
    """File name of the companion HTML page (``index.html`` for all topics)."""
    has_page: bool
    formats: tuple[str, ...]
    """The feed formats published for this channel, in settings order."""
    entries: tuple[Entry, ...]
    count: int | None
    """Items of the topic in the whole store (the page shows at most ``len(entries)``);
    None for the all-topics channel, whose items the per-topic counts would double-count."""

    @property
    def updated(self) -> datetime:
        """The newest entry change, never the wall clock: same entries, same bytes."""
        return max((e.updated for e in self.entries), default=EPOCH)

    def file_name(self, fmt: str) -> str:
        return f"{self.key}.{output_format(fmt).suffix}"

    def url(self, name: str) -> str:
        return self.base_url + name

    def feed_url(self, fmt: str) -> str:
        return self.url(self.file_name(fmt))

    @property
    def home_url(self) -> str:
        """Where a person reads this channel: its page, or the site root without pages."""
        return self.url(self.page) if self.has_page else self.base_url


def entry_id(item: StoredItem) -> str:
    """The entry id: a name-based UUID of (source id, identity), never the database row id."""
    return f"urn:uuid:{site.item_uuid(item.item.source_id, item.item.identity)}"


def utc(moment: datetime) -> datetime:
    """UTC-aware ``moment``; a naive value (a driver quirk) is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def entry_updated(item: StoredItem) -> datetime:
    """When the entry last changed in a way a reader should notice.

    The publisher's ``updated_at`` counts if it is not later than when we saw the
    change; our own ``last_changed_at`` counts when the content changed after
    we first saw the item. Never earlier than the published date.
    """
    published = utc(item.sort_date)
    candidates = [published]
    last_changed = utc(item.last_changed_at)
    if item.item.updated_at is not None and utc(item.item.updated_at) <= last_changed:
        candidates.append(utc(item.item.updated_at))
    if last_changed > utc(item.first_seen_at):
        candidates.append(last_changed)
    return max(candidates)


def check_topic_ids(settings: Settings) -> None:
    """Refuse topic ids whose files would overwrite a site-level output.

    Config validation refuses them already; this guards settings built in code
    (``model_copy`` skips validation) with the same list."""
    clashes = sorted(RESERVED_TOPIC_IDS.intersection(settings.taxonomy.ids))
    if clashes:
        raise ConfigError(
            f"taxonomy.topics: topic id(s) {', '.join(clashes)} are reserved by publishing "
            f"(reserved: {', '.join(sorted(RESERVED_TOPIC_IDS))}); rename the topic"
        )


def topic_refs(settings: Settings) -> dict[str, TopicRef]:
    """Every configured topic by id, in taxonomy order."""
    return {
        t.id: TopicRef(
            id=t.id,
            title=one_line_or(t.title, t.id),
            scheme=str(t.link) if t.link is not None else None,
            page=site.topic_page(t.id),
        )
        for t in settings.taxonomy.topics
    }


def one_line_or(value: str | None, fallback: str) -> str:
    return text.one_line(value or "") or fallback


def source_titles(settings: Settings) -> dict[str, str]:
    return {s.id: one_line_or(s.title, s.id) for s in settings.sources}


def build_entry(
    item: StoredItem,
    has_pages: bool,
    base_url: str,
    topics: Mapping[str, TopicRef],
    sources: Mapping[str, str],
) -> Entry:
    """One entry; ``has_pages`` says whether the HTML pages (item pages too) are published."""
    ident = entry_id(item)
    anchor = "item-" + ident.rsplit(":", 1)[-1]
    record = item.item
    original = text.safe_url(record.link)
    page = site.item_page(record.source_id, record.identity)
    permalink = f"{base_url}{page}" if has_pages else None
    abstract = record.summary or record.content
    return Entry(
        id=ident,
        anchor=anchor,
        title=text.one_line(record.title) or text.excerpt(abstract, 80) or "Untitled",
        url=original or permalink,
        original=original,
        page=page,
        permalink=permalink,
        published=utc(item.sort_date),
        dated=record.published_at is not None,
        updated=entry_updated(item),
        summary=teaser(record.summary, record.content),
        paragraphs=text.paragraphs(record.text),
        # Stored before addresses were dropped at collection: "Name <addr>" → "Name".
        author=text.author_name(record.author),
        source_id=record.source_id,
        source_title=sources.get(record.source_id, record.source_id),
        lang=text.one_line(record.lang or "") or None,
        topics=tuple(topics[t] for t in _ordered_topics(item.topics, topics)),
        countries=tuple(c for c in (text.one_line(c) for c in item.countries) if c),
    )


def _ordered_topics(assigned: Iterable[str], known: Mapping[str, TopicRef]) -> list[str]:
    """Assigned topics that are still configured, in taxonomy order, each once."""
    wanted = set(assigned)
    return [t for t in known if t in wanted]


def newest_first(items: Iterable[StoredItem], limit: int) -> list[StoredItem]:
    """Newest first by the one rule (:func:`syndicator.models.sort_key`: undated items
    below the dated ones of the day we first saw them), ties broken by entry id so the
    order is reproducible."""
    unique = {entry_id(i): i for i in items}
    ordered = sorted(unique.items(), key=lambda kv: (_utc_key(kv[1]), kv[0]), reverse=True)
    return [i for _, i in ordered[:limit]]


def _utc_key(item: StoredItem) -> SortKey:
    position, dated, seen = item.sort_key
    return utc(position), dated, utc(seen)


def build_channel(
    settings: Settings,
    topic: TopicSettings | None,
    items: Sequence[StoredItem],
    count: int | None = None,
) -> Channel:
    """The channel of ``topic`` (None: all topics) from the store's recent items."""
    pub = settings.publish
    has_page = "html" in pub.formats
    topics = topic_refs(settings)
    ref = topics[topic.id] if topic is not None else None
    page = ref.page if ref is not None else INDEX_PAGE
    base_url = settings.base_url_text
    sources = source_titles(settings)
    site_title = one_line_or(pub.title, "Syndicator")
    # An item none of whose topics is configured any more would be an entry
    # without a category: untagged, as far as publishing is concerned.
    tagged = [i for i in items if not topics.keys().isdisjoint(i.topics)]
    entries = tuple(
        build_entry(i, has_page, base_url, topics, sources)
        for i in newest_first(tagged, pub.max_entries)
    )
    if topic is None or ref is None:
        title = site_title
        description = one_line_or(pub.description, site_title)
    else:
        title = f"{site_title}: {ref.title}"
        description = one_line_or(topic.description, one_line_or(pub.description, ref.title))
    return Channel(
        key=ref.id if ref is not None else ALL,
        topic=ref,
        title=title,
        description=description,
        language=pub.language,
        base_url=base_url,
        page=page,
        has_page=has_page,
        formats=feed_formats(pub.formats),
        entries=entries,
        count=count,
    )
