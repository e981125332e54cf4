"""Email addresses: one validator wherever an address enters (issue 7, item 5).

The old pattern (``^[^@\\s<>]+@[^@\\s<>]+$``) took ``a@x.org, b@y.org`` and
``a@x.org;b@y.org`` for one address. Every entry point now asks email-validator,
with its DNS check off, and an error names the key path and the value.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from syndicator.addresses import AddressError, parse_address
from syndicator.cli import main
from syndicator.config import DeliverySettings, load_settings
from syndicator.errors import ConfigError
from syndicator.models import Subscriber
from syndicator.store import open_store

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
TOPICS = [{"id": "corruption", "title": "Corruption"}]
LISTS = [
    "ann,eve@example.org",
    "ann;eve@example.org",
    "ann@example.org,eve.example.org",
    "ann@example.org;eve",
    "a@x.org, b@y.org",
    "a@x.org;b@y.org",
]
"""Two recipients written as one; the old pattern let the first four through, and a
To header built from ``ann,eve@example.org`` names two mailboxes."""


def write(tmp_path: Path, **extra: Any) -> Path:
    data = {"base_url": "https://x.example/feeds", "taxonomy": {"topics": TOPICS}, **extra}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def subscriber(email: str) -> dict[str, Any]:
    return {"subscribers": [{"email": email, "topics": ["corruption"]}]}


# --------------------------------------------------------------------------- the function


@pytest.mark.parametrize(
    "value",
    [
        *LISTS,
        "Ann <ann@example.org>",  # a subscriber's name is a setting of its own
        "ann@example.org\r\nBcc: eve@example.org",
        "ann@example.org\n",
        " ann@example.org",
        "ann@example.org,",
        '"ann, eve"@example.org',
        "jörg@example.org",  # would need SMTPUTF8, which the transport does not negotiate
        "ann@localhost",
        "ann@example.test",
        "ann@[127.0.0.1]",
        "",
    ],
)
def test_rejected(value: str) -> None:
    with pytest.raises(AddressError, match="not a valid email address"):
        parse_address(value)


@pytest.mark.parametrize(
    ("value", "address", "ascii"),
    [
        ("ann@example.org", "ann@example.org", "ann@example.org"),
        ("Ann.Lee+news@Example.ORG", "Ann.Lee+news@example.org", "Ann.Lee+news@example.org"),
        ("ann@bücher.de", "ann@bücher.de", "ann@xn--bcher-kva.de"),
        ("ann@XN--BCHER-KVA.de", "ann@bücher.de", "ann@xn--bcher-kva.de"),
    ],
)
def test_accepted_and_normalised(value: str, address: str, ascii: str) -> None:
    mailbox = parse_address(value)
    assert (mailbox.address, mailbox.ascii, mailbox.name) == (address, ascii, None)


@pytest.mark.parametrize(
    ("value", "name", "ascii"),
    [
        ("Syndicator <news@example.org>", "Syndicator", "news@example.org"),
        ('"Desk, News" <desk@example.org>', "Desk, News", "desk@example.org"),
        ('"Bücherei" <info@bücher.de>', "Bücherei", "info@xn--bcher-kva.de"),
        ("news@example.org", None, "news@example.org"),
    ],
)
def test_display_name_forms_where_allowed(value: str, name: str | None, ascii: str) -> None:
    mailbox = parse_address(value, display_name=True)
    assert (mailbox.name, mailbox.ascii, mailbox.domain) == (name, ascii, ascii.split("@")[1])


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("A <a@x.org>, B <b@y.org>", "invalid characters"),
        ("A <a@x.org>; b@y.org", "anything after the email address"),
        ("News <news@example.org>\r\nBcc: eve@example.org", "anything after the email address"),
        ("Bücherei <info@bücher.de>", "when not quoted"),  # '"Bücherei" <…>' is fine
    ],
)
def test_display_name_forms_rejected(value: str, reason: str) -> None:
    with pytest.raises(AddressError, match=reason):
        parse_address(value, display_name=True)


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("extra", "key", "value"),
    [
        *((subscriber(v), "subscribers.0.email", v) for v in LISTS),
        (subscriber("Ann <ann@example.org>"), "subscribers.0.email", "Ann <ann@example.org>"),
        (
            subscriber("ann@example.org\r\nBcc: eve@example.org"),
            "subscribers.0.email",
            "ann@example.org\r\nBcc: eve@example.org",
        ),
        ({"delivery": {"sender": "A <a@x.org>, B <b@y.org>"}}, "delivery.sender", None),
        (
            {"delivery": {"sender": "News <news@example.org>;eve@example.org"}},
            "delivery.sender",
            None,
        ),
        (
            {"delivery": {"sender": "News <news@example.org>\r\nBcc: eve@example.org"}},
            "delivery.sender",
            None,
        ),
        ({"delivery": {"reply_to": "a@x.org, b@y.org"}}, "delivery.reply_to", "a@x.org, b@y.org"),
        (
            {"delivery": {"unsubscribe_mailto": "mailto:a@x.org,b@y.org"}},
            "delivery.unsubscribe_mailto",
            "mailto:a@x.org,b@y.org",
        ),
        (
            {"delivery": {"unsubscribe_url": "https://x.example/u\r\nBcc: eve@example.org"}},
            "delivery.unsubscribe_url",
            None,
        ),
    ],
)
def test_config_errors_name_the_key_and_the_value(
    tmp_path: Path, extra: dict[str, Any], key: str, value: str | None
) -> None:
    path = write(tmp_path, **extra)
    with pytest.raises(ConfigError) as failure:
        load_settings(path)
    message = str(failure.value)
    assert str(path) in message
    assert re.search(rf"^  {re.escape(key)}: ", message, re.MULTILINE), message
    shown = value if value is not None else extra["delivery"][key.split(".")[1]]
    assert repr(shown) in message


def test_config_keeps_addresses_as_written_and_parses_names(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            delivery={
                "sender": '"Bücherei" <info@bücher.de>',
                "reply_to": '"Desk, News" <desk@example.org>',
                "unsubscribe_mailto": "mailto:Leave@Example.org",
            },
            **subscriber("Ann.Lee@Example.ORG"),
        )
    )
    assert settings.subscribers[0].email == "Ann.Lee@Example.ORG"  # the store lower-cases it
    assert settings.delivery.sender_mailbox.ascii == "info@xn--bcher-kva.de"
    reply_to = settings.delivery.reply_to_mailbox
    assert reply_to is not None
    assert reply_to.name == "Desk, News"
    assert settings.delivery.unsubscribe_mailto == "Leave@example.org"


def test_one_address_spelt_two_ways_is_a_repeated_subscriber(tmp_path: Path) -> None:
    subscribers = [
        {"email": "ann@xn--bcher-kva.de", "topics": ["corruption"]},
        {"email": "ANN@bücher.de", "topics": ["corruption"]},
    ]
    with pytest.raises(ConfigError, match=r"repeated: ann@bücher\.de"):
        load_settings(write(tmp_path, subscribers=subscribers))


def test_the_default_sender_is_a_valid_address() -> None:
    """The renderer parses the sender with the same rule, so the default must pass it."""
    assert DeliverySettings().sender_mailbox.ascii == "syndicator@example.org"


# --------------------------------------------------------------------------- command line


def test_cli_unsubscribe_validates_the_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "store.sqlite3"
    path = write(tmp_path, database=f"sqlite:///{database}", **subscriber("ann@example.org"))
    store = open_store(f"sqlite:///{database}")
    try:
        store.sync_config_recipients([Subscriber("ann@example.org", ("corruption",))], NOW)
    finally:
        store.close()

    for value in LISTS:
        assert main(["--config", str(path), "unsubscribe", value]) == 1
        err = capsys.readouterr().err
        assert repr(value) in err
        assert "not a valid email address" in err

    assert main(["--config", str(path), "unsubscribe", "Ann@EXAMPLE.org"]) == 0
    assert capsys.readouterr().out == "Ann@EXAMPLE.org: unsubscribed\n"
    store = open_store(f"sqlite:///{database}")
    try:
        (state,) = store.recipient_states()
    finally:
        store.close()
    assert state.subscriber.email == "ann@example.org"
    assert state.unsubscribed_at is not None


def test_a_subscriber_keeps_the_key_of_the_address_as_written(tmp_path: Path) -> None:
    """An existing row (and its unsubscribe) is found again: the key is not normalised."""
    database = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    store = open_store(database)
    try:
        store.sync_config_recipients([Subscriber("ann@xn--bcher-kva.de", ("corruption",))], NOW)
        assert store.unsubscribe("ann@xn--bcher-kva.de", NOW)
        settings = load_settings(write(tmp_path, **subscriber("Ann@XN--BCHER-KVA.de")))
        (configured,) = settings.subscribers
        store.sync_config_recipients([Subscriber(configured.email, configured.topics)], NOW)
        (state,) = store.recipient_states()
    finally:
        store.close()
    assert state.subscriber.email == "ann@xn--bcher-kva.de"
    assert state.unsubscribed_at == NOW
