"""Forward-only schema migrations, run in one transaction when the store opens."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, insert, select, update

from syndicator.errors import SchemaVersionError
from syndicator.store.schema import SCHEMA_VERSION, meta, metadata

Migration = Callable[[Connection], None]


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)


# MIGRATIONS[n] brings a database from version n to n + 1; version 0 is empty.
MIGRATIONS: dict[int, Migration] = {0: _create_v1}


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
