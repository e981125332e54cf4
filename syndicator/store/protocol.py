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

from syndicator import text
from syndicator.models import (
    CollectResult,
    ManagedBy,
    RecipientKind,
    RecipientStatus,
    SourceState,
    StoredItem,
    Subscriber,
    TagResult,
)
from syndicator.query.prefilter import Condition

DeliveryKind = Literal["digest", "alert"]
DispatchState = Literal["pending", "sending", "unknown", "resending", "sent", "failed"]
"""Where a message stands in the ledger (:mod:`syndicator.deliver.outcomes` moves it):

* ``pending``: reserved, not accepted yet; the next run sends it (again);
* ``sending`` / ``resending``: being handed over right now; found so by a later run,
  the run that sent it stopped before it could record the outcome;
* ``unknown``: it went out but no answer came back; it may have been delivered, and is
  sent at most once more;
* ``sent`` and ``failed``: settled; never sent again.
"""
DISPATCH_STATES: tuple[DispatchState, ...] = (
    "pending",
    "sending",
    "unknown",
    "resending",
    "sent",
    "failed",
)
ERROR_CHARS = text.ERROR_CHARS
"""Length kept of a dispatch's last error: the bound of every stored error message."""


@dataclass(frozen=True, slots=True)
class ApplyCounts:
    """How a collect result changed the store."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class ItemKey:
    """What names a stored item: its row id here, and (source id, identity) everywhere."""

    id: int
    source_id: str
    identity: str


@dataclass(frozen=True, slots=True)
class RecipientState:
    """One recipient row: who they are to delivery (``subscriber``), and what the store
    knows about them (status, owner, consent, the ledger's clock, bounces)."""

    id: int
    """The row id: the ledger references it, never the address."""
    subscriber: Subscriber
    """Address, topics, cadence, time zone (UTC when none is stored), name, alerts."""
    status: RecipientStatus
    managed_by: ManagedBy
    subscribed_at: datetime
    unsubscribed_at: datetime | None
    last_digest_at: datetime | None
    bounces: int = 0
    """Permanent refusals of the address in a row (reset by a delivery or a resubscribe)."""
    bounced_at: datetime | None = None
    kind: RecipientKind = "email"
    consented_at: datetime | None = None
    consent_source: str | None = None
    """``config``, ``operator``, ``import FILE`` (later: the sign-up page)."""
    confirmed_at: datetime | None = None
    """When the reader confirmed (double opt-in, later); None for operator-vouched rows."""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    countries: tuple[str, ...] = ()
    query: str | None = None
    send_time: str | None = None
    send_weekday: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class RecipientEntry:
    """What an operator or a sign-up sets on a database-managed recipient."""

    subscriber: Subscriber
    managed_by: ManagedBy
    consent_source: str


@dataclass(frozen=True, slots=True)
class Dispatch:
    """One message reserved in the ledger before it is handed to a transport."""

    id: int
    recipient_id: int
    email: str
    """The recipient's address now (a keyed hash once they were forgotten)."""
    kind: DeliveryKind
    message_id: str
    item_ids: tuple[int, ...]
    created_at: datetime
    sent_at: datetime | None
    state: DispatchState = "pending"
    attempts: int = 0
    """How many times it was handed to a transport."""
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """One row of the lease table: who holds ``name`` and until when.

    ``holder`` is opaque to the store; :mod:`syndicator.service.leases` writes and
    reads it (host, process, start time, a random token, since when).
    """

    name: str
    holder: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class KeyUse:
    """Which unsubscribe-link keys one process signs and verifies with, by fingerprint.

    A fingerprint identifies a key without revealing it; see
    :func:`syndicator.deliver.keys.fingerprint`.
    """

    process: str
    """``host:pid``."""
    role: str
    """``worker``, ``run`` (also a lone ``deliver``) or ``serve``."""
    signs: str
    """The current key: new links are signed with it."""
    accepts: tuple[str, ...]
    """Every key a link may be signed with to be honoured, ``signs`` first."""
    source: str
    """Where the current key comes from: the environment variable's name, or ``generated``."""
    seen_at: datetime


class Storage(Protocol):
    # ---- sources -----------------------------------------------------------------
    def source_states(self) -> dict[str, SourceState]:
        """Every source the store has seen, by id."""
        ...

    def apply_collect(self, result: CollectResult, now: datetime) -> ApplyCounts:
        """Store a collect result: upsert its items and the source's new state together.

        An item is keyed by (source id, identity). A known item is updated in place
        (``last_changed_at`` = now, tags to be redone, counted in ``updated``) only
        when what a reader cares about changed: its title, its link or its text,
        with volatile spans (times, counters, tracking parameters) and the
        publisher's ``updated`` date ignored (:mod:`syndicator.store.changes`).
        Past 24 polls in a row that each changed an item, at most one change a day
        is taken. A hash stored by an older rule is replaced without counting as an
        update. Anything else is left alone (``unchanged``). Items already stored
        but absent from the result are kept. On an error result only the source
        state changes.
        The state keeps the result's warnings (the first 20, each cut to 500
        characters), so the source's health says why a file or entry was skipped until
        the next collection.
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

    def tagged_keys(self, topics: Sequence[str]) -> list[ItemKey]:
        """The key of every item tagged with one of ``topics``, without its text: enough
        to find the items whose page has not been written yet."""
        ...

    def items_by_id(self, ids: Sequence[int]) -> list[StoredItem]:
        """The stored items with these row ids, with their tags, in id order; unknown
        ids are left out."""
        ...

    def topic_counts(self) -> dict[str, int]: ...

    def candidate_items(
        self,
        condition: Condition,
        since: datetime | None = None,
        before_id: int | None = None,
        limit: int = 500,
    ) -> list[StoredItem]:
        """Items that may match a saved search: every item meeting ``condition``
        (:func:`syndicator.query.prefilter`) and maybe others, never fewer.

        Newest row first (highest id), at most ``limit``; ``since`` keeps items first
        seen at or after it, ``before_id`` continues a previous page. Only
        :func:`syndicator.query.matches` decides which candidates match
        (:func:`syndicator.store.search.matching_items` does both).
        """
        ...

    def item_count(self) -> int: ...

    def forget_source(self, source_id: str) -> int:
        """Delete a source's state and every item it brought (with their tags and ledger
        rows); how many items went. For an operator who removes a source for good."""
        ...

    def identities(self, source_id: str) -> frozenset[str]:
        """Every stored identity of a source (e.g. so a listing page skips known releases)."""
        ...

    # ---- recipients and the delivery ledger ------------------------------------------
    def sync_config_recipients(self, subscribers: Sequence[Subscriber], now: datetime) -> None:
        """Make the config-managed recipients match config.yaml's ``subscribers``.

        The configuration owns the rows it lists: a listed address is created, or
        updated (topics, cadence, zone, name, alerts), and becomes config-managed even
        if an operator added it first. A config row no longer listed becomes
        ``removed`` (mail stops, its history stays); listed again, it is active again.
        An unsubscribe persists either way.
        """
        ...

    def recipient_states(self, *, include_gone: bool = False) -> list[RecipientState]:
        """Every recipient by address; without ``include_gone`` not the ``removed`` and
        ``forgotten`` ones (what delivery and ``status`` read)."""
        ...

    def find_recipient(self, address: str) -> RecipientState | None:
        """The email recipient with this address (any case), whatever its status."""
        ...

    def save_recipient(self, entry: RecipientEntry, now: datetime) -> RecipientState:
        """Create or update a database-managed recipient, active at once, consent now.

        The caller decides whether it may (config rows and unsubscribes are not the
        operator's to overwrite; see :mod:`syndicator.service.subscribers`).
        """
        ...

    def save_pending(self, entry: RecipientEntry, now: datetime) -> RecipientState:
        """Record a sign-up: create or update the row as ``pending``, self-managed, with
        the consent (``now``, ``entry.consent_source``) and no confirmation yet.

        Nothing is ever sent to a pending row. An earlier unsubscribe stays recorded
        until the reader confirms. The caller decides whether it may
        (:mod:`syndicator.service.signup`).
        """
        ...

    def confirm_pending(self, address: str, now: datetime) -> RecipientState | None:
        """The reader confirmed: a ``pending`` row becomes ``active`` (confirmed and
        subscribed now, earlier unsubscribe and bounces cleared); None when the address
        has no pending row (already confirmed, expired, or never signed up)."""
        ...

    def expire_pending(self, before: datetime, now: datetime) -> int:
        """End the sign-ups left unconfirmed since before ``before``: a row that had
        unsubscribed goes back to ``unsubscribed``, any other is deleted. How many."""
        ...

    def remove_recipient(self, address: str, now: datetime) -> bool:
        """Stop mail to a recipient for the operator (``removed``), keeping its history."""
        ...

    def forget_recipient(self, address: str, replacement: str, now: datetime) -> bool:
        """Replace the address by ``replacement`` (a keyed hash) and drop every other
        personal field; the ledger keeps its rows, which reference the id only."""
        ...

    def recipient_dispatches(self, recipient_id: int) -> list[Dispatch]:
        """Every message the ledger holds for one recipient, oldest first (``export``)."""
        ...

    def unsubscribe(self, email: str, now: datetime) -> bool:
        """Stop all mail to ``email``; True if they were subscribed."""
        ...

    def resubscribe(self, email: str) -> bool:
        """Undo an unsubscribe and forget the address's bounces: mail to it resumes."""
        ...

    def record_bounce(self, email: str, now: datetime) -> int:
        """Count one permanent refusal of ``email`` by a mail server; the new count in a row.

        The one place bounces are made: whoever stops mail to an address reads
        ``RecipientState.bounces``; a delivery (:meth:`mark_sent`) or
        :meth:`resubscribe` resets it.
        """
        ...

    def unsent_items(
        self,
        recipient_id: int | None,
        topics: Sequence[str],
        kind: DeliveryKind,
        limit: int,
        since: datetime | None = None,
    ) -> list[StoredItem]:
        """Items of these topics that no dispatch of this kind has yet carried to the recipient.

        ``recipient_id`` None: a reader not stored yet, to whom nothing was carried.

        Oldest first (by our first-seen time), so a digest capped at ``limit`` leaves
        the newest for the next one and skips nothing. ``since`` drops items first
        seen before it (alerts never replay the backlog).
        """
        ...

    def unsent_candidates(
        self,
        recipient_id: int | None,
        condition: Condition,
        kind: DeliveryKind,
        limit: int,
        since: datetime | None = None,
        after: tuple[datetime, int] | None = None,
    ) -> list[StoredItem]:
        """Items that may be for a subscription with countries or a query, and that no
        dispatch of this kind has carried to the recipient: every unsent item meeting
        ``condition`` (:func:`syndicator.query.subscription.condition`) and maybe others.

        Oldest first, as :meth:`unsent_items`; ``after`` (first-seen time, id) continues
        from the last item of a previous page. Only
        :func:`syndicator.query.subscription.wants` decides which are for the reader
        (:func:`syndicator.store.search.unsent_for` does both).
        """
        ...

    def reserve_dispatch(
        self,
        recipient_id: int,
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

    def begin_attempt(
        self, dispatch_id: int, state: Literal["sending", "resending"], now: datetime
    ) -> None:
        """Note, before handing the message over, that it is being sent (attempts + 1).

        A run that stops before recording the outcome leaves it in ``state``, which
        the next run reads as "it may have gone out".
        """
        ...

    def mark_sent(self, dispatch_id: int, now: datetime) -> None:
        """The server accepted the message: settled; the address's bounce count resets."""
        ...

    def record_failure(
        self,
        dispatch_id: int,
        state: Literal["pending", "unknown", "failed"],
        error: str,
        now: datetime,
    ) -> None:
        """An attempt did not end in "sent": keep the new state and the error (cut to
        :data:`ERROR_CHARS`). A failed message keeps its items: they count as carried."""
        ...

    def cancel_dispatch(self, dispatch_id: int) -> None:
        """Forget a reserved message that will never be sent (its reader left): its items
        count as not carried again, so a reader who comes back gets them."""
        ...

    def pending_dispatches(self) -> list[Dispatch]:
        """Every dispatch not settled yet (any state but sent and failed), oldest first:
        what the next run retries."""
        ...

    def dispatch_counts(self) -> dict[DispatchState, int]:
        """Messages per state, every state present (0 when none)."""
        ...

    # ---- service ---------------------------------------------------------------------
    def get_or_create_secret(self, name: str, factory: str) -> str:
        """A value kept in the database, created from ``factory`` the first time."""
        ...

    def get_secret(self, name: str) -> str | None:
        """The value kept under ``name``, or None if it was never created."""
        ...

    def record_key_use(self, use: KeyUse, forget_before: datetime) -> None:
        """Remember ``use`` (replacing the same process's last record) and forget every
        record last seen before ``forget_before``."""
        ...

    def key_uses(self, since: datetime) -> list[KeyUse]:
        """Every process's record seen at or after ``since``, most recent first."""
        ...

    def forget_key_use(self, process: str) -> None:
        """Drop the record of ``process`` (it stopped cleanly)."""
        ...

    def acquire_lease(
        self,
        name: str,
        holder: str,
        seconds: float,
        now: datetime,
        replacing: str | None = None,
    ) -> bool:
        """Hold ``name`` for ``seconds`` if nobody does, its lease expired, or its holder is
        exactly ``replacing`` (one the caller found dead).

        Not re-entrant: a holder that already has ``name`` is refused like any other,
        and keeps it alive with :meth:`renew_lease`. Comparing the whole holder makes
        the takeover a compare-and-swap: two workers that both found the same dead
        holder cannot both win.
        """
        ...

    def renew_lease(self, name: str, holder: str, seconds: float, now: datetime) -> bool:
        """Extend ``holder``'s lease to ``now + seconds``; False when it is no longer theirs
        (broken by an operator, or taken over after it expired)."""
        ...

    def release_lease(self, name: str, holder: str) -> None:
        """Give ``name`` up if ``holder`` still has it; someone else's lease is left alone."""
        ...

    def leases(self) -> list[LeaseRecord]:
        """Every lease row, by name, expired or not."""
        ...

    def break_lease(self, name: str) -> LeaseRecord | None:
        """Remove ``name`` whoever holds it (an operator's decision); what was removed."""
        ...

    def close(self) -> None: ...
