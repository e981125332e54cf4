"""Fixtures shared by every test package: real databases and the shared data folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine

from syndicator.store import SqlStore, open_store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
POSTGRES_URL = os.environ.get(
    "SYNDICATOR_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def _syndicator_log_handlers() -> Iterator[None]:
    """Give each test the log handlers it started with.

    ``syndicator.cli.main`` points the ``syndicator`` logger at ``sys.stderr``, which
    under pytest's capture is a file that is closed after the test: a later test's
    log line would then print "--- Logging error ---" into that test's output.
    """
    import logging

    logger = logging.getLogger("syndicator")
    handlers, level = logger.handlers[:], logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


@pytest.fixture
def shared_dir() -> Path:
    """The project's shared data (dev set, seed); absent in a plain clone, so skip."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present beside the repository")
    return SHARED


def _postgres_schema_url() -> Iterator[str]:
    """A throw-away schema in the test database, so parallel runs never collide."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    except sqlalchemy.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.orig}")
    _trigram_extension_in_public(admin)
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _trigram_extension_in_public(admin: Engine) -> None:
    """Install pg_trgm in ``public`` once, as an operator would.

    Otherwise the store's migration installs it into the first test schema, and
    dropping that schema would take the extension, and other schemas' indexes, with it.
    """
    sqlalchemy = pytest.importorskip("sqlalchemy")
    try:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
    except sqlalchemy.exc.DBAPIError:
        pass  # not allowed, or created by a parallel run meanwhile: the store copes


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_schema_url()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL on each backend we support; the same tests run on both."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()
