"""The tables, and the schema version this code writes.

Bump :data:`SCHEMA_VERSION` and add a step to :mod:`syndicator.store.migrations`
whenever a table changes; a database newer than the code is refused.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from syndicator.store.types import UTCDateTime

SCHEMA_VERSION = 8

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("url", Text),  # v2: the configured location the state belongs to
    Column("etag", Text),
    Column("last_modified", Text),
    Column("status", String(20)),
    Column("http_status", Integer),
    Column("error_class", String(50)),
    Column("error_message", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_fetch_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("next_fetch_at", UTCDateTime),
    Column("permanent_url", Text),
    # v3: what the last collection warned about (files skipped, entries dropped), bounded.
    Column("warnings", JSON),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", String(200), nullable=False),
    Column("identity", Text, nullable=False),
    Column("guid", Text),
    Column("link", Text),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("content", Text, nullable=False, default=""),
    Column("author", Text),
    Column("lang", String(20)),
    Column("declared_topics", JSON, nullable=False, default=list),
    Column("published_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_changed_at", UTCDateTime, nullable=False),
    Column("sort_at", UTCDateTime, nullable=False),
    Column("content_hash", String(80), nullable=False),
    # v2: polls in a row that changed the item (store/changes.py rations churn with it).
    Column("hash_only_changes", Integer, nullable=False, default=0),
    # What the tagger last saw: re-tag when the content or the tagger changed.
    Column("tagged_hash", String(80)),
    Column("tagger_version", String(80)),
    Column("tagged_at", UTCDateTime),
    Column("tag_detail", JSON),
    Column("countries", JSON, nullable=False, default=list),
    UniqueConstraint("source_id", "identity", name="uq_items_source_identity"),
)
Index("ix_items_sort_at", items.c.sort_at)
Index("ix_items_first_seen_at", items.c.first_seen_at)
# v7: the search index ``item_search`` (each item's searchable text) is not here: on SQLite
# it is an FTS5 virtual table, which SQLAlchemy cannot describe. See store/search_index.py.

taggings = Table(
    "taggings",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("topic", String(100), primary_key=True),
    Column("score", Float, nullable=False),
    Column("evidence", JSON, nullable=False, default=list),
    Column("origin", String(10), nullable=False, default="auto"),
)
Index("ix_taggings_topic", taggings.c.topic, taggings.c.item_id)

overrides = Table(
    "overrides",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("topic", String(100), primary_key=True),
    Column("action", String(10), nullable=False),  # "add" or "remove"
    Column("decided_at", UTCDateTime, nullable=False),
)

# v7: whoever receives mail, whatever the channel (``kind``: "email" for now). The ledger
# references the row's id, never the address, so forgetting a person (the address
# replaced by a keyed hash, ``status`` "forgotten") keeps what was sent to whom.
recipients = Table(
    "recipients",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("address", String(320), nullable=False),  # an email address as written, lower-cased
    Column("display_name", Text),
    # models.RecipientStatus: pending, active, paused, unsubscribed, removed, forgotten.
    Column("status", String(20), nullable=False),
    Column("managed_by", String(10), nullable=False),  # config, operator or self
    Column("topics", JSON, nullable=False),
    Column("countries", JSON, nullable=False, default=list),
    Column("query", Text),
    Column("cadence", String(10), nullable=False),
    Column("alerts", Boolean, nullable=False, default=False),
    # Null: the delivery settings decide (digest_time, digest_weekday, UTC, the site's).
    Column("send_time", String(5)),
    Column("send_weekday", String(10)),
    Column("timezone", String(64)),
    Column("language", String(20)),
    Column("consented_at", UTCDateTime),
    Column("consent_source", Text),  # "config", "operator", "import FILE", a page
    Column("confirmed_at", UTCDateTime),
    Column("subscribed_at", UTCDateTime, nullable=False),
    Column("unsubscribed_at", UTCDateTime),
    Column("last_digest_at", UTCDateTime),
    # Permanent refusals of the address in a row; mail stops at delivery.max_bounces.
    Column("bounces", Integer, nullable=False, default=0),
    Column("bounced_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "address", name="uq_recipients_kind_address"),
)

dispatches = Table(
    "dispatches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recipient_id", Integer, ForeignKey("recipients.id"), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("message_id", String(400), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    # v3: where the message stands (protocol.DispatchState) and how it got there.
    Column("state", String(10), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_attempt_at", UTCDateTime),
    Column("last_error", Text),
    Column("failed_at", UTCDateTime),
)
Index("ix_dispatches_state", dispatches.c.state)

# The ledger proper: one row per item carried to a recipient by a kind of message.
# The primary key is what makes "each item reserved once per reader and kind" hold across workers.
dispatch_items = Table(
    "dispatch_items",
    metadata,
    Column("recipient_id", Integer, ForeignKey("recipients.id"), primary_key=True),
    Column("kind", String(10), primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "dispatch_id",
        Integer,
        ForeignKey("dispatches.id", ondelete="CASCADE"),
        nullable=False,
    ),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# v3: which unsubscribe-link keys each process signs and verifies with, by fingerprint
# (never the key), so a process can tell at start that a neighbour disagrees.
key_fingerprints = Table(
    "key_fingerprints",
    metadata,
    Column("process", String(200), primary_key=True),  # host:pid
    Column("role", String(20), nullable=False),  # worker, run, serve
    Column("signs", String(64), nullable=False),
    Column("accepts", Text, nullable=False),  # space-separated, ``signs`` first
    Column("source", String(200), nullable=False),  # the variable's name, or "generated"
    Column("seen_at", UTCDateTime, nullable=False),
)
