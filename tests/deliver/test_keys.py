"""Processes that disagree about the unsubscribe-link keys are told so at start.

The decision (:func:`key_warnings`) is tested on plain records; the recording and
the warning on real stores (one SQLite file shared by two "processes", and
PostgreSQL), and through the serve application's own startup.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from syndicator.config import DeliverySettings, Settings
from syndicator.deliver.keys import (
    KEY_USE_WINDOW,
    check_keys,
    fingerprint,
    forget_key_use,
    key_problems,
    key_warnings,
)
from syndicator.deliver.tokens import GENERATED, SECRET_NAME, signer_for
from syndicator.store import KeyUse, SqlStore, open_store
from syndicator.web.unsubscribe import make_unsubscribe_app

from .conftest import MakeSettings

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
DELIVERY = DeliverySettings()
ENV = "SYNDICATOR_SIGNING_KEY"


def use(process: str, role: str, signs: str, *previous: str, source: str = ENV) -> KeyUse:
    return KeyUse(process, role, signs, (signs, *previous), source, NOW)


def warnings(me: KeyUse, *others: KeyUse, shared: bool = False) -> list[str]:
    return key_warnings(me, others, DELIVERY, shared_database=shared)


# ---------------------------------------------------------------- the decision


def test_agreeing_processes_and_a_rotation_in_progress_are_quiet() -> None:
    assert warnings(use("h:1", "worker", "A"), use("h:2", "serve", "A")) == []
    assert (
        warnings(use("h:2", "serve", "A"), use("h:1", "worker", "A"), use("h:3", "run", "A")) == []
    )
    # serve already rotated to B and still accepts A; a worker not yet restarted signs with A
    assert warnings(use("h:2", "serve", "B", "A"), use("h:1", "worker", "A")) == []
    assert warnings(use("h:1", "worker", "A"), use("h:2", "serve", "B", "A")) == []
    # two workers mid-rotation: the new one accepts the old key
    assert warnings(use("h:1", "worker", "B", "A"), use("h:3", "worker", "A")) == []
    # a cron run from before a correct rotation signed with A; serve still accepts A
    assert warnings(use("h:2", "serve", "B", "A"), use("h:9", "run", "A")) == []


def test_a_serve_that_refuses_a_workers_links_is_reported_from_both_sides() -> None:
    worker, serve = use("w:1", "worker", "A"), use("s:2", "serve", "B")
    (from_worker,) = warnings(worker, serve)
    assert from_worker.startswith("event=signing_key_mismatch ")
    assert "serve s:2 refuses the links this worker signs" in from_worker
    assert "worker w:1: key A (from SYNDICATOR_SIGNING_KEY)" in from_worker
    assert "serve s:2: key B (from SYNDICATOR_SIGNING_KEY)" in from_worker
    assert "SYNDICATOR_PREVIOUS_SIGNING_KEYS" in from_worker
    (from_serve,) = warnings(serve, worker)
    assert "this serve refuses links signed with key A" in from_serve
    (mid_rotation,) = warnings(use("s:2", "serve", "C", "B"), worker)
    assert "serve s:2: key C (from SYNDICATOR_SIGNING_KEY), also accepts B" in mid_rotation


def test_signers_with_unrelated_keys_are_reported_once_per_configuration() -> None:
    runs = [use(f"h:{pid}", "run", "A", source=GENERATED) for pid in range(10, 20)]
    (line,) = warnings(use("h:1", "worker", "B"), *runs)
    assert "unrelated keys" in line
    assert "run h:10: key A (generated, kept in the database)" in line
    # once a serve has recorded its keys, only what it accepts matters
    assert warnings(use("h:1", "worker", "B"), *runs, use("s:2", "serve", "B", "A")) == []


def test_only_serve_verifies_so_an_old_run_refuses_nothing() -> None:
    """Only serve verifies: a run that accepts only the old key refuses nothing."""
    assert warnings(use("h:1", "worker", "B", "A"), use("h:9", "run", "A")) == []


def test_a_generated_key_in_a_shared_database_is_reported() -> None:
    generated = use("h:1", "worker", "G", source=GENERATED)
    assert warnings(generated) == []  # one host, SQLite: the stored key is shared by all
    assert warnings(generated, use("h:2", "serve", "G", source=GENERATED)) == []
    (on_postgres,) = warnings(generated, shared=True)
    assert on_postgres.startswith("event=signing_key_generated ")
    assert "a PostgreSQL database" in on_postgres
    (other_host,) = warnings(generated, use("other:7", "worker", "G", source=GENERATED))
    assert "hosts other" in other_host
    assert warnings(use("h:1", "worker", "K"), shared=True) == []  # configured: fine


def test_a_process_does_not_compare_itself_with_its_own_record() -> None:
    me = use("h:1", "serve", "B")
    assert warnings(me, me) == []


def test_status_lists_each_conflict_once() -> None:
    uses = [
        use("s:1", "serve", "B", "A"),
        use("w:2", "worker", "B"),
        *(use(f"h:{pid}", "run", "A") for pid in range(10, 15)),  # fine: serve accepts A
        use("x:3", "worker", "C"),
        use("x:4", "worker", "C"),  # same configuration as x:3
    ]
    assert key_problems(uses) == ["serve s:1 refuses links signed with key C (worker x:3)"]
    assert key_problems(uses[:7]) == []
    assert key_problems(uses[1:]) == [  # no serve: signers that could never both be honoured
        "worker w:2 and run h:10 sign with unrelated keys (B, A)",
        "worker w:2 and worker x:3 sign with unrelated keys (B, C)",
        "run h:10 and worker x:3 sign with unrelated keys (A, C)",
    ]


def test_fingerprints_tell_keys_apart_without_showing_them() -> None:
    assert fingerprint("key-one") == fingerprint(b"key-one")
    assert fingerprint("key-one") != fingerprint("key-two")
    assert len(fingerprint("key-one")) == 16
    assert "key-one" not in fingerprint("key-one")


# ---------------------------------------------------------------- real stores


@pytest.fixture
def logs(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.LogCaptureFixture]:
    monkeypatch.setattr(logging.getLogger("syndicator"), "propagate", True)
    caplog.set_level(logging.INFO, logger="syndicator")
    return caplog


def keyed(
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    key: str | None,
    previous: str = "",
) -> Settings:
    """Settings of one process: its key in its own variables, as another host's env would."""
    if key is not None:
        monkeypatch.setenv(f"KEY_{name}", key)
    monkeypatch.setenv(f"OLD_{name}", previous)
    return make_settings(
        delivery={"signing_key_env": f"KEY_{name}", "previous_signing_keys_env": f"OLD_{name}"}
    )


def mismatches(logs: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in logs.records if "signing_key_" in r.getMessage()]


def test_two_processes_with_different_keys_on_one_sqlite_file(
    tmp_path: Path,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    logs: pytest.LogCaptureFixture,
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    worker = keyed(make_settings, monkeypatch, "W", "old-key").model_copy(update={"database": url})
    serve = keyed(make_settings, monkeypatch, "S", "new-key").model_copy(update={"database": url})
    store: SqlStore = open_store(url)
    try:
        assert check_keys(store, worker, "worker", NOW, "host:1") == []
        link = signer_for(store, worker.delivery).sign("ann@example.org")
        (line,) = check_keys(store, serve, "serve", NOW + timedelta(minutes=5), "host:2")
        assert mismatches(logs) == [line]
        assert logs.records[-1].levelno == logging.WARNING
        assert f"key {fingerprint('old-key')} (from KEY_W)" in line
        assert f"key {fingerprint('new-key')} (from KEY_S)" in line
        assert signer_for(store, serve.delivery).verify(link) is None  # what the warning means

        # The operator lists the old key as previous on the serve host: quiet, and both verify.
        fixed = keyed(make_settings, monkeypatch, "S", "new-key", previous="old-key")
        fixed = fixed.model_copy(update={"database": url})
        assert check_keys(store, fixed, "serve", NOW + timedelta(minutes=10), "host:2") == []
        verifier = signer_for(store, fixed.delivery)
        assert verifier.verify(link) == "ann@example.org"
        assert verifier.verify(verifier.sign("bob@example.org")) == "bob@example.org"
        # and a worker restarted afterwards with the new key finds nothing to say either
        rotated = keyed(make_settings, monkeypatch, "W", "new-key", previous="old-key")
        assert check_keys(store, rotated, "worker", NOW + timedelta(minutes=15), "host:1") == []
    finally:
        store.close()


def test_records_older_than_the_window_no_longer_count(
    store: SqlStore, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = keyed(make_settings, monkeypatch, "W", "old-key")
    serve = keyed(make_settings, monkeypatch, "S", "new-key")
    check_keys(store, worker, "worker", NOW, "host:1")
    later = NOW + KEY_USE_WINDOW + timedelta(minutes=1)
    assert check_keys(store, serve, "serve", later, "host:2") == []
    assert [u.process for u in store.key_uses(NOW)] == ["host:2"]  # and it was forgotten


def test_a_process_that_stops_cleanly_is_forgotten(
    store: SqlStore, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_keys(store, keyed(make_settings, monkeypatch, "W", "old-key"), "worker", NOW, "host:1")
    forget_key_use(store, "host:1")
    serve = keyed(make_settings, monkeypatch, "S", "new-key")
    assert check_keys(store, serve, "serve", NOW, "host:2") == []


def test_a_generated_key_on_postgresql_is_reported(
    postgres_url: str, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = keyed(make_settings, monkeypatch, "W", None)
    settings = settings.model_copy(update={"database": postgres_url})
    store = open_store(postgres_url)
    try:
        (line,) = check_keys(store, settings, "worker", NOW, "host:1")
        assert "event=signing_key_generated" in line
        assert "(generated, kept in the database)" in line
        stored = store.get_secret(SECRET_NAME)
        assert stored is not None
        assert f"key {fingerprint(stored)} " in line
    finally:
        store.close()


def test_a_generated_key_on_a_lone_sqlite_file_is_fine(
    tmp_path: Path, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'alone.sqlite3'}"
    settings = keyed(make_settings, monkeypatch, "W", None).model_copy(update={"database": url})
    store = open_store(url)
    try:
        assert check_keys(store, settings, "worker", NOW, "host:1") == []
        assert check_keys(store, settings, "serve", NOW, "host:2") == []  # same stored key
    finally:
        store.close()


async def test_serve_checks_at_startup_and_forgets_itself_at_cleanup(
    tmp_path: Path,
    make_settings: MakeSettings,
    monkeypatch: pytest.MonkeyPatch,
    logs: pytest.LogCaptureFixture,
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    store = open_store(url)
    try:
        worker = keyed(make_settings, monkeypatch, "W", "old-key")
        check_keys(store, worker, "worker", NOW, "host:1")
        serve = keyed(make_settings, monkeypatch, "S", "new-key")
        app = make_unsubscribe_app(
            lambda: open_store(url), serve, clock=lambda: NOW, process="host:2"
        )
        async with TestClient(TestServer(app, host="127.0.0.1")):
            (line,) = mismatches(logs)
            assert "this serve refuses links signed with key" in line
            assert {u.process for u in store.key_uses(NOW)} == {"host:1", "host:2"}
        assert {u.process for u in store.key_uses(NOW)} == {"host:1"}
    finally:
        store.close()
