"""Fixtures for the deliver stage: settings, tagged items, a local SMTP server.

The ``store`` fixture comes from ``tests/conftest.py``: every test that uses it
runs on SQLite and on PostgreSQL (skipped when the server is unreachable).
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from syndicator.config import Settings
from syndicator.models import CollectResult, Item, TagResult
from syndicator.store import SqlStore

TOPICS = [
    {"id": "organized-crime", "title": "Organized crime"},
    {"id": "trafficking-in-persons", "title": "Trafficking in persons"},
    {"id": "drug-trafficking", "title": "Drug trafficking"},
    {"id": "corruption", "title": "Corruption"},
    {"id": "terrorism", "title": "Terrorism"},
]
SIGNING_KEY = "test-signing-key"

MakeSettings = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeSettings:
    """Settings with the default taxonomy; keyword arguments override top-level blocks."""
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", SIGNING_KEY)

    def make(**overrides: Any) -> Settings:
        delivery = {
            "outbox_dir": str(tmp_path / "outbox"),
            "sender": "Syndicator <news@example.org>",
        }
        delivery |= overrides.pop("delivery", {})
        data: dict[str, Any] = {
            "base_url": "https://news.example.org/",
            "taxonomy": {"topics": TOPICS},
            "sources": [
                {"id": "osce", "type": "folder", "path": str(tmp_path), "title": "OSCE"},
                {"id": "unodc", "type": "folder", "path": str(tmp_path), "title": "UNODC"},
            ],
            "delivery": delivery,
            "subscribers": [
                {"email": "ann@example.org", "name": "Ann", "topics": ["corruption"]},
            ],
        }
        data |= overrides
        return Settings.model_validate(data)

    return make


_counter = itertools.count(1)


@dataclass
class Feeder:
    """Puts tagged items into the store the way collect and tag do."""

    store: SqlStore
    ids: dict[str, int] = field(default_factory=dict)

    def add(
        self,
        title: str,
        topics: tuple[str, ...],
        now: datetime,
        source: str = "osce",
        link: str | None = None,
        summary: str = "",
        published_at: datetime | None = None,
    ) -> int:
        identity = f"item-{next(_counter)}"
        item = Item(
            source_id=source,
            identity=identity,
            title=title,
            link=link or f"https://example.org/{identity}",
            summary=summary or f"Summary of {title}.",
            published_at=published_at,
        )
        self.store.apply_collect(CollectResult(source_id=source, status="ok", items=(item,)), now)
        pending = [s for s in self.store.items_needing_tags("v1") if s.item.identity == identity]
        (stored,) = pending
        result = TagResult(
            topics=topics,
            scores=dict.fromkeys(topics, 2.0),
            evidence={t: ["evidence"] for t in topics},
        )
        self.store.save_tags(stored.id, result, "v1", now)
        self.ids[title] = stored.id
        return stored.id


@pytest.fixture
def feeder(store: SqlStore) -> Feeder:
    return Feeder(store)


# --------------------------------------------------------------------------- SMTP


class Collecting:
    """An aiosmtpd handler that keeps what it accepts and misbehaves on request.

    ``refuse`` answers 550 to those recipients, ``defer`` 451; ``mail_reply`` answers
    MAIL FROM (e.g. a 550); ``data_reply`` answers the end of the data per recipient
    (e.g. a 554); ``data_delay`` waits that many seconds before answering the final
    dot of a message it keeps; ``stall_rcpt`` never answers RCPT TO. ``messages`` is
    what the server kept (delivered), ``mail_from`` and ``rcpt`` count commands.
    """

    def __init__(self) -> None:
        self.messages: list[Envelope] = []
        self.refuse: set[str] = set()
        self.defer: set[str] = set()
        self.mail_reply: str | None = None
        self.data_reply: dict[str, str] = {}
        self.data_delay = 0.0
        self.stall_rcpt = False
        self.mail_from = 0
        self.rcpt = 0
        self.on_data: Callable[[], None] | None = None
        """Called as each message arrives (a test's clock can move on)."""

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.mail_from += 1
        if self.mail_reply is not None:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.rcpt += 1
        if self.stall_rcpt:
            await asyncio.sleep(3600)  # cancelled when the server stops
        if address.lower() in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        if address.lower() in self.defer:
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for address in envelope.rcpt_tos:
            if address.lower() in self.data_reply:
                return self.data_reply[address.lower()]
        if self.on_data is not None:
            self.on_data()
        self.messages.append(envelope)  # from here on the reader gets it, answer or not
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        return "250 Message accepted for delivery"

    def copies(self, address: str) -> int:
        """How many messages reached the server for ``address``."""
        return sum(1 for m in self.messages if address in m.rcpt_tos)


def free_port() -> int:
    """A port nobody listens on now (aiosmtpd's Controller cannot bind port 0 itself)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Collecting, int]]:
    handler = Collecting()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()
