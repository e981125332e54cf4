"""The storage boundary every stage talks through.

Contract for every method:

* it may raise :class:`syndicator.errors.StorageError` (never a driver error);
* every ``datetime`` passed in or returned is timezone-aware UTC;
* each method is one transaction: it either happens whole or not at all.

There is one implementation (:class:`syndicator.store.sql.SqlStore`, SQLAlchemy
Core) that runs on SQLite and PostgreSQL alike. Stages and tests depend on this
Protocol, not on that class.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from syndicator.models import CollectResult, SourceState, StoredItem, Subscriber, TagResult

DeliveryKind = Literal["digest", "alert"]


@dataclass(frozen=True, slots=True)
class ApplyCounts:
    """How a collect result changed the store."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class SubscriberState:
    """A configured subscriber together with what the store knows about them."""

    subscriber: Subscriber
    subscribed_at: datetime
    unsubscribed_at: datetime | None
    last_digest_at: datetime | None


@dataclass(frozen=True, slots=True)
class Dispatch:
    """One message reserved in the ledger before it is handed to a transport."""

    id: int
    email: str
    kind: DeliveryKind
    message_id: str
    item_ids: tuple[int, ...]
    created_at: datetime
    sent_at: datetime | None


class Storage(Protocol):
    # ---- sources -----------------------------------------------------------------
    def source_states(self) -> dict[str, SourceState]:
        """Every source the store has seen, by id."""
        ...

    def apply_collect(self, result: CollectResult, now: datetime) -> ApplyCounts:
        """Store a collect result: upsert its items and the source's new state together.

        An item is keyed by (source id, identity). A known item whose content hash
        changed is updated in place (``last_changed_at`` = now, tags to be redone);
        an unchanged one is left alone. Items already stored but absent from the
        result are kept. On an error result only the source state changes.
        """
        ...

    # ---- items and tags ------------------------------------------------------------
    def items_needing_tags(self, tagger_version: str, limit: int = 1000) -> list[StoredItem]:
        """Items never tagged, changed since tagged, or tagged by another tagger version."""
        ...

    def save_tags(
        self, item_id: int, result: TagResult, tagger_version: str, now: datetime
    ) -> None:
        """Replace the automatic tags of an item; manual decisions still win."""
        ...

    def set_manual_tags(
        self, item_id: int, add: Iterable[str], remove: Iterable[str], now: datetime
    ) -> StoredItem:
        """Record an operator's decision, which overrides the tagger from now on."""
        ...

    def get_item(self, item_id: int) -> StoredItem | None: ...

    def tag_result(self, item_id: int) -> TagResult | None:
        """The tagger's last full verdict on an item: every score and its evidence."""
        ...

    def recent_items(self, topic: str | None, limit: int) -> list[StoredItem]:
        """Tagged items, newest first; ``topic=None`` means items with any topic."""
        ...

    def topic_counts(self) -> dict[str, int]: ...

    def item_count(self) -> int: ...

    def forget_source(self, source_id: str) -> int:
        """Delete a source's state and every item it brought (with their tags and ledger
        rows); how many items went. For an operator who removes a source for good."""
        ...

    def identities(self, source_id: str) -> frozenset[str]:
        """Every stored identity of a source (e.g. so a listing page skips known releases)."""
        ...

    # ---- subscribers and the delivery ledger ---------------------------------------
    def sync_subscribers(self, subscribers: Sequence[Subscriber], now: datetime) -> None:
        """Make the stored subscribers match the configured ones; unsubscribes persist."""
        ...

    def subscriber_states(self) -> list[SubscriberState]: ...

    def unsubscribe(self, email: str, now: datetime) -> bool:
        """Stop all mail to ``email``; True if they were subscribed."""
        ...

    def resubscribe(self, email: str) -> bool: ...

    def unsent_items(
        self,
        email: str,
        topics: Sequence[str],
        kind: DeliveryKind,
        limit: int,
        since: datetime | None = None,
    ) -> list[StoredItem]:
        """Items of these topics that no dispatch of this kind has yet carried to ``email``.

        Oldest first (by our first-seen time), so a digest capped at ``limit`` leaves
        the newest for the next one and skips nothing. ``since`` drops items first
        seen before it (alerts never replay the backlog).
        """
        ...

    def reserve_dispatch(
        self,
        email: str,
        kind: DeliveryKind,
        item_ids: Sequence[int],
        message_id: str,
        now: datetime,
    ) -> Dispatch:
        """Write the ledger rows for a message before it is sent.

        From this moment the items count as carried, so a second worker or a rerun
        never builds the same message again.
        """
        ...

    def mark_sent(self, dispatch_id: int, now: datetime) -> None: ...

    def cancel_dispatch(self, dispatch_id: int) -> None:
        """Forget a reserved message that will never be sent (its reader left): its items
        count as not carried again, so a reader who comes back gets them."""
        ...

    def pending_dispatches(self) -> list[Dispatch]:
        """Reserved but never confirmed sent: a crash or a transport failure; retried."""
        ...

    def dispatch_counts(self) -> dict[str, int]: ...

    # ---- service ---------------------------------------------------------------------
    def get_or_create_secret(self, name: str, factory: str) -> str:
        """A value kept in the database, created from ``factory`` the first time."""
        ...

    def acquire_lease(self, name: str, holder: str, seconds: float, now: datetime) -> bool:
        """Hold ``name`` for ``seconds`` unless another live holder has it."""
        ...

    def release_lease(self, name: str, holder: str) -> None: ...

    def close(self) -> None: ...
