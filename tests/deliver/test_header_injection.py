"""No text from a source or a subscriber can add, end or hide a header (issue 7, item 1).

Python 3.11 and 3.12 decode an RFC 2047 encoded word in a header value when it is
set and write its payload out raw: a release title carrying
``=?utf-8?q?=0D=0ABcc:_someone@example.com?=`` became a real ``Bcc:`` line, or
ended the header block so that Date, Message-ID and List-Unsubscribe fell into
the body. Each case here stores a hostile title in a real store, renders the
alert and the digest, serialises them with ``as_bytes()``, reads them back with
the email package and checks the header block line by line; one case goes
through a real SMTP server and checks the envelope. CI runs this file on every
Python it finds (``.ci/run``), since the email package differs between versions.
"""

from __future__ import annotations

import email
import random
import re
import sys
import unicodedata
from datetime import UTC, datetime, timedelta
from email import policy
from email.headerregistry import AddressHeader
from email.message import EmailMessage
from pathlib import Path

import pytest

from syndicator.collect import collect_sources
from syndicator.config import CollectSettings, FolderSource, Settings
from syndicator.deliver import deliver_due
from syndicator.deliver.render import Renderer
from syndicator.deliver.tokens import TokenSigner
from syndicator.models import Item, StoredItem, Subscriber, Tagging, TagResult
from syndicator.store import SqlStore
from syndicator.text import header_value

from .conftest import Collecting, Feeder, MakeSettings

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
PAYLOAD = "=?utf-8?q?=0D=0ABcc:_someone@example.com?="
"""The issue's example: an encoded word whose payload is CR LF and a Bcc line."""
LONG_TAIL = " ".join(["Bribery"] * 400)

HOSTILE = {
    "encoded word: Bcc": f"Ring dismantled {PAYLOAD} in port",
    "encoded word: Reply-To": "=?utf-8?q?=0D=0AReply-To:_thief@example.com?=",
    "encoded word: Cc and To": "=?UTF-8?Q?=0D=0ACc:_a@example.com=0D=0ATo:_b@example.com?=",
    "encoded word: ends the header block": "Ring =?utf-8?q?=0D=0A=0D=0AFake_body?= dismantled",
    "encoded word: base64": "=?utf-8?b?DQpCY2M6IHNvbWVvbmVAZXhhbXBsZS5jb20=?= ring",
    "encoded word: split across words": "=?utf-8?q?=0D?= =?utf-8?q?=0ABcc:_someone@example.com?=",
    "encoded word: inside a word": f"Ring{PAYLOAD}dismantled",
    "encoded word: behind a zero-width space": "=\u200b?utf-8?q?=0D=0ABcc:_someone@example.com?=",
    "encoded word: behind a control character": "=\x1b?utf-8?q?=0D=0ABcc:_someone@example.com?=",
    "raw CR LF": "Ring dismantled\r\nBcc: someone@example.com",
    "raw LF": "Ring dismantled\nBcc: someone@example.com",
    "raw CR": "Ring dismantled\rBcc: someone@example.com",
    "NEL U+0085": "Ring dismantled\x85Bcc: someone@example.com",
    "LS U+2028": "Ring dismantled\u2028Bcc: someone@example.com",
    "PS U+2029": "Ring dismantled\u2029Bcc: someone@example.com",
    "zero-width joiners": "Ring\u200d dis\u200cmantled\u2060 \ufeffnow",
    "bidi marks": "\u202eRing\u202c \u200fdismantled\u200e \u2067now\u2069",
    "very long": f"{PAYLOAD} {LONG_TAIL}",
    "very long, non-ASCII, no spaces": "Коррупция" * 300,
}

ALERT_HEADERS = [
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Auto-Submitted",
    "Precedence",
    "MIME-Version",
    "Content-Type",
]
DIGEST_HEADERS = [h for h in ALERT_HEADERS if h != "Auto-Submitted"]
HEADER_LINE = re.compile(rb"^([A-Za-z-]+): ")


@pytest.fixture(autouse=True)
def _say_which_python() -> None:
    """The email package is the thing under test; a failure report should name it."""
    sys.stdout.write(f"[python {sys.version.split()[0]}] ")


def reparse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def check_header_block(raw: bytes, expected: list[str]) -> EmailMessage:
    """The serialised headers are exactly ``expected``, each once, all before the body."""
    head, separator, _ = raw.partition(b"\n\n")
    assert separator, "no end of the header block"
    names = []
    for line in head.split(b"\n"):
        assert b"\r" not in line, line
        if line[:1] in (b" ", b"\t"):
            continue  # a folded continuation of the header above
        match = HEADER_LINE.match(line)
        assert match, f"not a header line: {line!r}"
        names.append(match.group(1).decode())
    assert sorted(names) == sorted(expected)
    parsed = reparse(raw)
    assert sorted(parsed.keys()) == sorted(expected)
    for name in ("Bcc", "Cc", "Resent-To", "Resent-Bcc"):
        assert parsed[name] is None
    to = parsed["To"]
    assert isinstance(to, AddressHeader)
    assert [a.addr_spec for a in to.addresses] == ["ann@example.org"]
    reply_to = parsed["Reply-To"]
    assert isinstance(reply_to, AddressHeader)
    assert [a.addr_spec for a in reply_to.addresses] == ["desk@example.org"]
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)) is not None
    return parsed


def check_visible(value: str) -> None:
    """A header value a reader sees as written: one line, nothing hidden, nothing to decode."""
    assert not any(c in value for c in "\r\n\x85\u2028\u2029"), value
    assert not any(unicodedata.category(c) in {"Cc", "Cf"} for c in value), value
    assert "=?" not in value, value


def settings_for(make_settings: MakeSettings, **overrides: object) -> Settings:
    return make_settings(
        delivery={"reply_to": "Desk <desk@example.org>"},
        subscribers=[
            {"email": "ann@example.org", "name": "Ann", "topics": ["corruption"], "alerts": True}
        ],
        **overrides,
    )


def plain_item(title: str) -> StoredItem:
    """An item as the store returns it, for the cases where the title is not the point."""
    return StoredItem(
        id=1,
        item=Item(source_id="osce", identity="x", title=title, link="https://example.org/1"),
        first_seen_at=NOW,
        last_changed_at=NOW,
        taggings=(Tagging("corruption", 2.0, ()),),
    )


def render_both(settings: Settings, stored: StoredItem, name: str | None = "Ann") -> list[bytes]:
    renderer = Renderer(settings, TokenSigner("k"))
    subscriber = Subscriber("ann@example.org", ("corruption",), name=name)
    return [
        renderer.render(kind, subscriber, [stored], f"<{kind}@example.org>", NOW).message.as_bytes()
        for kind in ("alert", "digest")
    ]


@pytest.mark.parametrize("title", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_title_stays_in_the_subject(
    store: SqlStore, feeder: Feeder, make_settings: MakeSettings, title: str
) -> None:
    item_id = feeder.add(title, ("corruption",), NOW)
    stored = store.get_item(item_id)
    assert stored is not None
    alert, digest = render_both(settings_for(make_settings), stored)

    subject = str(check_header_block(alert, ALERT_HEADERS)["Subject"])
    check_visible(subject)
    # The title reads as its visible text: its encoded words are shown, not decoded.
    assert subject == header_value(f"[Syndicator] Corruption: {stored.item.title}", 180)
    visible = header_value(title)
    assert subject.removeprefix("[Syndicator] Corruption: ").removesuffix("…") in visible
    if "Bcc:_someone@example.com" in title and len(title) < 150:
        assert "Bcc:_someone@example.com" in subject
    check_visible(str(check_header_block(digest, DIGEST_HEADERS)["Subject"]))


@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_subscriber_name_stays_in_the_display_name(
    make_settings: MakeSettings, name: str
) -> None:
    """A name comes from the config today and a sign-up form tomorrow: untrusted."""
    rendered = render_both(settings_for(make_settings), plain_item("A release"), name)
    for raw, expected in zip(rendered, (ALERT_HEADERS, DIGEST_HEADERS), strict=True):
        to = check_header_block(raw, expected)["To"]
        assert isinstance(to, AddressHeader)
        (address,) = to.addresses
        check_visible(address.display_name)
        assert address.display_name == header_value(name, 180)


@pytest.mark.parametrize(
    "name",
    [
        'Ann", evil@example.com, "Bob',
        "Ann <evil@example.com>",
        "Ann; evil@example.com",
        'Ann\\", evil@example.com',
        "Ann (comment) <evil@example.com>, group: x@example.com;",
    ],
)
def test_address_syntax_in_a_name_adds_no_recipient(make_settings: MakeSettings, name: str) -> None:
    rendered = render_both(settings_for(make_settings), plain_item("A release"), name)
    for raw, expected in zip(rendered, (ALERT_HEADERS, DIGEST_HEADERS), strict=True):
        check_header_block(raw, expected)  # To holds ann@example.org alone


def test_hostile_site_and_topic_titles(make_settings: MakeSettings) -> None:
    """The configuration reaches Subject and List-Id too, so the same rule applies."""
    topics = [{"id": "corruption", "title": f"Corruption {PAYLOAD}"}]
    settings = settings_for(
        make_settings,
        taxonomy={"topics": topics},
        publish={
            "title": "News\u2028Reply-To: thief@example.com =?utf-8?q?=0D=0ACc:_x@example.com?="
        },
    )
    alert, digest = render_both(settings, plain_item(PAYLOAD))
    for raw, expected in ((alert, ALERT_HEADERS), (digest, DIGEST_HEADERS)):
        parsed = check_header_block(raw, expected)
        check_visible(str(parsed["Subject"]))
        check_visible(str(parsed["List-Id"]))
        assert "Reply-To: thief@example.com" in str(parsed["Subject"])


# --------------------------------------------------------------------------- end to end

EML = """From: Press <press@example.org>
To: news@example.org
Subject: {subject}
Date: Tue, 07 Feb 2023 08:30:00 +0000
Message-ID: <{n}@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Vienna, 7 February 2023 - A release about corruption.
"""
DOUBLE_ENCODED = "=?utf-8?q?=3D=3Futf-8=3Fq=3F=3D0D=3D0ABcc=3A=5Fsomeone=40example=2Ecom=3F=3D?="
"""Decodes, as our .eml reader does on purpose, to PAYLOAD: an encoded word for the next reader."""


def test_eml_subjects_cannot_smuggle_headers_into_an_alert(
    tmp_path: Path, store: SqlStore, make_settings: MakeSettings
) -> None:
    folder = tmp_path / "releases"
    folder.mkdir()
    subjects = [DOUBLE_ENCODED, "=?utf-8?q?Ring=0D=0ABcc:_someone@example.com?="]
    for n, subject in enumerate(subjects):
        (folder / f"{n}.eml").write_text(EML.format(subject=subject, n=n), encoding="utf-8")
    source = FolderSource(id="osce", path=folder)
    [result] = collect_sources([source], {}, CollectSettings(), NOW, rng=random.Random(0))
    assert len(result.items) == 2
    store.apply_collect(result, NOW)
    titles = []
    for stored in store.items_needing_tags("v1"):
        titles.append(stored.item.title)
        store.save_tags(stored.id, TagResult(("corruption",), {"corruption": 2.0}, {}), "v1", NOW)
        tagged = store.get_item(stored.id)
        assert tagged is not None
        alert, _ = render_both(settings_for(make_settings), tagged)
        check_visible(str(check_header_block(alert, ALERT_HEADERS)["Subject"]))
    assert PAYLOAD in titles  # the reader decoded one level, as it should


def test_smtp_envelope_names_the_subscriber_alone(
    store: SqlStore,
    feeder: Feeder,
    make_settings: MakeSettings,
    smtp_server: tuple[Collecting, int],
) -> None:
    handler, port = smtp_server
    settings = make_settings(
        delivery={
            "reply_to": "Desk <desk@example.org>",
            "transport": "smtp",
            "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5},
        },
        subscribers=[
            {
                "email": "ann@example.org",
                "name": f"Ann {PAYLOAD}",
                "topics": ["corruption"],
                "alerts": True,
            }
        ],
    )
    deliver_due(store, settings, NOW)  # subscribes Ann; nothing to send yet
    hostile = list(HOSTILE.values())
    for n, title in enumerate(hostile):
        feeder.add(title, ("corruption",), NOW + timedelta(minutes=1 + n))
    later = NOW + timedelta(minutes=30)
    report = deliver_due(store, settings, later)
    assert report.failures == []
    assert sorted(kind for _, kind, _ in report.sent) == ["alert"] * len(hostile) + ["digest"]
    assert len(handler.messages) == len(hostile) + 1
    for envelope in handler.messages:
        assert envelope.rcpt_tos == ["ann@example.org"]
        assert envelope.mail_from == "news@example.org"
        raw = envelope.original_content
        assert isinstance(raw, bytes)
        unfolded = raw.replace(b"\r\n", b"\n")
        kinds = ALERT_HEADERS if b"Auto-Submitted:" in unfolded else DIGEST_HEADERS
        parsed = check_header_block(unfolded, kinds)
        check_visible(str(parsed["Subject"]))
