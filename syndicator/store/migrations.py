"""Forward-only schema migrations, run in one transaction when the store opens."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)

from syndicator.errors import SchemaVersionError
from syndicator.models import sort_position
from syndicator.store import search_index
from syndicator.store.schema import SCHEMA_VERSION, items, meta, metadata
from syndicator.store.types import UTCDateTime

Migration = Callable[[Connection], None]


def _create(conn: Connection) -> None:
    """An empty database gets the current tables at once, not step by step."""
    metadata.create_all(conn)
    search_index.create(conn)


def _v1_to_v2(conn: Connection) -> None:
    """Remember each source's configured location; count hash-only item changes."""
    conn.execute(text("ALTER TABLE sources ADD COLUMN url TEXT"))
    conn.execute(text("ALTER TABLE items ADD COLUMN hash_only_changes INTEGER NOT NULL DEFAULT 0"))


def _v2_to_v3(conn: Connection) -> None:
    """Remember the fingerprints of the link-signing keys each process uses.

    The table is spelt out here rather than taken from ``schema``, so that a later
    change to it cannot change what this step did.
    """
    Table(
        "key_fingerprints",
        MetaData(),
        Column("process", String(200), primary_key=True),
        Column("role", String(20), nullable=False),
        Column("signs", String(64), nullable=False),
        Column("accepts", Text, nullable=False),
        Column("source", String(200), nullable=False),
        Column("seen_at", UTCDateTime, nullable=False),
    ).create(conn)


def _v3_to_v4(conn: Connection) -> None:
    """Give each message a state, attempts and last error; count bounces per address.

    Messages already sent become ``sent``; the others stay ``pending`` and are
    retried as before. The index moves from ``sent_at`` to ``state``, which the
    queries now read.
    """
    when = DateTime(timezone=True).compile(dialect=conn.dialect)  # what UTCDateTime stores
    for column in (
        "state VARCHAR(10) NOT NULL DEFAULT 'pending'",
        "attempts INTEGER NOT NULL DEFAULT 0",
        f"last_attempt_at {when}",
        "last_error TEXT",
        f"failed_at {when}",
    ):
        conn.execute(text(f"ALTER TABLE dispatches ADD COLUMN {column}"))
    conn.execute(text("UPDATE dispatches SET state = 'sent' WHERE sent_at IS NOT NULL"))
    conn.execute(text("DROP INDEX ix_dispatches_pending"))
    conn.execute(text("CREATE INDEX ix_dispatches_state ON dispatches (state)"))
    conn.execute(text("ALTER TABLE subscribers ADD COLUMN bounces INTEGER NOT NULL DEFAULT 0"))
    conn.execute(text(f"ALTER TABLE subscribers ADD COLUMN bounced_at {when}"))


def _v4_to_v5(conn: Connection) -> None:
    """Keep the last collection's warnings in the source's health (``syndicator sources``)."""
    kind = JSON().compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE sources ADD COLUMN warnings {kind}"))


def _v5_to_v6(conn: Connection) -> None:
    """Undated items move to the start of the day they were first seen (data only).

    Version 2 sorted them at their first-seen time, above every dated item of that
    day; see :func:`syndicator.models.sort_position`.
    """
    undated = conn.execute(
        select(items.c.id, items.c.first_seen_at).where(items.c.published_at.is_(None))
    ).all()
    if undated:
        conn.execute(
            update(items)
            .where(items.c.id == bindparam("row_id"))
            .values(sort_at=bindparam("position")),
            [
                {"row_id": row.id, "position": sort_position(None, row.first_seen_at)}
                for row in undated
            ],
        )


def _v6_to_v7(conn: Connection) -> None:
    """Subscribers become recipients; the ledger references them by id, not by address.

    Every subscriber row becomes a config-managed email recipient with its dates,
    last digest and bounces (``removed`` if it had left the configuration). Every
    dispatch and ledger row is kept, re-keyed on the recipient's id, so nothing
    already sent is sent again. A ledger address with no subscriber row (none is
    expected) gets a ``removed`` recipient rather than being dropped. The tables
    are spelt out here so that later changes to ``schema`` cannot change this step.
    """
    shape = MetaData()
    recipients = Table(
        "recipients",
        shape,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("kind", String(20), nullable=False),
        Column("address", String(320), nullable=False),
        Column("display_name", Text),
        Column("status", String(20), nullable=False),
        Column("managed_by", String(10), nullable=False),
        Column("topics", JSON, nullable=False),
        Column("countries", JSON, nullable=False),
        Column("query", Text),
        Column("cadence", String(10), nullable=False),
        Column("alerts", Boolean, nullable=False),
        Column("send_time", String(5)),
        Column("send_weekday", String(10)),
        Column("timezone", String(64)),
        Column("language", String(20)),
        Column("consented_at", UTCDateTime),
        Column("consent_source", Text),
        Column("confirmed_at", UTCDateTime),
        Column("subscribed_at", UTCDateTime, nullable=False),
        Column("unsubscribed_at", UTCDateTime),
        Column("last_digest_at", UTCDateTime),
        Column("bounces", Integer, nullable=False),
        Column("bounced_at", UTCDateTime),
        Column("created_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        UniqueConstraint("kind", "address", name="uq_recipients_kind_address"),
    )
    recipients.create(conn)
    old = Table(  # as version 6 left it
        "subscribers",
        MetaData(),
        Column("email", String(320), primary_key=True),
        Column("name", Text),
        Column("topics", JSON),
        Column("cadence", String(10)),
        Column("timezone", String(64)),
        Column("alerts", Boolean),
        Column("configured", Boolean),
        Column("subscribed_at", UTCDateTime),
        Column("unsubscribed_at", UTCDateTime),
        Column("last_digest_at", UTCDateTime),
        Column("bounces", Integer),
        Column("bounced_at", UTCDateTime),
    )
    rows = conn.execute(select(old)).all()
    if rows:
        conn.execute(
            insert(recipients),
            [
                {
                    "kind": "email",
                    "address": row.email,
                    "display_name": row.name,
                    "status": "unsubscribed"
                    if row.unsubscribed_at is not None
                    else ("active" if row.configured else "removed"),
                    "managed_by": "config",
                    "topics": row.topics,
                    "countries": [],
                    "cadence": row.cadence,
                    "alerts": bool(row.alerts),
                    "timezone": row.timezone,
                    "consented_at": row.subscribed_at,
                    "consent_source": "config",
                    "subscribed_at": row.subscribed_at,
                    "unsubscribed_at": row.unsubscribed_at,
                    "last_digest_at": row.last_digest_at,
                    "bounces": row.bounces,
                    "bounced_at": row.bounced_at,
                    "created_at": row.subscribed_at,
                    "updated_at": row.subscribed_at,
                }
                for row in rows
            ],
        )
    sent = Table(
        "dispatches",
        MetaData(),
        Column("email", String(320)),
        Column("created_at", UTCDateTime),
    )
    known = set(conn.execute(select(recipients.c.address)).scalars())
    orphans = sorted(set(conn.execute(select(sent.c.email).distinct()).scalars()) - known)
    if orphans:
        since = conn.execute(select(func.min(sent.c.created_at))).scalar()
        conn.execute(
            insert(recipients),
            [
                {
                    "kind": "email",
                    "address": email,
                    "status": "removed",
                    "managed_by": "config",
                    "topics": [],
                    "countries": [],
                    "cadence": "daily",
                    "alerts": False,
                    "subscribed_at": since,
                    "bounces": 0,
                    "created_at": since,
                    "updated_at": since,
                }
                for email in orphans
            ],
        )
    conn.execute(
        text("ALTER TABLE dispatches ADD COLUMN recipient_id INTEGER REFERENCES recipients (id)")
    )
    conn.execute(
        text(
            "UPDATE dispatches SET recipient_id = (SELECT r.id FROM recipients r "
            "WHERE r.kind = 'email' AND r.address = dispatches.email)"
        )
    )
    conn.execute(text("ALTER TABLE dispatches DROP COLUMN email"))
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE dispatches ALTER COLUMN recipient_id SET NOT NULL"))
    # The ledger's primary key changes, so its table is rebuilt (the old one's key is
    # renamed first: PostgreSQL names indexes per schema).
    conn.execute(text("ALTER TABLE dispatch_items RENAME TO dispatch_items_v6"))
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "ALTER TABLE dispatch_items_v6 "
                "RENAME CONSTRAINT dispatch_items_pkey TO dispatch_items_v6_pkey"
            )
        )
    items_stub = Table("items", shape, Column("id", Integer, primary_key=True))
    dispatches_stub = Table("dispatches", shape, Column("id", Integer, primary_key=True))
    ledger = Table(
        "dispatch_items",
        shape,
        Column("recipient_id", Integer, ForeignKey("recipients.id"), primary_key=True),
        Column("kind", String(10), primary_key=True),
        Column(
            "item_id", Integer, ForeignKey(items_stub.c.id, ondelete="CASCADE"), primary_key=True
        ),
        Column(
            "dispatch_id",
            Integer,
            ForeignKey(dispatches_stub.c.id, ondelete="CASCADE"),
            nullable=False,
        ),
    )
    ledger.create(conn)
    conn.execute(
        text(
            "INSERT INTO dispatch_items (recipient_id, kind, item_id, dispatch_id) "
            "SELECT r.id, o.kind, o.item_id, o.dispatch_id FROM dispatch_items_v6 o "
            "JOIN recipients r ON r.kind = 'email' AND r.address = o.email"
        )
    )
    conn.execute(text("DROP TABLE dispatch_items_v6"))
    conn.execute(text("DROP TABLE subscribers"))


def _v7_to_v8(conn: Connection) -> None:
    """Index every item's searchable text, so a saved search reads its candidates only.

    The words are computed in Python (:mod:`syndicator.query.words`), so a large
    archive takes a while here, once.
    """
    search_index.create(conn)
    search_index.backfill(conn)


# MIGRATIONS[n] brings a database from version n to n + 1.
MIGRATIONS: dict[int, Migration] = {
    1: _v1_to_v2,
    2: _v2_to_v3,
    3: _v3_to_v4,
    4: _v4_to_v5,
    5: _v5_to_v6,
    6: _v6_to_v7,
    7: _v7_to_v8,
}


def current_version(conn: Connection) -> int:
    if not conn.dialect.has_table(conn, meta.name):
        return 0
    value = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
    return int(value) if value is not None else 0


def migrate(conn: Connection) -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION`; refuse a newer database."""
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the database has schema version {version}, newer than this Syndicator "
            f"understands ({SCHEMA_VERSION}); upgrade Syndicator"
        )
    start = version
    if version == 0:
        _create(conn)
        version = SCHEMA_VERSION
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](conn)
        version += 1
    if version != start:
        if start == 0:
            conn.execute(insert(meta).values(key="schema_version", value=str(version)))
        else:
            conn.execute(
                update(meta).where(meta.c.key == "schema_version").values(value=str(version))
            )
    return version
