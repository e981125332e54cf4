"""Transports are a registry: one registered in a test alone is chosen by
``delivery.transport`` and carries the run's messages. Through it: a failed message
is logged once, and ``event=delivered`` shows every counter of the report."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from syndicator.config import DeliverySettings, parse_settings
from syndicator.deliver.render import Rendered
from syndicator.deliver.transports import (
    known_transports,
    register_transport,
    unregister_transport,
)
from syndicator.errors import ConfigError, DeliveryError
from syndicator.service.stages import deliver_stage
from syndicator.store import SqlStore

from .conftest import Collecting, Feeder, MakeSettings
from .test_deliver import smtp_settings

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


class MemoryTransport:
    """Keeps each accepted message in a list; refuses, for now, the addresses in ``defer``."""

    def __init__(self, defer: set[str]) -> None:
        self.sent: list[Rendered] = []
        self.defer = defer

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    @property
    def unavailable(self) -> str | None:
        return None

    def send(self, rendered: Rendered, time_left: float | None = None) -> None:
        if rendered.email in self.defer:
            raise DeliveryError(rendered.email, "the memory is full for this one, try later")
        self.sent.append(rendered)


@pytest.fixture
def memory() -> Iterator[list[MemoryTransport]]:
    made: list[MemoryTransport] = []

    def factory(delivery: DeliverySettings) -> MemoryTransport:
        transport = MemoryTransport({"bob@example.org"})
        made.append(transport)
        return transport

    register_transport("memory", factory)
    yield made
    unregister_transport("memory")


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """What Syndicator logs, whether or not the logging set-up stops propagation."""
    kept: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record)

    handler = Keep(logging.DEBUG)
    logger = logging.getLogger("syndicator")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield kept
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_registered_transport_carries_the_run(
    store: SqlStore,
    make_settings: MakeSettings,
    feeder: Feeder,
    memory: list[MemoryTransport],
    records: list[logging.LogRecord],
) -> None:
    settings = make_settings(
        delivery={"transport": "memory"},
        subscribers=[
            {"email": "ann@example.org", "topics": ["corruption"]},
            {"email": "bob@example.org", "topics": ["corruption"]},
        ],
    )
    feeder.add("Bribery case", ("corruption",), T0 - timedelta(hours=1))
    report = deliver_stage(store, settings, T0)
    assert report is not None
    [transport] = memory
    assert [m.email for m in transport.sent] == ["ann@example.org"]
    assert "Bribery case" in transport.sent[0].message.as_string()
    assert settings.delivery.outbox_dir.exists() is False  # nothing went to the outbox

    lines = [r.getMessage() for r in records]
    about_bob = [line for line in lines if "bob@example.org" in line or "try later" in line]
    assert len(about_bob) == 1, lines  # logged once, by the stage
    assert about_bob[0].startswith("event=delivery_failed subscriber=bob@example.org dispatch=")
    assert "state=pending" in about_bob[0]

    [delivered] = [line for line in lines if line.startswith("event=delivered ")]
    for counter in (
        "messages=1",
        "retried=0",
        "not_due=0",
        "nothing_new=0",
        "skipped=0",
        "failures=1",
        "bounced=0",
        "not_reached=0",
        "left_pending=1",
        "left_unknown=0",
    ):
        assert f" {counter}" in delivered, delivered


def test_an_unknown_transport_names_the_key_and_the_known_ones(
    make_settings: MakeSettings,
) -> None:
    with pytest.raises(ValueError, match="unknown transport 'memory'") as caught:
        make_settings(delivery={"transport": "memory"})  # not registered in this test
    assert "known: " + ", ".join(known_transports()) in str(caught.value)
    assert known_transports() == ("outbox", "smtp")


def test_an_unknown_transport_in_a_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"delivery\.transport: Value error, unknown transport"):
        parse_settings(
            {
                "base_url": "https://feeds.example.org/",
                "taxonomy": {"topics": [{"id": "corruption", "title": "Corruption"}]},
                "delivery": {"transport": "carrier-pigeon"},
            },
            tmp_path / "config.yaml",
        )


def test_an_smtp_failure_is_logged_once_and_every_counter_is_shown(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
    records: list[logging.LogRecord],
) -> None:
    """Issue 8: a failed message was logged twice (by the run and by the stage), and
    ``event=delivered`` left out counters the report keeps (retried, not_due, ...)."""
    handler, port = smtp_server
    settings = smtp_settings(make_settings, port)
    feeder.add("Bribery in ports", ("corruption",), T0)
    handler.defer.add("bob@example.org")
    deliver_stage(store, settings, T0)
    handler.defer.clear()
    deliver_stage(store, settings, T0 + timedelta(minutes=15))

    lines = [r.getMessage() for r in records]
    about_451 = [line for line in lines if "451" in line]
    assert len(about_451) == 1, lines
    assert about_451[0].startswith("event=delivery_failed subscriber=bob@example.org")
    delivered = [line for line in lines if line.startswith("event=delivered ")]
    assert len(delivered) == 2
    assert " retried=0 not_due=0 nothing_new=0 skipped=0 failures=1 " in delivered[0]
    # The second run sends Bob's pending digest again; the others' next digest is not due.
    assert " messages=1 retried=1 not_due=3 " in delivered[1]
    assert " left_pending=0 left_unknown=0" in delivered[1]
