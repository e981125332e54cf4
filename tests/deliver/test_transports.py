"""Transports on their own: the outbox folder and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import email
import os
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest

from syndicator.config import SmtpSettings
from syndicator.deliver.render import Renderer
from syndicator.deliver.tokens import TokenSigner
from syndicator.deliver.transports import OutboxTransport, SmtpTransport
from syndicator.errors import DeliveryError, OutputError
from syndicator.models import Item, StoredItem, Subscriber, Tagging

from .conftest import Collecting, free_port

NOW = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
ITEM = StoredItem(
    id=1,
    item=Item(source_id="osce", identity="x", title="A release", link="https://example.org/1"),
    first_seen_at=NOW,
    last_changed_at=NOW,
    taggings=(Tagging("corruption", 2.0, ()),),
)


@pytest.fixture
def renderer(make_settings) -> Renderer:  # type: ignore[no-untyped-def]
    return Renderer(make_settings(), TokenSigner("k"))


def rendered(renderer: Renderer, email_: str = "ann@example.org", mid: str = "<m1@example.org>"):  # type: ignore[no-untyped-def]
    return renderer.render("digest", Subscriber(email_, ("corruption",)), [ITEM], mid, NOW)


def test_outbox_writes_one_file_per_message_id(tmp_path: Path, renderer: Renderer) -> None:
    outbox = tmp_path / "out" / "box"
    with OutboxTransport(outbox) as transport:
        transport.send(rendered(renderer))
        transport.send(rendered(renderer))  # a retry of the same message
        transport.send(rendered(renderer, mid="<m2@example.org>"))
    files = sorted(p.name for p in outbox.iterdir())
    assert len(files) == 2
    assert files[0].startswith("20261128T070000Z-m1_example.org-")
    assert all(f.endswith(".eml") for f in files)
    parsed = email.message_from_bytes((outbox / files[0]).read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<m1@example.org>"


def test_outbox_leaves_no_temp_files(tmp_path: Path, renderer: Renderer) -> None:
    with OutboxTransport(tmp_path) as transport:
        transport.send(rendered(renderer))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_hostile_message_id_cannot_escape_the_folder(tmp_path: Path, renderer: Renderer) -> None:
    outbox = tmp_path / "outbox"
    with OutboxTransport(outbox) as transport:
        transport.send(rendered(renderer, mid="<../../etc/passwd@x>"))
    assert len(list(outbox.iterdir())) == 1
    assert list(tmp_path.iterdir()) == [outbox]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_outbox_is_an_output_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="outbox"), OutboxTransport(locked / "sub"):
            pass
    finally:
        locked.chmod(0o700)


def test_outbox_that_is_a_file_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="outbox"), OutboxTransport(blocker):
        pass


def test_smtp_delivers_over_one_connection(
    smtp_server: tuple[Collecting, int], renderer: Renderer
) -> None:
    handler, port = smtp_server
    settings = SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=5)
    with SmtpTransport(settings) as transport:
        transport.send(rendered(renderer, "ann@example.org", "<a@x>"))
        transport.send(rendered(renderer, "bob@example.org", "<b@x>"))
        assert transport._client is not None
    assert transport._client is None  # closed on exit
    assert [m.rcpt_tos for m in handler.messages] == [["ann@example.org"], ["bob@example.org"]]
    assert handler.messages[0].mail_from == "news@example.org"


def test_smtp_refused_recipient_fails_only_that_one(
    smtp_server: tuple[Collecting, int], renderer: Renderer
) -> None:
    handler, port = smtp_server
    handler.refuse.add("gone@example.org")
    settings = SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=5)
    with SmtpTransport(settings) as transport:
        with pytest.raises(DeliveryError, match=r"gone@example\.org") as failure:
            transport.send(rendered(renderer, "gone@example.org", "<g@x>"))
        assert "550" in str(failure.value)
        transport.send(rendered(renderer, "bob@example.org", "<b@x>"))
    assert [m.rcpt_tos for m in handler.messages] == [["bob@example.org"]]


def test_smtp_server_down_fails_fast_naming_each_subscriber(renderer: Renderer) -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", timeout=2)
    with SmtpTransport(settings) as transport:
        for who in ("ann@example.org", "bob@example.org"):
            with pytest.raises(DeliveryError, match=who) as failure:
                transport.send(rendered(renderer, who, f"<{who}>"))
            assert "unavailable" in str(failure.value)


def test_smtp_connection_closed_even_when_the_run_fails(
    smtp_server: tuple[Collecting, int], renderer: Renderer
) -> None:
    _, port = smtp_server
    settings = SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=5)
    transport = SmtpTransport(settings)

    def run() -> None:
        with transport:
            transport.send(rendered(renderer))
            raise RuntimeError("a bug in the caller")

    with pytest.raises(RuntimeError):
        run()
    assert transport._client is None


def test_smtp_starttls_required_but_not_offered(
    smtp_server: tuple[Collecting, int], renderer: Renderer
) -> None:
    """A server without STARTTLS must not get the message in the clear."""
    handler, port = smtp_server
    settings = SmtpSettings(host="127.0.0.1", port=port, security="starttls", timeout=5)
    with SmtpTransport(settings) as transport, pytest.raises(DeliveryError, match="unavailable"):
        transport.send(rendered(renderer))
    assert handler.messages == []
