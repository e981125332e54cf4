"""Transports on their own: the outbox folder and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import email
import os
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from syndicator.config import SmtpSettings
from syndicator.deliver.render import Rendered, Renderer
from syndicator.deliver.tokens import TokenSigner
from syndicator.deliver.transports import OutboxTransport, SmtpTransport
from syndicator.errors import (
    DeliveryError,
    MessageRejected,
    OutcomeUnknown,
    OutputError,
    RecipientRefused,
    ServerUnavailable,
)
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


def test_outbox_removes_what_a_killed_deliver_left(tmp_path: Path, renderer: Renderer) -> None:
    """A run killed while writing a message leaves a hidden temporary; the next run's
    outbox (under the deliver lease) removes it, and nothing that is not stale."""
    import subprocess
    import sys

    from syndicator.atomic import TEMP_PREFIX

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    debris = tmp_path / f"{TEMP_PREFIX}{child.pid}-a1b2c3d4.tmp"  # its writer is gone
    debris.write_bytes(b"From: half a message")
    kept = tmp_path / ".keep-me"
    kept.write_bytes(b"not ours")
    with OutboxTransport(tmp_path) as transport:
        transport.send(rendered(renderer))
    assert not debris.exists()
    assert kept.exists()


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


def quick(port: int, **overrides: float) -> SmtpSettings:
    values: dict[str, float] = {"timeout": 1, "data_timeout": 1} | overrides
    return SmtpSettings(host="127.0.0.1", port=port, security="none", **values)


def test_smtp_failures_say_what_became_of_the_message(
    smtp_server: tuple[Collecting, int], renderer: Renderer
) -> None:
    """Each answer maps to one outcome; only a refused sender ends the run's use of SMTP."""
    handler, port = smtp_server
    handler.defer.add("later@example.org")
    handler.refuse.add("gone@example.org")
    handler.data_reply["spam@example.org"] = "554 5.7.1 message refused"
    with SmtpTransport(quick(port)) as transport:
        with pytest.raises(DeliveryError, match="451") as deferred:
            transport.send(rendered(renderer, "later@example.org", "<1@x>"))
        assert type(deferred.value) is DeliveryError  # temporary: retried later
        with pytest.raises(RecipientRefused, match="RCPT TO answered 550"):
            transport.send(rendered(renderer, "gone@example.org", "<2@x>"))
        with pytest.raises(MessageRejected, match="end of DATA answered 554"):
            transport.send(rendered(renderer, "spam@example.org", "<3@x>"))
        assert transport.unavailable is None
        transport.send(rendered(renderer, "ann@example.org", "<4@x>"))  # same connection
        handler.mail_reply = "550 5.7.1 relaying denied"
        with pytest.raises(ServerUnavailable, match="MAIL FROM answered 550"):
            transport.send(rendered(renderer, "bob@example.org", "<5@x>"))
        assert transport.unavailable is not None
        with pytest.raises(ServerUnavailable):
            transport.send(rendered(renderer, "cy@example.org", "<6@x>"))
    assert handler.mail_from == 5  # the last message never reached the server
    assert [m.rcpt_tos for m in handler.messages] == [["ann@example.org"]]


def test_smtp_no_answer_to_the_final_dot_is_an_unknown_outcome(
    smtp_server: tuple[Collecting, int], renderer: Renderer
) -> None:
    handler, port = smtp_server
    handler.data_delay = 3
    with SmtpTransport(quick(port)) as transport, pytest.raises(OutcomeUnknown, match="dot"):
        transport.send(rendered(renderer))
    assert len(handler.messages) == 1  # it did arrive


def test_smtp_waits_are_cut_to_the_time_left(
    smtp_server: tuple[Collecting, int], renderer: Renderer
) -> None:
    """With 30 s allowed for the final dot but half a second left in the run, the run
    does not wait for the server's answer after 3 s."""
    handler, port = smtp_server
    handler.data_delay = 3
    with SmtpTransport(quick(port, data_timeout=30)) as transport, pytest.raises(OutcomeUnknown):
        transport.send(rendered(renderer), time_left=0.5)


def test_smtp_server_that_hangs_twice_is_not_tried_again(
    smtp_server: tuple[Collecting, int], renderer: Renderer
) -> None:
    handler, port = smtp_server
    handler.stall_rcpt = True
    with SmtpTransport(quick(port)) as transport:
        for n in (1, 2):
            with pytest.raises(DeliveryError, match="no answer at RCPT TO") as hung:
                transport.send(rendered(renderer, mid=f"<h{n}@x>"))
            assert type(hung.value) is DeliveryError  # nothing was sent: temporary
        assert transport.unavailable is not None
        assert "stopped answering 2 times" in transport.unavailable
        with pytest.raises(ServerUnavailable):
            transport.send(rendered(renderer, mid="<h3@x>"))
    assert handler.rcpt == 2


def test_smtp_carries_the_message_byte_for_byte_with_dot_stuffing(
    smtp_server: tuple[Collecting, int], renderer: Renderer
) -> None:
    """The transaction is ours now (not smtplib's send_message): lines starting with a dot
    and non-ASCII text must arrive as rendered."""
    handler, port = smtp_server
    message = EmailMessage()
    message["From"] = "news@example.org"
    message["To"] = "ann@example.org"
    message["Subject"] = "Коррупция"
    message["Message-ID"] = "<dots@x>"
    message.set_content(".hidden line\n..two dots\nend\n.\n")
    sent = Rendered(
        email="ann@example.org",
        message=message,
        envelope_from="news@example.org",
        envelope_to="ann@example.org",
    )
    with SmtpTransport(quick(port)) as transport:
        transport.send(sent)
    (received,) = handler.messages
    assert isinstance(received.content, bytes)
    assert received.content.replace(b"\r\n", b"\n") == message.as_bytes()
