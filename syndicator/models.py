"""The records that pass between stages.

Stages never import each other; they meet here and in the store. Every record is
a frozen dataclass so a stage cannot change what another stage will read, and
every datetime is timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from syndicator.text import bounded_error

FetchStatus = Literal["ok", "not_modified", "error"]
Cadence = Literal["daily", "weekly", "none"]
"""How often a digest goes out; ``none``: alerts only, never a digest."""
RecipientKind = Literal["email"]
"""How a recipient is reached; webhooks and chat rooms come later."""
RecipientStatus = Literal["pending", "active", "paused", "unsubscribed", "removed", "forgotten"]
"""Where a recipient stands. Only ``active`` gets mail. ``unsubscribed``: the reader left
(a link, ``syndicator unsubscribe``) and only ``unsubscribe --undo`` brings them back;
``removed``: the operator took them off (``subscribers remove``, or the entry left the
configuration), history kept; ``forgotten``: the address was replaced by a keyed hash."""
ManagedBy = Literal["config", "operator", "self"]
"""Who owns the row: ``config`` rows follow config.yaml at each run; ``operator`` rows
come from ``syndicator subscribers add|import``; ``self`` from a sign-up (later)."""
TagOrigin = Literal["auto", "manual"]
SortKey = tuple[datetime, bool, datetime]


def sort_moment(published_at: datetime | None, first_seen_at: datetime) -> datetime:
    """The item's date as readers see it: the publisher's date, unless it is missing or
    later than when we first saw the item (a date in our future is wrong)."""
    if published_at is None or published_at > first_seen_at:
        return first_seen_at
    return published_at


def sort_position(published_at: datetime | None, first_seen_at: datetime) -> datetime:
    """Where an item stands in newest-first order (the store's ``sort_at``).

    A dated item stands at its date (:func:`sort_moment`). An undated one stands at
    the start of the UTC day we first saw it: the first-seen time would put a release
    of unknown age above everything dated that day, as if it were the newest news.
    :func:`sort_key` then places it below the dated items of that day.
    """
    if published_at is None:
        seen = first_seen_at.astimezone(UTC) if first_seen_at.tzinfo else first_seen_at
        return seen.replace(hour=0, minute=0, second=0, microsecond=0)
    return sort_moment(published_at, first_seen_at)


def sort_key(published_at: datetime | None, first_seen_at: datetime) -> SortKey:
    """The newest-first rule, in one place: sort by this key, descending.

    Position first (:func:`sort_position`); at the same position a dated item comes
    before an undated one (an undated item's position is midnight, which only a
    date without a time shares); then the later first-seen time. The store orders by
    the same columns (``sort_at``, dated, ``first_seen_at``), so SQL and Python agree.
    """
    return (
        sort_position(published_at, first_seen_at),
        published_at is not None,
        first_seen_at,
    )


@dataclass(frozen=True, slots=True)
class Item:
    """One press release as collected, before it is stored.

    ``identity`` is what makes the item unique within its source: the guid,
    else the canonical link, else a hash of its content (see
    :func:`syndicator.collect.identity.item_identity`). ``published_at`` is the
    publisher's claim and may be missing or wrong; the store keeps its own
    first-seen time, which alone decides what is "new" for subscribers.
    """

    source_id: str
    identity: str
    title: str
    link: str | None = None
    guid: str | None = None
    summary: str = ""
    content: str = ""
    published_at: datetime | None = None
    updated_at: datetime | None = None
    lang: str | None = None
    author: str | None = None
    declared_topics: tuple[str, ...] = ()
    """Topic labels the publisher itself declared, as written (e.g. the lines of a
    "Further information" list such as "UNODC on Corruption"); the tagger maps
    them to topic ids, since only it knows the taxonomy."""

    @property
    def text(self) -> str:
        """The longest body we have: full content when present, else the summary."""
        return self.content or self.summary


@dataclass(frozen=True, slots=True)
class Caching:
    """Opaque HTTP validators kept per source for conditional requests."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store remembers about a source between cycles."""

    source_id: str
    url: str | None = None
    caching: Caching = field(default_factory=Caching)
    status: str | None = None
    error_class: str | None = None
    error_message: str | None = None
    consecutive_failures: int = 0
    last_fetch_at: datetime | None = None
    last_success_at: datetime | None = None
    next_fetch_at: datetime | None = None
    permanent_url: str | None = None
    """Where a consistent 301/308 moved the source; used instead of the configured URL."""
    warnings: tuple[str, ...] = ()
    """What the last collection warned about (skipped files or entries), bounded."""

    def __post_init__(self) -> None:
        # A message stored by an older version may be unbounded: bound it on the way out.
        if self.error_message is not None:
            object.__setattr__(self, "error_message", bounded_error(self.error_message))


@dataclass(frozen=True, slots=True)
class CollectResult:
    """What one collection attempt of one source produced.

    The store applies it in one transaction: the items and the new caching
    validators land together, so a crash never leaves validators that claim
    items we do not have.
    """

    source_id: str
    status: FetchStatus
    items: tuple[Item, ...] = ()
    caching: Caching | None = None
    error_class: str | None = None
    error_message: str | None = None
    http_status: int | None = None
    next_fetch_at: datetime | None = None
    permanent_url: str | None = None
    warnings: tuple[str, ...] = ()
    """Per-item problems (a file without a date, a skipped entry) that did not fail the source."""
    location: str | None = None
    """The configured URL or folder path this result was collected for; the store keeps it
    as ``SourceState.url`` so that pointing a source elsewhere resets its schedule."""

    def __post_init__(self) -> None:
        # The one place messages are bounded (see syndicator.text.bounded_error): every
        # result passes here before it is logged, printed or stored.
        if self.error_message is not None:
            object.__setattr__(self, "error_message", bounded_error(self.error_message))
        if self.warnings:
            object.__setattr__(self, "warnings", tuple(bounded_error(w) for w in self.warnings))


@dataclass(frozen=True, slots=True)
class TagResult:
    """The tagger's verdict on one text, with the evidence for every score.

    ``scores`` holds every topic that had any evidence, chosen or not, so an
    analyst can see near misses; ``topics`` holds those over their threshold.
    """

    topics: tuple[str, ...]
    scores: dict[str, float]
    evidence: dict[str, list[str]]
    lang: str | None = None
    countries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Tagging:
    """One stored topic assignment of one item."""

    topic: str
    score: float
    evidence: tuple[str, ...]
    origin: TagOrigin = "auto"


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as the store holds it, with its tags; what publish and deliver read."""

    id: int
    item: Item
    first_seen_at: datetime
    last_changed_at: datetime
    taggings: tuple[Tagging, ...] = ()
    countries: tuple[str, ...] = ()

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(t.topic for t in self.taggings)

    @property
    def sort_date(self) -> datetime:
        """The date shown for the item (first-seen when the publisher gave none)."""
        return sort_moment(self.item.published_at, self.first_seen_at)

    @property
    def sort_key(self) -> SortKey:
        """Newest-first order, descending (see :func:`sort_key`)."""
        return sort_key(self.item.published_at, self.first_seen_at)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A reader who wants some items by email: of some topics, some countries, a query.

    What they get is :func:`syndicator.query.subscription.wants` of these three;
    an empty ``topics`` or ``countries`` and no ``query`` leave that part open.
    """

    email: str
    topics: tuple[str, ...]
    cadence: Cadence = "daily"
    timezone: str = "UTC"
    name: str | None = None
    alerts: bool = False
    """Also send an immediate alert for each new item of their topics."""
    countries: tuple[str, ...] = ()
    """ISO 3166-1 alpha-2 codes, upper case: only items the tagger placed in one of them."""
    query: str | None = None
    """A saved search (docs/queries.md), as written; checked when it is saved."""
    language: str | None = None
    """The language of their messages (:data:`syndicator.i18n.LANGUAGES`);
    ``delivery.language`` when absent."""
