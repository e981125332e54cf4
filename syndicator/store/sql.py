"""The one implementation of :class:`~syndicator.store.protocol.Storage`.

SQLAlchemy Core, so SQLite (the embedded default, in WAL mode) and PostgreSQL
(several workers) run the same statements. This is the only module that speaks
SQL; every driver error is translated into :class:`StorageError` here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Select,
    and_,
    case,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from syndicator.errors import StorageError
from syndicator.models import (
    Caching,
    CollectResult,
    Item,
    SourceState,
    StoredItem,
    Subscriber,
    Tagging,
    TagResult,
    sort_position,
)
from syndicator.query.prefilter import Condition
from syndicator.store import changes, search_index
from syndicator.store import schema as t
from syndicator.store.failures import engine_error, invalid_url, storage_error
from syndicator.store.migrations import migrate
from syndicator.store.protocol import (
    DISPATCH_STATES,
    ApplyCounts,
    DeliveryKind,
    Dispatch,
    DispatchState,
    ItemKey,
    KeyUse,
    LeaseRecord,
    RecipientEntry,
    RecipientState,
)
from syndicator.text import ERROR_CHARS, bounded_error

MIGRATION_LOCK = 0x53594E44  # "SYND": the advisory lock taken while migrating PostgreSQL
MAX_STORED_WARNINGS = 20
"""Warnings a source's health keeps from its last collection; the log has them all."""
MAX_WARNING_CHARS = ERROR_CHARS


NEWEST_FIRST = (
    t.items.c.sort_at.desc(),
    case((t.items.c.published_at.is_(None), 0), else_=1).desc(),
    t.items.c.first_seen_at.desc(),
    t.items.c.id.desc(),
)
"""``models.sort_key`` in SQL: position, dated before undated, later first seen, newer row."""


def content_hash(item: Item) -> str:
    """The versioned hash of what a reader cares about in an item (see store/changes.py)."""
    return changes.content_hash(item.title, item.link, item.summary, item.content)


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` for the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so that
    # DDL (migrations) is transactional too; see _sqlite_begin.
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("syndicator_write", True)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class SqlStore:
    """Storage on any SQLAlchemy backend we support (SQLite, PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        try:
            with self._tx() as conn:
                if conn.dialect.name == "postgresql":
                    # Workers starting together must not create the tables twice.
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                    )
                self.schema_version = migrate(conn)
        except BaseException:
            engine.dispose()  # leave no half-open connection behind a refused database
            raise

    @classmethod
    def open(cls, url: str) -> SqlStore:
        """Connect, creating the SQLite file's folder if needed, and migrate."""
        url = normalise_url(url)
        try:
            parsed = make_url(url)
        except SQLAlchemyError as exc:
            raise invalid_url(url) from exc
        kwargs: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database
            if database and database != ":memory:":
                try:
                    Path(database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StorageError(f"database: cannot create the folder of {database}") from exc
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        try:
            engine = create_engine(url, **kwargs)
        except (SQLAlchemyError, ImportError) as exc:
            raise engine_error(parsed, exc) from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        return cls(engine)

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[Connection]:
        """One transaction; driver errors become :class:`StorageError`.

        On SQLite a writing transaction starts with ``BEGIN IMMEDIATE``: it waits
        (busy timeout) for the write lock up front instead of failing when a read
        turns into a write while another process has written meanwhile.
        """
        try:
            with (
                self.engine.connect() as conn,
                conn.execution_options(syndicator_write=write).begin(),
            ):
                yield conn
        except SQLAlchemyError as exc:
            url = self.engine.url.render_as_string(hide_password=True)
            raise storage_error(f"database: {url}", exc) from exc

    def _read(self) -> AbstractContextManager[Connection]:
        return self._tx(write=False)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ sources

    def source_states(self) -> dict[str, SourceState]:
        with self._read() as conn:
            rows = conn.execute(select(t.sources)).all()
        return {row.id: _source_state(row) for row in rows}

    def apply_collect(self, result: CollectResult, now: datetime) -> ApplyCounts:
        with self._tx() as conn:
            counts = ApplyCounts()
            if result.status == "ok":
                counts = self._upsert_items(conn, result.source_id, result.items, now)
            self._update_source(conn, result, now)
        return counts

    def _upsert_items(
        self, conn: Connection, source_id: str, items: Sequence[Item], now: datetime
    ) -> ApplyCounts:
        """Insert new items; update, leave or ration known ones by :func:`changes.decide`."""
        unique: dict[str, Item] = {}
        for item in items:
            unique.setdefault(item.identity, item)  # the first of duplicate ids in a feed wins
        if not unique:
            return ApplyCounts()
        c = t.items.c
        known = self._known_items(conn, source_id, list(unique))
        new = updated = unchanged = 0
        inserts: list[dict[str, Any]] = []
        indexed: list[tuple[int, str, str]] = []  # (id, title, text) whose words changed
        for identity, item in unique.items():
            digest = content_hash(item)
            stored = known.get(identity)
            if stored is None:
                inserts.append(
                    {
                        **_item_fields(item),
                        "source_id": source_id,
                        "identity": identity,
                        "content_hash": digest,
                        "first_seen_at": now,
                        "last_changed_at": now,
                        "sort_at": sort_position(item.published_at, now),
                        "hash_only_changes": 0,
                    }
                )
                new += 1
                continue
            decision = changes.decide(
                stored_hash=stored.content_hash,
                baseline=stored.baseline,
                changes=stored.hash_only_changes,
                last_changed_at=stored.last_changed_at,
                fresh_hash=digest,
                now=now,
            )
            values: dict[str, Any] = {}
            if decision.verdict == "updated":
                updated += 1
                values = {
                    **_item_fields(item),
                    "last_changed_at": now,
                    "sort_at": sort_position(item.published_at, stored.first_seen_at),
                }
                indexed.append((stored.id, item.title, item.text))
            else:
                unchanged += 1
            if decision.content_hash is not None:
                values["content_hash"] = decision.content_hash
                if decision.verdict != "updated" and stored.tagged_hash == stored.content_hash:
                    # A new hash of the same content: the tags still describe it.
                    values["tagged_hash"] = decision.content_hash
            if decision.changes != stored.hash_only_changes:
                values["hash_only_changes"] = decision.changes
            if values:
                conn.execute(update(t.items).where(c.id == stored.id).values(**values))
        if inserts:
            rows = conn.execute(insert(t.items).returning(c.id, c.identity), inserts).all()
            indexed.extend((r.id, unique[r.identity].title, unique[r.identity].text) for r in rows)
        search_index.write(conn, indexed)
        return ApplyCounts(new=new, updated=updated, unchanged=unchanged)

    def _known_items(
        self, conn: Connection, source_id: str, identities: list[str]
    ) -> dict[str, _Known]:
        """The stored items of ``identities``, each with its hash under the current rule.

        Only items hashed by an older rule have their fields read, to hash them anew.
        """
        c = t.items.c
        rows: list[Row[Any]] = []
        for start in range(0, len(identities), 500):
            chunk = identities[start : start + 500]
            rows.extend(
                conn.execute(
                    select(
                        c.id,
                        c.identity,
                        c.content_hash,
                        c.tagged_hash,
                        c.first_seen_at,
                        c.last_changed_at,
                        c.hash_only_changes,
                    )
                    .where(c.source_id == source_id)
                    .where(c.identity.in_(chunk))
                )
            )
        old = [r.id for r in rows if not changes.is_current(r.content_hash)]
        rehashed: dict[int, str] = {}
        for start in range(0, len(old), 500):
            for r in conn.execute(
                select(c.id, c.title, c.link, c.summary, c.content).where(
                    c.id.in_(old[start : start + 500])
                )
            ):
                rehashed[r.id] = changes.content_hash(r.title, r.link, r.summary, r.content)
        return {
            r.identity: _Known(
                id=r.id,
                content_hash=r.content_hash,
                baseline=rehashed.get(r.id, r.content_hash),
                tagged_hash=r.tagged_hash,
                first_seen_at=r.first_seen_at,
                last_changed_at=r.last_changed_at,
                hash_only_changes=r.hash_only_changes,
            )
            for r in rows
        }

    def _update_source(self, conn: Connection, result: CollectResult, now: datetime) -> None:
        row = conn.execute(select(t.sources).where(t.sources.c.id == result.source_id)).first()
        failures = row.consecutive_failures if row is not None else 0
        values: dict[str, Any] = {
            "status": result.status,
            "http_status": result.http_status,
            "error_class": result.error_class,
            "error_message": result.error_message,
            "last_fetch_at": now,
            "next_fetch_at": result.next_fetch_at,
            "warnings": bounded_warnings(result.warnings),
        }
        if result.status == "error":
            values["consecutive_failures"] = failures + 1
        else:
            values["consecutive_failures"] = 0
            values["last_success_at"] = now
            if result.caching is not None:
                # Validators land in the same transaction as the items they describe.
                values["etag"] = result.caching.etag
                values["last_modified"] = result.caching.last_modified
        if result.location is not None:
            values["url"] = result.location
        if result.permanent_url:
            values["permanent_url"] = result.permanent_url
        if row is None:
            conn.execute(insert(t.sources).values(id=result.source_id, **values))
        else:
            conn.execute(
                update(t.sources).where(t.sources.c.id == result.source_id).values(**values)
            )

    # ------------------------------------------------------------------ items and tags

    def items_needing_tags(self, tagger_version: str, limit: int = 1000) -> list[StoredItem]:
        c = t.items.c
        query = (
            select(t.items)
            .where(
                or_(
                    c.tagged_hash.is_(None),
                    c.tagged_hash != c.content_hash,
                    c.tagger_version != tagger_version,
                )
            )
            .order_by(c.id)
            .limit(limit)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            return self._stored(conn, rows)

    def save_tags(
        self, item_id: int, result: TagResult, tagger_version: str, now: datetime
    ) -> None:
        detail = {
            "topics": list(result.topics),
            "scores": result.scores,
            "evidence": result.evidence,
            "lang": result.lang,
        }
        with self._tx() as conn:
            self._lock_item(conn, item_id)
            found = conn.execute(
                update(t.items)
                .where(t.items.c.id == item_id)
                .values(
                    tagged_hash=t.items.c.content_hash,
                    tagger_version=tagger_version,
                    tagged_at=now,
                    tag_detail=detail,
                    countries=list(result.countries),
                )
            ).rowcount
            if not found:
                raise StorageError(f"item {item_id} does not exist")
            self._write_taggings(conn, item_id, detail)

    def tag_result(self, item_id: int) -> TagResult | None:
        """The tagger's full verdict for an item (every score, every piece of evidence)."""
        with self._read() as conn:
            row = conn.execute(
                select(t.items.c.tag_detail, t.items.c.countries).where(t.items.c.id == item_id)
            ).first()
        if row is None or row.tag_detail is None:
            return None
        detail = row.tag_detail
        return TagResult(
            topics=tuple(detail.get("topics", ())),
            scores=dict(detail.get("scores", {})),
            evidence={k: list(v) for k, v in detail.get("evidence", {}).items()},
            lang=detail.get("lang"),
            countries=tuple(row.countries or ()),
        )

    def set_manual_tags(
        self, item_id: int, add: Iterable[str], remove: Iterable[str], now: datetime
    ) -> StoredItem:
        add, remove = list(add), list(remove)
        both = set(add) & set(remove)
        if both:
            raise ValueError(f"topic(s) both added and removed: {', '.join(sorted(both))}")
        with self._tx() as conn:
            self._lock_item(conn, item_id)
            row = conn.execute(select(t.items).where(t.items.c.id == item_id)).first()
            if row is None:
                raise StorageError(f"item {item_id} does not exist")
            for topic, action in [(a, "add") for a in add] + [(r, "remove") for r in remove]:
                conn.execute(
                    delete(t.overrides).where(
                        and_(t.overrides.c.item_id == item_id, t.overrides.c.topic == topic)
                    )
                )
                conn.execute(
                    insert(t.overrides).values(
                        item_id=item_id, topic=topic, action=action, decided_at=now
                    )
                )
            self._write_taggings(conn, item_id, row.tag_detail or {})
            return self._stored(conn, [row])[0]

    def _lock_item(self, conn: Connection, item_id: int) -> None:
        """Serialise writers of one item's tags (PostgreSQL row lock; SQLite has one writer)."""
        conn.execute(select(t.items.c.id).where(t.items.c.id == item_id).with_for_update())

    def _write_taggings(self, conn: Connection, item_id: int, detail: dict[str, Any]) -> None:
        """Effective tags = the tagger's topics, minus manual removals, plus manual additions."""
        decided = {
            r.topic: r.action
            for r in conn.execute(select(t.overrides).where(t.overrides.c.item_id == item_id))
        }
        scores: dict[str, float] = detail.get("scores", {})
        evidence: dict[str, list[str]] = detail.get("evidence", {})
        rows: list[dict[str, Any]] = []
        for topic in detail.get("topics", []):
            if decided.get(topic) != "remove":
                rows.append(
                    {
                        "item_id": item_id,
                        "topic": topic,
                        "score": float(scores.get(topic, 0.0)),
                        "evidence": list(evidence.get(topic, [])),
                        "origin": "manual" if topic in decided else "auto",
                    }
                )
        chosen = {r["topic"] for r in rows}
        for topic, action in decided.items():
            if action == "add" and topic not in chosen:
                rows.append(
                    {
                        "item_id": item_id,
                        "topic": topic,
                        "score": float(scores.get(topic, 0.0)),
                        "evidence": ["manual: added by an operator", *evidence.get(topic, [])],
                        "origin": "manual",
                    }
                )
        conn.execute(delete(t.taggings).where(t.taggings.c.item_id == item_id))
        if rows:
            conn.execute(insert(t.taggings), rows)

    def get_item(self, item_id: int) -> StoredItem | None:
        with self._read() as conn:
            row = conn.execute(select(t.items).where(t.items.c.id == item_id)).first()
            return self._stored(conn, [row])[0] if row is not None else None

    def recent_items(self, topic: str | None, limit: int) -> list[StoredItem]:
        condition = t.taggings.c.item_id == t.items.c.id
        if topic is not None:
            condition = and_(condition, t.taggings.c.topic == topic)
        query = (
            select(t.items)
            .where(exists().where(condition))
            .order_by(*NEWEST_FIRST)
            .limit(limit)
        )
        with self._read() as conn:
            return self._stored(conn, conn.execute(query).all())

    def tagged_keys(self, topics: Sequence[str]) -> list[ItemKey]:
        if not topics:
            return []
        c = t.items.c
        tagged = exists().where(
            and_(t.taggings.c.item_id == c.id, t.taggings.c.topic.in_(list(topics)))
        )
        query = select(c.id, c.source_id, c.identity).where(tagged).order_by(c.id)
        with self._read() as conn:
            return [ItemKey(r.id, r.source_id, r.identity) for r in conn.execute(query)]

    def items_by_id(self, ids: Sequence[int]) -> list[StoredItem]:
        wanted = sorted(set(ids))
        out: list[StoredItem] = []
        with self._read() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = conn.execute(
                    select(t.items).where(t.items.c.id.in_(chunk)).order_by(t.items.c.id)
                ).all()
                out.extend(self._stored(conn, rows))
        return out

    def topic_counts(self) -> dict[str, int]:
        query = select(t.taggings.c.topic, func.count()).group_by(t.taggings.c.topic)
        with self._read() as conn:
            return {topic: int(n) for topic, n in conn.execute(query).all()}

    def identities(self, source_id: str) -> frozenset[str]:
        """Every stored identity of a source: lets listing pages skip releases we have."""
        query = select(t.items.c.identity).where(t.items.c.source_id == source_id)
        with self._read() as conn:
            return frozenset(conn.execute(query).scalars())

    def forget_source(self, source_id: str) -> int:
        with self._tx() as conn:
            # Taggings, overrides and ledger rows of these items go with them (ON DELETE
            # CASCADE); a pending message left without items is cancelled by its next retry.
            search_index.forget_source(conn, source_id)
            gone = conn.execute(delete(t.items).where(t.items.c.source_id == source_id)).rowcount
            conn.execute(delete(t.sources).where(t.sources.c.id == source_id))
        return int(gone)

    def candidate_items(
        self,
        condition: Condition,
        since: datetime | None = None,
        before_id: int | None = None,
        limit: int = 500,
    ) -> list[StoredItem]:
        c = t.items.c
        query = search_index.candidates(condition, self.engine.dialect.name)
        if since is not None:
            query = query.where(c.first_seen_at >= since)
        if before_id is not None:
            query = query.where(c.id < before_id)
        query = query.order_by(c.id.desc()).limit(limit)
        with self._read() as conn:
            return self._stored(conn, conn.execute(query).all())

    def item_count(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(t.items)).scalar_one())

    def _stored(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[StoredItem]:
        """Rows of ``items`` → StoredItem, loading all their taggings in one query."""
        ids = [row.id for row in rows]
        tags: dict[int, list[Tagging]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for tag in conn.execute(
                select(t.taggings)
                .where(t.taggings.c.item_id.in_(chunk))
                .order_by(t.taggings.c.score.desc(), t.taggings.c.topic)
            ):
                tags[tag.item_id].append(
                    Tagging(
                        topic=tag.topic,
                        score=tag.score,
                        evidence=tuple(tag.evidence or ()),
                        origin=tag.origin,
                    )
                )
        return [
            StoredItem(
                id=row.id,
                item=_item(row),
                first_seen_at=row.first_seen_at,
                last_changed_at=row.last_changed_at,
                taggings=tuple(tags[row.id]),
                countries=tuple(row.countries or ()),
            )
            for row in rows
        ]

    # ------------------------------------------------------------------ subscribers

    def sync_config_recipients(self, subscribers: Sequence[Subscriber], now: datetime) -> None:
        r = t.recipients.c
        with self._tx() as conn:
            existing = {
                row.address: row
                for row in conn.execute(select(t.recipients).where(r.kind == "email"))
            }
            listed = set()
            for sub in subscribers:
                address = sub.email.lower()
                listed.add(address)
                values: dict[str, Any] = {
                    **_subscription_columns(sub),
                    "managed_by": "config",
                }
                row = existing.get(address)
                if row is None:
                    conn.execute(
                        insert(t.recipients).values(
                            kind="email",
                            address=address,
                            status="active",
                            consented_at=now,
                            consent_source="config",
                            subscribed_at=now,
                            bounces=0,
                            created_at=now,
                            updated_at=now,
                            **values,
                        )
                    )
                    continue
                if row.status == "removed":  # listed again: mail resumes, unless they left
                    values["status"] = "unsubscribed" if row.unsubscribed_at else "active"
                changed = {k: v for k, v in values.items() if getattr(row, k) != v}
                if changed:
                    conn.execute(
                        update(t.recipients)
                        .where(r.id == row.id)
                        .values(updated_at=now, **changed)
                    )
            gone = [
                row.id
                for address, row in existing.items()
                if row.managed_by == "config"
                and address not in listed
                and row.status not in ("removed", "forgotten")
            ]
            if gone:
                conn.execute(
                    update(t.recipients)
                    .where(r.id.in_(gone))
                    .values(status="removed", updated_at=now)
                )

    def recipient_states(self, *, include_gone: bool = False) -> list[RecipientState]:
        query = select(t.recipients).order_by(t.recipients.c.address, t.recipients.c.id)
        if not include_gone:
            query = query.where(t.recipients.c.status.not_in(["removed", "forgotten"]))
        with self._read() as conn:
            return [_recipient(row) for row in conn.execute(query).all()]

    def find_recipient(self, address: str) -> RecipientState | None:
        r = t.recipients.c
        query = select(t.recipients).where(r.kind == "email", r.address == address.lower())
        with self._read() as conn:
            row = conn.execute(query).first()
        return _recipient(row) if row is not None else None

    def save_recipient(self, entry: RecipientEntry, now: datetime) -> RecipientState:
        values: dict[str, Any] = {
            **_subscription_columns(entry.subscriber),
            "managed_by": entry.managed_by,
            "status": "active",
            "consented_at": now,
            "consent_source": entry.consent_source,
            "updated_at": now,
        }
        return self._upsert_recipient(entry.subscriber.email, values, now)

    def save_pending(self, entry: RecipientEntry, now: datetime) -> RecipientState:
        sub = entry.subscriber
        values: dict[str, Any] = {
            "display_name": sub.name,
            "topics": list(sub.topics),
            "cadence": sub.cadence,
            "timezone": sub.timezone,
            "alerts": sub.alerts,
            "managed_by": "self",
            "status": "pending",
            "consented_at": now,
            "consent_source": entry.consent_source,
            "confirmed_at": None,
            "updated_at": now,
        }
        return self._upsert_recipient(sub.email, values, now)

    def _upsert_recipient(
        self, email: str, values: dict[str, Any], now: datetime
    ) -> RecipientState:
        """Insert or update the email recipient ``email`` with ``values``, in one transaction."""
        r = t.recipients.c
        address = email.lower()
        where = and_(r.kind == "email", r.address == address)
        with self._tx() as conn:
            found = conn.execute(select(r.id).where(where)).scalar()
            if found is None:
                conn.execute(
                    insert(t.recipients).values(
                        {
                            "kind": "email",
                            "address": address,
                            "countries": [],
                            "subscribed_at": now,
                            "bounces": 0,
                            "created_at": now,
                        }
                        | values
                    )
                )
            else:
                conn.execute(update(t.recipients).where(r.id == found).values(**values))
            row = conn.execute(select(t.recipients).where(where)).one()
        return _recipient(row)

    def confirm_pending(self, address: str, now: datetime) -> RecipientState | None:
        r = t.recipients.c
        where = and_(r.kind == "email", r.address == address.lower())
        with self._tx() as conn:
            changed = conn.execute(
                update(t.recipients)
                .where(where, r.status == "pending")
                .values(
                    status="active",
                    confirmed_at=now,
                    subscribed_at=now,
                    unsubscribed_at=None,
                    bounces=0,
                    bounced_at=None,
                    updated_at=now,
                )
            ).rowcount
            row = conn.execute(select(t.recipients).where(where)).first() if changed else None
        return _recipient(row) if row is not None else None

    def expire_pending(self, before: datetime, now: datetime) -> int:
        r = t.recipients.c
        stale = and_(r.status == "pending", r.consented_at < before)
        with self._tx() as conn:
            back = conn.execute(
                update(t.recipients)
                .where(stale, r.unsubscribed_at.is_not(None))
                .values(status="unsubscribed", updated_at=now)
            ).rowcount
            # A sign-up that never confirmed was never sent anything: no ledger row holds it.
            held = select(t.dispatches.c.recipient_id).scalar_subquery()
            gone = conn.execute(
                delete(t.recipients).where(stale, r.unsubscribed_at.is_(None), r.id.not_in(held))
            ).rowcount
        return int(back) + int(gone)

    def remove_recipient(self, address: str, now: datetime) -> bool:
        r = t.recipients.c
        with self._tx() as conn:
            changed = conn.execute(
                update(t.recipients)
                .where(r.kind == "email", r.address == address.lower())
                .where(r.status.not_in(["removed", "forgotten"]))
                .values(status="removed", updated_at=now)
            ).rowcount
        return bool(changed)

    def forget_recipient(self, address: str, replacement: str, now: datetime) -> bool:
        r = t.recipients.c
        with self._tx() as conn:
            changed = conn.execute(
                update(t.recipients)
                .where(r.kind == "email", r.address == address.lower())
                .values(
                    address=replacement,
                    display_name=None,
                    topics=[],
                    countries=[],
                    query=None,
                    timezone=None,
                    language=None,
                    status="forgotten",
                    updated_at=now,
                )
            ).rowcount
        return bool(changed)

    def recipient_dispatches(self, recipient_id: int) -> list[Dispatch]:
        return self._dispatches(t.dispatches.c.recipient_id == recipient_id)

    def unsubscribe(self, email: str, now: datetime) -> bool:
        r = t.recipients.c
        with self._tx() as conn:
            changed = conn.execute(
                update(t.recipients)
                .where(r.kind == "email", r.address == email.lower())
                .where(r.unsubscribed_at.is_(None))
                .where(r.status != "forgotten")
                .values(
                    unsubscribed_at=now,
                    updated_at=now,
                    # A removed row stays removed: listed again, it stays unsubscribed.
                    status=case((r.status == "removed", "removed"), else_="unsubscribed"),
                )
            ).rowcount
        return bool(changed)

    def resubscribe(self, email: str) -> bool:
        """Undo an unsubscribe and forget bounces (an operator's decision, e.g. after a
        mistaken click or once a dead mailbox works again)."""
        r = t.recipients.c
        with self._tx() as conn:
            changed = conn.execute(
                update(t.recipients)
                .where(r.kind == "email", r.address == email.lower())
                .where(r.status != "forgotten")
                .values(
                    unsubscribed_at=None,
                    bounces=0,
                    bounced_at=None,
                    status=case((r.status == "unsubscribed", "active"), else_=r.status),
                )
            ).rowcount
        return bool(changed)

    def record_bounce(self, email: str, now: datetime) -> int:
        r = t.recipients.c
        where = and_(r.kind == "email", r.address == email.lower())
        with self._tx() as conn:
            conn.execute(
                update(t.recipients).where(where).values(bounces=r.bounces + 1, bounced_at=now)
            )
            count = conn.execute(select(r.bounces).where(where)).scalar()
        if count is None:
            raise StorageError(f"subscriber {email!r} is not in the store; no bounce recorded")
        return int(count)

    # ------------------------------------------------------------------ delivery ledger

    def unsent_items(
        self,
        recipient_id: int | None,
        topics: Sequence[str],
        kind: DeliveryKind,
        limit: int,
        since: datetime | None = None,
    ) -> list[StoredItem]:
        tagged = exists().where(
            and_(t.taggings.c.item_id == t.items.c.id, t.taggings.c.topic.in_(list(topics)))
        )
        return self._unsent(select(t.items).where(tagged), recipient_id, kind, limit, since)

    def unsent_candidates(
        self,
        recipient_id: int | None,
        condition: Condition,
        kind: DeliveryKind,
        limit: int,
        since: datetime | None = None,
        after: tuple[datetime, int] | None = None,
    ) -> list[StoredItem]:
        query = search_index.candidates(condition, self.engine.dialect.name)
        if after is not None:
            c = t.items.c
            seen, item_id = after
            query = query.where(
                or_(c.first_seen_at > seen, and_(c.first_seen_at == seen, c.id > item_id))
            )
        return self._unsent(query, recipient_id, kind, limit, since)

    def _unsent(
        self,
        query: Select[Any],
        recipient_id: int | None,
        kind: DeliveryKind,
        limit: int,
        since: datetime | None,
    ) -> list[StoredItem]:
        """``query`` (over ``items``) without what the ledger carried, oldest first."""
        if recipient_id is not None:
            carried = exists().where(
                and_(
                    t.dispatch_items.c.recipient_id == recipient_id,
                    t.dispatch_items.c.kind == kind,
                    t.dispatch_items.c.item_id == t.items.c.id,
                )
            )
            query = query.where(~carried)
        if since is not None:
            query = query.where(t.items.c.first_seen_at >= since)
        query = query.order_by(t.items.c.first_seen_at, t.items.c.id).limit(limit)
        with self._read() as conn:
            return self._stored(conn, conn.execute(query).all())

    def reserve_dispatch(
        self,
        recipient_id: int,
        kind: DeliveryKind,
        item_ids: Sequence[int],
        message_id: str,
        now: datetime,
    ) -> Dispatch:
        address: str | None = None
        try:
            with self._tx() as conn:
                address = conn.execute(
                    select(t.recipients.c.address).where(t.recipients.c.id == recipient_id)
                ).scalar()
                if address is None:
                    raise StorageError(f"recipient {recipient_id} is not in the store")
                dispatch_id = conn.execute(
                    insert(t.dispatches)
                    .values(
                        recipient_id=recipient_id,
                        kind=kind,
                        message_id=message_id,
                        created_at=now,
                    )
                    .returning(t.dispatches.c.id)
                ).scalar_one()
                if item_ids:
                    conn.execute(
                        insert(t.dispatch_items),
                        [
                            {
                                "recipient_id": recipient_id,
                                "kind": kind,
                                "item_id": i,
                                "dispatch_id": dispatch_id,
                            }
                            for i in item_ids
                        ],
                    )
                if kind == "digest":
                    conn.execute(
                        update(t.recipients)
                        .where(t.recipients.c.id == recipient_id)
                        .values(last_digest_at=now)
                    )
        except StorageError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise storage_error(
                    f"subscriber {address or recipient_id!r}: some of items {list(item_ids)} "
                    f"were already reserved for a {kind} (another worker?)",
                    exc.__cause__,
                ) from exc.__cause__
            raise
        return Dispatch(
            id=dispatch_id,
            recipient_id=recipient_id,
            email=address,
            kind=kind,
            message_id=message_id,
            item_ids=tuple(item_ids),
            created_at=now,
            sent_at=None,
        )

    def begin_attempt(
        self, dispatch_id: int, state: Literal["sending", "resending"], now: datetime
    ) -> None:
        c = t.dispatches.c
        with self._tx() as conn:
            conn.execute(
                update(t.dispatches)
                .where(c.id == dispatch_id)
                .values(state=state, attempts=c.attempts + 1, last_attempt_at=now)
            )

    def mark_sent(self, dispatch_id: int, now: datetime) -> None:
        with self._tx() as conn:
            recipient_id = conn.execute(
                update(t.dispatches)
                .where(t.dispatches.c.id == dispatch_id)
                .values(sent_at=now, state="sent")
                .returning(t.dispatches.c.recipient_id)
            ).scalar()
            if recipient_id is not None:  # the address works: earlier refusals were not for good
                conn.execute(
                    update(t.recipients)
                    .where(t.recipients.c.id == recipient_id)
                    .where(t.recipients.c.bounces > 0)
                    .values(bounces=0)
                )

    def record_failure(
        self,
        dispatch_id: int,
        state: Literal["pending", "unknown", "failed"],
        error: str,
        now: datetime,
    ) -> None:
        values: dict[str, Any] = {"state": state, "last_error": bounded_error(error)}
        if state == "failed":
            values["failed_at"] = now
        with self._tx() as conn:
            conn.execute(
                update(t.dispatches).where(t.dispatches.c.id == dispatch_id).values(**values)
            )

    def cancel_dispatch(self, dispatch_id: int) -> None:
        with self._tx() as conn:
            conn.execute(
                delete(t.dispatch_items).where(t.dispatch_items.c.dispatch_id == dispatch_id)
            )
            conn.execute(delete(t.dispatches).where(t.dispatches.c.id == dispatch_id))

    def pending_dispatches(self) -> list[Dispatch]:
        return self._dispatches(t.dispatches.c.state.not_in(["sent", "failed"]))

    def _dispatches(self, where: Any) -> list[Dispatch]:
        d = t.dispatches
        query = (
            select(d, t.recipients.c.address)
            .join(t.recipients, t.recipients.c.id == d.c.recipient_id)
            .where(where)
            .order_by(d.c.id)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            items: dict[int, list[int]] = {r.id: [] for r in rows}
            if rows:
                for link in conn.execute(
                    select(t.dispatch_items.c.dispatch_id, t.dispatch_items.c.item_id)
                    .where(t.dispatch_items.c.dispatch_id.in_(list(items)))
                    .order_by(t.dispatch_items.c.item_id)
                ):
                    items[link.dispatch_id].append(link.item_id)
        return [
            Dispatch(
                id=r.id,
                recipient_id=r.recipient_id,
                email=r.address,
                kind=r.kind,
                message_id=r.message_id,
                item_ids=tuple(items[r.id]),
                created_at=r.created_at,
                sent_at=r.sent_at,
                state=r.state,
                attempts=r.attempts,
                last_error=r.last_error,
            )
            for r in rows
        ]

    def dispatch_counts(self) -> dict[DispatchState, int]:
        """Messages per state, for ``syndicator status``."""
        query = select(t.dispatches.c.state, func.count()).group_by(t.dispatches.c.state)
        with self._read() as conn:
            found = {state: int(n) for state, n in conn.execute(query).all()}
        return {state: found.get(state, 0) for state in DISPATCH_STATES}

    # ------------------------------------------------------------------ service

    def get_or_create_secret(self, name: str, factory: str) -> str:
        key = f"secret:{name}"
        try:
            with self._tx() as conn:
                conn.execute(insert(t.meta).values(key=key, value=factory))
        except StorageError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
        with self._tx() as conn:
            return str(conn.execute(select(t.meta.c.value).where(t.meta.c.key == key)).scalar_one())

    def get_secret(self, name: str) -> str | None:
        with self._read() as conn:
            value = conn.execute(
                select(t.meta.c.value).where(t.meta.c.key == f"secret:{name}")
            ).scalar()
        return None if value is None else str(value)

    def record_key_use(self, use: KeyUse, forget_before: datetime) -> None:
        c = t.key_fingerprints.c
        with self._tx() as conn:
            conn.execute(
                delete(t.key_fingerprints).where(
                    or_(c.process == use.process, c.seen_at < forget_before)
                )
            )
            conn.execute(
                insert(t.key_fingerprints).values(
                    process=use.process,
                    role=use.role,
                    signs=use.signs,
                    accepts=" ".join(use.accepts),
                    source=use.source,
                    seen_at=use.seen_at,
                )
            )

    def key_uses(self, since: datetime) -> list[KeyUse]:
        c = t.key_fingerprints.c
        with self._read() as conn:
            rows = conn.execute(
                select(t.key_fingerprints)
                .where(c.seen_at >= since)
                .order_by(c.seen_at.desc(), c.process)
            ).all()
        return [
            KeyUse(
                process=row.process,
                role=row.role,
                signs=row.signs,
                accepts=tuple(row.accepts.split()),
                source=row.source,
                seen_at=row.seen_at,
            )
            for row in rows
        ]

    def forget_key_use(self, process: str) -> None:
        with self._tx() as conn:
            conn.execute(
                delete(t.key_fingerprints).where(t.key_fingerprints.c.process == process)
            )

    def acquire_lease(
        self,
        name: str,
        holder: str,
        seconds: float,
        now: datetime,
        replacing: str | None = None,
    ) -> bool:
        expires = now + timedelta(seconds=seconds)
        c = t.leases.c
        takeable = c.expires_at < now
        if replacing is not None:
            takeable = or_(takeable, c.holder == replacing)
        with self._tx() as conn:
            # One conditional UPDATE is atomic on both backends: take the lease if it
            # has expired or its holder is the one the caller found dead.
            taken = conn.execute(
                update(t.leases)
                .where(c.name == name)
                .where(takeable)
                .values(holder=holder, expires_at=expires)
            ).rowcount
            if taken:
                return True
            if conn.execute(select(c.name).where(c.name == name)).first():
                return False
        try:
            with self._tx() as conn:
                conn.execute(insert(t.leases).values(name=name, holder=holder, expires_at=expires))
        except StorageError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                return False
            raise
        return True

    def renew_lease(self, name: str, holder: str, seconds: float, now: datetime) -> bool:
        c = t.leases.c
        with self._tx() as conn:
            renewed = conn.execute(
                update(t.leases)
                .where(and_(c.name == name, c.holder == holder))
                .values(expires_at=now + timedelta(seconds=seconds))
            ).rowcount
        return bool(renewed)

    def release_lease(self, name: str, holder: str) -> None:
        with self._tx() as conn:
            conn.execute(
                delete(t.leases).where(and_(t.leases.c.name == name, t.leases.c.holder == holder))
            )

    def leases(self) -> list[LeaseRecord]:
        with self._read() as conn:
            rows = conn.execute(select(t.leases).order_by(t.leases.c.name)).all()
        return [LeaseRecord(row.name, row.holder, row.expires_at) for row in rows]

    def break_lease(self, name: str) -> LeaseRecord | None:
        c = t.leases.c
        with self._tx() as conn:
            # A writing transaction (BEGIN IMMEDIATE on SQLite, a row lock on
            # PostgreSQL), so the row reported is the row removed.
            row = conn.execute(select(t.leases).where(c.name == name).with_for_update()).first()
            if row is None:
                return None
            conn.execute(delete(t.leases).where(c.name == name))
        return LeaseRecord(row.name, row.holder, row.expires_at)


@dataclass(frozen=True, slots=True)
class _Known:
    """What the upsert rule needs of a stored item."""

    id: int
    content_hash: str
    baseline: str
    """Its hash under the current rule (recomputed when stored by an older one)."""
    tagged_hash: str | None
    first_seen_at: datetime
    last_changed_at: datetime
    hash_only_changes: int
    """Polls in a row that changed it (the column's name is older than the rule)."""


def _item_fields(item: Item) -> dict[str, Any]:
    return {
        "guid": item.guid,
        "link": item.link,
        "title": item.title,
        "summary": item.summary,
        "content": item.content,
        "author": item.author,
        "lang": item.lang,
        "declared_topics": list(item.declared_topics),
        "published_at": item.published_at,
        "updated_at": item.updated_at,
    }


def _item(row: Row[Any]) -> Item:
    return Item(
        source_id=row.source_id,
        identity=row.identity,
        title=row.title,
        link=row.link,
        guid=row.guid,
        summary=row.summary,
        content=row.content,
        published_at=row.published_at,
        updated_at=row.updated_at,
        lang=row.lang,
        author=row.author,
        declared_topics=tuple(row.declared_topics or ()),
    )


def bounded_warnings(warnings: Sequence[str]) -> list[str]:
    """The warnings a source's health keeps: the first few, each bounded like every stored
    error (:func:`syndicator.text.bounded_error`).

    A folder of thousands of broken files must not grow one row without end;
    the full list is in the log of the cycle that produced it.
    """
    kept = [bounded_error(w) for w in warnings[:MAX_STORED_WARNINGS]]
    if len(warnings) > MAX_STORED_WARNINGS:
        kept.append(f"… and {len(warnings) - MAX_STORED_WARNINGS} more (see the log)")
    return kept


def _source_state(row: Row[Any]) -> SourceState:
    return SourceState(
        source_id=row.id,
        url=row.url,
        caching=Caching(etag=row.etag, last_modified=row.last_modified),
        status=row.status,
        error_class=row.error_class,
        error_message=row.error_message,
        consecutive_failures=row.consecutive_failures,
        last_fetch_at=row.last_fetch_at,
        last_success_at=row.last_success_at,
        next_fetch_at=row.next_fetch_at,
        permanent_url=row.permanent_url,
        warnings=tuple(row.warnings or ()),
    )


__all__ = ["SqlStore", "content_hash", "normalise_url"]


def _subscription_columns(sub: Subscriber) -> dict[str, Any]:
    """The recipient columns that say what a reader follows and how: one mapping for the
    configuration's sync and the operator's saves, so neither forgets a column."""
    return {
        "display_name": sub.name,
        "topics": list(sub.topics),
        "countries": list(sub.countries),
        "query": sub.query,
        "language": sub.language,
        "cadence": sub.cadence,
        "timezone": sub.timezone,
        "alerts": sub.alerts,
    }


def _recipient(row: Row[Any]) -> RecipientState:
    return RecipientState(
        id=row.id,
        kind=row.kind,
        subscriber=Subscriber(
            email=row.address,
            topics=tuple(row.topics),
            cadence=row.cadence,
            timezone=row.timezone or "UTC",
            name=row.display_name,
            alerts=row.alerts,
            countries=tuple(row.countries or ()),
            query=row.query,
            language=row.language,
        ),
        status=row.status,
        managed_by=row.managed_by,
        subscribed_at=row.subscribed_at,
        unsubscribed_at=row.unsubscribed_at,
        last_digest_at=row.last_digest_at,
        bounces=row.bounces,
        bounced_at=row.bounced_at,
        consented_at=row.consented_at,
        consent_source=row.consent_source,
        confirmed_at=row.confirmed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        countries=tuple(row.countries or ()),
        query=row.query,
        send_time=row.send_time,
        send_weekday=row.send_weekday,
        language=row.language,
    )
