"""The one-click unsubscribe endpoint, served by aiohttp's test server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from syndicator.config import Settings
from syndicator.deliver.tokens import TokenSigner
from syndicator.models import Subscriber
from syndicator.store import SqlStore, open_store
from syndicator.web.unsubscribe import make_unsubscribe_app

from .conftest import SIGNING_KEY, MakeSettings

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
def db_url(store_url: str) -> str:
    """A database on each backend, holding one subscriber."""
    url = store_url
    store = open_store(url)
    store.sync_config_recipients([Subscriber("ann@example.org", ("corruption",))], NOW)
    store.close()
    return url


@pytest.fixture
async def client(db_url: str, make_settings: MakeSettings) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    settings: Settings = make_settings()
    app = make_unsubscribe_app(lambda: open_store(db_url), settings, clock=lambda: NOW)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


def unsubscribed_at(db_url: str) -> datetime | None:
    store: SqlStore = open_store(db_url)
    try:
        (state,) = store.recipient_states()
        return state.unsubscribed_at
    finally:
        store.close()


TOKEN = TokenSigner(SIGNING_KEY).sign("ann@example.org")


async def test_get_shows_a_form_and_changes_nothing(client: TestClient, db_url: str) -> None:  # type: ignore[type-arg]
    response = await client.get("/unsubscribe", params={"token": TOKEN})
    assert response.status == 200
    page = await response.text()
    assert "ann@example.org" in page
    assert '<form method="post"' in page
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert unsubscribed_at(db_url) is None


async def test_one_click_post_unsubscribes(client: TestClient, db_url: str) -> None:  # type: ignore[type-arg]
    response = await client.post(
        "/unsubscribe",
        params={"token": TOKEN},
        data={"List-Unsubscribe": "One-Click"},
    )
    assert response.status == 200
    assert "will receive no more" in await response.text()
    assert unsubscribed_at(db_url) == NOW
    again = await client.post("/unsubscribe", params={"token": TOKEN})
    assert again.status == 200  # idempotent, and reveals nothing


async def test_token_in_the_form_body_works_too(client: TestClient, db_url: str) -> None:  # type: ignore[type-arg]
    response = await client.post("/unsubscribe", data={"token": TOKEN})
    assert response.status == 200
    assert unsubscribed_at(db_url) == NOW


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        TOKEN[:-3] + "AAA",  # tampered MAC
        TokenSigner("another-key").sign("ann@example.org"),
        TokenSigner(SIGNING_KEY).sign("ann@example.org", purpose="manage"),
    ],
)
async def test_invalid_tokens_are_refused(client: TestClient, db_url: str, token: str) -> None:  # type: ignore[type-arg]
    got = await client.get("/unsubscribe", params={"token": token})
    assert got.status == 400
    assert "not valid" in await got.text()
    posted = await client.post("/unsubscribe", params={"token": token})
    assert posted.status == 400
    assert unsubscribed_at(db_url) is None


async def test_hostile_email_in_a_genuine_token_is_escaped(
    db_url: str, make_settings: MakeSettings
) -> None:
    token = TokenSigner(SIGNING_KEY).sign("<script>x</script>@example.org")
    app = make_unsubscribe_app(lambda: open_store(db_url), make_settings())
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        response = await test_client.get("/unsubscribe", params={"token": token})
        page = await response.text()
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;" in page


async def test_link_from_a_delivered_digest_stops_the_next_one(
    store_url: str, make_settings: MakeSettings
) -> None:
    """End to end: deliver, click List-Unsubscribe (one-click POST), deliver again."""
    import email
    from datetime import timedelta
    from email import policy
    from urllib.parse import urlsplit

    from syndicator.deliver import deliver_due

    from .conftest import Feeder

    url = store_url
    settings = make_settings()
    store = open_store(url)
    try:
        feeder = Feeder(store)
        feeder.add("Bribery in ports", ("corruption",), NOW)
        assert deliver_due(store, settings, NOW).sent == [("ann@example.org", "digest", 1)]
        (path,) = settings.delivery.outbox_dir.glob("*.eml")
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        link = str(message["List-Unsubscribe"]).split(",")[0].strip().strip("<>")
        target = urlsplit(link)

        app = make_unsubscribe_app(lambda: open_store(url), settings, clock=lambda: NOW)
        async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
            response = await test_client.post(
                f"{target.path}?{target.query}", data={"List-Unsubscribe": "One-Click"}
            )
            assert response.status == 200

        feeder.add("More bribery", ("corruption",), NOW + timedelta(hours=1))
        later = deliver_due(store, settings, NOW + timedelta(days=1))
        assert later.sent == []
        assert later.skipped == 1
    finally:
        store.close()


async def test_confirmation_form_posts_back_to_the_url_that_was_opened(
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    """Relative action: behind a proxy that serves the app under another path it still works."""
    response = await client.get("/unsubscribe", params={"token": TOKEN})
    page = await response.text()
    assert f'<form method="post" action="?token={TOKEN}">' in page


async def test_page_template_comes_from_the_configured_templates_dir(
    db_url: str, make_settings: MakeSettings, tmp_path: Path
) -> None:
    custom = tmp_path / "custom"
    (custom / "email").mkdir(parents=True)
    (custom / "email" / "unsubscribe_page.html").write_text("custom {{ state }}\n")
    settings = make_settings(templates_dir=str(custom))
    app = make_unsubscribe_app(lambda: open_store(db_url), settings)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        response = await test_client.get("/unsubscribe", params={"token": TOKEN})
        assert await response.text() == "custom confirm\n"
