"""The search index: each item's searchable text, kept beside the item, and the
SQL that narrows a saved search down to its candidates.

The index holds :func:`syndicator.query.words.searchable` of the item's title and
body, the very string the matcher searches; a query's terms are substrings of it
(:attr:`syndicator.query.syntax.Term.needle`). So plain substring search on the
index finds every match, whatever the language, and the matcher then decides.

* SQLite: an FTS5 table with the ``trigram`` tokenizer (SQLite 3.34 or later),
  case-sensitive because the text is folded already; its rowid is the item id.
  A needle of three characters or more is a trigram phrase query; a shorter one
  (a single Chinese character) is found with ``instr`` over the whole index.
* PostgreSQL: a plain table ``item_search(item_id, body)`` searched with ``LIKE``,
  with a ``pg_trgm`` GIN index when the extension exists or can be created; without
  it the search is a scan, still exact, only slower.

The text is computed in Python (the folding is ours, not the database's), so it is
written by :func:`write` whenever an item is inserted or its text changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    Text,
    and_,
    cast,
    column,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.exc import DBAPIError

from syndicator.query.prefilter import Both, Condition, Contains, HasValue
from syndicator.query.words import searchable
from syndicator.store import schema as t

TABLE = "item_search"
_SQLITE = table(TABLE, column("rowid", Integer), column("body", Text))
_POSTGRES = table(TABLE, column("item_id", Integer), column("body", Text))
_FTS_MIN = 3
"""The trigram tokenizer indexes nothing shorter than three characters."""


def _table(conn_or_dialect: Connection | str) -> Any:
    name = conn_or_dialect if isinstance(conn_or_dialect, str) else conn_or_dialect.dialect.name
    return _SQLITE if name == "sqlite" else _POSTGRES


def _key(dialect: str) -> Any:
    index = _table(dialect)
    return index.c.rowid if dialect == "sqlite" else index.c.item_id


def create(conn: Connection) -> None:
    """Create the index, empty (see :func:`backfill`)."""
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(
                f"CREATE VIRTUAL TABLE {TABLE} "
                "USING fts5(body, tokenize='trigram case_sensitive 1')"
            )
        )
        return
    conn.execute(
        text(
            f"CREATE TABLE {TABLE} (item_id INTEGER PRIMARY KEY "
            "REFERENCES items (id) ON DELETE CASCADE, body TEXT NOT NULL)"
        )
    )
    ops = _trigram_ops(conn)
    if ops is not None:
        conn.execute(text(f"CREATE INDEX ix_{TABLE}_body ON {TABLE} USING gin (body {ops})"))


def _trigram_ops(conn: Connection) -> str | None:
    """The ``pg_trgm`` operator class, creating the extension if we may; None if not."""
    find = text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    )
    schema = conn.execute(find).scalar()
    if schema is None:
        try:
            with conn.begin_nested():  # a refusal must not abort the migration
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        except DBAPIError:
            return None
        schema = conn.execute(find).scalar()
    return None if schema is None else f'"{schema}".gin_trgm_ops'


def backfill(conn: Connection, batch: int = 1000) -> None:
    """Index every stored item (a new index on an existing archive)."""
    c = t.items.c
    last = 0
    while True:
        rows = conn.execute(
            select(c.id, c.title, c.summary, c.content)
            .where(c.id > last)
            .order_by(c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        write(conn, [(r.id, r.title, r.content or r.summary) for r in rows])
        last = rows[-1].id


def write(conn: Connection, rows: Sequence[tuple[int, str, str]]) -> None:
    """(Re)index items: ``(item id, title, body)``, the body being the item's text."""
    if not rows:
        return
    dialect = conn.dialect.name
    index, key = _table(dialect), _key(dialect)
    ids = [row[0] for row in rows]
    for start in range(0, len(ids), 500):
        conn.execute(delete(index).where(key.in_(ids[start : start + 500])))
    conn.execute(
        insert(index),
        [{key.name: item_id, "body": searchable(title, body)} for item_id, title, body in rows],
    )


def forget_source(conn: Connection, source_id: str) -> None:
    """Drop the index rows of a source's items, before the items go.

    PostgreSQL's foreign key would do it; an FTS5 table has none.
    """
    key = _key(conn.dialect.name)
    ids = select(t.items.c.id).where(t.items.c.source_id == source_id)
    conn.execute(delete(_table(conn)).where(key.in_(ids)))


def candidates(condition: Condition, dialect: str) -> Select[Any]:
    """``SELECT items`` narrowed to those that may meet ``condition`` (a superset)."""
    query = select(t.items)
    if dialect != "sqlite":
        index = _POSTGRES
        query = query.join(index, index.c.item_id == t.items.c.id)
    return query.where(_where(condition, dialect))


def _where(condition: Condition, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":
        fts = _fts_expression(condition)
        if fts is not None:
            return t.items.c.id.in_(select(_SQLITE.c.rowid).where(_SQLITE.c.body.op("MATCH")(fts)))
    if isinstance(condition, Contains):
        return _contains(condition.needle, dialect)
    if isinstance(condition, HasValue):
        return _has_value(condition)
    parts = [_where(p, dialect) for p in condition.parts]
    return and_(*parts) if isinstance(condition, Both) else or_(*parts)


def _fts_expression(condition: Condition) -> str | None:
    """One FTS5 query for a condition made only of long-enough needles, else None."""
    if isinstance(condition, Contains):
        if len(condition.needle) < _FTS_MIN:
            return None
        return '"' + condition.needle.replace('"', '""') + '"'
    if isinstance(condition, HasValue):
        return None
    parts = [_fts_expression(p) for p in condition.parts]
    if any(p is None for p in parts):
        return None
    joiner = " AND " if isinstance(condition, Both) else " OR "
    return "(" + joiner.join(p for p in parts if p is not None) + ")"


def _contains(needle: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":
        found = func.instr(_SQLITE.c.body, literal(needle)) > 0
        return t.items.c.id.in_(select(_SQLITE.c.rowid).where(found))
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return _POSTGRES.c.body.like(f"%{escaped}%", escape="\\")


def _has_value(condition: HasValue) -> ColumnElement[bool]:
    c = t.items.c
    values = list(condition.values)
    if condition.name == "source":
        return c.source_id.in_(values)
    if condition.name == "topic":
        tg = t.taggings.c
        return exists().where(and_(tg.item_id == c.id, tg.topic.in_(values)))
    if condition.name == "country":  # the JSON list holds the code in quotes
        listed = cast(c.countries, Text)
        return or_(*[listed.like(f'%"{code}"%') for code in values])
    lang = func.replace(func.lower(c.lang), "_", "-")
    return or_(*[lang.like(f"{value}%") for value in values])
