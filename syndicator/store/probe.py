"""Look at a database without changing it, for ``syndicator check``.

:meth:`SqlStore.open` creates a missing SQLite file and migrates the schema;
a check must do neither. This module connects with no set-up of its own, reads
the schema version and disconnects, so a database that does not exist yet is
reported as such and an older one is left for the next run to migrate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from syndicator.store.failures import engine_error, invalid_url, storage_error
from syndicator.store.migrations import current_version
from syndicator.store.schema import SCHEMA_VERSION
from syndicator.store.sql import normalise_url

CONNECT_TIMEOUT = 10
"""Seconds to wait for a PostgreSQL server whose URL sets no ``connect_timeout``."""


@dataclass(frozen=True, slots=True)
class DatabaseState:
    """What a probe found."""

    url: str
    """The URL as shown to operators (password hidden)."""
    version: int | None
    """Schema version; 0 for a database without our tables, None when the SQLite file
    does not exist yet (or the database lives in memory)."""
    sqlite_file: Path | None
    """The SQLite file, for a SQLite database kept on disk."""

    @property
    def newer_than_code(self) -> bool:
        return self.version is not None and self.version > SCHEMA_VERSION


def probe_database(url: str) -> DatabaseState:
    """Connect to ``url``, read its schema version, disconnect; create and migrate nothing.

    Raises :class:`~syndicator.errors.StorageError` in plain words when the database cannot be
    opened (missing driver, unreachable server, a file that is not a database).
    """
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except SQLAlchemyError as exc:
        raise invalid_url(url) from exc
    shown = parsed.render_as_string(hide_password=True)
    kwargs: dict[str, Any] = {}
    sqlite_file: Path | None = None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            return DatabaseState(shown, None, None)
        sqlite_file = Path(database)
        if not sqlite_file.exists():
            return DatabaseState(shown, None, sqlite_file)  # connecting would create it
    elif "connect_timeout" not in parsed.query:
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    try:
        engine = create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError) as exc:
        raise engine_error(parsed, exc) from exc
    try:
        with engine.connect() as conn:
            version = current_version(conn)
    except SQLAlchemyError as exc:
        raise storage_error(f"database: cannot open {shown}", exc) from exc
    finally:
        engine.dispose()
    return DatabaseState(shown, version, sqlite_file)

