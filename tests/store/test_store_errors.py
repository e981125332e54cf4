"""Database failures read as the project's words: which database, what went wrong, what to do.

No message carries SQLAlchemy's wrapper text, its SQL or its link to SQLAlchemy's
website; the original exception stays the ``__cause__`` for code and tracebacks.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import SQLAlchemyError

from syndicator.cli import main
from syndicator.errors import StorageError
from syndicator.models import CollectResult, Item, Subscriber, TagResult
from syndicator.store import open_store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SQLALCHEMY_TEXT = ("sqlalche.me", "Background on this error", "(sqlite3.", "(psycopg.", "[SQL:")


def assert_plain(error: StorageError) -> None:
    text = str(error)
    for raw in SQLALCHEMY_TEXT:
        assert raw not in text
    assert "\n" not in text


def test_missing_postgres_driver_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    with pytest.raises(StorageError) as caught:
        open_store("postgresql://syndicator:secret@db.example.org/news")
    text = str(caught.value)
    assert text.startswith("database: postgresql+psycopg://syndicator:***@db.example.org/news")
    assert "pip install 'syndicator[postgres]'" in text
    assert "secret" not in text
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


def test_missing_driver_through_the_cli_exits_1_with_the_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "base_url: https://news.example.org/\n"
        "database: postgresql://syndicator@127.0.0.1/news\n"
        "taxonomy: {topics: [{id: corruption, title: Corruption}]}\n",
        encoding="utf-8",
    )
    monkeypatch.setitem(sys.modules, "psycopg", None)
    assert main(["--config", str(config), "status"]) == 1
    err = capsys.readouterr().err
    assert "database: postgresql+psycopg://syndicator@127.0.0.1/news" in err
    assert "pip install 'syndicator[postgres]'" in err
    assert "No module named" not in err


def test_a_file_that_is_not_a_database_is_said_plainly(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_text("these are notes, not a database\n" * 100)
    with pytest.raises(StorageError) as caught:
        open_store(f"sqlite:///{path}")
    assert str(caught.value) == f"database: sqlite:///{path}: file is not a database"
    assert isinstance(caught.value.__cause__, SQLAlchemyError)


def test_unreachable_postgres_is_said_plainly() -> None:
    with pytest.raises(StorageError) as caught:
        open_store("postgresql://nobody:pw@127.0.0.1:1/none?connect_timeout=2")
    assert_plain(caught.value)
    assert "Connection refused" in str(caught.value)
    assert "pw" not in str(caught.value).replace("postgresql", "")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("nosuchdb://db/news", "unknown kind of database 'nosuchdb'"),
        ("not a url", "'not a url' is not a database URL"),
    ],
)
def test_unusable_urls_name_what_is_expected(url: str, words: str) -> None:
    with pytest.raises(StorageError) as caught:
        open_store(url)
    assert words in str(caught.value)
    assert "sqlite:///PATH or postgresql://USER@HOST/DB" in str(caught.value)
    assert_plain(caught.value)


def test_refused_reservation_keeps_its_integrity_cause_but_not_its_text(store_url: str) -> None:
    store = open_store(store_url)
    try:
        store.sync_config_recipients([Subscriber("ana@example.org", ("corruption",))], NOW)
        item = Item(source_id="src", identity="1", title="Bribery case")
        store.apply_collect(CollectResult(source_id="src", status="ok", items=(item,)), NOW)
        (stored,) = store.items_needing_tags("v1")
        result = TagResult(topics=("corruption",), scores={"corruption": 2.0}, evidence={})
        store.save_tags(stored.id, result, "v1", NOW)
        found = store.find_recipient("ana@example.org")
        assert found is not None
        recipient = found.id
        store.reserve_dispatch(recipient, "digest", [stored.id], "<m1@x>", NOW)
        with pytest.raises(StorageError, match="already reserved") as caught:
            store.reserve_dispatch(recipient, "digest", [stored.id], "<m2@x>", NOW)
    finally:
        store.close()
    assert_plain(caught.value)
    assert type(caught.value.__cause__).__name__ == "IntegrityError"
