"""The sign-up endpoint of ``syndicator serve`` on 127.0.0.1, on SQLite and PostgreSQL.

Mail goes to the outbox folder through the configured transport, as in production;
the tests read the ``.eml`` files back.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from syndicator.config import Settings
from syndicator.models import Subscriber
from syndicator.store import SqlStore, open_store
from syndicator.store.protocol import RecipientEntry, RecipientState
from syndicator.web import make_app

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
BASE = "https://news.example.org/site/"
KNOWN = "ann@example.org"
UNKNOWN = "bob@example.org"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
Client = TestClient  # type: ignore[type-arg]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_url(store_url: str) -> str:
    store = open_store(store_url)
    store.sync_config_recipients([Subscriber(KNOWN, ("corruption",))], NOW)
    store.close()
    return store_url


def settings_for(tmp_path: Path, **signup: Any) -> Settings:
    return Settings.model_validate(
        {
            "base_url": BASE,
            "taxonomy": {
                "topics": [
                    {"id": "corruption", "title": "Corruption"},
                    {"id": "terrorism", "title": "Terrorism"},
                ]
            },
            "publish": {"output_dir": str(tmp_path / "feeds"), "title": "Threat news"},
            "delivery": {"outbox_dir": str(tmp_path / "outbox"), "sender": "news@example.org"},
            "subscribers": [{"email": KNOWN, "topics": ["corruption"]}],
            "signup": signup,
        }
    )


async def client_for(settings: Settings, db_url: str, clock: Clock) -> AsyncIterator[Client]:
    settings.publish.output_dir.mkdir(parents=True, exist_ok=True)
    app = make_app(settings, store_factory=lambda: open_store(db_url), clock=clock)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


@pytest.fixture
async def client(
    tmp_path: Path, db_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Client]:
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", "signup-test-key")
    async for each in client_for(settings_for(tmp_path), db_url, clock):
        yield each


def form(email: str) -> dict[str, str]:
    return {"email": email, "topics": "corruption", "cadence": "daily", "page": "index.html"}


async def sign_up(
    client: Client, email: str, headers: dict[str, str] | None = None, **fields: str
) -> tuple[int, str]:
    data = form(email) | fields
    response = await client.post(
        "/site/signup", data=data, headers=SAME_ORIGIN if headers is None else headers
    )
    return response.status, await response.text()


def mails(tmp_path: Path) -> list[EmailMessage]:
    folder = tmp_path / "outbox"
    if not folder.is_dir():
        return []
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for p in sorted(folder.glob("*.eml"))
    ]


def plain(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def link_in(message: EmailMessage) -> str:
    (link,) = re.findall(r"https://\S+signup/confirm\?token=\S+", plain(message))
    return link


def local(link: str) -> str:
    """The confirmation link's path and query, as a proxy would pass it to ``serve``."""
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def row(db_url: str, email: str) -> RecipientState | None:
    store: SqlStore = open_store(db_url)
    try:
        return store.find_recipient(email)
    finally:
        store.close()


async def test_known_and_unknown_addresses_get_the_same_answer_and_different_mail(
    client: Client, tmp_path: Path, db_url: str
) -> None:
    known = await sign_up(client, KNOWN)
    unknown = await sign_up(client, UNKNOWN)
    assert known[0] == unknown[0] == 200
    assert known[1].replace(KNOWN, "X") == unknown[1].replace(UNKNOWN, "X")
    by_address = {str(m["To"]): m for m in mails(tmp_path)}
    assert set(by_address) == {KNOWN, UNKNOWN}
    assert "already subscribed" in str(by_address[KNOWN]["Subject"])
    assert "/site/unsubscribe?token=" in plain(by_address[KNOWN])
    assert "signup/confirm" not in plain(by_address[KNOWN])
    assert "Confirm" in str(by_address[UNKNOWN]["Subject"])
    assert "List-Unsubscribe" not in by_address[UNKNOWN]
    known_row, pending = row(db_url, KNOWN), row(db_url, UNKNOWN)
    assert known_row is not None
    assert known_row.status == "active"
    assert known_row.managed_by == "config"  # the form changed nothing
    assert pending is not None
    assert pending.status == "pending"


async def test_the_link_confirms_on_post_only_and_records_the_consent(
    client: Client, tmp_path: Path, db_url: str, clock: Clock
) -> None:
    await sign_up(client, UNKNOWN, page="corruption.html", cadence="weekly", alerts="on")
    (mail,) = mails(tmp_path)
    link = link_in(mail)
    assert link.startswith(f"{BASE}signup/confirm?token=")
    shown = await client.get(local(link))
    assert shown.status == 200
    assert '<form method="post"' in await shown.text()
    pending = row(db_url, UNKNOWN)
    assert pending is not None
    assert pending.status == "pending"

    clock.now = NOW + timedelta(hours=2)
    done = await client.post(local(link), headers=SAME_ORIGIN)
    assert done.status == 200
    assert "is subscribed" in await done.text()
    active = row(db_url, UNKNOWN)
    assert active is not None
    assert (active.status, active.managed_by, active.confirmed_at, active.consented_at) == (
        "active",
        "self",
        NOW + timedelta(hours=2),
        NOW,
    )
    assert active.consent_source == (
        f"sign-up page corruption.html; confirmation {mail['Message-ID']}"
    )
    assert (active.subscriber.cadence, active.subscriber.alerts) == ("weekly", True)
    again = await client.post(local(link), headers=SAME_ORIGIN)  # a second click
    assert again.status == 200
    assert len(mails(tmp_path)) == 1


async def test_expired_and_tampered_links_are_refused(
    client: Client, tmp_path: Path, db_url: str, clock: Clock
) -> None:
    await sign_up(client, UNKNOWN)
    link = local(link_in(mails(tmp_path)[0]))
    token = parse_qs(urlsplit(link).query)["token"][0]
    tampered = link.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
    for target in (tampered, "/site/signup/confirm?token=", "/site/signup/confirm"):
        assert (await client.get(target)).status == 400
        assert (await client.post(target, headers=SAME_ORIGIN)).status == 400
    clock.now = NOW + timedelta(days=7)
    assert (await client.get(link)).status == 400
    refused = await client.post(link, headers=SAME_ORIGIN)
    assert refused.status == 400
    assert "not valid or has expired" in await refused.text()
    pending = row(db_url, UNKNOWN)
    assert pending is not None
    assert pending.status == "pending"


async def test_honeypot_and_cross_site_posts_store_and_send_nothing(
    client: Client, tmp_path: Path, db_url: str
) -> None:
    status, page = await sign_up(client, UNKNOWN, website="http://spam.example")
    assert status == 200  # a robot is told nothing
    assert "Check your mail" in page
    for headers in (
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ):
        status, page = await sign_up(client, UNKNOWN, headers=headers)
        assert status == 403, headers
    assert mails(tmp_path) == []
    assert row(db_url, UNKNOWN) is None
    status, _ = await sign_up(client, UNKNOWN, headers={"Origin": "https://news.example.org"})
    assert status == 200  # the site's own origin, from a browser without Sec-Fetch-Site
    assert len(mails(tmp_path)) == 1


async def test_invalid_forms_and_oversized_bodies_are_refused(
    client: Client, tmp_path: Path
) -> None:
    assert (await sign_up(client, "not an address"))[0] == 400
    assert (await sign_up(client, "a@x.org, b@y.org"))[0] == 400
    assert (await sign_up(client, UNKNOWN, topics="no-such-topic"))[0] == 400
    assert (await sign_up(client, UNKNOWN, cadence="hourly"))[0] == 400
    assert (await sign_up(client, UNKNOWN, cadence="none"))[0] == 400  # no digest, no alerts
    big = await client.post(
        "/site/signup", data=form(UNKNOWN) | {"page": "x" * 20_000}, headers=SAME_ORIGIN
    )
    assert big.status == 413
    assert mails(tmp_path) == []


async def test_rate_limits_per_client_and_per_address(
    tmp_path: Path, db_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", "signup-test-key")
    settings = settings_for(tmp_path, max_per_ip_per_hour=3, max_mails_per_address_per_day=1)
    async for client in client_for(settings, db_url, clock):
        first = await sign_up(client, UNKNOWN)
        second = await sign_up(client, UNKNOWN)  # same answer, no second mail
        assert first == second
        assert len(mails(tmp_path)) == 1
        assert (await sign_up(client, "carl@example.org"))[0] == 200
        status, page = await sign_up(client, "dora@example.org")
        assert status == 429
        assert "Too many" in page
        assert row(db_url, "dora@example.org") is None
        clock.now = NOW + timedelta(hours=1)
        assert (await sign_up(client, "dora@example.org"))[0] == 200
        assert len(mails(tmp_path)) == 3


async def test_signup_disabled_answers_nothing(
    tmp_path: Path, db_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", "signup-test-key")
    async for client in client_for(settings_for(tmp_path, enabled=False), db_url, clock):
        status, _ = await sign_up(client, UNKNOWN)
        assert status in (404, 405)
    assert row(db_url, UNKNOWN) is None


async def test_serve_deletes_sign_ups_whose_link_expired(
    tmp_path: Path, db_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATOR_SIGNING_KEY", "signup-test-key")
    store: SqlStore = open_store(db_url)
    try:
        stale = RecipientEntry(Subscriber(UNKNOWN, ("corruption",)), "self", "sign-up page x")
        fresh = RecipientEntry(Subscriber("carl@example.org", ("corruption",)), "self", "p")
        store.save_pending(stale, NOW - timedelta(days=7, seconds=1))
        store.save_pending(fresh, NOW - timedelta(days=6))
    finally:
        store.close()
    async for client in client_for(settings_for(tmp_path), db_url, clock):
        assert (await client.get("/site/signup/confirm")).status == 400  # the app is up
    assert row(db_url, UNKNOWN) is None
    kept = row(db_url, "carl@example.org")
    assert kept is not None
    assert kept.status == "pending"
